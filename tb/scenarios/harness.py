"""The SVA scenarios' harness, backend-agnostic (no cocotb, no pyuvm).

:class:`SvaBench` is one system: the SMMU and its driver (``tb.sva``), CPUs and processes
(``models.cpu``), DMA engines on the translation port (``tb.devices.dma``) and the isolation
checker watching every DMA access. A :class:`Backend` supplies what differs between the RTL
under cocotb (``tb.env.seq_lib.sva_sequences.RtlBackend``: translations as sequence items
checked by the scoreboard, CPU operations that call mmu notifiers in a bridged thread) and the
functional model (:class:`ModelBackend`, plain asyncio).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from models.arch.events import EventID
from models.arch.geometry import PAGE
from models.arch.priq import PriEntry
from models.cpu.features import CpuFeatures
from models.cpu.mm import MM
from models.cpu.pgprot import PROT_READ, PROT_WRITE
from models.smmu.ats import AtsCompletion, AtsReq
from tb.devices.dma import Completion, DmaEngine, Status
from tb.devices.isolation import IsolationChecker
from tb.devices.pcie_ep import PcieEndpoint
from tb.sva.arm.arm_smmu_v3.device import CMDQ_MAX_SHIFT, EVTQ_MAX_SHIFT, PRIQ_MAX_SHIFT
from tb.sva.arm.arm_smmu_v3.fault import arm_smmu_evtq_thread
from tb.sva.arm.arm_smmu_v3.master import Master
from tb.sva.arm.arm_smmu_v3.pri import arm_smmu_priq_thread
from tb.sva.iommu_sva import IommuBond, sva_bind_device, sva_get_pasid, sva_unbind_device
from tb.sva.pci import PasidCap, PciDev, PriCap
from tb.sva.platform import Platform
from tb.sva.system import SvaSystem

RW = PROT_READ | PROT_WRITE


class Backend(Protocol):
    name: str
    plat: Platform

    async def translate(self, sid: int, ssv: int, ssid: int, va: int, rnw: int, ind: int,
                        pnu: int) -> dict[str, int]: ...
    async def cpu(self, fn: Callable[..., Any], *args: Any) -> Any: ...
    async def gather(self, *coros: Coroutine[Any, Any, Any]) -> list[Any]: ...
    async def pause(self, cycles: int = 1) -> None: ...
    def check_events(self, records: list[Any], *, final: bool = True,
                     lossy: bool = False) -> None: ...
    def cycles(self) -> int | None: ...
    # PCIe: the endpoint's ATS and PRI ports, and where the SMMU's messages to it go
    async def ats_translate(self, req: AtsReq) -> AtsCompletion: ...
    async def page_request(self, ppr: PriEntry) -> None: ...
    def attach_endpoint(self, sid: int, ep: PcieEndpoint) -> None: ...
    # an ATS-Translated transaction at PA ``addr``: the response's t_rsp_* fields
    async def translated(self, sid: int, addr: int, rnw: int) -> dict[str, int]: ...


class ModelBackend:
    """The functional model: translations by ``models.smmu`` directly, no simulator."""

    name = "model"

    def __init__(self, plat: Any) -> None:
        self.plat = plat

    async def translate(self, sid: int, ssv: int, ssid: int, va: int, rnw: int, ind: int,
                        pnu: int) -> dict[str, int]:
        return await self.plat.translate(sid, ssv, ssid, va, rnw, ind, pnu)  # type: ignore

    async def cpu(self, fn: Callable[..., Any], *args: Any) -> Any:
        # Notifiers step the driver's coroutines (they never suspend), so the responses the
        # SMMU already gave are taken before, as a CMD_SYNC in the notifier would wait for.
        await self.plat.responses_taken()
        return fn(*args)

    async def gather(self, *coros: Coroutine[Any, Any, Any]) -> list[Any]:
        return list(await asyncio.gather(*coros))

    async def pause(self, cycles: int = 1) -> None:
        await asyncio.sleep(0)

    def check_events(self, records: list[Any], *, final: bool = True,
                     lossy: bool = False) -> None:
        pass

    def cycles(self) -> int | None:
        return None

    async def ats_translate(self, req: AtsReq) -> AtsCompletion:
        return await self.plat.ats_translate(req)  # type: ignore[no-any-return]

    async def translated(self, sid: int, addr: int, rnw: int) -> dict[str, int]:
        return await self.plat.translated(sid, addr, rnw)  # type: ignore[no-any-return]

    async def page_request(self, ppr: PriEntry) -> None:
        await self.plat.page_request(ppr)

    def attach_endpoint(self, sid: int, ep: PcieEndpoint) -> None:
        self.plat.attach_endpoint(sid, ep)


class SvaBench:
    def __init__(self, backend: Backend, sys: SvaSystem, seed: int = 1) -> None:
        self.backend = backend
        self.sys = sys
        self.drv = sys.drv
        self.plat = sys.plat
        self.rng = random.Random(seed)
        self.checker = IsolationChecker(frames=sys.frames)
        self.engines: dict[str, DmaEngine] = {}
        # The largest access a DMA engine made from here on moves with one translation
        # (tb/devices/dma.py): a page by default, the fewest translations to simulate.
        self.dma_burst = PAGE
        self.endpoints: dict[str, PcieEndpoint] = {}
        # When the PRI interrupt thread may run (irq_thread); None: whenever the line is up.
        self.priq_irq_gate: Callable[[], bool] | None = None
        self.masters: dict[str, Master] = {}
        self.evtq = self.drv.evtq_consumer
        # The checker sees every record the driver reads (also in unbind's IOPF flush), before
        # the driver handles it: a stall record before the CMD_RESUME that answers it.
        self.drv.evtq_observe = lambda recs: self.backend.check_events(recs, final=False)
        self.events: Counter[str] = Counter()
        self.binds = 0
        self.unbinds = 0
        self.pasids: set[int] = set()
        self.asids: set[int] = set()
        self.work: list[Work] = []
        self._overflows_checked = 0  # event-queue overflows the last final check allowed for

    @classmethod
    async def create(cls, backend: Backend, cpu: CpuFeatures | None = None,
                     seed: int = 1, *, evtq_max_shift: int = EVTQ_MAX_SHIFT,
                     priq_max_shift: int = PRIQ_MAX_SHIFT,
                     cmdq_max_shift: int = CMDQ_MAX_SHIFT) -> SvaBench:
        """``evtq_max_shift``, ``priq_max_shift``, ``cmdq_max_shift``: the driver's caps on
        the event, PRI and command queues (log2 entries)."""
        sys = await SvaSystem.create(backend.plat, cpu, evtq_max_shift=evtq_max_shift,
                                     priq_max_shift=priq_max_shift,
                                     cmdq_max_shift=cmdq_max_shift)
        return cls(backend, sys, seed)

    # ---- the pieces ------------------------------------------------------------------------
    async def device(self, name: str, sid: int, *, sva: bool = True,
                     pasid_bits: int = 20, stall: bool = False) -> DmaEngine:
        """A DMA engine; ``stall``: the firmware marks it "dma-can-stall", so on an SMMU that
        can stall its SVA takes I/O page faults."""
        m = await self.sys.master(name, [sid], pasid_bits=pasid_bits, sva=sva, stall=stall)
        eng = DmaEngine(name, sid, self.plat.mem, self.backend.translate,
                        burst=self.dma_burst)
        eng.observers.append(self.checker.observe)
        self.checker.attached(sid, m.domain)
        self.engines[name], self.masters[name] = eng, m
        return eng

    async def pcie_device(self, name: str, sid: int, *, pri: bool = True, ppar: bool = True,
                          pasid_bits: int = 20, atc_entries: int = 16,
                          max_requests: int = 16, max_prg_retries: int = 8) -> PcieEndpoint:
        """A PCIe function with ATS, PASID and (``pri``) PRI, behind the SMMU at RID ``sid``:
        probed, attached to a DMA domain (ATS enabled) and SVA enabled, with I/O page faults
        through PRI where it has PRI. ``ppar``: its PRG responses must carry the PASID."""
        pdev = PciDev(name, sid, ats=True,
                      pri=PriCap(max_requests=max_requests, prg_resp_pasid_required=ppar)
                      if pri else None,
                      pasid=PasidCap(width=pasid_bits))
        ep = PcieEndpoint(name, pdev, self.plat.mem, self.backend.ats_translate,
                          self.backend.page_request, self.backend.pause,
                          atc_entries=atc_entries, max_prg_retries=max_prg_retries,
                          translated=self.backend.translated)
        self.backend.attach_endpoint(sid, ep)
        m = await self.sys.master(name, [sid], pasid_bits=pasid_bits, sva=True, pdev=pdev)
        ep.observers.append(self.checker.observe)
        self.checker.attached(sid, m.domain)
        self.endpoints[name], self.masters[name] = ep, m
        return ep

    def process(self, name: str, cpu: int | None = 0) -> MM:
        return self.sys.process(name, cpu)

    def buffer(self, mm: MM, pages: int, data: bytes | None = None, *,
               at: int | None = None) -> int:
        """mmap a read-write buffer and let the CPU write it whole (the device cannot fault
        pages in: no IOPF yet), with ``data`` or random bytes."""
        va = mm.mmap(at, pages * PAGE, RW)
        mm.write(va, data if data is not None else self.rng.randbytes(pages * PAGE))
        return va

    async def bind(self, eng: DmaEngine | PcieEndpoint, mm: MM) -> IommuBond:
        bond = await sva_bind_device(self.masters[eng.name], mm)
        pasid = sva_get_pasid(bond)
        self.checker.bound(eng.sid, pasid, mm)
        self.binds += 1
        self.pasids.add(pasid)
        self.asids.add(mm.asid)
        return bond

    async def unbind(self, bond: IommuBond) -> None:
        """The device driver stopped DMA on the PASID; the last unbind ends the checker's
        permission for this device and PASID before the SMMU is told."""
        if bond.refs == 1:
            for sid in bond.master.sids:
                self.checker.unbound(sid, bond.pasid)
        await sva_unbind_device(bond)
        self.unbinds += 1

    async def munmap(self, mm: MM, va: int, length: int) -> None:
        with self.checker.changing(mm, va, length):
            await self.backend.cpu(mm.munmap, va, length)

    async def exit(self, mm: MM) -> None:
        with self.checker.changing(mm):
            await self.backend.cpu(mm.exit)

    async def drain_events(self, *, lossy: bool = False) -> list[int]:
        """CMD_SYNC (records of completed transactions become visible), then the driver's
        event thread (stall records become I/O page faults); on the RTL the scoreboard
        matches the records with the model's predictions. ``lossy``: records may be missing
        (an EVENTQ_ABT_ERR discarded them since the last drain)."""
        await self.drv.smmu.cmdq_drv.sync()
        ids = await self._evtq_thread()
        # Everything seen must be predicted now, and every predicted record present unless
        # the queue overflowed since the last check (the records it discarded, never stall
        # records: those are matched as they are written).
        lossy |= self.evtq.stats.overflows != self._overflows_checked
        self._overflows_checked = self.evtq.stats.overflows
        self.backend.check_events([], final=True, lossy=lossy)
        return ids

    async def _evtq_thread(self) -> list[int]:
        """The driver's event thread; the checker sees each batch before it is handled (a
        stall record before the CMD_RESUME that answers it), and keeps for later what it
        cannot match yet (no CMD_SYNC came before this drain)."""
        records = await arm_smmu_evtq_thread(self.drv)
        ids = [r.EventID for r in records]
        self.events.update(EventID(i).name if i in EventID._value2member_map_ else hex(i)
                           for i in ids)
        return ids

    async def serviced(self, *coros: Coroutine[Any, Any, Any]) -> list[Any]:
        """Run ``coros`` together with the event-queue interrupt thread: whenever the wired
        event-queue interrupt is up, the driver's event thread runs (stall faults reported,
        handled and answered). Returns the coroutines' results once all have finished."""
        results: list[Any] = []
        running = True

        async def jobs() -> None:
            nonlocal running
            try:
                results.extend(await self.backend.gather(*coros))
            finally:
                running = False

        await self.backend.gather(jobs(), self.irq_thread(lambda: not running))
        return results

    async def irq_thread(self, stop: Callable[[], bool]) -> None:
        """The interrupt threads until ``stop()``: the driver's event thread runs whenever
        the wired event-queue interrupt is up, its PRI thread whenever the PRI queue's is
        and ``priq_irq_gate`` (a slow CPU: None, never held back) allows."""
        while not stop():
            if self.plat.irq_line("eventq"):
                await self._evtq_thread()
            if self.drv.priq_consumer is not None and self.plat.irq_line("priq") and \
                    (self.priq_irq_gate is None or self.priq_irq_gate()):
                await arm_smmu_priq_thread(self.drv)
            await self.backend.pause(1)

    async def global_error(self, fault: Any, name: str) -> list[str]:
        """After an injected memory ``fault`` raised GERROR.``name``: wait for the GERROR
        interrupt, end the fault (the memory answers again, as after a transient bus error),
        then run the driver's GERROR handler, which must report exactly ``name`` and
        acknowledge it."""
        try:
            await until(self, lambda: self.plat.irq_line("gerror"), "the GERROR interrupt")
        finally:
            self.plat.mem.remove_fault(fault)
        active = await self.drv.smmu.handle_gerror()
        assert active == [name], f"active global errors: {active}"
        assert not self.plat.irq_line("gerror"), f"{name} still active after its handler"
        return active

    def finish(self) -> None:
        v = self.checker.violations
        assert not v, f"{len(v)} isolation violations, first: {v[0]}"

    # ---- the figures `make sim` prints -----------------------------------------------------
    def report(self) -> dict[str, Any]:
        """What the driver probed and did at bring-up, then :meth:`summary`."""
        smmu = self.drv.smmu
        f = smmu.features
        assert f is not None
        rep = self.drv.bringup
        return {
            "backend": self.backend.name,
            "idr": {k: f"{v:#010x}" for k, v in f.idr.items()},
            "features": sorted(f.flags), "summary": f.summary(), "refusals": f.refusals,
            "sva_blockers": smmu.sva_blockers(),
            "bringup_steps": rep.steps if rep else [], "skipped": rep.skipped if rep else [],
            **self.summary(),
        }

    def summary(self) -> dict[str, Any]:
        dma = {n: vars(e.stats) for n, e in self.engines.items()}
        cmdq = self.drv.smmu.cmdq_drv.stats
        return {
            "binds": self.binds, "unbinds": self.unbinds,
            "pasids": sorted(self.pasids), "asids": sorted(self.asids),
            "translations": sum(e.stats.translations for e in self.engines.values()),
            "dma": dma,
            "bytes_moved": sum(e.stats.bytes_written for e in self.engines.values()),
            "dma_faults": sum(e.stats.faults for e in self.engines.values()),
            "events": dict(self.events),
            "commands": dict(cmdq.by_opcode), "syncs": cmdq.syncs,
            "isolation": {"accesses_checked": self.checker.checked,
                          "stale_in_window": self.checker.stale_in_window,
                          "violations": len(self.checker.violations)},
            "cycles": self.backend.cycles(),
        }


