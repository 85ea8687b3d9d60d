"""Directed tests of ATS Translation Requests (parameter sets with IDR0.ATS=1), with
expectations written from the reference (fault-paths.md §3.1, SPEC §3.9.1.2 and §13.7; the
VMSAv8-64 permission rules of smmuv3.md §4.3), not from the model.

An ATS request is a translation request with ``t_req_ats=1``: ``t_req_ind`` is its Execute bit,
``t_req_pnu`` its Privileged bit, ``t_req_nw`` No-Write (docs/port-contract.md, "ATS
Translation Requests"). Success is result OK (or BYPASS) with the page address and the
permissions granted; UR and CA are ABORT, told apart by ``t_rsp_fault``.
"""

from __future__ import annotations

import os

import cocotb

from models.arch import registers as R
from models.arch.events import EventID
from models.arch.ste import STE, ATSMode, StreamConfig
from models.smmu.ats import AtsStatus, completion_from_port
from models.smmu.port import PERM_R, PERM_W, PERM_X
from tb.directed.harness import ABORT, BYPASS, CDTAB, OK, Soft, cd, check, s1_ste
from tb.dut_config import CONFIGS

SET = os.environ.get("SMMU_PARAMS", "default")
CFG = CONFIGS[SET]
NO_ATS = not CFG.ATS
# CD.S=1 wherever the stall model allows it (and where STALL_FORCED requires it): an ATS
# request must never stall, whatever CD.S says.
CD_S = int(CFG.STALL_MODEL != R.StallModel.TERMINATE_ONLY)

PA = 0x8000_0000
RW_EL0, RO_EL0, RW_EL1 = 0x1000, 0x2000, 0x3000  # AP = 0b01, 0b11, 0b00
NO_AF, UNMAPPED = 0x4000, 0x5000
SID_ATS, SID_NO_EATS, SID_BYPASS, SID_ABORT, SID_INVALID, SID_EATS11, SID_S1DSS = \
    1, 2, 3, 4, 5, 6, 7
SID_INSTR = 8  # STE.INSTCFG = 0b11: every read is an instruction fetch
RO_XN = 0x6000  # EL0 read-only, UXN=1

R_, W_, X_ = PERM_R, PERM_W, PERM_X


async def setup(dut, *, smmuen: int = 1) -> Soft:
    s = Soft(dut)
    ttb = s.alloc()
    s.map(ttb, RW_EL0, PA + RW_EL0)
    s.map(ttb, RO_EL0, PA + RO_EL0, AP=0b11)
    s.map(ttb, RW_EL1, PA + RW_EL1, AP=0b00)
    s.map(ttb, NO_AF, PA + NO_AF, AF=0)
    s.map(ttb, RO_XN, PA + RO_XN, AP=0b11, UXN=1)
    s.mem.write(CDTAB, cd(ttb, S=CD_S).to_bytes())
    s.ste(SID_ATS, s1_ste(CDTAB, EATS=ATSMode.FULL))
    s.ste(SID_NO_EATS, s1_ste(CDTAB))
    s.ste(SID_BYPASS, STE(V=1, Config=StreamConfig.BYPASS, EATS=ATSMode.FULL))
    s.ste(SID_ABORT, STE(V=1, Config=StreamConfig.ABORT, EATS=ATSMode.FULL))
    s.ste(SID_INVALID, STE(V=0))
    s.ste(SID_EATS11, s1_ste(CDTAB, EATS=0b11))
    s.ste(SID_INSTR, s1_ste(CDTAB, EATS=ATSMode.FULL, INSTCFG=0b11))
    if CFG.SSIDSIZE:
        # two CDs, no PASID: S1DSS=bypass (stage 1 skipped for requests without a PASID)
        s.ste(SID_S1DSS, s1_ste(CDTAB, EATS=ATSMode.FULL, S1CDMax=1, S1DSS=0b01))
    await s.start(smmuen=smmuen)
    return s


async def ats(s: Soft, addr: int, *, sid: int = SID_ATS, priv: int = 0, exe: int = 0,
              nw: int = 0, tag: int = 1, **kw) -> dict:
    return await s.x.xlate(tag, sid=sid, addr=addr, rnw=1, ind=exe, pnu=priv, nw=nw, ats=1,
                           **kw)


