"""Bit positions of every architectural format, checked against tables written from the reference.

The tables below are transcribed from reference/smmuv3.md (§2, §3, §4.2, §5, §6, §7) and never
read the classes' FieldSpecs, so a wrong declaration in models/arch cannot agree with itself.
Each entry is ``name: (lsb, width, addr_lo)``: the field occupies absolute bits
[lsb + width - 1 : lsb] and, when ``addr_lo`` > 0, the Python value is an address whose bits
[addr_lo + width - 1 : addr_lo] are the ones stored.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.arch import cd, commands, events, pgtable, priq, ste
from models.arch.bitfield import ArchStruct

Spec = tuple[int, int, int]
Table = dict[str, Spec]


def F(n: int, hi: int, lo: int) -> Spec:
    """Plain field at dwN[hi:lo]."""
    return (64 * n + lo, hi - lo + 1, 0)


def A(n: int, hi: int, lo: int) -> Spec:
    """Address field: address bits [hi:lo] stored at dwN[hi:lo]."""
    return (64 * n + lo, hi - lo + 1, lo)


def ABS(hi: int, lo: int, *, addr: int = 0) -> Spec:
    """Field given by the reference's absolute bit column."""
    return (lo, hi - lo + 1, addr)


# -- §2 STE, L1STD ----------------------------------------------------------------------------
STE_T: Table = {
    "V": F(0, 0, 0), "Config": F(0, 3, 1), "S1Fmt": F(0, 5, 4), "S1ContextPtr": A(0, 51, 6),
    "S1CDMax": F(0, 63, 59),
    "S1DSS": ABS(65, 64), "S1CIR": F(1, 3, 2), "S1COR": F(1, 5, 4), "S1CSH": F(1, 7, 6),
    "S2HWU59": F(1, 8, 8), "S2HWU60": F(1, 9, 9), "S2HWU61": F(1, 10, 10),
    "S2HWU62": F(1, 11, 11), "DRE": F(1, 12, 12), "CONT": F(1, 16, 13), "DCP": F(1, 17, 17),
    "PPAR": F(1, 18, 18), "MEV": F(1, 19, 19), "S2FWB": F(1, 25, 25), "S1STALLD": F(1, 27, 27),
    "EATS": F(1, 29, 28), "STRW": F(1, 31, 30), "MemAttr": F(1, 35, 32), "MTCFG": F(1, 36, 36),
    "ALLOCCFG": F(1, 40, 37), "SHCFG": F(1, 45, 44), "NSCFG": F(1, 47, 46),
    "PRIVCFG": F(1, 49, 48), "INSTCFG": F(1, 51, 50),
    "S2VMID": F(2, 15, 0), "S2T0SZ": F(2, 37, 32), "S2SL0": F(2, 39, 38), "S2IR0": F(2, 41, 40),
    "S2OR0": F(2, 43, 42), "S2SH0": F(2, 45, 44), "S2TG": F(2, 47, 46), "S2PS": F(2, 50, 48),
    "S2AA64": F(2, 51, 51), "S2ENDI": F(2, 52, 52), "S2AFFD": F(2, 53, 53),
    "S2PTW": F(2, 54, 54), "S2HD": F(2, 55, 55), "S2HA": F(2, 56, 56), "S2S": F(2, 57, 57),
    "S2R": F(2, 58, 58),
    "S2TTB": A(3, 51, 4),
}
L1STD_T: Table = {"Span": F(0, 4, 0), "L2Ptr": A(0, 51, 6)}

