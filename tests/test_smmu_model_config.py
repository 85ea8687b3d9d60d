"""Reference model: configuration lookups (reference §9 items 1-10)."""

from __future__ import annotations

import dataclasses

import pytest

from models.arch import commands as C
from models.arch import registers as R
from models.arch.cd import L1CD
from models.arch.events import EventID, make_event
from models.arch.ste import L1STD, STE, S1DefaultSubstream, S1Format, StreamConfig, StreamWorld
from models.smmu.config import DEFAULT
from models.smmu.port import Result, TransReq
from tests.test_smmu_model_helpers import Bench

ABORT, BYPASS, OK, RAZ = Result.ABORT, Result.OK_BYPASS, Result.OK_TRANSLATED, Result.RAZ_WI


def ev(eid: EventID, **f: int) -> int:
    return make_event(eid, **f).to_int()


def only_event(b: Bench) -> int:
    (e,) = b.events()
    return e.to_int()


# ---- 1. SMMUEN=0: GBPA ----------------------------------------------------------------------
@pytest.mark.parametrize("abort", [0, 1])
def test_smmuen0_follows_gbpa(abort: int) -> None:
    b = Bench(enable=False)
    b.w32("GBPA", R.GBPA(ABORT=abort, SHCFG=1, Update=1).to_int())
    r = b.xlate(7, 0xDEAD_B000, rnw=0)
    assert (r.result, r.pa, r.fault) == ((ABORT, 0, 0) if abort else (BYPASS, 0xDEAD_B000, 0))
    assert b.smmu.evtq.written == 0 and b.events() == []


@pytest.mark.parametrize("addr", [1 << 48, (1 << 60) | 0x1234, 0xFFFF_0000_0000_0000])
def test_smmuen0_bypass_beyond_oas_aborts_silently(addr: int) -> None:
    """§3.4: with SMMUEN=0 and GBPA bypass, an input address beyond the OAS (48 bits here)
    terminates the transaction with an abort and no event is recorded."""
    b = Bench(enable=False)
    assert (b.xlate(7, 0xFFFF_FFFF_F000).result, b.xlate(7, 0xFFFF_FFFF_F000).pa) == \
        (BYPASS, 0xFFFF_FFFF_F000)
    r = b.xlate(7, addr)
    assert (r.result, r.pa, r.fault) == (ABORT, 0, 0)
    assert b.smmu.evtq.written == 0 and b.events() == []


# ---- 2. StreamID range ----------------------------------------------------------------------
@pytest.mark.parametrize("recinvsid", [0, 1])
def test_sid_beyond_log2size(recinvsid: int) -> None:
    b = Bench(log2size=4, recinvsid=recinvsid)
    r = b.xlate(16, 0x1000)
    assert (r.result, r.fault) == (ABORT, EventID.C_BAD_STREAMID)
    want = [ev(EventID.C_BAD_STREAMID, StreamID=16)] if recinvsid else []
    assert [e.to_int() for e in b.events()] == want


def test_log2size_capped_by_sidsize() -> None:
    cfg = DEFAULT.replace(SIDSIZE=6, ST_LEVEL=R.STLevel.LINEAR)
    b = Bench(cfg, log2size=8)
    b.write_ste(64, STE(V=1, Config=StreamConfig.BYPASS))  # inside LOG2SIZE, beyond SIDSIZE
    b.write_ste(63, STE(V=1, Config=StreamConfig.BYPASS))
    assert b.xlate(63, 0x5000).result == BYPASS
    assert b.xlate(64, 0x5000).fault == EventID.C_BAD_STREAMID


# ---- 3. two-level stream table --------------------------------------------------------------
@pytest.mark.parametrize("split", [6, 8, 10])
def test_two_level_lookup(split: int) -> None:
    b = Bench(two_level=True, split=split)
    sid = (5 << split) | 3
    b.write_ste(sid, STE(V=1, Config=StreamConfig.BYPASS))
    assert b.mem.read64(b.strtab + 8 * 5) & 0x1F == split + 1
    r = b.xlate(sid, 0x4_2000)
    assert (r.result, r.pa) == (BYPASS, 0x4_2000)