@cocotb.test(skip=NO_ATS)
async def success_grants_what_the_page_allows_a_data_read(dut):
    """§3.1: Success granting the permissions of the page at the request's privilege, W
    only without No-Write, Exe only where asked; the completion covers the STU (the page
    address, bits [11:0] zero)."""
    s = await setup(dut)
    # EL0 read/write page, unprivileged: R, W, and X (UXN=0, not writable-and-WXN) if asked
    check(await ats(s, RW_EL0 + 0x234), OK, pa=PA + RW_EL0, perm=R_ | W_)
    check(await ats(s, RW_EL0, exe=1), OK, pa=PA + RW_EL0, perm=R_ | W_ | X_)
    check(await ats(s, RW_EL0, nw=1), OK, pa=PA + RW_EL0, perm=R_)
    # read-only page: R only, even for a request that would write
    check(await ats(s, RO_EL0), OK, pa=PA + RO_EL0, perm=R_)
    # privileged: an EL0-writable page is never executable at EL1 (VMSAv8-64)
    check(await ats(s, RW_EL0, priv=1, exe=1), OK, pa=PA + RW_EL0, perm=R_ | W_)
    check(await ats(s, RW_EL1, priv=1, exe=1), OK, pa=PA + RW_EL1, perm=R_ | W_ | X_)
    assert await s.events() == []
    c = completion_from_port(await ats(s, RO_EL0, priv=1), priv=1)
    assert (c.status, c.addr, c.r, c.w, c.x, c.priv, c.glob) == \
        (AtsStatus.SUCCESS, PA + RO_EL0, 1, 0, 0, 1, 0), c


@cocotb.test(skip=NO_ATS)
async def instcfg_instruction_checks_an_ats_request_as_a_fetch(dut):
    """STE.INSTCFG=0b11 makes every read an instruction fetch (§5.2), the lookup of an ATS
    request included: a readable page that is not executable gives no access (F_PERMISSION);
    an executable one grants what it allows, X where asked."""
    s = await setup(dut)
    check(await ats(s, RO_XN), OK, pa=PA + RO_XN, perm=R_)  # data read: fine
    check(await ats(s, RO_XN, sid=SID_INSTR, exe=1), OK, pa=0, perm=0,
          fault=EventID.F_PERMISSION)
    check(await ats(s, RW_EL0, sid=SID_INSTR, exe=1), OK, pa=PA + RW_EL0, perm=R_ | W_ | X_)
    assert await s.events() == []


@cocotb.test(skip=NO_ATS)
async def translation_class_faults_are_success_with_no_access(dut):
    """§3.1: F_TRANSLATION, F_ACCESS and F_PERMISSION give Success with R=W=0 and no event,
    although CD.R=1; CD.A does not apply and the request never stalls, although CD.S=1 where
    the stall model allows it."""
    s = await setup(dut)
    check(await ats(s, UNMAPPED), OK, pa=0, perm=0, fault=EventID.F_TRANSLATION)
    check(await ats(s, NO_AF), OK, pa=0, perm=0, fault=EventID.F_ACCESS)
    # an EL1-only page is not even readable by an unprivileged request
    check(await ats(s, RW_EL1), OK, pa=0, perm=0, fault=EventID.F_PERMISSION)
    # beyond the input range of TTB0 (T0SZ=16) with EPD1=1
    check(await ats(s, 1 << 60), OK, pa=0, perm=0, fault=EventID.F_TRANSLATION)
    assert await s.events() == []
    # the same pages through the IOTLB (the first requests filled what they walked)
    check(await ats(s, RW_EL1, tag=2), OK, pa=0, perm=0, fault=EventID.F_PERMISSION)
    check(await ats(s, RW_EL0, tag=3), OK, pa=PA + RW_EL0, perm=R_ | W_)
    assert await s.events() == []