# -- §3 CD, L1CD ------------------------------------------------------------------------------
CD_T: Table = {
    "T0SZ": F(0, 5, 0), "TG0": F(0, 7, 6), "IR0": F(0, 9, 8), "OR0": F(0, 11, 10),
    "SH0": F(0, 13, 12), "EPD0": F(0, 14, 14), "ENDI": F(0, 15, 15), "T1SZ": F(0, 21, 16),
    "TG1": F(0, 23, 22), "IR1": F(0, 25, 24), "OR1": F(0, 27, 26), "SH1": F(0, 29, 28),
    "EPD1": F(0, 30, 30), "V": F(0, 31, 31), "IPS": F(0, 34, 32), "AFFD": F(0, 35, 35),
    "WXN": F(0, 36, 36), "UWXN": F(0, 37, 37), "TBI0": F(0, 38, 38), "TBI1": F(0, 39, 39),
    "PAN": F(0, 40, 40), "AA64": F(0, 41, 41), "HD": F(0, 42, 42), "HA": F(0, 43, 43),
    "S": F(0, 44, 44), "R": F(0, 45, 45), "A": F(0, 46, 46), "ASET": F(0, 47, 47),
    "ASID": F(0, 63, 48),
    "NSCFG0": F(1, 0, 0), "HAD0": F(1, 1, 1), "TTB0": ABS(115, 68, addr=4),
    "HWU059": F(1, 60, 60), "HWU060": F(1, 61, 61), "HWU061": F(1, 62, 62),
    "HWU062": F(1, 63, 63),
    "NSCFG1": F(2, 0, 0), "HAD1": F(2, 1, 1), "TTB1": A(2, 51, 4),
    "MAIR": ABS(255, 192), "AMAIR": F(4, 63, 0),
}
L1CD_T: Table = {"V": F(0, 0, 0), "L2Ptr": A(0, 51, 12)}

# -- §5 commands --------------------------------------------------------------------------------
_SSEC = {"SSec": F(0, 10, 10)}
_SSV_SSID = {"SSV": F(0, 11, 11), "SubstreamID": F(0, 31, 12)}
_SID = {"StreamID": F(0, 63, 32)}
_VMID = {"VMID": F(0, 47, 32)}
_ASID = {"ASID": F(0, 63, 48)}
_RANGE = {"NUM": F(0, 16, 12), "SCALE": F(0, 24, 20)}
_VA = {"Leaf": F(1, 0, 0), "TTL": F(1, 9, 8), "TG": F(1, 11, 10), "Addr": A(1, 63, 12)}
_OP = {"Opcode": F(0, 7, 0)}

OPCODES = {
    "PREFETCH_CONFIG": 0x01, "PREFETCH_ADDR": 0x02, "CFGI_STE": 0x03, "CFGI_STE_RANGE": 0x04,
    "CFGI_CD": 0x05, "CFGI_CD_ALL": 0x06, "TLBI_NH_ALL": 0x10, "TLBI_NH_ASID": 0x11,
    "TLBI_NH_VA": 0x12, "TLBI_NH_VAA": 0x13, "TLBI_EL2_ALL": 0x20, "TLBI_EL2_ASID": 0x21,
    "TLBI_EL2_VA": 0x22, "TLBI_EL2_VAA": 0x23, "TLBI_S12_VMALL": 0x28, "TLBI_S2_IPA": 0x2A,
    "TLBI_NSNH_ALL": 0x30, "ATC_INV": 0x40, "PRI_RESP": 0x41, "RESUME": 0x44,
    "STALL_TERM": 0x45, "SYNC": 0x46,
}

