"""Directed tests of the stall model (parameter sets whose IDR0.STALL_MODEL is 0b00 or 0b10),
with expectations written from the reference (smmuv3.md §3.2, §5.4, §9 items 17, 18, 24;
fault-paths.md §1.3), not from the model.

Streams 1 and 2 share one CD with S=1 (A=1, R=0: "S=1: stall + event (R treated as 1)") over
one table; stream 3 has a CD with S=0, R=1, A=1 where the parameter set allows it.
"""

from __future__ import annotations

import os

import cocotb
from cocotb.triggers import ClockCycles

from models.arch import commands as C
from models.arch import registers as R
from models.arch.commands import ResumeAction
from models.arch.events import EventID
from tb.directed.harness import ABORT, CDTAB, OK, RAZWI, Soft, cd, check, s1_ste
from tb.dut_config import CONFIGS

CFG = CONFIGS[os.environ.get("SMMU_PARAMS", "default")]
NO_STALLS = CFG.STALL_MODEL == R.StallModel.TERMINATE_ONLY
FORCED = CFG.STALL_MODEL == R.StallModel.STALL_FORCED
VA = 0x4000_0000
PA = 0x8000_0000
CD3 = CDTAB + 0x1000
QUIET = 80  # cycles in which a held transaction must not answer


async def setup(dut, evtq_log2: int = 4) -> tuple[Soft, int]:
    s = Soft(dut)
    s.evtq_log2 = evtq_log2
    ttb = s.alloc()
    s.mem.write(CDTAB, cd(ttb, S=1, R=0, A=1).to_bytes())
    s.ste(1, s1_ste(CDTAB))
    s.ste(2, s1_ste(CDTAB))
    if not FORCED:  # with the stall model forced, S=0 is ILLEGAL (§3.2)
        s.mem.write(CD3, cd(ttb, asid=3, S=0, R=1, A=1).to_bytes())
        s.ste(3, s1_ste(CD3))
    await s.start()
    return s, ttb


async def held(s: Soft, *tags: int) -> None:
    """None of ``tags`` answers within QUIET cycles."""
    await ClockCycles(s.dut.clk, QUIET)
    answered = [t for t in tags if t in s.x.rsps]
    assert not answered, f"held transactions answered: {answered}"


async def stall(s: Soft, tag: int, sid: int = 1, addr: int = VA, **req) -> int:
    """Send a request that stalls; returns the STAG of its record."""
    await s.x.send([{"tag": tag, "sid": sid, "addr": addr, **req}])
    (ev,) = await s.events(expect=1)
    assert ev.EventID == EventID.F_TRANSLATION and ev.Stall == 1, ev
    assert (ev.StreamID, ev.InputAddr) == (sid, addr), ev
    assert tag not in s.x.rsps
    return ev.STAG


async def resume(s: Soft, sid: int, stag: int, action: ResumeAction) -> None:
    await s.cmds(C.CmdResume.make(sid, stag, action))


@cocotb.test(skip=NO_STALLS)
async def stall_then_resume_retry_completes(dut):
    """§3.2: a translation fault with CD.S=1 stalls and records (Stall=1, STAG, R treated
    as 1); §5.4: RESUME Retry re-translates "as if newly arrived": the mapping installed
    meanwhile is used."""
    s, ttb = await setup(dut)
    stag = await stall(s, 1, addr=VA + 0x18)
    await held(s, 1)
    s.map(ttb, VA, PA)  # F_TRANSLATION outcomes are not cached: no invalidation needed
    await resume(s, 1, stag, ResumeAction.RETRY)
    await s.x.wait([1])
    check(s.x.rsps[1], OK, pa=PA + 0x18)
    assert await s.events() == []


@cocotb.test(skip=NO_STALLS)
async def resume_retry_unmapped_stalls_again(dut):
    """A retry "may fault again with a new record"."""
    s, _ttb = await setup(dut)
    stag = await stall(s, 1)
    await resume(s, 1, stag, ResumeAction.RETRY)
    (ev,) = await s.events(expect=1)
    assert (ev.EventID, ev.Stall, ev.InputAddr) == (EventID.F_TRANSLATION, 1, VA)
    await held(s, 1)
    await resume(s, 1, ev.STAG, ResumeAction.ABORT)
    await s.x.wait([1])
    check(s.x.rsps[1], ABORT, fault=EventID.F_TRANSLATION)


