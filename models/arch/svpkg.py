"""Generate ``rtl/smmu_arch_pkg.sv``: the architectural facts the RTL uses, from models.arch.

models/arch is the one place bit positions live; this module renders them as a SystemVerilog
package (the way OpenTitan generates its register packages), so the RTL and the Python models
can never disagree about an offset, a field or an encoding. Everything below is derived from
the declarations (``REGISTERS``, the ``FieldSpec`` of every structure, the enumerations, the
command classes); no number is written here by hand.

Naming (all upper case):

- ``REG_<NAME>``: register offsets (``logic [REG_OFF_W-1:0]``); ``REG_<NAME>_HI`` is the upper
  32-bit half of a 64-bit register.
- ``<LAYOUT>_<FIELD>_LSB`` / ``_W`` / ``_MASK``: a field's absolute position in its structure
  (registers by layout class; ``STE_``, ``L1STD_``, ``CD_``, ``L1CD_``, ``EVENT_``,
  ``DESC_TABLE_``, ``DESC_LEAF_``; command fields are ``CMD_``). ``_ADDR_LO`` is the address
  bit stored at ``_LSB`` for fields that hold an address. ``_MASK`` is given for structures of
  at most 64 bits, ``<LAYOUT>_FIELDS`` is the mask of every defined bit of a register.
- ``<STRUCT>_NBITS`` and ``<STRUCT>_SIZE_LOG2`` (log2 of the size in bytes) of the in-memory
  structures (``STE``, ``L1STD``, ``CD``, ``L1CD``, ``CMD``, ``EVENT``, ``PRI``, ``DESC``).
- ``<ENUM>_<MEMBER>``: enumerated field values (``STREAM_CONFIG_BYPASS``, ``EVENT_ID_C_BAD_STE``,
  ``OPCODE_SYNC``...), ``<ENUM>_VALID``: bit v set when v is an enumerated value (for
  fields of at most 4 bits; any other value is reserved).
- ``CMD_DEFINED_<OPCODE>``: the bits a command defines (its fields and the opcode); any other
  bit set makes it ILLEGAL.
- ``oas_bits(code)``: the address size of an IDR5.OAS / CD.IPS code.

``python -m models.arch.svpkg`` rewrites the checked-in file; ``--check`` exits non-zero when
the file differs from what the models say.
"""

from __future__ import annotations

import argparse
import enum
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from models.arch.bitfield import ArchStruct, FieldSpec, field_mask
from models.arch.cd import CD, L1CD
from models.arch.commands import COMMAND_CLASSES, Opcode
from models.arch.events import Event, FetchEvent, TranslationEvent
from models.arch.pgtable import (
    L1BlockDescriptor,
    L2BlockDescriptor,
    PageDescriptor,
    TableDescriptor,
)
from models.arch.priq import PriEntry
from models.arch.registers import OAS, OAS_BITS, REGISTERS
from models.arch.ste import L1STD, STE

__all__ = ["OUT", "PACKAGE", "main", "render"]

PACKAGE = "smmu_arch_pkg"
OUT = Path(__file__).resolve().parents[2] / "rtl" / f"{PACKAGE}.sv"

_HEADER = f"""\
// GENERATED FILE, DO NOT EDIT. Regenerate with `python -m models.arch.svpkg`
// (`--check` reports a stale file; tests/test_arch_svpkg.py runs it).
//
// {PACKAGE}: the architectural facts the RTL uses (register offsets and fields, STE, CD,
// L1STD, L1CD, command and event layouts, enumerated values, translation table descriptors),
// derived from the declarations in models/arch, the one place bit positions live.
// Positions are absolute bit indices in the little-endian structure (dwN[b] is 64*N + b).
"""

_MASK_MAX_BITS = 64  # _MASK constants only for structures this wide or narrower
_VALID_MAX_W = 4  # <ENUM>_VALID only for fields this wide or narrower


def _snake(name: str) -> str:
    """CamelCase class name -> UPPER_SNAKE (``S1DefaultSubstream`` -> ``S1_DEFAULT_SUBSTREAM``)."""
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    s = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", s)
    return s.upper()