# class -> (opcode name, field table)
CMD_T: dict[type[ArchStruct], tuple[str, Table]] = {
    commands.CmdPrefetchConfig: ("PREFETCH_CONFIG", _OP | _SSEC | _SSV_SSID | _SID),
    commands.CmdPrefetchAddr: ("PREFETCH_ADDR", _OP | _SSEC | _SSV_SSID | _SID
                               | {"Size": F(1, 4, 0), "Addr": A(1, 63, 12)}),
    commands.CmdCfgiSte: ("CFGI_STE", _OP | _SSEC | _SID | {"Leaf": F(1, 0, 0)}),
    commands.CmdCfgiSteRange: ("CFGI_STE_RANGE", _OP | _SSEC | _SID | {"Range": F(1, 4, 0)}),
    commands.CmdCfgiCd: ("CFGI_CD", _OP | _SSEC | {"SubstreamID": F(0, 31, 12)} | _SID
                         | {"Leaf": F(1, 0, 0)}),
    commands.CmdCfgiCdAll: ("CFGI_CD_ALL", _OP | _SSEC | _SID),
    commands.CmdTlbiNhAll: ("TLBI_NH_ALL", _OP | _VMID),
    commands.CmdTlbiNhAsid: ("TLBI_NH_ASID", _OP | _VMID | _ASID),
    commands.CmdTlbiNhVa: ("TLBI_NH_VA", _OP | _RANGE | _VMID | _ASID | _VA),
    commands.CmdTlbiNhVaa: ("TLBI_NH_VAA", _OP | _RANGE | _VMID | _VA),
    commands.CmdTlbiEl2All: ("TLBI_EL2_ALL", _OP),
    commands.CmdTlbiEl2Asid: ("TLBI_EL2_ASID", _OP | _ASID),
    commands.CmdTlbiEl2Va: ("TLBI_EL2_VA", _OP | _RANGE | _ASID | _VA),
    commands.CmdTlbiEl2Vaa: ("TLBI_EL2_VAA", _OP | _RANGE | _VA),
    commands.CmdTlbiS12Vmall: ("TLBI_S12_VMALL", _OP | _VMID),
    commands.CmdTlbiS2Ipa: ("TLBI_S2_IPA", _OP | _RANGE | _VMID | {
        "Leaf": F(1, 0, 0), "TTL": F(1, 9, 8), "TG": F(1, 11, 10), "IPA": A(1, 51, 12)}),
    commands.CmdTlbiNsnhAll: ("TLBI_NSNH_ALL", _OP),
    commands.CmdAtcInv: ("ATC_INV", _OP | {"Global": F(0, 9, 9)} | _SSV_SSID | _SID
                         | {"Size": F(1, 5, 0), "Addr": A(1, 63, 12)}),
    commands.CmdPriResp: ("PRI_RESP", _OP | _SSV_SSID | _SID
                          | {"PRGIndex": F(1, 8, 0), "Resp": F(1, 13, 12)}),
    commands.CmdResume: ("RESUME", _OP | _SSEC | {"Ac": F(0, 12, 12), "Ab": F(0, 13, 13)}
                         | _SID | {"STAG": F(1, 15, 0)}),
    commands.CmdStallTerm: ("STALL_TERM", _OP | _SSEC | _SID),
    commands.CmdSync: ("SYNC", _OP | {"CS": F(0, 13, 12), "MSH": F(0, 23, 22),
                                      "MSIAttr": F(0, 27, 24), "MSIData": F(0, 63, 32),
                                      "MSIAddr": A(1, 51, 2)}),
}
UNKNOWN_CMD_T: Table = {"Opcode": F(0, 7, 0), "Body": ABS(127, 8)}

# -- §6 events (absolute column of the reference) ----------------------------------------------
EVENT_T: Table = {
    "EventID": ABS(7, 0), "SSV": ABS(11, 11), "SubstreamID": ABS(31, 12),
    "StreamID": ABS(63, 32), "STAG": ABS(79, 64), "Stall": ABS(95, 95), "PnU": ABS(97, 97),
    "InD": ABS(98, 98), "RnW": ABS(99, 99), "S2": ABS(103, 103), "CLASS": ABS(105, 104),
    "TTRnW": ABS(108, 108), "InputAddr": ABS(191, 128),
}
TRANSLATION_EVENT_T: Table = EVENT_T | {"IPA": ABS(243, 204, addr=12)}
FETCH_EVENT_T: Table = EVENT_T | {"FetchAddr": ABS(243, 195, addr=3)}
OPAQUE_EVENT_T: Table = {"EventID": ABS(7, 0), "Payload": ABS(255, 8)}