@pytest.mark.parametrize("reserved", [0, 5, 7, 9, 11, 31])
def test_reserved_split_behaves_as_6(reserved: int) -> None:
    """§6.3.25 STRTAB_BASE_CFG.SPLIT: 6, 8 or 10; "Other values are reserved, behave as 6"."""
    b = Bench(two_level=True, split=6, split_reg=reserved)
    sid = (5 << 6) | 3
    b.write_ste(sid, STE(V=1, Config=StreamConfig.BYPASS))
    r = b.xlate(sid, 0x4_2000)
    assert (r.result, r.pa) == (BYPASS, 0x4_2000)


@pytest.mark.parametrize("span,l2index", [(0, 0), (10, 0), (31, 0), (4, 8), (4, 7)])
def test_l1std_span(span: int, l2index: int) -> None:
    b = Bench(two_level=True, split=8)
    leaf = b.alloc.alloc(64 << 8)
    b.mem.write64(b.strtab + 8 * 2, L1STD(Span=span, L2Ptr=leaf).to_int())
    sid = (2 << 8) | l2index
    b.mem.write(leaf + 64 * l2index, STE(V=1, Config=StreamConfig.BYPASS).to_bytes())
    r = b.xlate(sid, 0x3000)
    # Span=4 holds 2^(4-1) = 8 STEs: index 7 is the last valid one; Span > SPLIT+1 = 9 is bad.
    if (span, l2index) == (4, 7):
        assert r.result == BYPASS
    else:
        assert (r.result, r.fault) == (ABORT, EventID.C_BAD_STREAMID)
        assert only_event(b) == ev(EventID.C_BAD_STREAMID, StreamID=sid)


def test_l1std_l2ptr_low_bits_ignored() -> None:
    """§5.1 L1STD.L2Ptr: "Bits L2Ptr[N:0] are treated as 0 by the SMMU, where N == 5 + (Span
    -1)" (the Level 2 array is aligned to its size): Span=5, 16 STEs, L2Ptr[9:0] ignored."""
    b = Bench(two_level=True, split=8)
    l2 = b.alloc.alloc(4096)
    b.mem.write64(b.strtab + 8 * 3, L1STD(Span=5, L2Ptr=l2 | 0x3C0).to_int())
    b.mem.write(l2 + 64 * 2, STE(V=1, Config=StreamConfig.BYPASS).to_bytes())
    assert b.xlate(0x302, 0x1234).result == BYPASS
    assert b.events() == []


def test_l1std_l2ptr_beyond_the_oas() -> None:
    """§3.4.3 (5), an STE fetch through L1STD.L2Ptr beyond the OAS: "It is CONSTRAINED
    UNPREDICTABLE whether an implementation truncates an STE fetch address (and continues
    translation) or generates an F_STE_FETCH condition which terminates the transaction".
    The envelope allows exactly those two: F_STE_FETCH with the fetch address, or the STE at
    the address truncated to the 48-bit OAS (a bypass STE here)."""
    b = Bench(two_level=True, split=8)
    l2 = b.alloc.alloc(4096)
    high = 1 << 50
    b.mem.write64(b.strtab + 8 * 3, L1STD(Span=5, L2Ptr=l2 | high).to_int())
    b.mem.write(l2 + 64 * 2, STE(V=1, Config=StreamConfig.BYPASS).to_bytes())
    got = {(o.resp.result, o.resp.fault, getattr(o.event, "FetchAddr", None))
           for o in b.smmu.predict(TransReq(sid=0x302, addr=0x1234))}
    assert got == {(ABORT, EventID.F_STE_FETCH, (l2 | high) + 64 * 2), (BYPASS, 0, None)}


