"""Global errors under DMA: the driver's GERROR handling recovers and traffic resumes
(backend-agnostic: no cocotb, no pyuvm).

Faults are injected into the memory the SMMU reads and writes its queues in, while a process
bound to a DMA engine keeps working. Each ends as a transient bus error does: the memory
answers again once the driver has seen the error, before it acknowledges it.
"""

from __future__ import annotations

from typing import Any

from models.arch.events import EventID
from models.arch.geometry import PAGE
from tb.devices.dma import Descriptor as D
from tb.scenarios.harness import SvaBench, check_memory, expect_fault, expect_ok, until


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
    try:
        expect_fault(await eng.run(D.copy(victim + 8, dst, 64, pasid)), EventID.F_TRANSLATION,
                     va=victim + 8, write=False)
        await until(b, lambda: b.plat.irq_line("gerror"), "the GERROR interrupt")
    finally:
        mem.remove_fault(fault)
    active = await smmu.handle_gerror()  # the GERROR interrupt handler
    assert active == ["EVENTQ_ABT_ERR"], f"active global errors: {active}"
    assert not b.plat.irq_line("gerror")
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


GERROR_SCENARIOS = {"gerror_recovery": gerror_recovery}

__all__ = ["GERROR_SCENARIOS", "gerror_recovery"]
