"""The software stack's Platform on the functional model: plain Python, no simulator.

Registers, queues and translations are ``models.smmu.SmmuModel``'s; time is a counter that
only ``sleep_ns`` advances, so polling loops terminate.
"""

from __future__ import annotations

import asyncio
from typing import Any

from models.arch.priq import PriEntry
from models.memory import FrameAllocator, PhysicalMemory
from models.smmu.ats import AtsCompletion, AtsReq
from models.smmu.config import SmmuConfig
from models.smmu.port import TransReq, TransResp
from models.smmu.smmu import SmmuModel
from tb.devices.pcie_ep import PcieRouter

# Event-loop steps a transaction may wait on the model before the watchdog fails it.
WATCHDOG_STEPS = 100_000


class ModelWatchdog(AssertionError):
    """A transaction on the model waited longer than the watchdog allows: a lost stall, or
    a port that never takes it."""


# Where the software stack allocates tables and queues; device buffers live elsewhere.
DMA_WINDOW = (0x4000_0000, 0x8000_0000)


class ModelPlatform:
    def __init__(self, cfg: SmmuConfig, *, dma_window: tuple[int, int] = DMA_WINDOW,
                 atc_inv_timeout_ns: float = 10_000.0,
                 watchdog_steps: int = WATCHDOG_STEPS) -> None:
        """``atc_inv_timeout_ns``: how long a CMD_SYNC waits for ATC invalidation completions
        before CERROR_ATC_INV_SYNC (shorter than the driver's poll timeout)."""
        self.cfg = cfg
        self.mem = PhysicalMemory(pa_bits=cfg.pa_bits)
        self.dma = FrameAllocator(self.mem, *dma_window)
        self.model = SmmuModel(cfg, self.mem)
        self.regs = self.model.regs
        self._now = 0.0
        self.mmio_log: list[tuple[str, int, int]] = []
        self.stalled = 0        # transactions that waited for a CMD_RESUME
        self.ingress_waits = 0  # steps a transaction waited while STALL_MAX were held
        # Held transactions answered (by a command) whose engine has not yet taken the
        # response. A response counts as completed when it is taken, and a CMD_SYNC after an
        # invalidation completes only once every response translated before it was taken
        # (docs/port-contract.md): a register read waits for them, so a driver polling
        # CMDQ_CONS never sees such a SYNC complete before the engine used its translation.
        # (A CPU operation whose mmu notifier cannot suspend calls responses_taken first.)
        self._untaken = 0
        self.atc_inv_timeout_ns = atc_inv_timeout_ns
        # The model backend has no clock: a transaction's wait (held by a stall, or at the
        # port while STALL_MAX are held) is bounded in event-loop steps instead.
        self.watchdog_steps = watchdog_steps
        self.max_wait_steps = 0
        # (CMDQ_CONS at the waiting SYNC, since when): a SYNC that completed and a later one
        # that waits are told apart by CONS, so each gets the whole timeout.
        self._sync_wait: tuple[int, float] | None = None
        # PCIe endpoints by Requester ID (= StreamID)
        self.pcie = PcieRouter(lambda itag, ur: self.model.atc_inv_complete(itag, ur=ur))
        self.model.atc.on_request = self.pcie.invalidation
        self.model.priq.on_response = self.pcie.prg_response

    async def responses_taken(self) -> None:
        """Wait until every answered held transaction's engine took its response."""
        while self._untaken:
            await asyncio.sleep(0)

    async def mmio_read32(self, offset: int) -> int:
        await self.responses_taken()
        val = self.model.mmio_read32(offset)
        self.mmio_log.append(("r", offset, val))
        return val

    async def mmio_write32(self, offset: int, value: int) -> None:
        self.mmio_log.append(("w", offset, value))
        self.model.mmio_write32(offset, value)

    def now_ns(self) -> float:
        return self._now

    async def sleep_ns(self, ns: float) -> None:
        """Time passes (without yielding: the driver may be in an mmu notifier, which cannot
        suspend here); a SYNC waiting on ATC invalidations times out."""
        start = self._now
        self._now += ns
        if not self.model.cmdq.waiting_sync:
            self._sync_wait = None
            return
        cons = self.model.regs.hw_value("CMDQ_CONS")
        if self._sync_wait is None or self._sync_wait[0] != cons:
            self._sync_wait = (cons, start)
        if self._now - self._sync_wait[1] >= self.atc_inv_timeout_ns:
            self._sync_wait = None
            self.model.atc_inv_timeout()

    def irq_line(self, name: str) -> bool:
        return bool(getattr(self.model, f"irq_{name}"))

    # ---- PCIe: ATS, PRI, ATC invalidation ----------------------------------------------------
    def attach_endpoint(self, sid: int, ep: Any) -> None:
        """Connect a PCIe endpoint (tb/devices/pcie_ep.py) at Requester ID ``sid``."""
        self.pcie.attach(sid, ep)

    async def ats_translate(self, req: AtsReq) -> AtsCompletion:
        return self.model.ats_translate(req)

    def dvm_tlbi(self, tlbis: list[Any]) -> None:
        """The CPU's broadcast TLBIs reach the SMMU (its DVM port; it ignores them without
        BTM or with CR2.PTM=1)."""
        self.model.dvm(tlbis)

    async def translated(self, sid: int, addr: int, rnw: int) -> dict[str, int]:
        """An ATS-Translated transaction on the model's translation port."""
        return self.model.translated(sid, addr, rnw).fields()

    async def page_request(self, ppr: PriEntry) -> None:
        self.model.page_request(ppr)

    async def translate(self, sid: int, ssv: int, ssid: int, va: int, rnw: int, ind: int,
                        pnu: int) -> dict[str, int]:
        """One transaction on the model's translation port (docs/port-contract.md fields).
        A transaction that stalls waits for its response (CMD_RESUME, CMD_STALL_TERM); while
        IDR5.STALL_MAX transactions are held, a new one waits to be taken."""
        steps = 0
        while not self.model.accepting():
            self.ingress_waits += 1
            steps = self._watchdog(steps, "waited to be taken", sid, ssv, ssid, va, rnw)
            await asyncio.sleep(0)
        done: asyncio.Future[TransResp] = asyncio.get_running_loop().create_future()

        def answered(resp: TransResp) -> None:
            self._untaken += 1
            done.set_result(resp)

        r = self.model.translate(TransReq(sid=sid, ssv=ssv, ssid=ssid, addr=va, rnw=rnw,
                                          ind=ind, pnu=pnu), answered)
        if r is None:
            self.stalled += 1
            # Polled rather than awaited: a stall nobody answers must fail the test, not
            # leave the event loop waiting forever.
            steps = 0
            while not done.done():
                steps = self._watchdog(steps, "held without a response", sid, ssv, ssid, va,
                                       rnw)
                await asyncio.sleep(0)
            r = done.result()
            self._untaken -= 1  # the engine's access follows with no await between
        return r.fields()

    def _watchdog(self, steps: int, what: str, sid: int, ssv: int, ssid: int, va: int,
                  rnw: int) -> int:
        """One more event-loop step of a transaction's wait; past ``watchdog_steps`` the wait
        fails, naming the transaction."""
        steps += 1
        self.max_wait_steps = max(self.max_wait_steps, steps)
        if steps > self.watchdog_steps:
            raise ModelWatchdog(
                f"translation sid={sid:#x} ssv={ssv} ssid={ssid:#x} va={va:#x} "
                f"{'read' if rnw else 'write'} {what} for {steps - 1} event-loop steps "
                f"({len(self.model.stalls.held)} transactions held by the SMMU)")
        return steps