# ---- 4./5. STE validity ---------------------------------------------------------------------
@pytest.mark.parametrize("config", [0b000, 0b001, 0b010, 0b011])
def test_ste_config_abort_is_silent(config: int) -> None:
    b = Bench()
    b.write_ste(4, STE(V=1, Config=config))
    r = b.xlate(4, 0x1000)
    assert (r.result, r.fault) == (ABORT, 0)
    assert b.events() == []


ILLEGAL_STES = {
    "V=0": (DEFAULT, {"V": 0, "Config": StreamConfig.BYPASS}),
    "stage2 without S2P": (DEFAULT, {"Config": StreamConfig.S2_TRANS}),
    "nested without S2P": (DEFAULT, {"Config": StreamConfig.NESTED}),
    "S1CDMax>SSIDSIZE": (DEFAULT, {"S1CDMax": 17}),
    "S1Fmt without CD2L": (DEFAULT.replace(CD2L=0), {"S1CDMax": 4, "S1Fmt": 1}),
    # §5.2: "If ... SMMU_IDR0.CD2L == 0, it is ILLEGAL to set this field != 0b00"
    "S1Fmt reserved without CD2L": (DEFAULT.replace(CD2L=0), {"S1CDMax": 4, "S1Fmt": 0b11}),
    "S1STALLD with terminate-only": (DEFAULT, {"S1STALLD": 1}),
    "STRW=EL2 without Hyp": (DEFAULT, {"STRW": StreamWorld.EL2}),
    "STRW reserved": (DEFAULT, {"STRW": 0b11}),
    # §5.2 EATS=0b10: "If any of the following hold, the STE is ILLEGAL ...: STE.Config !=
    # 0b111" (stage 1 only here)
    "EATS split-stage": (DEFAULT.replace(ATS=1), {"EATS": 0b10}),
}


@pytest.mark.parametrize("name", ILLEGAL_STES)
def test_illegal_ste(name: str) -> None:
    cfg, fields = ILLEGAL_STES[name]
    b = Bench(cfg)
    b.s1_stream(9, b.cd(b.pt()), **fields)
    r = b.xlate(9, 0x1000, ssv=0)
    assert (r.result, r.fault) == (ABORT, EventID.C_BAD_STE)
    assert only_event(b) == ev(EventID.C_BAD_STE, StreamID=9)


def test_eats_0b11_without_dpt_behaves_as_0b00() -> None:
    """§5.2 EATS=0b11: "If SMMU_IDR3.DPT == 0, then this encoding is Reserved for Non-secure
    STEs and behaves as 0b00": the STE is legal and its translations proceed."""
    b = Bench(DEFAULT.replace(ATS=1))
    pt = b.pt()
    pt.map(0x7000, 0xA000)
    b.s1_stream(9, b.cd(pt), EATS=0b11)
    r = b.xlate(9, 0x7123)
    assert (r.result, r.pa) == (Result.OK_TRANSLATED, 0xA123)
    assert b.events() == []


def test_s1cdmax_and_s1fmt_ignored_without_substreams() -> None:
    """§5.2 S1CDMax: "If SMMU_IDR1.SSIDSIZE == 0, this field is IGNORED" (and S1Fmt, which
    only applies with S1CDMax != 0): S1ContextPtr points at the one CD, for a transaction
    without a SubstreamID, whatever S1DSS says."""
    b = Bench(DEFAULT.replace(SSIDSIZE=0))
    pt = b.pt()
    pt.map(0x7000, 0xA000)
    b.s1_stream(9, b.cd(pt), S1CDMax=5, S1Fmt=1, S1DSS=S1DefaultSubstream.TERMINATE)
    r = b.xlate(9, 0x7123)
    assert (r.result, r.pa) == (Result.OK_TRANSLATED, 0xA123)
    assert b.events() == []