@cocotb.test(skip=NO_STALLS)
async def resume_terminate_abort_and_razwi(dut):
    """§5.4: Ac=0 terminates: Ab=1 aborts; Ab=0 is RAZ/WI unless TERM_MODEL=1 (then abort)."""
    s, _ttb = await setup(dut)
    a = await stall(s, 1, addr=VA)
    t = await stall(s, 2, addr=VA + 0x1000)
    await resume(s, 1, a, ResumeAction.ABORT)
    await resume(s, 1, t, ResumeAction.TERMINATE)
    await s.x.wait([1, 2])
    check(s.x.rsps[1], ABORT, fault=EventID.F_TRANSLATION, pa=0)
    check(s.x.rsps[2], ABORT if CFG.TERM_MODEL else RAZWI, fault=EventID.F_TRANSLATION, pa=0)


@cocotb.test(skip=NO_STALLS)
async def resume_naming_nothing_held_does_nothing(dut):
    """§5.4: "STAG must exactly match a stall event; non-matching SID/STAG -> no-op"."""
    s, _ttb = await setup(dut)
    stag = await stall(s, 1)
    await resume(s, 2, stag, ResumeAction.ABORT)                  # another stream
    await resume(s, 1, stag ^ 1, ResumeAction.ABORT)              # another STAG
    assert R.CMDQ_CONS.from_int(await s.r32("CMDQ_CONS")).ERR == 0  # legal, just no effect
    await held(s, 1)
    await resume(s, 1, stag, ResumeAction.ABORT)
    await s.x.wait([1])
    check(s.x.rsps[1], ABORT, fault=EventID.F_TRANSLATION)


@cocotb.test(skip=NO_STALLS)
async def stall_term_aborts_the_streams_held_transactions(dut):
    """§5.4: STALL_TERM(SID) "marks all stalled transactions of SID for abort" (issued after
    the STE was made to abort new traffic and synced, as §4.7.2 requires)."""
    s, _ttb = await setup(dut)
    await stall(s, 1, sid=1, addr=VA)
    await stall(s, 2, sid=1, addr=VA + 0x1000)
    other = await stall(s, 3, sid=2, addr=VA + 0x2000)
    s.ste(1, s1_ste(CDTAB, Config=0))  # STE.Config abort
    await s.sync(C.CmdCfgiSte(StreamID=1, Leaf=1))
    await s.cmds(C.CmdStallTerm(StreamID=1))
    await s.x.wait([1, 2])
    check(s.x.rsps[1], ABORT, fault=EventID.F_TRANSLATION)
    check(s.x.rsps[2], ABORT, fault=EventID.F_TRANSLATION)
    await held(s, 3)
    await resume(s, 2, other, ResumeAction.ABORT)
    await s.x.wait([3])


@cocotb.test(skip=NO_STALLS)
async def traffic_flows_past_held_transactions(dut):
    """§3.12.2: later transactions may overtake a stalled one: hits and misses of the same
    stream complete while it is held."""
    s, ttb = await setup(dut)
    for i in range(4):
        s.map(ttb, VA + (i + 1) * 0x1000, PA + i * 0x1000)
    stag = await stall(s, 1, addr=VA)
    await s.x.send([{"tag": 10 + i, "sid": 1, "addr": VA + (i + 1) * 0x1000} for i in range(4)]
                   + [{"tag": 20 + i, "sid": 1, "addr": VA + (i + 1) * 0x1000 + 8}
                      for i in range(4)])
    await s.x.wait([*range(10, 14), *range(20, 24)])
    for i in range(4):
        check(s.x.rsps[20 + i], OK, pa=PA + i * 0x1000 + 8)
    assert 1 not in s.x.rsps
    await resume(s, 1, stag, ResumeAction.ABORT)
    await s.x.wait([1])