@cocotb.test(skip=NO_ATS)
async def ats_where_the_ste_forbids_it_is_ur_with_f_bad_ats_treq(dut):
    """§3.1: a bypass STE (Config 0b100) or an effective EATS of 0b00 (0b11 behaves as 0b00
    without IDR3.DPT) gives UR and F_BAD_ATS_TREQ, before any substream check; the record
    names the StreamID, the SubstreamID and the address. Also when the context is already
    cached by ordinary traffic."""
    s = await setup(dut)
    cases = [(SID_NO_EATS, 0, 0), (SID_BYPASS, 0, 0), (SID_EATS11, 0, 0)]
    if CFG.SSIDSIZE:
        cases.append((SID_BYPASS, 1, 3))  # a PASID on a bypass STE: still UR, not CA
    for i, (sid, ssv, ssid) in enumerate(cases):
        rsp = await ats(s, RW_EL0 + 0x40, sid=sid, ssv=ssv, ssid=ssid, tag=i)
        check(rsp, ABORT, pa=0, perm=0, fault=EventID.F_BAD_ATS_TREQ)
        assert completion_from_port(rsp, 0).status == AtsStatus.UR
    ev = await s.events(len(cases))
    assert [(e.EventID, e.StreamID, e.SSV, e.SubstreamID, e.InputAddr) for e in ev] == \
        [(EventID.F_BAD_ATS_TREQ, sid, ssv, ssid, RW_EL0 + 0x40) for sid, ssv, ssid in cases]
    # ordinary traffic caches SID 2's context; an ATS request through it is still refused
    check(await s.x.xlate(9, sid=SID_NO_EATS, addr=RW_EL0), OK, pa=PA + RW_EL0)
    check(await ats(s, RW_EL0, sid=SID_NO_EATS), ABORT, fault=EventID.F_BAD_ATS_TREQ)
    (e,) = await s.events(1)
    assert (e.EventID, e.StreamID) == (EventID.F_BAD_ATS_TREQ, SID_NO_EATS), e


@cocotb.test(skip=NO_ATS)
async def an_abort_ste_is_ur_and_a_configuration_error_is_ca_without_events(dut):
    """§3.1: STE.Config=0b000 gives UR with no event; a configuration error (C_BAD_STE,
    C_BAD_STREAMID, C_BAD_SUBSTREAMID) gives CA, recorded only with CR2.REC_CFG_ATS, which
    this SMMU does not have (IDR0.ATSRECERR=0), although CR2.RECINVSID=1."""
    s = await setup(dut)
    rsp = await ats(s, RW_EL0, sid=SID_ABORT)
    check(rsp, ABORT, fault=0)
    assert completion_from_port(rsp, 0).status == AtsStatus.UR
    for sid, ssv, fault in ((SID_INVALID, 0, EventID.C_BAD_STE),
                            (1 << 6, 0, EventID.C_BAD_STREAMID),  # beyond LOG2SIZE=6
                            (SID_ATS, 1, EventID.C_BAD_SUBSTREAMID)):  # single CD: no PASID
        rsp = await ats(s, RW_EL0, sid=sid, ssv=ssv, ssid=1)
        check(rsp, ABORT, fault=fault)
        assert completion_from_port(rsp, 0).status == AtsStatus.CA
    assert await s.events() == []


@cocotb.test(skip=NO_ATS or not CFG.SSIDSIZE)
async def s1dss_bypass_is_success_with_identity(dut):
    """§3.1: S1DSS skipping stage 1 (Config 0b101, a request without PASID) gives Success
    with the identity translation and R=W=1 (W cleared by No-Write)."""
    s = await setup(dut)
    check(await ats(s, 0x1234_5678, sid=SID_S1DSS), BYPASS, pa=0x1234_5000, perm=R_ | W_)
    check(await ats(s, 0x1234_5678, sid=SID_S1DSS, nw=1), BYPASS, pa=0x1234_5000, perm=R_)
    assert await s.events() == []


@cocotb.test(skip=NO_ATS)
async def smmuen_0_is_ur(dut):
    """§3.1: SMMUEN=0 gives UR (F_BAD_ATS_TREQ), whatever GBPA says; this SMMU writes its
    event queue only with SMMUEN=1, so no record."""
    s = await setup(dut, smmuen=0)
    rsp = await ats(s, RW_EL0)
    check(rsp, ABORT, pa=0, perm=0, fault=EventID.F_BAD_ATS_TREQ)
    assert completion_from_port(rsp, 0).status == AtsStatus.UR
    # ordinary traffic bypasses (GBPA.ABORT=0 unless the set resets it to 1)
    rsp = await s.x.xlate(2, sid=SID_ATS, addr=RW_EL0)
    assert rsp["result"] == (ABORT if CFG.GBPA_ABORT_RESET else BYPASS), rsp


