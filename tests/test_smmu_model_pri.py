"""Reference model: the PRI queue and PRG responses (reference fault-paths.md §1.4, smmuv3.md
§7 and §9 items 19, 25 and 26). Expected values are written from those rules, not read off
the model."""

from __future__ import annotations

import pytest

from models.arch import commands as C
from models.arch import registers as R
from models.arch.priq import PriEntry, PriRespCode
from models.arch.ste import STE, ATSMode
from models.smmu.config import DEFAULT, SmmuConfig
from models.smmu.pri import PrgResponse
from tests.test_smmu_model_helpers import Bench

PRI = DEFAULT.replace(ATS=1, PRI=1, PRIQS=8, PPS=0)
SID = 0x21
PASID = 3
VA = 0x4000_0000


class PriBench:
    """A Bench with a 2^log2-entry PRI queue enabled, and stream SID with PASIDs whose STE
    has PPAR=``ppar``."""

    def __init__(self, cfg: SmmuConfig = PRI, log2: int = 2, ppar: int = 1,
                 priqen: bool = True) -> None:
        self.b = b = Bench(cfg)
        self.log2 = log2
        self.base = b.alloc.alloc(16 << log2)
        b.w64("PRIQ_BASE", R.PRIQ_BASE(ADDR=self.base, LOG2SIZE=log2).to_int())
        b.w32("IRQ_CTRL", R.IRQ_CTRL(GERROR_IRQEN=1, EVENTQ_IRQEN=1, PRIQ_IRQEN=1).to_int())
        b.w32("CR0", R.CR0(CMDQEN=1, EVENTQEN=1, PRIQEN=int(priqen), SMMUEN=1).to_int())
        b.s1_stream(SID, b.cd(b.pt()), S1CDMax=4, PPAR=ppar, EATS=ATSMode.FULL)
        self.smmu = b.smmu

    def request(self, prgi: int, last: int, *, ssv: int = 1, r: int = 1, w: int = 0,
                addr: int = VA, sid: int = SID) -> bool:
        return self.smmu.page_request(PriEntry(
            StreamID=sid, SubstreamID=PASID if ssv else 0, SSV=ssv, Last=last, R=r, W=w,
            PRGIndex=prgi, PageAddr=addr))

    def drain(self, n: int | None = None, *, ack: bool = True) -> list[PriEntry]:
        """Software consumes up to ``n`` entries (all by default); ``ack`` copies OVFLG into
        OVACKFLG with the new CONS, as §8.1.1 recovery does in one store."""
        prod = self.b.r32("PRIQ_PROD")
        cons = self.b.r32("PRIQ_CONS")
        mask = (2 << self.log2) - 1
        out = []
        while not R.q_empty(prod, cons, self.log2) and (n is None or len(out) < n):
            idx = R.q_index(cons, self.log2)
            out.append(PriEntry.from_bytes(self.b.mem.read(self.base + 16 * idx, 16)))
            cons = R.q_inc(cons, self.log2) & mask
        ovack = R.PRIQ_PROD.from_int(prod).OVFLG if ack else \
            R.PRIQ_CONS.from_int(self.b.r32("PRIQ_CONS")).OVACKFLG
        self.b.w32("PRIQ_CONS", R.PRIQ_CONS(RD=cons, OVACKFLG=ovack).to_int())
        return out

    @property
    def responses(self) -> list[PrgResponse]:
        return self.smmu.priq.responses

    def overflow_pending(self) -> bool:
        return R.PRIQ_PROD.from_int(self.b.r32("PRIQ_PROD")).OVFLG != \
            R.PRIQ_CONS.from_int(self.b.r32("PRIQ_CONS")).OVACKFLG


def auto(prgi: int, code: PriRespCode, pasid: int | None) -> PrgResponse:
    return PrgResponse(SID, prgi, code, pasid, auto=True)


def test_page_requests_are_written_in_order_and_raise_the_interrupt() -> None:
    """§7.1: the entry carries the request's fields; a PRG of several PPRs (L on the last
    only) interleaved with another PRG keeps its order (§9 item 25). Nothing is answered
    until software sends CMD_PRI_RESP."""
    p = PriBench(log2=3)
    assert not p.smmu.irq_priq
    assert p.request(1, 0, addr=VA) and p.request(2, 1, addr=VA + 0x5000, w=1)
    assert p.request(1, 1, addr=VA + 0x1000)
    assert p.smmu.irq_priq
    got = p.drain()
    assert [(e.PRGIndex, e.Last, e.PageAddr, e.W, e.SSV, e.SubstreamID, e.StreamID)
            for e in got] == [(1, 0, VA, 0, 1, PASID, SID), (2, 1, VA + 0x5000, 1, 1, PASID, SID),
                              (1, 1, VA + 0x1000, 0, 1, PASID, SID)]
    assert not p.smmu.irq_priq
    assert p.responses == []