def test_ste_ignored_fields_do_not_make_it_illegal() -> None:
    """S1STALLD/S1CDMax are stage-1 fields and EATS is ignored without ATS."""
    b = Bench()
    b.write_ste(2, STE(V=1, Config=StreamConfig.BYPASS, S1STALLD=1, S1CDMax=31, EATS=0b11))
    assert b.xlate(2, 0x7000).result == BYPASS


# ---- 6./7. substreams -----------------------------------------------------------------------
def test_ssv_without_substreams() -> None:
    b = Bench()
    b.s1_stream(1, b.cd(b.pt()), S1CDMax=0)
    r = b.xlate(1, 0x1000, ssv=1, ssid=3)
    assert (r.result, r.fault) == (ABORT, EventID.C_BAD_SUBSTREAMID)
    assert only_event(b) == ev(EventID.C_BAD_SUBSTREAMID, StreamID=1, SubstreamID=3)


def test_ssid_out_of_range() -> None:
    b = Bench()
    b.s1_stream(1, None, S1CDMax=3)  # 8 CDs: SSIDs 0..7
    r = b.xlate(1, 0x1000, ssv=1, ssid=8)
    assert (r.result, r.fault) == (ABORT, EventID.C_BAD_SUBSTREAMID)
    assert only_event(b) == ev(EventID.C_BAD_SUBSTREAMID, StreamID=1, SubstreamID=8)


def test_ssv_on_bypass_stream() -> None:
    b = Bench()
    b.write_ste(1, STE(V=1, Config=StreamConfig.BYPASS))
    assert b.xlate(1, 0x1000, ssv=1, ssid=1).fault == EventID.C_BAD_SUBSTREAMID


def _cd_table(b: Bench, sid: int, s1dss: int) -> int:
    pt = b.pt()
    pt.map(0x1000, 0xA000)
    pt.map(0x2000, 0xB000)
    table = b.s1_stream(sid, None, S1CDMax=4, S1DSS=s1dss)
    b.mem.write(table, b.cd(pt, ASID=1, TTB0=pt.root).to_bytes())
    b.mem.write(table + 64 * 5, b.cd(pt, ASID=2).to_bytes())
    return table


def test_reserved_s1fmt_behaves_as_linear() -> None:
    """§5.2 STE.S1Fmt: "0b11 Reserved (behaves as 0b00)" where CD2L == 1: a linear table."""
    b = Bench()
    _cd_table(b, 6, S1DefaultSubstream.SSID0)
    ste = STE.from_bytes(b.mem.read(b.ste_addr(6), 64))
    b.write_ste(6, dataclasses.replace(ste, S1Fmt=0b11))
    r = b.xlate(6, 0x2000, ssv=1, ssid=5)                  # CD 5 of the linear table
    assert (r.result, r.pa) == (OK, 0xB000)
    assert b.events() == []


@pytest.mark.parametrize("s1dss", [0b00, 0b11])
def test_s1dss_terminate(s1dss: int) -> None:
    b = Bench()
    _cd_table(b, 6, s1dss)
    r = b.xlate(6, 0x1000)
    assert (r.result, r.fault) == (ABORT, EventID.F_STREAM_DISABLED)
    assert only_event(b) == ev(EventID.F_STREAM_DISABLED, StreamID=6)
    assert b.xlate(6, 0x2000, ssv=1, ssid=5).pa == 0xB000


def test_s1dss_bypass_and_cd0() -> None:
    b = Bench()
    _cd_table(b, 6, S1DefaultSubstream.BYPASS)
    r = b.xlate(6, 0x1234)
    assert (r.result, r.pa) == (BYPASS, 0x1234)
    b2 = Bench()
    _cd_table(b2, 6, S1DefaultSubstream.SSID0)
    r = b2.xlate(6, 0x1234)
    assert (r.result, r.pa) == (OK, 0xA234)


def test_s1dss_cd0_rejects_ssid0() -> None:
    b = Bench()
    _cd_table(b, 6, S1DefaultSubstream.SSID0)
    r = b.xlate(6, 0x1234, ssv=1, ssid=0)
    assert (r.result, r.fault) == (ABORT, EventID.F_STREAM_DISABLED)
    assert only_event(b) == ev(EventID.F_STREAM_DISABLED, StreamID=6)