EVENT_IDS = {
    "F_UUT": 0x01, "C_BAD_STREAMID": 0x02, "F_STE_FETCH": 0x03, "C_BAD_STE": 0x04,
    "F_BAD_ATS_TREQ": 0x05, "F_STREAM_DISABLED": 0x06, "F_TRANSL_FORBIDDEN": 0x07,
    "C_BAD_SUBSTREAMID": 0x08, "F_CD_FETCH": 0x09, "C_BAD_CD": 0x0A, "F_WALK_EABT": 0x0B,
    "F_TRANSLATION": 0x10, "F_ADDR_SIZE": 0x11, "F_ACCESS": 0x12, "F_PERMISSION": 0x13,
    "F_TLB_CONFLICT": 0x20, "F_CFG_CONFLICT": 0x21, "E_PAGE_REQUEST": 0x24, "F_VMS_FETCH": 0x25,
}

# -- §7 PRI queue -------------------------------------------------------------------------------
PRI_T: Table = {
    "StreamID": F(0, 31, 0), "SubstreamID": F(0, 51, 32), "Priv": F(0, 58, 58),
    "X": F(0, 59, 59), "R": F(0, 60, 60), "W": F(0, 61, 61), "Last": F(0, 62, 62),
    "SSV": F(0, 63, 63), "PRGIndex": F(1, 8, 0), "PageAddr": A(1, 63, 12),
}

# -- §4.2 descriptors ---------------------------------------------------------------------------
_LEAF = {
    "Valid": F(0, 0, 0), "Type": F(0, 1, 1), "AttrIndx": F(0, 4, 2), "NS": F(0, 5, 5),
    "AP": F(0, 7, 6), "SH": F(0, 9, 8), "AF": F(0, 10, 10), "nG": F(0, 11, 11),
    "DBM": F(0, 51, 51), "Contiguous": F(0, 52, 52), "PXN": F(0, 53, 53), "UXN": F(0, 54, 54),
    "SW": F(0, 58, 55), "PBHA": F(0, 62, 59), "Ignored": F(0, 63, 63),
}
TABLE_DESC_T: Table = {
    "Valid": F(0, 0, 0), "Type": F(0, 1, 1), "IgnoredLow": F(0, 11, 2),
    "NextTableAddr": A(0, 47, 12), "IgnoredHigh": F(0, 58, 52), "PXNTable": F(0, 59, 59),
    "UXNTable": F(0, 60, 60), "APTable": F(0, 62, 61), "NSTable": F(0, 63, 63),
}

LAYOUTS: dict[type[ArchStruct], Table] = {
    ste.STE: STE_T,
    ste.L1STD: L1STD_T,
    cd.CD: CD_T,
    cd.L1CD: L1CD_T,
    **{cls: table for cls, (_, table) in CMD_T.items()},
    commands.UnknownCommand: UNKNOWN_CMD_T,
    events.Event: EVENT_T,
    events.TranslationEvent: TRANSLATION_EVENT_T,
    events.FetchEvent: FETCH_EVENT_T,
    events.ImpdefEvent: OPAQUE_EVENT_T,
    events.UnknownEvent: OPAQUE_EVENT_T,
    priq.PriEntry: PRI_T,
    pgtable.TableDescriptor: TABLE_DESC_T,
    pgtable.L1BlockDescriptor: _LEAF | {"OutputAddr": A(0, 47, 30)},
    pgtable.L2BlockDescriptor: _LEAF | {"OutputAddr": A(0, 47, 21)},
    pgtable.PageDescriptor: _LEAF | {"OutputAddr": A(0, 47, 12)},
    pgtable.InvalidDescriptor: {"Valid": F(0, 0, 0), "Ignored": F(0, 63, 1)},
    pgtable.ReservedDescriptor: {"Valid": F(0, 0, 0), "Type": F(0, 1, 1), "Rest": F(0, 63, 2)},
}
NBITS = {ste.STE: 512, cd.CD: 512, **dict.fromkeys(
    (events.Event, events.TranslationEvent, events.FetchEvent, events.ImpdefEvent,
     events.UnknownEvent), 256),
    **dict.fromkeys((*CMD_T, commands.UnknownCommand, priq.PriEntry), 128)}

FIELD_CASES = [pytest.param(cls, name, id=f"{cls.__name__}.{name}")
               for cls, table in LAYOUTS.items() for name in table]