def test_a_stop_marker_with_room_is_written() -> None:
    """§8: a Stop marker (LWR = 0b100 with a PASID) is a queue entry like a PPR; software
    discards it (smmuv3.md §7.4)."""
    p = PriBench()
    assert p.request(7, 1, r=0, w=0)
    (e,) = p.drain()
    assert e.is_stop_marker
    assert p.responses == []


@pytest.mark.parametrize(("ssv", "code", "pcie"), [
    (1, PriRespCode.SUCCESS, 0b0000),
    (0, PriRespCode.INVALID_REQUEST, 0b0001),
    (1, PriRespCode.RESPONSE_FAILURE, 0b1111),
])
def test_cmd_pri_resp_sends_the_prg_response(ssv: int, code: PriRespCode, pcie: int) -> None:
    """§4.5.2: the response goes to (StreamID, PRGIndex) with the command's code, and a PASID
    iff SSV=1; smmuv3.md §7.2 maps each code to the PCIe Response Code."""
    p = PriBench()
    p.b.cmd(C.CmdPriResp(SSV=ssv, SubstreamID=PASID if ssv else 0, StreamID=SID,
                         PRGIndex=0x1A5, Resp=code), C.CmdSync())
    (r,) = p.responses
    assert r == PrgResponse(SID, 0x1A5, code, PASID if ssv else None, auto=False)
    assert r.pcie_code == pcie


def test_cmd_pri_resp_is_ignored_with_smmuen_0() -> None:
    """smmuv3.md §7.2: CMD_PRI_RESP is ignored when SMMUEN=0."""
    p = PriBench()
    p.b.w32("CR0", R.CR0(CMDQEN=1, EVENTQEN=1, PRIQEN=1).to_int())
    p.b.cmd(C.CmdPriResp(StreamID=SID, PRGIndex=1, Resp=PriRespCode.SUCCESS), C.CmdSync())
    assert p.responses == []
    assert R.CMDQ_CONS.from_int(p.b.r32("CMDQ_CONS")).ERR == R.CmdqErr.CERROR_NONE


def test_overflow_inhibits_every_write_until_acknowledged() -> None:
    """§9 item 19, §8.1: a PPR meeting a full queue toggles OVFLG, and "An active overflow
    condition inhibits new entries from being written to the PRI queue", even with room,
    until CONS.OVACKFLG = PROD.OVFLG. "An automatic PRG Response is generated for Page
    Request messages having Last == 1 ... PPRs having Last == 0 are silently ignored", and
    "Stop PASID markers that arrive in an overflow condition are discarded and no
    auto-response is generated". The code is Success, here with the PASID (PPS=0, a valid
    STE with PPAR=1)."""
    p = PriBench(log2=2)
    for i in range(4):
        assert p.request(1, 0, addr=VA + i * 0x1000)
    assert not p.request(2, 0)  # full: overflow begins, dropped silently
    assert p.overflow_pending() and p.responses == []
    assert not p.request(1, 1)  # the PRG's last request: answered Success
    assert not p.request(9, 1, r=0, w=0)  # a Stop marker: nothing
    assert p.responses == [auto(1, PriRespCode.SUCCESS, PASID)]
    assert len(p.drain(2, ack=False)) == 2  # room now, but the overflow is not acknowledged
    assert not p.request(3, 1)
    assert p.responses[-1] == auto(3, PriRespCode.SUCCESS, PASID)
    assert R.PRIQ_PROD.from_int(p.b.r32("PRIQ_PROD")).WR == 4  # nothing was written
    p.drain()  # recovery: consume up to PROD, acknowledge in the same store
    assert not p.overflow_pending()
    assert p.request(4, 1)
    assert [e.PRGIndex for e in p.drain()] == [4]
    assert len(p.responses) == 2