# ---- 8. two-level CD tables -----------------------------------------------------------------
@pytest.mark.parametrize("fmt,split", [(S1Format.TWO_LEVEL_4K, 6), (S1Format.TWO_LEVEL_64K, 10)])
def test_two_level_cd(fmt: int, split: int) -> None:
    b = Bench()
    pt = b.pt()
    pt.map(0x40_0000, 0x77_0000)
    l1 = b.s1_stream(3, None, S1CDMax=12, S1Fmt=fmt)
    ssid = (2 << split) | 1
    r = b.xlate(3, 0x40_0000, ssv=1, ssid=ssid)  # L1CD[2] is zero: V=0
    assert (r.result, r.fault) == (ABORT, EventID.C_BAD_SUBSTREAMID)
    assert only_event(b) == ev(EventID.C_BAD_SUBSTREAMID, StreamID=3, SubstreamID=ssid)
    leaf = b.alloc.alloc(64 << split)
    b.mem.write(leaf + 64, b.cd(pt).to_bytes())
    b.mem.write64(l1 + 8 * 2, L1CD(V=1, L2Ptr=leaf).to_int())
    b.cmd(C.CmdCfgiCd(StreamID=3, SubstreamID=ssid, Leaf=0), C.CmdSync())
    r = b.xlate(3, 0x40_0ABC, ssv=1, ssid=ssid)
    assert (r.result, r.pa) == (OK, 0x77_0ABC)


def test_c_bad_substreamid_without_ssv_records_ssid_0() -> None:
    """SSV=0 reaches CD 0 through S1DSS=0b10; with L1CD 0 invalid the record names
    SubstreamID 0 (reference §5: "C_BAD_SUBSTREAMID (SSID reported, 0 if reached via
    S1DSS=0b10)"), whatever the port's SubstreamID carries when SSV=0."""
    b = Bench()
    b.s1_stream(3, None, S1CDMax=12, S1Fmt=1)   # 2-level, L1CD 0 is zero: V=0
    r = b.xlate(3, 0x40_0000, ssv=0, ssid=0x55)
    assert (r.result, r.fault) == (ABORT, EventID.C_BAD_SUBSTREAMID)
    assert only_event(b) == ev(EventID.C_BAD_SUBSTREAMID, StreamID=3, SubstreamID=0)


# ---- 9. CD validity -------------------------------------------------------------------------
ILLEGAL_CDS = {
    "V=0": (DEFAULT, {"V": 0}),
    "TG0 reserved": (DEFAULT, {"TG0": 0b11}),
    "TG0 64K unsupported": (DEFAULT, {"TG0": 0b01}),
    "TG0 16K unsupported": (DEFAULT, {"TG0": 0b10}),
    "AA64=0": (DEFAULT, {"AA64": 0}),
    "T0SZ 15": (DEFAULT, {"T0SZ": 15}),
    "T0SZ 40": (DEFAULT, {"T0SZ": 40}),
    "ENDI": (DEFAULT, {"ENDI": 1}),
    "TTB0 beyond IPS": (DEFAULT, {"IPS": R.OAS.PA32, "TTB0": 1 << 32}),
    "TTB0 beyond OAS": (DEFAULT.replace(OAS=R.OAS.PA40), {"TTB0": 1 << 40}),
    "HA without HTTU": (DEFAULT, {"HA": 1}),
    "HD without HTTU": (DEFAULT, {"HA": 1, "HD": 1}),
    "ASID16 off": (DEFAULT.replace(ASID16=0), {"ASID": 0x100}),
    "A=0 with TERM_MODEL=1": (DEFAULT.replace(TERM_MODEL=1), {"A": 0}),
    "S=1 terminate-only": (DEFAULT, {"S": 1}),
    "TTB1 enabled bad TG1": (DEFAULT, {"EPD1": 0, "TG1": 0b00, "T1SZ": 16}),
    # §5.4 TTB0: "it is ILLEGAL for the address in this field to be outside of a 48-bit range
    # when CD.DS == 0, CD.AA64 selects VMSAv8-64 and CD.TG0 selects a granule smaller than
    # 64KB", even with a 52-bit effective IPS (no CD.DS here: it is always 0)
    "TTB0 beyond 48 bits, 52-bit IPS, 4 KiB": (DEFAULT.replace(OAS=R.OAS.PA52),
                                               {"IPS": R.OAS.PA52, "TTB0": 1 << 48}),
    "TTB1 beyond 48 bits, 52-bit IPS, 4 KiB": (DEFAULT.replace(OAS=R.OAS.PA52),
                                               {"IPS": R.OAS.PA52, "EPD1": 0, "TG1": 0b10,
                                                "T1SZ": 16, "TTB1": 0xF << 48}),
}


