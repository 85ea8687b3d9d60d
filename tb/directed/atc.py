"""Directed tests of ATC invalidation (parameter sets with IDR0.ATS=1), with expectations
written from the reference (fault-paths.md §3.2, smmuv3.md §5.3, §5.5, §5.6, §9 item 20's
CERROR_ATC_INV_SYNC), not from the model.

CMD_ATC_INV goes out on the ainv_* pins with an ITAG; completions come back on acpl_*. The
SMMU's timeout is the parameter set's ATC_TIMEOUT cycles (tb/dut_config.py).
"""

from __future__ import annotations

import os
import random

import cocotb
from cocotb.triggers import ClockCycles

from models.arch import commands as C
from models.arch import registers as R
from tb.bfm.atc_port import AtcPort
from tb.directed.harness import Soft
from tb.dut_config import CONFIGS, PARAM_SETS

SET = os.environ.get("SMMU_PARAMS", "default")
CFG = CONFIGS[SET]
TIMEOUT = PARAM_SETS[SET].get("ATC_TIMEOUT", 1024)
NO_ATS = not CFG.ATS


async def setup(dut, *, smmuen: int = 1) -> tuple[Soft, AtcPort]:
    s = Soft(dut)
    await s.start(smmuen=smmuen)
    return s, AtcPort(dut)


async def cons(s: Soft) -> R.CMDQ_CONS:
    return R.CMDQ_CONS.from_int(await s.r32("CMDQ_CONS"))


@cocotb.test(skip=NO_ATS)
async def atc_inv_goes_out_with_its_fields(dut):
    """§5.5: StreamID, SubstreamID with SSV, Global, the address and Size."""
    s, a = await setup(dut)
    await s.cmds(C.CmdAtcInv(StreamID=7, SSV=1, SubstreamID=9, Global=1, Addr=0x12_3000,
                             Size=2))
    (r,) = a.requests
    assert (r["sid"], r["ssv"], r["ssid"], r["glob"], r["addr"], r["size"]) == \
        (7, 1, 9, 1, 0x12_3000, 2), r
    await a.complete(r["itag"])
    await s.sync()


@cocotb.test(skip=NO_ATS)
async def a_sync_completes_only_after_earlier_atc_invalidations(dut):
    """§5.3: a CMD_SYNC completes once every ATC_INV before it has completed, in any order;
    CONS stays on the waiting SYNC. A SYNC before an ATC_INV does not wait for it."""
    s, a = await setup(dut)
    await s.cmds(C.CmdSync(), C.CmdAtcInv(StreamID=1, Size=52), C.CmdAtcInv(StreamID=2),
                 C.CmdSync(), wait=False)
    await ClockCycles(dut.clk, 100)
    assert (await cons(s)).RD == 3
    first, second = a.requests
    await a.complete(second["itag"])
    await ClockCycles(dut.clk, 20)
    assert (await cons(s)).RD == 3
    await a.complete(first["itag"])
    await s.poll("CMDQ_CONS", 4, mask=0xFF)
    assert (await cons(s)).ERR == R.CmdqErr.CERROR_NONE