@pytest.mark.parametrize(("case", "want"), [
    ("no_pasid", (PriRespCode.SUCCESS, None)),
    ("pps", (PriRespCode.SUCCESS, PASID)),
    ("ppar_0", (PriRespCode.SUCCESS, None)),
    ("ppar_1", (PriRespCode.SUCCESS, PASID)),
    ("ste_invalid", (PriRespCode.RESPONSE_FAILURE, None)),
    ("sid_out_of_range", (PriRespCode.RESPONSE_FAILURE, None)),
    ("ste_fetch_abort", (PriRespCode.RESPONSE_FAILURE, None)),
])
def test_overflow_response_pasid_and_code(case: str, want: tuple) -> None:
    """§8.1: without a PASID, Success with none ("SMMU_IDR3.PPS and STE.PPAR do not affect
    this case"); with one, IDR3.PPS=1 returns it; PPS=0 returns it iff STE.PPAR; "If the
    associated STE is inaccessible or invalid, such that STE.PPAR cannot be checked, no PASID
    is used and the ResponseCode is Failure (0b1111)" (SMMUEN=0, StreamID out of range, a
    fetch abort, an ILLEGAL STE). No event: CR2.REC_CFG_ATS does not exist here
    (IDR0.ATSRECERR=0)."""
    cfg = PRI.replace(PPS=1) if case == "pps" else PRI
    p = PriBench(cfg, log2=1, ppar=0 if case == "ppar_0" else 1)
    sid = SID
    if case == "ste_invalid":
        p.b.write_ste(SID, STE())  # V=0
    elif case == "sid_out_of_range":
        sid = 1 << PRI.SIDSIZE
    elif case == "ste_fetch_abort":
        addr = p.b.ste_addr(SID)
        p.b.mem.add_fault(addr, addr + 64, on="r")
    assert p.request(1, 0) and p.request(1, 0)  # full
    assert not p.request(5, 1, ssv=int(case != "no_pasid"), sid=sid)
    code, pasid = want
    assert p.responses == [PrgResponse(sid, 5, code, pasid, auto=True)]


@pytest.mark.parametrize("how", ["priqen_0", "smmuen_0"])
def test_a_disabled_queue_answers_failure(how: str) -> None:
    """§8.2: "If ... the effective value of SMMU_CR0.PRIQEN == 0 (SMMU_CR0.SMMUEN == 0 implies
    PRIQEN == 0) ... No entries are written to the PRI queue. All incoming PPRs cause an
    automatic PRG Response having ResponseCode == 0b1111", with no PASID prefix; "The SMMU
    does not generate responses to Stop Marker messages"."""
    p = PriBench(priqen=how != "priqen_0")
    if how == "smmuen_0":
        p.b.w32("CR0", R.CR0(CMDQEN=1, EVENTQEN=1, PRIQEN=1).to_int())
    assert not p.request(1, 0)
    assert not p.request(1, 1)
    assert not p.request(6, 1, r=0, w=0)  # a Stop marker
    assert p.responses == [auto(1, PriRespCode.RESPONSE_FAILURE, None)] * 2
    assert R.PRIQ_PROD.from_int(p.b.r32("PRIQ_PROD")).WR == 0


def test_an_aborted_queue_write_raises_priq_abt_err_and_answers_failure() -> None:
    """§8.2: "When the write of a PRI queue entry results in a synchronous external abort, an
    automatic PRG Response with ResponseCode == 0b1111 is generated for the associated PPR";
    while GERROR.PRIQ_ABT_ERR is active nothing is written and every PPR is answered as with
    the queue disabled; once acknowledged, writes resume."""
    p = PriBench()
    fault = p.b.mem.add_fault(p.base, p.base + (16 << p.log2), on="w")
    assert not p.request(1, 0)
    gerror = R.GERROR.from_int(p.b.r32("GERROR"))
    assert gerror.PRIQ_ABT_ERR == 1 and p.smmu.irq_gerror
    assert p.responses == [auto(1, PriRespCode.RESPONSE_FAILURE, None)]
    p.b.mem.remove_fault(fault)
    assert not p.request(2, 0)  # the error is not acknowledged yet
    assert p.responses[-1] == auto(2, PriRespCode.RESPONSE_FAILURE, None)
    p.b.w32("GERRORN", p.b.r32("GERROR"))
    assert p.request(3, 1)
    assert [e.PRGIndex for e in p.drain()] == [3]


def test_a_page_request_to_an_smmu_without_pri_is_refused() -> None:
    b = Bench(DEFAULT)
    with pytest.raises(ValueError, match="PRI"):
        b.smmu.page_request(PriEntry(StreamID=1, Last=1, R=1))
    assert not b.smmu.irq_priq