# ---- ATS-Translated transactions (t_req_at=1; SPEC §3.9.1.3) --------------------------------
TPA = 0x1234_5000  # already a PA


async def atschk(s: Soft, on: int = 1, smmuen: int = 1) -> None:
    cr0 = R.CR0(CMDQEN=1, EVENTQEN=1, SMMUEN=smmuen, ATSCHK=on).to_int()
    await s.w32("CR0", cr0)
    await s.poll("CR0ACK", cr0)


async def translated(s: Soft, sid: int, addr: int = TPA, *, rnw: int = 1, tag: int = 1) -> dict:
    return await s.x.xlate(tag, sid=sid, addr=addr, rnw=rnw, at=1)


@cocotb.test(skip=NO_ATS)
async def translated_traffic_is_checked_against_the_ste_with_atschk(dut):
    """§3.9.1.3, CR0.ATSCHK=1: a StreamID whose STE allows ATS passes its PA untouched; an
    effective EATS of 0b00 (0b11 behaves so) or a bypass STE aborts with F_TRANSL_FORBIDDEN
    (StreamID, RnW, address); an abort STE aborts silently; an invalid STE is C_BAD_STE as
    for any transaction. Also through a context ordinary traffic cached."""
    s = await setup(dut)
    await atschk(s)
    check(await translated(s, SID_ATS, TPA + 0x40, rnw=0), BYPASS, pa=TPA + 0x40)
    forbidden = [SID_NO_EATS, SID_EATS11, SID_BYPASS]
    for i, sid in enumerate(forbidden):
        check(await translated(s, sid, tag=i), ABORT, pa=0,
              fault=EventID.F_TRANSL_FORBIDDEN)
    check(await translated(s, SID_ABORT), ABORT, fault=0)
    # not an address this SMMU can emit (beyond the OAS): aborted, no record
    check(await translated(s, SID_ATS, 1 << 52, tag=5), ABORT, pa=0, fault=0)
    check(await translated(s, SID_INVALID), ABORT, fault=EventID.C_BAD_STE)
    ev = await s.events(len(forbidden) + 1)
    assert [(e.EventID, e.StreamID, e.RnW, e.InputAddr) for e in ev[:-1]] == \
        [(EventID.F_TRANSL_FORBIDDEN, sid, 1, TPA) for sid in forbidden], ev
    assert (ev[-1].EventID, ev[-1].StreamID) == (EventID.C_BAD_STE, SID_INVALID)
    check(await s.x.xlate(9, sid=SID_NO_EATS, addr=RW_EL0), OK, pa=PA + RW_EL0)
    check(await translated(s, SID_NO_EATS), ABORT, fault=EventID.F_TRANSL_FORBIDDEN)
    check(await translated(s, SID_ATS, tag=2), BYPASS, pa=TPA)
    (e,) = await s.events(1)
    assert (e.EventID, e.StreamID) == (EventID.F_TRANSL_FORBIDDEN, SID_NO_EATS), e


@cocotb.test(skip=NO_ATS)
async def translated_traffic_without_atschk_is_not_looked_up(dut):
    """CR0.ATSCHK=0: translated traffic passes untouched with no Stream table lookup, even
    for an invalid STE or a StreamID beyond the table; with ATSCHK=1 and SMMUEN=0 it is
    forbidden, with no record (the event queue is written only with SMMUEN=1)."""
    s = await setup(dut)
    await atschk(s, on=0)
    for i, sid in enumerate((SID_NO_EATS, SID_INVALID, 1 << 6)):
        check(await translated(s, sid, tag=i), BYPASS, pa=TPA)
    assert await s.events() == []
    await atschk(s, on=1, smmuen=0)
    check(await translated(s, SID_ATS), ABORT, fault=EventID.F_TRANSL_FORBIDDEN)
    assert await s.events() == []