@cocotb.test(skip=NO_ATS)
async def a_completion_that_never_comes_is_cerror_atc_inv_sync(dut):
    """§5.6: CERROR_ATC_INV_SYNC with CONS on the SYNC and GERROR.CMDQ_ERR, after the
    timeout and not before; Linux's recovery only acknowledges it and the SYNC, retried,
    completes. A completion arriving after the timeout changes nothing."""
    s, a = await setup(dut)
    await s.cmds(C.CmdAtcInv(StreamID=1, Size=52), C.CmdSync(), wait=False)
    await ClockCycles(dut.clk, TIMEOUT // 2)
    c = await cons(s)
    assert (c.RD, c.ERR) == (1, R.CmdqErr.CERROR_NONE), c
    await ClockCycles(dut.clk, TIMEOUT)
    c = await cons(s)
    assert (c.RD, c.ERR) == (1, R.CmdqErr.CERROR_ATC_INV_SYNC), c
    gerror = await s.r32("GERROR")
    assert (gerror ^ await s.r32("GERRORN")) & R.GERROR.field("CMDQ_ERR").mask
    await s.w32("GERRORN", gerror)
    await s.poll("CMDQ_CONS", 2, mask=0xFF)
    (r,) = a.requests
    await a.complete(r["itag"])  # late
    await s.sync()
    assert (await cons(s)).RD == 3


@cocotb.test(skip=NO_ATS)
async def an_abandoned_itag_is_not_reused_before_its_late_completion(dut):
    """An invalidation abandoned at a timeout keeps its ITAG until its late completion comes
    back, so that completion can never complete a newer invalidation: a later SYNC still
    waits for every invalidation sent before it (§5.3)."""
    s, a = await setup(dut)
    await s.cmds(C.CmdAtcInv(StreamID=1, Size=52), C.CmdSync(), wait=False)
    await ClockCycles(dut.clk, TIMEOUT + 50)
    assert (await cons(s)).ERR == R.CmdqErr.CERROR_ATC_INV_SYNC
    await s.w32("GERRORN", await s.r32("GERROR"))
    await s.poll("CMDQ_CONS", 2, mask=0xFF)
    (old,) = a.requests
    await s.cmds(C.CmdAtcInv(StreamID=2, Size=52), C.CmdAtcInv(StreamID=3, Size=52),
                 C.CmdSync(), wait=False)
    await ClockCycles(dut.clk, 40)
    new = a.requests[1:]
    assert len(new) == 2 and old["itag"] not in {r["itag"] for r in new}, a.requests
    await a.complete(old["itag"])  # late: must not count for either new one
    await ClockCycles(dut.clk, 20)
    assert (await cons(s)).RD == 4  # the SYNC still waits
    for r in new:
        await a.complete(r["itag"])
    await s.poll("CMDQ_CONS", 5, mask=0xFF)


@cocotb.test(skip=NO_ATS)
async def an_atc_inv_that_cannot_be_sent_fails_the_next_sync(dut):
    """A CMD_ATC_INV the request port never takes does not hang the command queue: after the
    timeout it is consumed unsent and the SYNC after it fails with CERROR_ATC_INV_SYNC (the
    invalidation is not guaranteed, §5.6); acknowledged, the SYNC completes."""
    s, a = await setup(dut)
    await a.hold_requests(True)
    await s.cmds(C.CmdAtcInv(StreamID=1, Size=52), C.CmdSync(), wait=False)
    await ClockCycles(dut.clk, TIMEOUT + 50)
    c = await cons(s)
    assert (c.RD, c.ERR) == (1, R.CmdqErr.CERROR_ATC_INV_SYNC), c
    assert a.requests == []
    await a.hold_requests(False)
    await s.w32("GERRORN", await s.r32("GERROR"))
    await s.poll("CMDQ_CONS", 2, mask=0xFF)


@cocotb.test(skip=NO_ATS)
async def atc_inv_waits_for_the_request_port(dut):
    """A request the endpoint side does not take holds the command queue on the ATC_INV."""
    s, a = await setup(dut)
    await a.hold_requests(True)
    await s.cmds(C.CmdAtcInv(StreamID=3, Size=52), C.CmdSync(), wait=False)
    await ClockCycles(dut.clk, 100)
    assert (await cons(s)).RD == 0
    await a.hold_requests(False)
    await ClockCycles(dut.clk, 20)
    (r,) = a.requests
    await a.complete(r["itag"])
    await s.poll("CMDQ_CONS", 2, mask=0xFF)


@cocotb.test(skip=NO_ATS)
async def atc_inv_is_ignored_with_smmuen_0(dut):
    """§5.5: ignored when SMMUEN=0: nothing goes out and the SYNC does not wait."""
    s, a = await setup(dut, smmuen=0)
    await s.cmds(C.CmdAtcInv(StreamID=1, Size=52), C.CmdSync())
    assert a.requests == []


@cocotb.test(skip=NO_ATS)
async def random_completions_complete_only_their_own_itag(dut):
    """Fuzzing the completion port: rounds of 1 to 4 ATC_INVs with random fields and a SYNC,
    answered by their completions in random order mixed with completions of ITAGs that name
    no invalidation (never sent, or already completed). A completion counts only for the
    invalidation its ITAG names (docs/port-contract.md): whatever else arrives, the SYNC
    waits until the last real completion (§5.3), and then completes without an error. The
    strays are sent once every request of the round was taken, so none races an ITAG being
    handed out. Random fields and order come from the simulation's seed."""
    rng = random.Random(cocotb.RANDOM_SEED)
    s, a = await setup(dut)
    ntag = 1 << len(dut.acpl_itag)
    strays = 0
    rd = 0
    wrap = 2 << s.cmdq_log2  # CONS.RD: the index and its wrap bit
    for _ in range(24):
        k = rng.randint(1, 4)
        invs = [C.CmdAtcInv(StreamID=rng.randrange(1 << 16), SSV=(ssv := rng.randrange(2)),
                            SubstreamID=rng.randrange(1 << 20) if ssv else 0,
                            Global=rng.randrange(2), Addr=rng.randrange(1 << 40) << 12,
                            Size=rng.choice((0, 1, 5, 12, 52)))
                for _ in range(k)]
        before = len(a.requests)
        await s.cmds(*invs, C.CmdSync(), wait=False)
        for _ in range(200):
            if len(a.requests) == before + k:
                break
            await ClockCycles(dut.clk, 1)
        new = a.requests[before:]
        assert len(new) == k, f"{len(new)} of {k} invalidations went out"
        real = [r["itag"] for r in new]
        assert len(set(real)) == k, f"ITAGs in flight reused: {real}"
        free = [t for t in range(ntag) if t not in real]
        noise = rng.sample(free, rng.randint(1, 6))
        last = rng.choice(real)
        early = [t for t in real if t != last] + noise
        rng.shuffle(early)
        for t in early:
            await a.complete(t)
        strays += len(noise)
        c = await cons(s)
        assert (c.RD, c.ERR) == ((rd + k) % wrap, R.CmdqErr.CERROR_NONE), \
            f"the SYNC did not wait for ITAG {last} (CONS {c}, strays {noise})"
        await a.complete(last)
        for t in rng.sample(real, rng.randint(0, k)):  # duplicates, after the fact
            await a.complete(t)
            strays += 1
        rd = (rd + k + 1) % wrap
        c = R.CMDQ_CONS.from_int(await s.poll("CMDQ_CONS", rd, mask=wrap - 1))
        assert c.ERR == R.CmdqErr.CERROR_NONE, c
    gerror = await s.r32("GERROR") ^ await s.r32("GERRORN")
    assert not gerror & R.GERROR.field("CMDQ_ERR").mask
    dut._log.info("24 rounds, %d invalidations, %d stray completions", len(a.requests), strays)
