"""Reference model: ATS Translation Requests (reference fault-paths.md §3.1, SPEC §3.9.1.2 and
§13.7). Expected values are written from the outcome table there, not read off the model."""

from __future__ import annotations

import pytest

from models.arch import commands as C
from models.arch import registers as R
from models.arch.events import EventID
from models.arch.pgtable import PTE_AF, PTE_RDONLY, AccessPerm
from models.arch.ste import STE, ATSMode, S1DefaultSubstream, StreamConfig
from models.smmu.ats import STU, AtsCompletion, AtsReq, AtsStatus
from models.smmu.config import DEFAULT
from models.smmu.port import Result, TransResp
from tests.test_smmu_model_helpers import Bench

ATS = DEFAULT.replace(ATS=1, STALL_MODEL=R.StallModel.STALL_AND_TERMINATE, STALL_MAX=4)
SID = 5
PASID = 3
VA = 0x40_0000_0000
PA = 0x7_0000_0000


def setup(*, eats: int = ATSMode.FULL, s1dss: int = S1DefaultSubstream.SSID0, cfg=ATS,
          **cd: int):
    """Stream SID with a CD table of 16 entries, PASID 3 and SSID 0 on one page table."""
    b = Bench(cfg)
    pt = b.pt()
    the_cd = b.cd(pt, **cd)
    ctx = b.s1_stream(SID, the_cd, S1CDMax=4, EATS=eats, S1DSS=s1dss)
    b.mem.write(ctx + 64 * PASID, the_cd.to_bytes())
    return b, pt


def ats(b: Bench, addr: int = VA, *, ssv: int = 1, **kw: int) -> AtsCompletion:
    return b.smmu.ats_translate(AtsReq(sid=SID, addr=addr, ssv=ssv,
                                       ssid=PASID if ssv else 0, **kw))


def test_a_writable_page_gives_read_and_write_for_one_stu() -> None:
    """Success with the leaf's permissions, for the STU (4 KiB here), Global=0 for a request
    with a PASID, no record."""
    b, pt = setup()
    pt.map(VA, PA, AP=AccessPerm.RW_ALL)
    c = ats(b, VA + 0x123)
    assert (c.status, c.addr, c.size, c.r, c.w, c.x, c.glob) == \
        (AtsStatus.SUCCESS, PA, STU, 1, 1, 0, 0)
    assert b.events() == []


def test_no_write_and_read_only() -> None:
    """No-Write asks for read access only; a read-only page grants no write either way."""
    b, pt = setup()
    pt.map(VA, PA, AP=AccessPerm.RW_ALL)
    pt.map(VA + STU, PA + STU, AP=AccessPerm.RO_ALL)
    assert (ats(b, VA, nw=1).r, ats(b, VA, nw=1).w) == (1, 0)
    c = ats(b, VA + STU)
    assert (c.status, c.r, c.w) == (AtsStatus.SUCCESS, 1, 0)


@pytest.mark.parametrize("case", ["unmapped", "af_0", "addr_size"])
def test_translation_class_faults_give_no_access_and_no_event(case: str) -> None:
    """F_TRANSLATION, F_ACCESS, F_ADDR_SIZE: Success with R=W=0 and no event, whatever CD.A,
    R and S say (here R=1 and S=1: a transaction would have recorded and stalled)."""
    b, pt = setup(R=1, S=1, **({"IPS": R.OAS.PA32} if case == "addr_size" else {}))
    if case == "af_0":
        pt.map(VA, PA, AF=0)
    elif case == "addr_size":
        pt.map(VA, PA)  # PA is beyond the CD's 32-bit IPS
    c = ats(b)
    assert (c.status, c.r, c.w, c.x, c.event) == (AtsStatus.SUCCESS, 0, 0, 0, None)
    assert b.events() == []
    assert not b.smmu.stalls.held


def test_permissions_follow_the_requests_privilege() -> None:
    """A page only EL1 may access: an unprivileged request gets R=W=0 (F_PERMISSION with no
    access), a privileged one R=W=1; Priv is echoed."""
    b, pt = setup()
    pt.map(VA, PA, AP=AccessPerm.RW_PRIV)
    c = ats(b, priv=0)
    assert (c.status, c.r, c.w, c.priv) == (AtsStatus.SUCCESS, 0, 0, 0)
    c = ats(b, priv=1)
    assert (c.status, c.r, c.w, c.priv) == (AtsStatus.SUCCESS, 1, 1, 1)
    assert b.events() == []