def _hex(value: int, width: int) -> str:
    digits = max(1, (width + 3) // 4)
    h = f"{value:0{digits}X}"
    # group by 4 digits from the right, like the hand-written RTL constants
    groups = [h[max(0, i - 4):i] for i in range(len(h), 0, -4)][::-1]
    return f"{width}'h{'_'.join(groups)}"


class _Pkg:
    """Collects declarations, refusing a name twice."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: set[str] = set()
        self.enums: dict[type[enum.IntEnum], int] = {}  # enum -> field width

    def _name(self, name: str) -> str:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            raise ValueError(f"{name!r} is not an upper-case SystemVerilog identifier")
        if name in self.names:
            raise ValueError(f"{name} generated twice")
        self.names.add(name)
        return name

    def section(self, title: str) -> None:
        self.lines += ["", f"    // ---- {title} " + "-" * max(0, 84 - len(title))]

    def comment(self, text: str) -> None:
        self.lines.append(f"    // {text}")

    def int_(self, name: str, value: int) -> None:
        self.lines.append(f"    localparam int {self._name(name)} = {value};")

    def bits(self, name: str, width: int, value: int, type_w: str | None = None) -> None:
        if value < 0 or value >> width:
            raise ValueError(f"{name}: {value:#x} does not fit in {width} bits")
        decl = f"[{type_w}-1:0]" if type_w else f"[{width - 1}:0]"
        self.lines.append(f"    localparam logic {decl} {self._name(name)} = {_hex(value, width)};")

    def field(self, prefix: str, spec: FieldSpec, nbits: int) -> None:
        base = f"{prefix}_{spec.name.upper()}"
        self.int_(f"{base}_LSB", spec.lsb)
        self.int_(f"{base}_W", spec.width)
        if spec.addr_lo:
            self.int_(f"{base}_ADDR_LO", spec.addr_lo)
        if nbits <= _MASK_MAX_BITS:
            self.bits(f"{base}_MASK", nbits, spec.mask)
        if spec.enum is not None:
            known = self.enums.setdefault(spec.enum, spec.width)
            if known != spec.width:
                raise ValueError(f"{spec.enum.__name__} used by fields of {known} and "
                                 f"{spec.width} bits")

    def size(self, prefix: str, nbits: int) -> None:
        """<PREFIX>_NBITS and <PREFIX>_SIZE_LOG2 (log2 of the size in bytes) of a structure."""
        nbytes = nbits // 8
        if nbits % 8 or nbytes & (nbytes - 1):
            raise ValueError(f"{prefix}: {nbits} bits is not a power-of-two number of bytes")
        self.int_(f"{prefix}_NBITS", nbits)
        self.int_(f"{prefix}_SIZE_LOG2", nbytes.bit_length() - 1)

    def layout(self, prefix: str, cls: type[ArchStruct], *, skip: Iterable[str] = (),
               size: bool = True) -> None:
        if size:
            self.size(prefix, cls.NBITS)
        skipped = set(skip)
        for spec in cls.FIELDS:
            if spec.name not in skipped:
                self.field(prefix, spec, cls.NBITS)

    def render_enums(self) -> None:
        for en, width in sorted(self.enums.items(), key=lambda kv: _snake(kv[0].__name__)):
            base = _snake(en.__name__)
            note = " (any value not listed is reserved)" if width <= _VALID_MAX_W else ""
            self.comment(f"{en.__name__}{note}")
            for member in en:
                self.bits(f"{base}_{member.name}", width, member.value)
            if width <= _VALID_MAX_W:
                valid = 0
                for member in en:
                    valid |= 1 << member.value
                self.bits(f"{base}_VALID", 1 << width, valid)


def _registers(pkg: _Pkg) -> None:
    regs = sorted(REGISTERS.values(), key=lambda r: r.offset)
    off_w = max(r.offset + r.width // 8 - 1 for r in regs).bit_length()
    pkg.section("register offsets (models/arch/registers.py REGISTERS)")
    pkg.comment("64-bit registers are two 32-bit halves: <NAME> (bits 31:0) and <NAME>_HI")
    pkg.int_("REG_OFF_W", off_w)
    for r in regs:
        pkg.bits(f"REG_{r.name}", off_w, r.offset, "REG_OFF_W")
        if r.width == 64:
            pkg.bits(f"REG_{r.name}_HI", off_w, r.offset + 4, "REG_OFF_W")

    pkg.section("register fields, by layout (models/arch/registers.py)")
    users: dict[type[ArchStruct], list[str]] = {}
    for r in regs:
        users.setdefault(r.layout, []).append(r.name)
    for layout in sorted(users, key=lambda c: min(REGISTERS[n].offset for n in users[c])):
        name = layout.__name__
        pkg.comment(f"{name}: layout of {', '.join(users[layout])}")
        pkg.layout(name, layout, size=False)
        pkg.bits(f"{name}_FIELDS", layout.NBITS, field_mask(layout.FIELDS))


def _tables(pkg: _Pkg) -> None:
    pkg.section("stream table: STE, L1STD (models/arch/ste.py)")
    pkg.layout("STE", STE)
    pkg.layout("L1STD", L1STD)
    pkg.section("context descriptors: CD, L1CD (models/arch/cd.py)")
    pkg.layout("CD", CD)
    pkg.layout("L1CD", L1CD)


def _commands(pkg: _Pkg) -> None:
    pkg.section("commands (models/arch/commands.py)")
    # A field name that has the same place in every command that has it is CMD_<FIELD>;
    # one that differs between commands is CMD_<OPCODE>_<FIELD>.
    places: dict[str, set[tuple[int, int, int]]] = {}
    for cls in COMMAND_CLASSES.values():
        for s in cls.FIELDS:
            places.setdefault(s.name, set()).add((s.lsb, s.width, s.addr_lo))
    (nbits,) = {cls.NBITS for cls in COMMAND_CLASSES.values()}
    pkg.size("CMD", nbits)
    pkg.comment("field positions shared by every command that has the field")
    done: set[str] = set()
    for op in sorted(COMMAND_CLASSES):
        cls = COMMAND_CLASSES[op]
        for s in cls.FIELDS:
            if len(places[s.name]) == 1 and s.name not in done:
                done.add(s.name)
                pkg.field("CMD", s, cls.NBITS)
    for op in sorted(COMMAND_CLASSES):
        cls = COMMAND_CLASSES[op]
        for s in cls.FIELDS:
            if len(places[s.name]) > 1:
                pkg.field(f"CMD_{Opcode(op).name}", s, cls.NBITS)
    pkg.comment("defined bits of each command (opcode and fields); any other bit is reserved")
    for op in sorted(COMMAND_CLASSES):
        cls = COMMAND_CLASSES[op]
        pkg.bits(f"CMD_DEFINED_{Opcode(op).name}", cls.NBITS, field_mask(cls.FIELDS))


def _events(pkg: _Pkg) -> None:
    pkg.section("event records (models/arch/events.py)")
    pkg.comment("common layout; IPA (translation faults) and FetchAddr (fetch aborts) share dw3")
    pkg.layout("EVENT", Event)
    common = {s.name for s in Event.FIELDS}
    for cls in (TranslationEvent, FetchEvent):
        pkg.layout("EVENT", cls, skip=common, size=False)


def _priq(pkg: _Pkg) -> None:
    pkg.section("PRI queue entries (models/arch/priq.py)")
    pkg.layout("PRI", PriEntry)


def _descriptors(pkg: _Pkg) -> None:
    pkg.section("stage-1 translation table descriptors, 4 KiB granule (models/arch/pgtable.py)")
    pkg.size("DESC", TableDescriptor.NBITS)
    pkg.layout("DESC_TABLE", TableDescriptor, size=False)
    pkg.comment("block and page descriptors share every field but OutputAddr")
    out = "OutputAddr"
    leaf = [(s.name, s.lsb, s.width) for s in PageDescriptor.FIELDS if s.name != out]
    for cls in (L1BlockDescriptor, L2BlockDescriptor):
        if [(s.name, s.lsb, s.width) for s in cls.FIELDS if s.name != out] != leaf:
            raise ValueError(f"{cls.__name__}: leaf fields differ from PageDescriptor's")
    pkg.layout("DESC_LEAF", PageDescriptor, skip=(out,), size=False)
    for prefix, cls in (("DESC_L1BLOCK", L1BlockDescriptor), ("DESC_L2BLOCK", L2BlockDescriptor),
                        ("DESC_PAGE", PageDescriptor)):
        pkg.field(prefix, cls.field(out), cls.NBITS)


def _oas_function(pkg: _Pkg) -> list[str]:
    width = max(o.value for o in OAS).bit_length()
    lines = ["", "    // IDR5.OAS / CD.IPS code -> address bits (reserved codes: the largest size)",
             f"    function automatic int oas_bits(input logic [{width - 1}:0] code);",
             "        case (code)"]
    for o in OAS:
        lines.append(f"            {width}'d{o.value}: oas_bits = {OAS_BITS[o]};")
    lines += [f"            default: oas_bits = {max(OAS_BITS.values())};",
              "        endcase", "    endfunction"]
    return lines


def render() -> str:
    pkg = _Pkg()
    _registers(pkg)
    _tables(pkg)
    _commands(pkg)
    _events(pkg)
    _priq(pkg)
    _descriptors(pkg)
    body = pkg.lines
    pkg.lines = []
    pkg.section("enumerated field values")
    pkg.render_enums()
    body += pkg.lines + _oas_function(pkg)
    out = [_HEADER.rstrip("\n"), "", "`default_nettype none", "",
           f"package {PACKAGE};",
           "    // Not every fact is used by the RTL (the package is complete per structure).",
           "    // verilator lint_off UNUSEDPARAM", *body, "",
           "    // verilator lint_on UNUSEDPARAM",
           f"endpackage : {PACKAGE}", "", "`default_nettype wire", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--check", action="store_true",
                    help=f"exit 1 if {OUT.name} differs from what models.arch generates")
    ap.add_argument("--out", type=Path, default=OUT, help="file to write or check")
    args = ap.parse_args(argv)
    text = render()
    current = args.out.read_text() if args.out.exists() else None
    if args.check:
        if current != text:
            print(f"{args.out} is stale: run `python -m models.arch.svpkg`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        args.out.write_text(text)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
