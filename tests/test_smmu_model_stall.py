"""Reference model: the stall model (reference smmuv3.md §3.2, §5.4, §9 items 17, 18, 24;
fault-paths.md §1.3). Expected values are written from those rules, not read off the model."""

from __future__ import annotations

import pytest

from models.arch import commands as C
from models.arch import registers as R
from models.arch.commands import ResumeAction
from models.arch.events import EventID
from models.arch.pgtable import AccessPerm
from models.smmu.config import DEFAULT, SmmuConfig
from models.smmu.port import Result, TransReq, TransResp
from tests.test_smmu_model_helpers import Bench

STALLS = DEFAULT.replace(STALL_MODEL=R.StallModel.STALL_AND_TERMINATE, TERM_MODEL=0,
                         STALL_MAX=4)
VA = 0x4000_0000
PA = 0x7_0000_0000


class Device:
    """Offers transactions and collects the responses of the held ones."""

    def __init__(self, b: Bench) -> None:
        self.b = b
        self.done: list[tuple[TransReq, TransResp]] = []

    def xlate(self, sid: int, addr: int, rnw: int = 1) -> TransResp | None:
        req = TransReq(sid=sid, addr=addr, rnw=rnw)
        assert self.b.smmu.accepting()
        return self.b.smmu.translate(req, lambda r, req=req: self.done.append((req, r)))


def setup(cfg: SmmuConfig = STALLS, *, evtq_log2: int = 4, **cd: int):
    """Streams 1 and 2 share one CD with S=1 (A=1, R=0 unless given) over one table."""
    b = Bench(cfg, evtq_log2=evtq_log2)
    pt = b.pt()
    the_cd = b.cd(pt, **{"S": 1, "R": 0, "A": 1, **cd})
    for sid in (1, 2):
        b.s1_stream(sid, the_cd)
    return b, pt, Device(b)


def resume(b: Bench, sid: int, stag: int, action: ResumeAction) -> None:
    b.cmd(C.CmdResume.make(sid, stag, action), C.CmdSync())


def test_translation_fault_stalls_with_a_record() -> None:
    """§3.2: S=1 -> "stall + event (R treated as 1)": no response, a record with Stall=1."""
    b, _pt, dev = setup()
    assert dev.xlate(1, VA) is None
    assert dev.done == []
    (ev,) = b.events()
    assert ev.EventID == EventID.F_TRANSLATION and ev.Stall == 1
    assert (ev.StreamID, ev.InputAddr, ev.RnW) == (1, VA, 1)
    assert b.smmu.stalls.find(1, ev.STAG) is not None


@pytest.mark.parametrize("kind", ["permission", "access", "addr_size"])
def test_every_translation_class_fault_stalls(kind: str) -> None:
    """§3.2: the {S, R, A} behaviour applies to F_TRANSLATION, F_ADDR_SIZE, F_ACCESS and
    F_PERMISSION."""
    # addr_size: an output address (PA, 35 bits) above the CD's IPS (32 bits)
    b, pt, dev = setup(**({"IPS": R.OAS.PA32} if kind == "addr_size" else {}))
    want = {"permission": EventID.F_PERMISSION, "access": EventID.F_ACCESS,
            "addr_size": EventID.F_ADDR_SIZE}[kind]
    rnw = 1
    if kind == "permission":  # a write to a read-only page
        pt.map(VA, PA, AP=AccessPerm.RO_ALL)
        rnw = 0
    elif kind == "access":
        pt.map(VA, PA, AF=0)
    else:
        pt.map(VA, PA)
    assert dev.xlate(1, VA, rnw=rnw) is None
    (ev,) = b.events()
    assert (ev.EventID, ev.Stall) == (want, 1)


def test_walk_external_abort_does_not_stall() -> None:
    """§3.2: "All other faults/config errors always abort and record (A/R/S irrelevant)"."""
    b, pt, dev = setup()
    b.mem.add_fault(pt.root, pt.root + 4096, on="r")
    r = dev.xlate(1, VA)
    assert r is not None and (r.result, r.fault) == (Result.ABORT, EventID.F_WALK_EABT)
    (ev,) = b.events()
    assert ev.Stall == 0


def test_s0_records_with_stall_0() -> None:
    b, _pt, dev = setup(S=0, R=1)
    r = dev.xlate(1, VA)
    assert r is not None and r.result == Result.ABORT
    (ev,) = b.events()
    assert ev.Stall == 0