@pytest.mark.parametrize("name", ILLEGAL_CDS)
def test_illegal_cd(name: str) -> None:
    cfg, fields = ILLEGAL_CDS[name]
    b = Bench(cfg)
    pt = b.pt()
    pt.map(0x1000, 0x2000)
    b.s1_stream(2, b.cd(pt, **fields))
    r = b.xlate(2, 0x1000)
    assert (r.result, r.fault) == (ABORT, EventID.C_BAD_CD)
    assert only_event(b) == ev(EventID.C_BAD_CD, StreamID=2)


def test_disabled_ttb0_values_do_not_count() -> None:
    b = Bench()
    b.s1_stream(2, b.cd(None, EPD0=1, TG0=0b11, T0SZ=63, TTB0=(1 << 48) - 16, R=0))
    r = b.xlate(2, 0x1000)
    assert (r.result, r.fault) == (ABORT, EventID.F_TRANSLATION)  # EPD0: every miss faults
    assert b.events() == []  # R=0: not recorded (the Linux "quiet CD")


@pytest.mark.parametrize(("epd0", "epd1", "legal"), [(1, 1, True), (0, 1, False), (1, 0, False)])
def test_endi_ignored_when_both_epds_are_1(epd0: int, epd1: int, legal: bool) -> None:
    """§5.4 ENDI: "If the effective values of both CD.EPD0 and CD.EPD1 are 1, this field is
    IGNORED. Otherwise: If SMMU_IDR0.TTENDIAN == 0b10, it is ILLEGAL to set this field to 1."
    This SMMU is little-endian only (TTENDIAN=0b10). With both halves disabled every access
    is an F_TRANSLATION; otherwise the CD is C_BAD_CD."""
    assert R.IDR0.from_int(DEFAULT.idr()["IDR0"]).TTENDIAN == R.TTEndian.LITTLE
    b = Bench()
    b.s1_stream(2, b.cd(b.pt(), ENDI=1, EPD0=epd0, EPD1=epd1, TG1=0b10, T1SZ=16))
    r = b.xlate(2, 0x1000)
    assert (r.result, r.fault) == (ABORT, EventID.F_TRANSLATION if legal else EventID.C_BAD_CD)


# ---- 10. fetch aborts -----------------------------------------------------------------------
def test_ste_fetch_abort() -> None:
    b = Bench()
    addr = b.write_ste(5, STE(V=1, Config=StreamConfig.BYPASS))
    b.mem.add_fault(addr + 8, addr + 16)
    r = b.xlate(5, 0x1000)
    assert (r.result, r.fault) == (ABORT, EventID.F_STE_FETCH)
    assert only_event(b) == ev(EventID.F_STE_FETCH, StreamID=5, FetchAddr=addr)


