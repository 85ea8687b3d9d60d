"""Declarative bit-exact structures: the one mechanism behind every architectural format.

A structure is a dataclass whose fields are declared with :func:`bits` (or :func:`dw` for the
"dwN[hi:lo]" notation of the Arm spec). Positions are absolute bit indices within the
little-endian structure. Address fields hold the full address and are placed by their address
bit range, so ``S1ContextPtr`` is the PA itself, not the PA shifted right.

Decoding never raises on architecturally odd contents: reserved bits that are set and values
outside a field's enumeration are reported by :meth:`ArchStruct.problems`, because hardware
and software must be able to *see* an ILLEGAL structure to report it. Encoding, on the other
hand, is strict: a value that does not fit its field is a programming error and raises.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
from dataclasses import dataclass
from typing import Any, ClassVar, Self

__all__ = ["ArchStruct", "FieldSpec", "arch_struct", "bits", "dw", "field_mask"]


@dataclass(frozen=True)
class FieldSpec:
    """Where one field lives and how its value maps onto raw bits."""

    name: str
    lsb: int
    width: int
    addr_lo: int = 0  # >0: the value is an address whose bits [addr_lo+width-1:addr_lo] are stored
    enum: type[enum.IntEnum] | None = None

    @property
    def msb(self) -> int:
        return self.lsb + self.width - 1

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb

    def to_raw(self, value: int) -> int:
        """Raw field bits (right-aligned) for a value; raises if the value does not fit."""
        value = int(value)
        if value < 0:
            raise ValueError(f"{self.name}: negative value {value}")
        if self.addr_lo:
            if value & ((1 << self.addr_lo) - 1):
                raise ValueError(
                    f"{self.name}: address {value:#x} is not aligned to {1 << self.addr_lo} bytes"
                )
            value >>= self.addr_lo
        if value >> self.width:
            hi = self.addr_lo + self.width
            what = f"address bits above {hi - 1}" if self.addr_lo else f"{self.width}-bit field"
            raise ValueError(f"{self.name}: value {value << self.addr_lo:#x} exceeds {what}")
        return value

    def from_raw(self, raw: int) -> int:
        return raw << self.addr_lo


def bits(hi: int, lo: int, *, addr_lo: int = 0, enum: type[enum.IntEnum] | None = None,
         default: int = 0) -> Any:
    """Declare a field at absolute bits [hi:lo] of the structure."""
    if hi < lo:
        raise ValueError(f"bits({hi}, {lo}): hi < lo")
    return dataclasses.field(default=default,
                             metadata={"arch": (lo, hi - lo + 1, addr_lo, enum)})


def dw(n: int, hi: int, lo: int, **kw: Any) -> Any:
    """Declare a field at bits [hi:lo] of 64-bit word ``n`` (the spec's "dwN[hi:lo]")."""
    return bits(64 * n + hi, 64 * n + lo, **kw)


def field_mask(specs: tuple[FieldSpec, ...]) -> int:
    m = 0
    for s in specs:
        m |= s.mask
    return m


class ArchStruct:
    """Base of every architectural structure; subclasses are made with :func:`arch_struct`."""

    NBITS: ClassVar[int]
    SIZE: ClassVar[int]  # bytes in memory: the stride of a table or queue of this structure
    FIELDS: ClassVar[tuple[FieldSpec, ...]]
    _BY_LOWER: ClassVar[dict[str, FieldSpec]]

    # -- encoding ---------------------------------------------------------------------------
    def to_int(self) -> int:
        raw = 0
        for spec in self.FIELDS:
            value = getattr(self, spec.name)
            # A plain in-range int of a non-address field needs none of to_raw's conversions
            # or checks: the common case, and encoding is hot (event records, descriptors).
            if type(value) is int and not spec.addr_lo and 0 <= value and not value >> spec.width:
                raw |= value << spec.lsb
            else:
                raw |= spec.to_raw(value) << spec.lsb
        return raw

    def to_bytes(self) -> bytes:
        return self.to_int().to_bytes(self.SIZE, "little")

    def to_words(self) -> list[int]:
        """The structure as 64-bit little-endian words (dw0 first); 32-bit ones give one word."""
        raw = self.to_int()
        n = max(1, self.NBITS // 64)
        return [(raw >> (64 * i)) & ((1 << 64) - 1) for i in range(n)]

    # -- decoding ---------------------------------------------------------------------------
    @classmethod
    def from_int(cls, raw: int) -> Self:
        if raw < 0 or raw >> cls.NBITS:
            raise ValueError(f"{cls.__name__}: {raw:#x} does not fit in {cls.NBITS} bits")
        obj = cls(**{s.name: s.from_raw((raw >> s.lsb) & ((1 << s.width) - 1))
                     for s in cls.FIELDS})
        object.__setattr__(obj, "_raw", raw)
        return obj

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        if len(data) != cls.SIZE:
            raise ValueError(f"{cls.__name__}: need {cls.SIZE} bytes, got {len(data)}")
        return cls.from_int(int.from_bytes(data, "little"))

    @classmethod
    def from_words(cls, words: list[int] | tuple[int, ...]) -> Self:
        raw = 0
        for i, w in enumerate(words):
            if w < 0 or w >> 64:
                raise ValueError(f"{cls.__name__}: word {i} = {w:#x} is not a 64-bit value")
            raw |= w << (64 * i)
        return cls.from_int(raw)

    # -- introspection ----------------------------------------------------------------------
    @classmethod
    def field(cls, name: str) -> FieldSpec:
        """Field by its spec name, case-insensitively (``"s1cdmax"`` finds ``S1CDMax``)."""
        try:
            return cls._BY_LOWER[name.lower()]
        except KeyError:
            raise KeyError(f"{cls.__name__} has no field {name!r}") from None

    @classmethod
    def from_fields(cls, values: dict[str, int]) -> Self:
        """Build from a {field name: value} mapping, names case-insensitive; unknown names raise."""
        return cls(**{cls.field(k).name: v for k, v in values.items()})

    @classmethod
    def reserved_mask(cls) -> int:
        return ((1 << cls.NBITS) - 1) & ~field_mask(cls.FIELDS)

    def reserved_bits(self) -> int:
        """Bits set in the decoded raw value that no field covers (0 for built objects)."""
        return getattr(self, "_raw", 0) & self.reserved_mask()

    def problems(self) -> list[str]:
        """Human-readable list of reserved bits set and values with no enumerated meaning."""
        out = []
        rsv = self.reserved_bits()
        if rsv:
            out.append(f"reserved bits set: {rsv:#x}")
        for s in self.FIELDS:
            if s.enum is not None:
                v = getattr(self, s.name)
                if v not in s.enum._value2member_map_:
                    out.append(f"{s.name}={v:#x} is reserved")
        return out

    def named(self, name: str) -> str:
        """The enumerated name of a field's value, or 'reserved(N)'."""
        s = self.field(name)
        v = getattr(self, s.name)
        if s.enum is not None and v in s.enum._value2member_map_:
            return s.enum(v).name
        return f"reserved({v:#x})" if s.enum is not None else str(v)

    def as_dict(self) -> dict[str, int]:
        return {s.name: int(getattr(self, s.name)) for s in self.FIELDS}


def _compile_codec(cls: type, order: list[str]) -> None:
    """Give ``cls`` a ``from_int`` and a ``to_int`` written out for its fields: the same
    results as ArchStruct's loops over FIELDS, without their per-field lookups and dict.
    Decoding and encoding are on the hot path of every check (descriptors, STEs, CDs,
    commands, event records), and the loops cost several times the straight-line code."""
    specs = {s.name: s for s in cls.FIELDS}
    env: dict[str, Any] = {"ValueError": ValueError, "_setattr": object.__setattr__}
    dec = []
    for name in order:
        s = specs[name]
        expr = f"(raw >> {s.lsb}) & {(1 << s.width) - 1:#x}"
        dec.append(f"({expr}) << {s.addr_lo}" if s.addr_lo else expr)
    src = ["def from_int(cls, raw):",
           f"    if raw < 0 or raw >> {cls.NBITS}:",
           f"        raise ValueError(f'{{cls.__name__}}: {{raw:#x}} does not fit in "
           f"{cls.NBITS} bits')",
           f"    obj = cls({', '.join(dec)})",
           "    _setattr(obj, '_raw', raw)",
           "    return obj",
           "def to_int(self):",
           "    raw = 0"]
    for i, s in enumerate(cls.FIELDS):
        env[f"_s{i}"] = s
        src.append(f"    v = self.{s.name}")
        if s.addr_lo:
            src.append(f"    raw |= _s{i}.to_raw(v) << {s.lsb}")
        else:
            # a plain in-range int needs none of to_raw's conversions or checks
            src += [f"    if type(v) is int and 0 <= v < {1 << s.width:#x}:",
                    f"        raw |= v << {s.lsb}",
                    "    else:",
                    f"        raw |= _s{i}.to_raw(v) << {s.lsb}"]
    src.append("    return raw")
    exec("\n".join(src), env)
    cls.from_int = classmethod(env["from_int"])
    cls.to_int = env["to_int"]


def _lazy_codec(cls: type, order: list[str]) -> None:
    """Stand-ins that write the codec out at its first use: a simulator launch imports every
    structure but decodes a few of them, and writing them all out would cost it about 50 ms."""
    def from_int(k: type, raw: int) -> Any:
        _compile_codec(cls, order)
        return cls.__dict__["from_int"].__get__(None, k)(raw)

    def to_int(self: Any) -> int:
        _compile_codec(cls, order)
        return cls.__dict__["to_int"](self)

    # (a structure that spells out its own codec keeps it)
    if "from_int" not in cls.__dict__:
        cls.from_int = classmethod(from_int)  # type: ignore[attr-defined]
    if "to_int" not in cls.__dict__:
        cls.to_int = to_int  # type: ignore[attr-defined]


def arch_struct(nbits: int):
    """Class decorator: make a dataclass of the fields and check that no two overlap."""

    def wrap(cls: type) -> type:
        cls = dataclass(cls)
        specs = []
        for f in dataclasses.fields(cls):
            meta = f.metadata.get("arch")
            if meta is None:
                raise TypeError(f"{cls.__name__}.{f.name}: declare it with bits() or dw()")
            lo, width, addr_lo, en = meta
            specs.append(FieldSpec(f.name, lo, width, addr_lo, en))
        specs.sort(key=lambda s: s.lsb)
        for a, b in itertools.pairwise(specs):
            if a.msb >= b.lsb:
                raise TypeError(f"{cls.__name__}: {a.name} overlaps {b.name}")
        if specs and specs[-1].msb >= nbits:
            raise TypeError(f"{cls.__name__}: {specs[-1].name} beyond {nbits} bits")
        cls.NBITS = nbits
        cls.SIZE = nbits // 8
        cls.FIELDS = tuple(specs)
        cls._BY_LOWER = {s.name.lower(): s for s in specs}
        _lazy_codec(cls, [f.name for f in dataclasses.fields(cls)])
        return cls

    return wrap