CLASS_CASES = [pytest.param(cls, id=cls.__name__) for cls in LAYOUTS]


def _zeros(cls: type[ArchStruct]) -> dict[str, int]:
    return dict.fromkeys(LAYOUTS[cls], 0)


def _table_mask(table: Table) -> int:
    return sum(((1 << width) - 1) << lsb for lsb, width, _ in table.values())


def _patterns(width: int) -> list[int]:
    ones = (1 << width) - 1
    return [ones, 0x5555_5555_5555_5555 & ones, 0xAAAA_AAAA_AAAA_AAAA & ones,
            *(1 << i for i in range(width))]


# -- layout completeness ------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASS_CASES)
def test_layout_is_complete_and_sized(cls: type[ArchStruct]) -> None:
    table = LAYOUTS[cls]
    assert {f.name for f in cls.FIELDS} == set(table), "class and reference table disagree"
    assert cls.NBITS == NBITS.get(cls, 64)
    full = (1 << cls.NBITS) - 1
    assert cls.reserved_mask() == full & ~_table_mask(table)
    for a, b in ((a, b) for a in table for b in table if a < b):
        (la, wa, _), (lb, wb, _) = table[a], table[b]
        assert la + wa <= lb or lb + wb <= la, f"reference table overlaps: {a} / {b}"


# -- every field, bit by bit ----------------------------------------------------------------------
@pytest.mark.parametrize(("cls", "name"), FIELD_CASES)
def test_field_position(cls: type[ArchStruct], name: str) -> None:
    lsb, width, addr_lo = LAYOUTS[cls][name]
    nbytes = cls.NBITS // 8
    for pattern in _patterns(width):
        value = pattern << addr_lo
        expected = pattern << lsb
        obj = cls(**(_zeros(cls) | {name: value}))
        assert obj.to_int() == expected, f"{name}={value:#x}"
        assert obj.to_bytes() == expected.to_bytes(nbytes, "little")
        back = cls.from_int(expected)
        assert back.as_dict() == _zeros(cls) | {name: value}
        assert back.reserved_bits() == 0


@pytest.mark.parametrize(("cls", "name"), FIELD_CASES)
def test_field_encode_errors_name_the_field(cls: type[ArchStruct], name: str) -> None:
    _, width, addr_lo = LAYOUTS[cls][name]
    bad = [1 << (width + addr_lo), -1 << addr_lo if addr_lo else -1]
    if addr_lo:
        bad.append(1 << (addr_lo - 1))  # misaligned
    for value in bad:
        with pytest.raises(ValueError, match=name):
            cls(**(_zeros(cls) | {name: value})).to_int()


# -- round trips ----------------------------------------------------------------------------------
# One binary draw per example, sliced into fields by the reference table: drawing each field
# separately makes hypothesis ~10x slower on the 50-field STE/CD for no extra coverage.
def _raw(cls: type[ArchStruct]) -> st.SearchStrategy[int]:
    return st.binary(min_size=cls.NBITS // 8, max_size=cls.NBITS // 8).map(
        lambda b: int.from_bytes(b, "little"))


def _slice_fields(table: Table, raw: int) -> dict[str, int]:
    return {name: ((raw >> lsb) & ((1 << width) - 1)) << addr_lo
            for name, (lsb, width, addr_lo) in table.items()}


def _check_roundtrips(cls: type[ArchStruct], raw: int) -> None:
    table = LAYOUTS[cls]
    used = _table_mask(table)
    # encode -> decode, from field values the table slices out of the random bits
    values = _slice_fields(table, raw)
    obj = cls(**values)
    assert cls.from_int(obj.to_int()) == obj
    assert cls.from_bytes(obj.to_bytes()) == obj
    assert cls.from_words(obj.to_words()) == obj
    assert cls.from_int(obj.to_int()).as_dict() == values
    # decode -> encode, on the raw bits themselves (reserved bits are reported, then dropped)
    dec = cls.from_int(raw)
    assert dec.to_int() == raw & used
    assert dec.reserved_bits() == raw & ~used
    assert bool(raw & ~used) == any(p.startswith("reserved bits") for p in dec.problems())