def test_l1std_fetch_abort() -> None:
    b = Bench(two_level=True)
    b.write_ste(0x305, STE(V=1, Config=StreamConfig.BYPASS))
    b.mem.add_fault(b.strtab + 8 * 3, b.strtab + 8 * 4)
    r = b.xlate(0x305, 0x1000, ssv=1, ssid=9)
    assert r.fault == EventID.F_STE_FETCH
    assert only_event(b) == ev(EventID.F_STE_FETCH, StreamID=0x305, SSV=1, SubstreamID=9,
                               FetchAddr=b.strtab + 24)


def test_cd_and_l1cd_fetch_abort() -> None:
    b = Bench()
    ctx = b.s1_stream(1, b.cd(b.pt()))
    b.mem.add_fault(ctx + 56, ctx + 64)
    assert b.xlate(1, 0x1000).fault == EventID.F_CD_FETCH
    assert only_event(b) == ev(EventID.F_CD_FETCH, StreamID=1, FetchAddr=ctx)
    l1 = b.s1_stream(2, None, S1CDMax=8, S1Fmt=S1Format.TWO_LEVEL_4K)
    b.mem.add_fault(l1 + 8, l1 + 16)
    assert b.xlate(2, 0x1000, ssv=1, ssid=64).fault == EventID.F_CD_FETCH
    assert only_event(b) == ev(EventID.F_CD_FETCH, StreamID=2, SSV=1, SubstreamID=64,
                               FetchAddr=l1 + 8)


@pytest.mark.parametrize("aidr", [0, 1])
def test_context_pointers_beyond_the_oas(aidr: int) -> None:
    """§3.4.3, a stage-1 S1ContextPtr (1) or L1CD.L2Ptr (3) beyond the OAS: "An implementation
    of SMMUv3.1 or later generates C_BAD_STE [C_BAD_SUBSTREAMID] and terminates the
    transaction. It is CONSTRAINED UNPREDICTABLE whether an SMMUv3.0 implementation: a.
    Generates an F_CD_FETCH ... The event contains the non-truncated fetch address. b.
    Generates a C_BAD_STE [C_BAD_SUBSTREAMID] ... c. Truncates ... to the OAS and initiates a
    read ... (translation continues)." The envelope allows exactly those."""
    b = Bench(DEFAULT.replace(AIDR=aidr))
    pt = b.pt()
    pt.map(0x7000, 0xA000)
    ctx = b.s1_stream(4, b.cd(pt))
    high = 1 << 50                                         # beyond the 48-bit OAS
    b.write_ste(4, STE(V=1, Config=StreamConfig.S1_TRANS, S1ContextPtr=ctx | high))
    got = {(o.resp.result, o.resp.fault, getattr(o.event, "FetchAddr", None))
           for o in b.smmu.predict(TransReq(sid=4, addr=0x7123))}
    bad_ste = (ABORT, EventID.C_BAD_STE, None)
    if aidr:
        assert got == {bad_ste}
    else:
        assert got == {bad_ste, (ABORT, EventID.F_CD_FETCH, ctx | high),
                       (Result.OK_TRANSLATED, 0, None)}
    # L1CD.L2Ptr beyond the OAS (2-level CD table, SSID 3)
    l1 = b.s1_stream(5, None, S1CDMax=8, S1Fmt=S1Format.TWO_LEVEL_4K)
    leaf = b.alloc.alloc(4096)
    b.mem.write64(l1, L1CD(V=1, L2Ptr=leaf | high).to_int())
    b.mem.write(leaf + 64 * 3, b.cd(pt).to_bytes())
    got = {(o.resp.result, o.resp.fault, getattr(o.event, "FetchAddr", None))
           for o in b.smmu.predict(TransReq(sid=5, ssv=1, ssid=3, addr=0x7123))}
    bad_ssid = (ABORT, EventID.C_BAD_SUBSTREAMID, None)
    if aidr:
        assert got == {bad_ssid}
    else:
        assert got == {bad_ssid, (ABORT, EventID.F_CD_FETCH, (leaf | high) + 64 * 3),
                       (Result.OK_TRANSLATED, 0, None)}