def test_resume_retry_completes_after_the_mapping_is_fixed() -> None:
    """§5.4: Retry re-translates the transaction "as if newly arrived"."""
    b, pt, dev = setup()
    dev.xlate(1, VA + 0x123)
    (ev,) = b.events()
    pt.map(VA, PA)
    b.cmd(C.CmdTlbiNhAll(), C.CmdSync())
    resume(b, 1, ev.STAG, ResumeAction.RETRY)
    ((req, r),) = dev.done
    assert req.addr == VA + 0x123
    assert (r.result, r.pa) == (Result.OK_TRANSLATED, PA + 0x123)
    assert not b.smmu.stalls.held


def test_resume_retry_still_unmapped_stalls_again() -> None:
    """A retry may "fault again with a new record"."""
    b, _pt, dev = setup()
    dev.xlate(1, VA)
    (first,) = b.events()
    resume(b, 1, first.STAG, ResumeAction.RETRY)
    assert dev.done == []
    (again,) = b.events()
    assert (again.EventID, again.Stall, again.InputAddr) == (EventID.F_TRANSLATION, 1, VA)
    assert len(b.smmu.stalls.held) == 1


@pytest.mark.parametrize(("term_model", "action", "want"), [
    (0, ResumeAction.ABORT, Result.ABORT),
    (0, ResumeAction.TERMINATE, Result.RAZ_WI),   # Ab=0: RAZ/WI
    (1, ResumeAction.TERMINATE, Result.ABORT),    # TERM_MODEL=1: always abort
    (1, ResumeAction.ABORT, Result.ABORT),
])
def test_resume_terminate(term_model: int, action: ResumeAction, want: Result) -> None:
    """§5.4: Ac=0 terminates: Ab=1 abort, Ab=0 RAZ/WI unless TERM_MODEL=1."""
    b, _pt, dev = setup(STALLS.replace(TERM_MODEL=term_model))
    dev.xlate(1, VA)
    (ev,) = b.events()
    resume(b, 1, ev.STAG, action)
    ((_req, r),) = dev.done
    assert (r.result, r.fault) == (want, EventID.F_TRANSLATION)


def test_resume_with_another_stream_or_stag_does_nothing() -> None:
    """§5.4: "non-matching SID/STAG -> no-op"."""
    b, _pt, dev = setup()
    dev.xlate(1, VA)
    (ev,) = b.events()
    resume(b, 2, ev.STAG, ResumeAction.ABORT)
    resume(b, 1, ev.STAG ^ 1, ResumeAction.ABORT)
    assert dev.done == [] and len(b.smmu.stalls.held) == 1
    assert R.CMDQ_CONS.from_int(b.r32("CMDQ_CONS")).ERR == 0
    resume(b, 1, ev.STAG, ResumeAction.ABORT)
    assert [r.result for _q, r in dev.done] == [Result.ABORT]


def test_stall_term_aborts_every_held_transaction_of_the_stream() -> None:
    """§5.4: STALL_TERM(SID) "marks all stalled transactions of SID for abort"."""
    b, _pt, dev = setup()
    dev.xlate(1, VA)
    dev.xlate(1, VA + 0x1000)
    dev.xlate(2, VA)
    b.events()
    b.cmd(C.CmdStallTerm(StreamID=1), C.CmdSync())
    assert sorted((q.sid, r.result) for q, r in dev.done) == [(1, Result.ABORT)] * 2
    assert [s.req.sid for s in b.smmu.stalls.held] == [2]


def test_stags_are_unique_while_held_and_reused_after_release() -> None:
    """§3.12.2 (ref): a STAG "is not reused until acknowledged by CMD_RESUME/STALL_TERM"."""
    b, _pt, dev = setup()
    for i in range(3):
        dev.xlate(1, VA + i * 0x1000)
    stags = [ev.STAG for ev in b.events()]
    assert len(set(stags)) == 3
    resume(b, 1, stags[1], ResumeAction.ABORT)
    dev.xlate(1, VA + 0x5000)
    (ev,) = b.events()
    assert ev.STAG not in (stags[0], stags[2])


def test_stall_max_stops_ingress() -> None:
    """IDR5.STALL_MAX transactions can be held; then no new transaction is taken."""
    b, _pt, dev = setup()
    for i in range(STALLS.STALL_MAX):
        dev.xlate(1, VA + i * 0x1000)
    assert not b.smmu.accepting()
    (first, *_rest) = b.events()
    resume(b, 1, first.STAG, ResumeAction.ABORT)
    assert b.smmu.accepting()