def test_execute_is_granted_only_where_asked_and_allowed() -> None:
    b, pt = setup()
    pt.map(VA, PA, AP=AccessPerm.RO_ALL, UXN=0)
    pt.map(VA + STU, PA + STU, AP=AccessPerm.RO_ALL, UXN=1)
    assert (ats(b, exe=1).x, ats(b, exe=0).x) == (1, 0)
    c = ats(b, VA + STU, exe=1)
    assert (c.r, c.x) == (1, 0)  # readable, not executable


@pytest.mark.parametrize("how", ["smmuen_0", "eats_0", "bypass_ste"])
def test_ats_not_allowed_is_ur_with_f_bad_ats_treq(how: str) -> None:
    """SMMUEN=0, STE.Config=0b100 or an effective EATS of 0b00: UR and F_BAD_ATS_TREQ."""
    b, pt = setup(eats=ATSMode.DISABLED if how == "eats_0" else ATSMode.FULL)
    pt.map(VA, PA)
    if how == "smmuen_0":
        b.w32("CR0", R.CR0(CMDQEN=1, EVENTQEN=1).to_int())
    elif how == "bypass_ste":
        b.write_ste(SID, STE(V=1, Config=StreamConfig.BYPASS, EATS=ATSMode.FULL))
    c = ats(b)
    assert (c.status, c.r, c.w) == (AtsStatus.UR, 0, 0)
    if how == "smmuen_0":  # the event queue is written only with SMMUEN=1: no record
        assert c.event is None and b.events() == []
        return
    assert c.event is not None and c.event.EventID == EventID.F_BAD_ATS_TREQ
    assert (c.event.StreamID, c.event.SSV, c.event.SubstreamID, c.event.InputAddr) == \
        (SID, 1, PASID, VA)
    (ev,) = b.events()
    assert ev.EventID == EventID.F_BAD_ATS_TREQ


def test_an_abort_ste_is_ur_without_an_event() -> None:
    b, _pt = setup()
    b.write_ste(SID, STE(V=1, Config=StreamConfig.ABORT))
    assert ats(b).status == AtsStatus.UR
    assert b.events() == []


@pytest.mark.parametrize("how", ["ste_invalid", "sid_out_of_range", "cd_invalid",
                                 "bad_substream", "ste_fetch_abort"])
def test_configuration_errors_are_ca_without_an_event(how: str) -> None:
    """C_BAD_STE, C_BAD_STREAMID, C_BAD_CD, C_BAD_SUBSTREAMID, F_STE_FETCH: Completer Abort;
    recorded only with CR2.REC_CFG_ATS=1, which this SMMU does not have."""
    b, pt = setup(**({"V": 0} if how == "cd_invalid" else {}))
    pt.map(VA, PA)
    sid, ssid = SID, PASID
    if how == "ste_invalid":
        b.write_ste(SID, STE())
    elif how == "sid_out_of_range":
        sid = 1 << ATS.SIDSIZE
    elif how == "bad_substream":
        ssid = 1 << 4  # beyond S1CDMax
    elif how == "ste_fetch_abort":
        b.mem.add_fault(b.ste_addr(SID), b.ste_addr(SID) + 64, on="r")
    c = b.smmu.ats_translate(AtsReq(sid=sid, addr=VA, ssv=1, ssid=ssid))
    assert (c.status, c.r, c.w, c.event) == (AtsStatus.CA, 0, 0, None)
    assert b.events() == []


def test_s1dss_bypass_without_a_pasid_is_identity() -> None:
    """S1DSS=0b01 and no PASID: Success, identity, R=W=1."""
    b, _pt = setup(s1dss=S1DefaultSubstream.BYPASS)
    c = ats(b, 0x1234_5678, ssv=0)
    assert (c.status, c.addr, c.r, c.w) == (AtsStatus.SUCCESS, 0x1234_5000, 1, 1)


def test_an_smmu_without_ats_refuses_the_request() -> None:
    b = Bench(DEFAULT)
    with pytest.raises(ValueError, match="ATS"):
        b.smmu.ats_translate(AtsReq(sid=1, addr=0))


def test_eats_0b11_behaves_as_0b00() -> None:
    """Without IDR3.DPT, STE.EATS=0b11 behaves as 0b00: ATS is not allowed (UR)."""
    b, pt = setup(eats=0b11)
    pt.map(VA, PA)
    c = ats(b)
    assert c.status == AtsStatus.UR and c.event is not None


# ---- ATS-Translated transactions (SPEC §3.9.1.3; fault-paths.md §3.1, "Translated traffic")
TPA = 0x1234_5000  # a translated address: already a PA


def atschk(b: Bench, on: int = 1, smmuen: int = 1) -> None:
    b.w32("CR0", R.CR0(CMDQEN=1, EVENTQEN=1, SMMUEN=smmuen, ATSCHK=on).to_int())