def expect_fault(c: Completion, fault: EventID, va: int | None = None,
                 write: bool | None = None) -> None:
    assert c.status is Status.FAULT and c.fault == fault, f"expected {fault.name}, got {c}"
    assert va is None or c.va == va, f"fault at {c.va:#x}, expected {va:#x}"
    assert write is None or c.write == write, c


def expect_ok(c: Completion) -> None:
    assert c.status is Status.OK, f"DMA failed: {c}"


class Work:
    """One (engine, process) pair of :func:`multi_process_dma`: its buffers and the image the
    destination must hold."""

    def __init__(self, eng: DmaEngine, mm: MM, bond: IommuBond, src: int, dst: int,
                 srcdata: bytes, image: bytearray) -> None:
        self.eng, self.mm, self.bond = eng, mm, bond
        self.src, self.dst, self.srcdata, self.image = src, dst, srcdata, image


def check_memory(mm: MM, va: int, want: bytes) -> None:
    got = mm.read(va, len(want))
    if got != want:
        i = next(i for i in range(len(want)) if got[i] != want[i])
        raise AssertionError(f"{mm.name}: {va + i:#x} holds {got[i]:#04x}, the DMA should "
                             f"have left {want[i]:#04x} (buffer {va:#x}+{len(want)})")


async def until(b: SvaBench, cond: Callable[[], bool], what: str, limit: int = 200_000) -> None:
    for _ in range(limit):
        if cond():
            return
        await b.backend.pause(1)
    raise AssertionError(f"timed out waiting for {what}")