@cocotb.test(skip=NO_STALLS)
async def stags_unique_while_held_and_reused_after(dut):
    """§3.12.2 (ref): a STAG "is not reused until acknowledged by CMD_RESUME/STALL_TERM"."""
    s, _ttb = await setup(dut)
    n = min(3, CFG.STALL_MAX)
    stags = [await stall(s, 1 + i, addr=VA + i * 0x1000) for i in range(n)]
    assert len(set(stags)) == n
    await resume(s, 1, stags[0], ResumeAction.ABORT)
    await s.x.wait([1])
    again = await stall(s, 9, addr=VA + 0x9000)
    assert again not in stags[1:]
    for t in (*stags[1:], again):
        await resume(s, 1, t, ResumeAction.ABORT)


@cocotb.test(skip=NO_STALLS)
async def stall_max_back_pressures_the_next_stall(dut):
    """IDR5.STALL_MAX transactions can be held; beyond that, ingress back-pressures: the next
    request is not taken (no record, no response) until a held one is released."""
    s, _ttb = await setup(dut)
    m = CFG.STALL_MAX
    stags = [await stall(s, 1 + i, addr=VA + i * 0x1000) for i in range(m)]
    sending = cocotb.start_soon(s.x.send([{"tag": 100, "sid": 1, "addr": VA + 0x100_0000}]))
    await held(s, 100)
    assert 100 not in s.x.accepted, "a request was taken with every stall slot held"
    assert await s.events() == []
    await resume(s, 1, stags[0], ResumeAction.ABORT)
    await sending
    (ev,) = await s.events(expect=1)
    assert (ev.Stall, ev.InputAddr) == (1, VA + 0x100_0000)
    for t in (*stags[1:], ev.STAG):
        await resume(s, 1, t, ResumeAction.ABORT)
    await s.x.wait([100, *range(1, m + 1)])


@cocotb.test(skip=NO_STALLS or FORCED)
async def full_event_queue_delays_the_stall_record(dut):
    """§9 item 18: with the event queue full, non-stall records are dropped with OVFLG, a
    stall record is "delayed, not lost" (it never signals an overflow); the transaction is
    retried as newly arrived once the queue is writable, and its record written then."""
    s, _ttb = await setup(dut, evtq_log2=1)  # two records
    await s.x.send([{"tag": 30, "sid": 3, "addr": VA}, {"tag": 31, "sid": 3, "addr": VA + 0x1000}])
    await s.x.wait([30, 31])  # two non-stall records: the queue is full
    await s.x.send([{"tag": 1, "sid": 1, "addr": VA + 0x5000}])
    await held(s, 1)
    prod = R.EVENTQ_PROD.from_int(await s.r32("EVENTQ_PROD"))
    assert prod.OVFLG == 0  # the stall's record was not written and signalled no overflow
    await s.x.xlate(tag=32, sid=3, addr=VA + 0x2000)  # a third non-stall record: overflow
    assert R.EVENTQ_PROD.from_int(await s.r32("EVENTQ_PROD")).OVFLG == 1
    first = await s.events(expect=2)
    assert [e.Stall for e in first] == [0, 0]
    (ev,) = await s.events(expect=1)  # the held transaction retried, and recorded now
    assert (ev.Stall, ev.StreamID, ev.InputAddr) == (1, 1, VA + 0x5000)
    await held(s, 1)
    await resume(s, 1, ev.STAG, ResumeAction.ABORT)
    await s.x.wait([1])


@cocotb.test(skip=NO_STALLS)
async def smmuen_0_aborts_held_transactions(dut):
    """SMMUEN 1->0: "Every stalled transaction is marked for abort (its STAG can be reused)"
    (docs/registers-spec-digest.md, CR0ACK)."""
    s, _ttb = await setup(dut)
    await stall(s, 1)
    await s.w32("CR0", 0b1100)
    await s.poll("CR0ACK", 0b1100)
    await s.x.wait([1])
    check(s.x.rsps[1], ABORT, fault=EventID.F_TRANSLATION)
