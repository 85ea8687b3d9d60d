"""rtl/smmu_arch_pkg.sv is generated from models.arch and must be current."""

from __future__ import annotations

import re

from models.arch import svpkg
from models.arch.cd import CD
from models.arch.commands import COMMAND_CLASSES, CmdSync, Opcode
from models.arch.events import EventID, FetchEvent
from models.arch.registers import CMDQ_CONS, GBPA, OFFSETS
from models.arch.ste import STE, StreamConfig


def _constants(text: str) -> dict[str, int]:
    """name -> value of every `localparam` in the package (sized hex or decimal)."""
    out = {}
    for m in re.finditer(r"localparam (?:int|logic \[[^\]]+\]) (\w+) = ([^;]+);", text):
        v = m.group(2)
        sized = re.fullmatch(r"\d+'h([0-9A-F_]+)", v)
        out[m.group(1)] = int(sized.group(1).replace("_", ""), 16) if sized else int(v)
    return out


def test_checked_in_package_is_current() -> None:
    assert svpkg.OUT.read_text() == svpkg.render(), (
        "rtl/smmu_arch_pkg.sv is stale: run `python -m models.arch.svpkg`")
    assert svpkg.main(["--check"]) == 0


def test_check_reports_a_stale_file(tmp_path) -> None:
    stale = tmp_path / "pkg.sv"
    stale.write_text(svpkg.render().replace("REG_CR0 = 17'h0_0020", "REG_CR0 = 17'h0_0024"))
    assert svpkg.main(["--check", "--out", str(stale)]) == 1
    assert svpkg.main(["--out", str(stale)]) == 0
    assert stale.read_text() == svpkg.render()


def test_header_says_generated() -> None:
    head = svpkg.render().splitlines()[0]
    assert "GENERATED" in head and "python -m models.arch.svpkg" in head


def test_spot_values_agree_with_models() -> None:
    c = _constants(svpkg.render())
    assert c["REG_CMDQ_CONS"] == OFFSETS["CMDQ_CONS"] == 0x9C
    assert c["REG_EVENTQ_PROD"] == OFFSETS["EVENTQ_PROD"]
    assert c["REG_STRTAB_BASE_HI"] == OFFSETS["STRTAB_BASE"] + 4
    assert c["STE_S1CONTEXTPTR_LSB"] == STE.field("S1ContextPtr").lsb == 6
    assert c["STE_PRIVCFG_LSB"] == STE.field("PRIVCFG").lsb == 64 + 48
    assert c["CD_TTB0_ADDR_LO"] == CD.field("TTB0").addr_lo
    assert c["CD_ASID_W"] == CD.field("ASID").width
    assert c["CMDQ_CONS_ERR_MASK"] == CMDQ_CONS.field("ERR").mask
    assert c["GBPA_FIELDS"] == GBPA.reserved_mask() ^ 0xFFFF_FFFF
    assert c["EVENT_FETCHADDR_LSB"] == FetchEvent.field("FetchAddr").lsb
    assert c["EVENT_ID_C_BAD_STE"] == EventID.C_BAD_STE
    assert c["OPCODE_SYNC"] == Opcode.SYNC
    assert c["STREAM_CONFIG_S1_TRANS"] == StreamConfig.S1_TRANS
    assert c["CMD_CS_LSB"] == CmdSync.field("CS").lsb


def test_command_masks_are_the_defined_bits() -> None:
    c = _constants(svpkg.render())
    for op, cls in COMMAND_CLASSES.items():
        assert c[f"CMD_DEFINED_{Opcode(op).name}"] == (1 << 128) - 1 - cls.reserved_mask()


def test_every_event_id_and_opcode_is_there() -> None:
    c = _constants(svpkg.render())
    for e in EventID:
        assert c[f"EVENT_ID_{e.name}"] == e.value
    for o in Opcode:
        assert c[f"OPCODE_{o.name}"] == o.value