def test_translated_traffic_passes_where_the_ste_allows_ats() -> None:
    """ATSCHK=1, STE.Config stage 1 with EATS full ATS: the PA passes untouched, no record."""
    b, _pt = setup()
    atschk(b)
    r = b.smmu.translated(SID, TPA + 0x40, rnw=0)
    assert (r.result, r.pa, r.fault) == (Result.OK_BYPASS, TPA + 0x40, 0)
    # beyond the OAS (48 bits here): not an address the SMMU can emit, aborted silently
    assert b.smmu.translated(SID, 1 << 48, rnw=0) == TransResp(Result.ABORT)
    assert b.events() == []


@pytest.mark.parametrize("how", ["eats_0", "eats_11", "bypass_ste"])
def test_translated_traffic_where_ats_is_not_allowed_is_f_transl_forbidden(how: str) -> None:
    """ATSCHK=1 and an effective EATS of 0b00 (0b11 behaves so) or a bypass STE: abort and
    F_TRANSL_FORBIDDEN naming the StreamID, RnW and the address."""
    b, _pt = setup(eats={"eats_0": ATSMode.DISABLED, "eats_11": 0b11}.get(how, ATSMode.FULL))
    if how == "bypass_ste":
        b.write_ste(SID, STE(V=1, Config=StreamConfig.BYPASS, EATS=ATSMode.FULL))
    atschk(b)
    r = b.smmu.translated(SID, TPA, rnw=1)
    assert (r.result, r.fault) == (Result.ABORT, EventID.F_TRANSL_FORBIDDEN)
    (ev,) = b.events()
    assert (ev.EventID, ev.StreamID, ev.RnW, ev.InputAddr) == \
        (EventID.F_TRANSL_FORBIDDEN, SID, 1, TPA)


def test_translated_traffic_abort_ste_invalid_ste_and_smmuen_0() -> None:
    """ATSCHK=1: an abort STE aborts silently; an invalid STE is C_BAD_STE as for any
    transaction; with SMMUEN=0 the transaction is forbidden, with no record (the event queue
    is written only with SMMUEN=1)."""
    b, _pt = setup()
    atschk(b)
    b.write_ste(SID, STE(V=1, Config=StreamConfig.ABORT))
    assert b.smmu.translated(SID, TPA, rnw=1) == TransResp(Result.ABORT)
    b.write_ste(SID, STE(V=0))
    b.cmd(C.CmdCfgiSte(StreamID=SID))  # the abort STE may be cached until invalidated
    b.sync()
    assert b.smmu.translated(SID, TPA, rnw=1).fault == EventID.C_BAD_STE
    assert [e.EventID for e in b.events()] == [EventID.C_BAD_STE]
    atschk(b, smmuen=0)
    r = b.smmu.translated(SID, TPA, rnw=1)
    assert (r.result, r.fault) == (Result.ABORT, EventID.F_TRANSL_FORBIDDEN)
    assert b.events() == []


def test_translated_traffic_without_atschk_is_not_looked_up() -> None:
    """ATSCHK=0 (fast mode): translated traffic passes with no Stream table lookup, even
    for a StreamID whose STE is invalid."""
    b, _pt = setup(eats=ATSMode.DISABLED)
    atschk(b, on=0)
    b.write_ste(SID, STE(V=0))
    assert b.smmu.translated(SID, TPA, rnw=0) == TransResp(Result.OK_BYPASS, pa=TPA)
    assert b.events() == []


@pytest.mark.parametrize(("nw", "hd", "dirty"), [(0, 1, True), (1, 1, False), (0, 0, False)])
def test_ats_with_httu_dirties_a_clean_page_only_without_no_write(nw: int, hd: int,
                                                                  dirty: bool) -> None:
    """§3.13.7 (fault-paths.md §2.2): HTTU happens at the ATS Translation Request. NW=0 to a
    writable-clean page (DBM=1, AP[2]=1) with CD.HD marks it dirty (AP[2] cleared) before the
    completion grants W=1; NW=1 never dirties; without HD the completion has W=0. AF=0 is set
    with CD.HA either way (the page is then accessed)."""
    b, pt = setup(cfg=ATS.replace(HTTU=R.HTTU.ACCESS_DIRTY), HA=1, HD=hd)
    addr = pt.map(VA, PA, AP=AccessPerm.RO_ALL, DBM=1, AF=0)
    before = b.mem.read64(addr)
    c = ats(b, VA, nw=nw)
    assert (c.status, c.r, c.w) == (AtsStatus.SUCCESS, 1, int(dirty)), c
    want = before | PTE_AF
    if dirty:
        want &= ~PTE_RDONLY
    assert b.mem.read64(addr) == want