COMMAND_CLASSES = {*CMD_T, commands.UnknownCommand}


@pytest.mark.parametrize("cls", [c for c in CLASS_CASES if c.values[0] not in COMMAND_CLASSES])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_roundtrips(cls: type[ArchStruct], data: Any) -> None:
    _check_roundtrips(cls, data.draw(_raw(cls)))


# Commands have few fields each and there are 23 classes: fewer examples each keeps this fast.
@pytest.mark.parametrize("cls", [c for c in CLASS_CASES if c.values[0] in COMMAND_CLASSES])
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_command_roundtrips(cls: type[ArchStruct], data: Any) -> None:
    _check_roundtrips(cls, data.draw(_raw(cls)))


# -- enumerations and opcode defaults ------------------------------------------------------------
def test_opcode_enum_matches_reference() -> None:
    assert {m.name: m.value for m in commands.Opcode} == OPCODES


@pytest.mark.parametrize("cls", [pytest.param(c, id=c.__name__) for c in CMD_T])
def test_command_defaults_to_its_opcode(cls: type[ArchStruct]) -> None:
    opcode = OPCODES[CMD_T[cls][0]]
    assert cls().to_int() == opcode
    assert commands.decode_command(opcode) == cls()
    assert type(commands.decode_command(opcode)) is cls
    assert cls().problems() == []


def test_event_id_enum_matches_reference() -> None:
    assert {m.name: m.value for m in events.EventID} == EVENT_IDS


@pytest.mark.parametrize(("enum_cls", "expected"), [
    (ste.StreamConfig, {"ABORT": 0b000, "BYPASS": 0b100, "S1_TRANS": 0b101, "S2_TRANS": 0b110,
                        "NESTED": 0b111}),
    (ste.S1Format, {"LINEAR": 0, "TWO_LEVEL_4K": 1, "TWO_LEVEL_64K": 2}),
    (ste.S1DefaultSubstream, {"TERMINATE": 0, "BYPASS": 1, "SSID0": 2}),
    (ste.ATSMode, {"DISABLED": 0, "FULL": 1, "SPLIT_STAGE": 2}),
    (ste.StreamWorld, {"NS_EL1": 0, "EL2": 2}),
    (cd.TG0Granule, {"SZ_4K": 0, "SZ_64K": 1, "SZ_16K": 2}),
    (cd.TG1Granule, {"SZ_16K": 1, "SZ_4K": 2, "SZ_64K": 3}),
    (cd.IPSize, {f"PA{n}": i for i, n in enumerate((32, 36, 40, 42, 44, 48, 52))}),
    (commands.SyncCS, {"SIG_NONE": 0, "SIG_IRQ": 1, "SIG_SEV": 2}),
    (commands.ResumeAction, {"TERMINATE": 0, "RETRY": 1, "ABORT": 2}),
    (priq.PriRespCode, {"RESPONSE_FAILURE": 0, "INVALID_REQUEST": 1, "SUCCESS": 2}),
    (events.EventClass, {"CD": 0, "TT": 1, "IN": 2}),
    (pgtable.AccessPerm, {"RW_PRIV": 0, "RW_ALL": 1, "RO_PRIV": 2, "RO_ALL": 3}),
    (pgtable.Shareability, {"NSH": 0, "OSH": 2, "ISH": 3}),
], ids=lambda x: x.__name__ if isinstance(x, type) else "")
def test_enum_encodings(enum_cls: Any, expected: dict[str, int]) -> None:
    assert {m.name: m.value for m in enum_cls} == expected


def test_granule_and_ips_helpers() -> None:
    assert [g.size for g in cd.TG0Granule] == [4096, 65536, 16384]
    assert {g.size: g.value for g in cd.TG1Granule} == {16384: 1, 4096: 2, 65536: 3}
    assert [p.nbits for p in cd.IPSize] == [32, 36, 40, 42, 44, 48, 52]
