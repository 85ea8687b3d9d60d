"""The software stack's Platform on the RTL: MMIO as register-agent sequence items.

Every access the driver makes therefore passes the register scoreboard.

Synchronous callers (the mmu notifiers that munmap, mprotect or exit call with PTEs already
changed) cannot await: they must run in a thread started by :func:`cpu_call` (cocotb's
``bridge``), and :meth:`CocotbPlatform.block_on` then runs the driver's coroutine in the
simulator (cocotb's ``resume``) while that thread waits, as Linux blocks in CMD_SYNC.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from cocotb.task import bridge, resume
from cocotb.triggers import Timer
from pyuvm import uvm_sequence

from models.memory import FrameAllocator, PhysicalMemory
from tb.agents.reg_agent import RegItem
from tb.bfm.smmu_bfm import RESP_OKAY, SmmuBfm

T = TypeVar("T")


class MmioError(Exception):
    pass


class NotInCpuThread(RuntimeError):
    """A synchronous mmu-notifier path ran on the simulator's own thread."""


async def _awaited(coro: Coroutine[Any, Any, T]) -> T:
    return await coro


async def cpu_call(fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    """Run a CPU-side operation that may call mmu notifiers (munmap, mprotect, exit,
    migrate_page, MAP_FIXED mmap) in a bridged thread, so the notifiers can block on the
    driver's commands while the simulation runs on; returns what ``fn`` returns."""
    return await bridge(fn)(*args, **kw)


class CocotbPlatform:
    def __init__(self, seq: uvm_sequence, bfm: SmmuBfm, mem: PhysicalMemory,
                 dma: FrameAllocator, *, btm: bool = False) -> None:
        """``btm``: the SMMU is built with BTM and sits on the CPU's DVM bus."""
        self._seq = seq
        self._bfm = bfm
        self.mem = mem
        self.dma = dma
        self.mmio_count = 0
        self.btm = btm

    def dvm_tlbi(self, tlbis: list[Any]) -> None:
        """The CPU's broadcast TLBIs (models.cpu.tlbi.Tlbi) on the SMMU's DVM port, then a
        DVM sync; returns once the sync completed, as the CPU's DSB does. Only where the SMMU
        has BTM (one without it is kept off the DVM bus). From a :func:`cpu_call` thread."""
        if not self.btm or not tlbis:
            return
        self.block_on(self._bfm.dvm.send([(str(t.op), t.asid, t.start, t.e2h)
                                          for t in tlbis]))

    async def _do(self, item: RegItem) -> RegItem:
        await self._seq.start_item(item)
        await self._seq.finish_item(item)
        self.mmio_count += 1
        if item.resp != RESP_OKAY:
            raise MmioError(f"MMIO {item} failed")
        return item

    async def mmio_read32(self, offset: int) -> int:
        return (await self._do(RegItem.rd(offset))).value

    async def mmio_write32(self, offset: int, value: int) -> None:
        await self._do(RegItem.wr32(offset, value))

    def now_ns(self) -> float:
        return self._bfm.now_ns()

    def irq_line(self, name: str) -> bool:
        return bool(self._bfm.irq(name))

    async def sleep_ns(self, ns: float) -> None:
        await Timer(max(1, round(ns)), unit="ns")

    def block_on(self, coro: Coroutine[Any, Any, T]) -> T:
        """Complete ``coro`` in the simulator and return its result; only from a thread that
        :func:`cpu_call` started (``tb.sva.blocking.run_sync`` calls this)."""
        try:
            return resume(_awaited)(coro)
        except RuntimeError as exc:
            if "unrecognized thread" not in str(exc):
                raise
            coro.close()
            raise NotInCpuThread(
                "an mmu notifier needed the SMMU from the simulator's thread: run the CPU "
                "operation with `await tb.platform.rtl.cpu_call(fn, *args)`") from exc
