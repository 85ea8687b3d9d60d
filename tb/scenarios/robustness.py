"""Robustness scenarios under DMA (backend-agnostic: no cocotb, no pyuvm).

- :func:`gerror_recovery`: faults injected into the memory the SMMU reads and writes its
  queues in, while a process bound to a DMA engine keeps working. Each ends as a transient
  bus error does: the memory answers again once the driver has seen the error, before it
  acknowledges it. The driver's GERROR handling recovers and traffic resumes.
- :func:`cmdq_storm`: an invalidation storm through the smallest command queue Linux
  accepts (128 entries), which the SMMU keeps full while DMA runs.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from models.arch import registers as R
from models.arch.events import EventID
from models.arch.geometry import PAGE
from models.cpu.pgprot import PROT_READ
from tb.devices.dma import Descriptor as D
from tb.devices.dma import DmaEngine, Status
from tb.scenarios.harness import SvaBench, check_memory, expect_fault, expect_ok

# The driver's cap on the command queue in cmdq_storm (log2 entries): the smallest queue Linux
# accepts (it refuses one that a batch of CMDQ_BATCH_ENTRIES commands and a CMD_SYNC do not
# fit in), so that a range invalidation of a few hundred pages fills it several times over.
CMDQ_STORM_SHIFT = 7


async def gerror_recovery(b: SvaBench, pages: int = 4) -> dict[str, Any]:
    """A command fetch that aborts, then an event record write that aborts, each in the middle
    of the stack's work, and copies before, between and after.

    - §5.6 / §7.5: an external abort fetching a command stops the queue with CMDQ_CONS.ERR =
      CERROR_ABT, CONS on that command, and GERROR.CMDQ_ERR toggled. Linux's
      arm_smmu_cmdq_skip_err retries an abort: the acknowledgement (GERRORN) restarts the
      fetch at CONS. So munmap's invalidation completes, late, and takes effect: the unmapped
      page faults afterwards.
    - §7.2 / §7.5: an abort writing an event record toggles GERROR.EVENTQ_ABT_ERR and the
      record is lost; the queue takes no record until the error is acknowledged. The GERROR
      interrupt runs Linux's arm_smmu_gerror_handler, which reports and acknowledges it; the
      next fault's record arrives.
    """
    eng = await b.device("dma0", 0x10)
    mm = b.process("p")
    size = pages * PAGE
    src, dst = b.buffer(mm, pages), b.buffer(mm, pages, bytes(size))
    data = mm.read(src, size)
    pasid = (await b.bind(eng, mm)).pasid
    smmu, mem = b.drv.smmu, b.plat.mem
    cmdq = smmu.cmdq_drv

    victim = src + (pages - 1) * PAGE
    # The victim page's translation is cached: the invalidation below must reach the TLB.
    expect_ok(await eng.run(D.copy(victim, dst, PAGE, pasid)))

    # -- a command fetch aborts -------------------------------------------------------------
    q = smmu.cmdq
    fault = mem.add_fault(q.base, q.base + q.size_bytes, on="r")
    seen: list[str] = []

    def repair(name: str) -> None:
        seen.append(name)
        if fault in mem.faults:
            mem.remove_fault(fault)

    cmdq.on_error.append(repair)
    try:
        await b.munmap(mm, victim, PAGE)  # the notifier's TLBI and CMD_SYNC
    finally:
        cmdq.on_error.remove(repair)
        if fault in mem.faults:
            mem.remove_fault(fault)
    assert seen == ["CERROR_ABT"], f"command errors seen: {seen}"
    assert not b.plat.irq_line("gerror"), "CMDQ_ERR still active after its acknowledgement"
    # The invalidation was retried and took effect: the page is gone for the device too.
    expect_fault(await eng.run(D.copy(victim, dst, 64, pasid)), EventID.F_TRANSLATION,
                 va=victim, write=False)
    assert await b.drain_events() == [EventID.F_TRANSLATION]
    expect_ok(await eng.run(D.copy(src + PAGE, dst + PAGE, PAGE, pasid)))

    # -- an event record write aborts -------------------------------------------------------
    fault = mem.add_fault(smmu.evtq.base, smmu.evtq.base + smmu.evtq.size_bytes, on="w")
    expect_fault(await eng.run(D.copy(victim + 8, dst, 64, pasid)), EventID.F_TRANSLATION,
                 va=victim + 8, write=False)
    active = await b.global_error(fault, "EVENTQ_ABT_ERR")
    # The aborted record is lost (§7.2): the event thread finds nothing.
    assert await b.drain_events(lossy=True) == []
    # Recording resumed: the next fault's record is written and read.
    expect_fault(await eng.run(D.copy(victim + 16, dst, 64, pasid)), EventID.F_TRANSLATION,
                 va=victim + 16, write=False)
    assert await b.drain_events() == [EventID.F_TRANSLATION]

    # -- traffic after both ------------------------------------------------------------------
    expect_ok(await eng.run(D.copy(src, dst, size - PAGE, pasid)))
    check_memory(mm, dst, data[:size - PAGE])
    return {"command_errors": dict(cmdq.stats.errors), "gerror_acknowledged": active}


async def cmdq_storm(b: SvaBench, pages: int = 1024, chunk: tuple[int, int] = (96, 320)
                     ) -> dict[str, Any]:
    """munmap and mprotect of chunks of a large buffer through a command queue of
    2^CMDQ_STORM_SHIFT entries (the bench must cap it), while a second engine keeps copying
    elsewhere in the process.

    Each chunk's notifier sends a TLBI_NH_VA per page and a CMD_SYNC (§4.4.2: TLBI
    completion is only guaranteed by a later CMD_SYNC), in batches of 64: more than the queue
    holds, so on the RTL the driver waits for space with the queue full
    (arm_smmu_cmdq_issue_cmdlist's poll until not full). Nothing may be lost: once a call
    returned, a page of its chunk that the device had cached faults (F_TRANSLATION after
    munmap, F_PERMISSION for a write after mprotect(PROT_READ)), with its record; the other
    engine's copies all complete, and CMDQ_CONS reaches the driver's PROD with no error.
    """
    cmdq = b.drv.smmu.cmdq_drv
    assert cmdq.shift <= CMDQ_STORM_SHIFT, (
        f"the command queue has 2^{cmdq.shift} entries: create the bench with "
        f"cmdq_max_shift={CMDQ_STORM_SHIFT}")
    a, c = await b.device("dma0", 0x10), await b.device("dma1", 0x20)
    mm = b.process("p")
    big = b.buffer(mm, pages)
    src, dst = b.buffer(mm, 2), b.buffer(mm, 2, bytes(2 * PAGE))
    sink = b.buffer(mm, 1, bytes(PAGE))
    pasid = (await b.bind(a, mm)).pasid
    assert (await b.bind(c, mm)).pasid == pasid
    plan: list[tuple[int, int, int, bool]] = []  # (va, pages, probe, munmap)
    at = 0
    while at < pages:
        n = min(b.rng.randint(*chunk), pages - at)
        probe = big + (at + b.rng.randrange(n)) * PAGE + b.rng.randrange(0, PAGE, 64)
        plan.append((big + at * PAGE, n, probe, b.rng.random() < 0.5))
        at += n
    # Each probe's page is cached before its chunk changes: a lost TLBI would show.
    for _va, _n, probe, _unmap in plan:
        expect_ok(await a.run(D.copy(probe, sink, 64, pasid)))
    syncs0, full0 = cmdq.stats.syncs, cmdq.stats.full_waits
    tlbis0 = cmdq.stats.by_opcode.get("CmdTlbiNhVa", 0)
    stop = [False]
    copies: list[Status] = []

    async def neighbour(eng: DmaEngine) -> None:
        while not stop[0]:
            copies.append((await eng.run(D.copy(src, dst, 2 * PAGE, pasid))).status)
            await b.backend.pause(1)

    want: Counter[str] = Counter()
    ops: Counter[str] = Counter()

    async def cpu_side() -> None:
        try:
            for va, n, probe, unmap in plan:
                if unmap:
                    await b.munmap(mm, va, n * PAGE)
                    expect_fault(await a.run(D.copy(probe, sink, 64, pasid)),
                                 EventID.F_TRANSLATION, va=probe, write=False)
                    want["F_TRANSLATION"] += 1
                    ops["munmap"] += 1
                else:
                    with b.checker.changing(mm, va, n * PAGE):
                        await b.backend.cpu(mm.mprotect, va, n * PAGE, PROT_READ)
                    expect_fault(await a.run(D.fill(probe, 64, pasid, b"ro")),
                                 EventID.F_PERMISSION, va=probe, write=True)
                    expect_ok(await a.run(D.copy(probe, sink, 64, pasid)))
                    want["F_PERMISSION"] += 1
                    ops["mprotect"] += 1
        finally:
            stop[0] = True

    await b.backend.gather(neighbour(c), cpu_side())
    got = Counter(EventID(i).name for i in await b.drain_events())
    assert got == want, f"event records {dict(got)}, expected {dict(want)}"
    assert copies and all(s is Status.OK for s in copies), Counter(s.name for s in copies)
    check_memory(mm, dst, mm.read(src, 2 * PAGE))
    tlbis = cmdq.stats.by_opcode.get("CmdTlbiNhVa", 0) - tlbis0
    if not b.drv.features.has("BTM"):
        assert tlbis == pages, f"{tlbis} TLBI_NH_VA for {pages} pages"
    cons = await b.plat.mmio_read32(R.OFFSETS["CMDQ_CONS"])
    assert R.q_empty(cmdq.prod, cons, cmdq.shift) and not R.CMDQ_CONS.from_int(cons).ERR, (
        f"CMDQ_CONS {cons:#x}, PROD {cmdq.prod:#x}")
    return {"ops": dict(ops), "tlbi_nh_va": tlbis, "syncs": cmdq.stats.syncs - syncs0,
            "queue_full_waits": cmdq.stats.full_waits - full0,
            "queue_full_polls_max": cmdq.stats.full_polls_max,
            "neighbour_copies": len(copies)}


ROBUSTNESS_SCENARIOS = {"gerror_recovery": gerror_recovery, "cmdq_storm": cmdq_storm}

__all__ = ["CMDQ_STORM_SHIFT", "ROBUSTNESS_SCENARIOS", "cmdq_storm", "gerror_recovery"]