def test_full_event_queue_keeps_the_stall_and_retries_it() -> None:
    """§9 item 18: "stall events delayed, not lost"; non-stall events dropped with OVFLG.
    The stalled transaction is retried as newly arrived once the queue is writable."""
    b, pt, dev = setup(evtq_log2=1)  # two records
    pt.map(VA + 0x10_0000, PA)
    b.s1_stream(3, b.cd(pt, S=0, R=1, A=1))  # a non-stall stream: its faults record
    dev.xlate(3, VA)
    dev.xlate(3, VA + 0x1000)  # the queue is full now
    assert dev.xlate(1, VA) is None  # a stall: held, no record
    prod = R.EVENTQ_PROD.from_int(b.r32("EVENTQ_PROD"))
    assert prod.OVFLG == 0  # a stall record never signals an overflow
    assert b.smmu.stalls.waiting()
    r = dev.xlate(3, VA + 0x2000)  # a non-stall record is dropped: overflow
    assert r is not None and r.result == Result.ABORT
    assert R.EVENTQ_PROD.from_int(b.r32("EVENTQ_PROD")).OVFLG == 1
    first = b.events()  # software drains: the held transaction is retried, records again
    assert [e.Stall for e in first] == [0, 0]
    (again,) = b.events()
    assert (again.Stall, again.StreamID, again.InputAddr) == (1, 1, VA)
    assert not b.smmu.stalls.waiting() and len(b.smmu.stalls.held) == 1


def test_retry_after_a_full_queue_may_complete() -> None:
    """The retry is a new arrival: if the mapping appeared meanwhile it completes."""
    b, pt, dev = setup(evtq_log2=1)
    b.s1_stream(3, b.cd(pt, S=0, R=1, A=1))
    dev.xlate(3, VA)
    dev.xlate(3, VA + 0x1000)
    dev.xlate(1, VA + 0x2000)  # held, waiting for room
    pt.map(VA + 0x2000, PA)
    b.events()
    ((_req, r),) = dev.done
    assert (r.result, r.pa) == (Result.OK_TRANSLATED, PA)


def test_smmuen_0_aborts_held_transactions() -> None:
    b, _pt, dev = setup()
    dev.xlate(1, VA)
    b.w32("CR0", R.CR0(CMDQEN=1, EVENTQEN=1, SMMUEN=0).to_int())
    assert [r.result for _q, r in dev.done] == [Result.ABORT]
    assert not b.smmu.stalls.held


def test_disabled_event_queue_keeps_the_stall_until_enabled() -> None:
    """Spec digest (CR0ACK, EVENTQEN 1->0): "Stall records are kept and written later"."""
    b, _pt, dev = setup()
    b.w32("CR0", R.CR0(CMDQEN=1, EVENTQEN=0, SMMUEN=1).to_int())
    assert dev.xlate(1, VA) is None
    assert b.smmu.stalls.waiting() and dev.done == []
    b.w32("CR0", R.CR0(CMDQEN=1, EVENTQEN=1, SMMUEN=1).to_int())
    (ev,) = b.events()
    assert (ev.Stall, ev.InputAddr) == (1, VA) and not b.smmu.stalls.waiting()


def test_aborted_record_write_keeps_the_stall() -> None:
    """An abort writing the record raises EVENTQ_ABT_ERR; the stall waits (its record is not
    lost) and records once the error is acknowledged."""
    b, _pt, dev = setup()
    fault = b.mem.add_fault(b.evtq, b.evtq + 32 * 16, on="w")
    assert dev.xlate(1, VA) is None
    assert b.r32("GERROR") & R.GERROR(EVENTQ_ABT_ERR=1).to_int()
    assert b.smmu.stalls.waiting()
    b.mem.remove_fault(fault)
    b.w32("GERRORN", b.r32("GERROR"))
    (ev,) = b.events()
    assert (ev.Stall, ev.InputAddr) == (1, VA)


@pytest.mark.parametrize(("cfg", "cd", "ste", "want"), [
    (DEFAULT, {"S": 1}, {}, EventID.C_BAD_CD),                      # STALL_MODEL=0b01
    (STALLS, {"S": 1}, {"S1STALLD": 1}, EventID.C_BAD_CD),           # S1STALLD=1
    (STALLS.replace(STALL_MODEL=R.StallModel.STALL_FORCED, TERM_MODEL=1), {"S": 0}, {},
     EventID.C_BAD_CD),                                              # forced, S=0
    (STALLS.replace(STALL_MODEL=R.StallModel.STALL_FORCED, TERM_MODEL=1), {"S": 1},
     {"S1STALLD": 1}, EventID.C_BAD_STE),                            # S1STALLD, not 0b00
])
def test_stall_legality(cfg: SmmuConfig, cd: dict, ste: dict, want: EventID) -> None:
    """§2.6 and §3.2 (ref): the ILLEGAL STE and CD combinations of the stall model."""
    b = Bench(cfg)
    pt = b.pt()
    b.s1_stream(1, b.cd(pt, **cd), **ste)
    r = b.xlate(1, VA)
    assert r is not None and (r.result, r.fault) == (Result.ABORT, want)
