"""SVA scenarios with DMA engines, backend-agnostic (no cocotb, no pyuvm).

:class:`SvaBench` is one system: the SMMU and its driver (``tb.sva``), CPUs and processes
(``models.cpu``), DMA engines on the translation port (``tb.devices.dma``) and the isolation
checker watching every DMA access. A :class:`Backend` supplies what differs between the RTL
under cocotb (``tb.sva_sequences.RtlBackend``: translations as sequence items checked by the
scoreboard, CPU operations that call mmu notifiers in a bridged thread) and the functional
model (:class:`ModelBackend`, plain asyncio). The scenarios mirror tests/test_sva_bind.py
with real traffic: data is checked byte for byte in the processes' memory.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from models.arch.events import EventID
from models.cpu.features import CpuFeatures
from models.cpu.mm import MM
from models.cpu.pgprot import PROT_READ, PROT_WRITE
from tb.devices.dma import PAGE, Completion, DmaEngine, Status
from tb.devices.dma import Descriptor as D
from tb.devices.isolation import IsolationChecker
from tb.sva.iommu_sva import IommuBond, sva_bind_device, sva_get_pasid, sva_unbind_device
from tb.sva.iopgtable import IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE
from tb.sva.platform import Platform
from tb.sva.smmu.evtq import EventQueue
from tb.sva.smmu.master import Master
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
    def check_events(self, records: list[Any]) -> None: ...
    def cycles(self) -> int | None: ...


class ModelBackend:
    """The functional model: translations by ``models.smmu`` directly, no simulator."""

    name = "model"

    def __init__(self, plat: Any) -> None:
        self.plat = plat

    async def translate(self, sid: int, ssv: int, ssid: int, va: int, rnw: int, ind: int,
                        pnu: int) -> dict[str, int]:
        return await self.plat.translate(sid, ssv, ssid, va, rnw, ind, pnu)  # type: ignore

    async def cpu(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)  # notifiers step the driver's coroutines (they never suspend)

    async def gather(self, *coros: Coroutine[Any, Any, Any]) -> list[Any]:
        return list(await asyncio.gather(*coros))

    async def pause(self, cycles: int = 1) -> None:
        await asyncio.sleep(0)

    def check_events(self, records: list[Any]) -> None:
        pass

    def cycles(self) -> int | None:
        return None


class SvaBench:
    def __init__(self, backend: Backend, sys: SvaSystem, seed: int = 1) -> None:
        self.backend = backend
        self.sys = sys
        self.drv = sys.drv
        self.plat = sys.plat
        self.rng = random.Random(seed)
        self.checker = IsolationChecker(frames=sys.frames)
        self.engines: dict[str, DmaEngine] = {}
        self.masters: dict[str, Master] = {}
        self.evtq = EventQueue(self.plat, self.drv.smmu.evtq.base, self.drv.smmu.evtq.shift)
        self.events: Counter[str] = Counter()
        self.binds = 0
        self.unbinds = 0
        self.pasids: set[int] = set()
        self.asids: set[int] = set()
        self.work: list[Work] = []

    @classmethod
    async def create(cls, backend: Backend, cpu: CpuFeatures | None = None,
                     seed: int = 1) -> SvaBench:
        return cls(backend, await SvaSystem.create(backend.plat, cpu), seed)

    # ---- the pieces ------------------------------------------------------------------------
    async def device(self, name: str, sid: int, *, sva: bool = True,
                     pasid_bits: int = 20) -> DmaEngine:
        m = await self.sys.master(name, [sid], pasid_bits=pasid_bits, sva=sva)
        eng = DmaEngine(name, sid, self.plat.mem, self.backend.translate)
        eng.observers.append(self.checker.observe)
        self.checker.attached(sid, m.domain)
        self.engines[name], self.masters[name] = eng, m
        return eng

    def process(self, name: str, cpu: int | None = 0) -> MM:
        return self.sys.process(name, cpu)

    def buffer(self, mm: MM, pages: int, data: bytes | None = None, *,
               at: int | None = None) -> int:
        """mmap a read-write buffer and let the CPU write it whole (the device cannot fault
        pages in: no IOPF yet), with ``data`` or random bytes."""
        va = mm.mmap(at, pages * PAGE, RW)
        mm.write(va, data if data is not None else self.rng.randbytes(pages * PAGE))
        return va

    async def bind(self, eng: DmaEngine, mm: MM) -> IommuBond:
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

    async def drain_events(self) -> list[int]:
        """CMD_SYNC (records of completed transactions become visible), then drain; on the
        RTL the scoreboard matches them with the model's predictions."""
        await self.drv.smmu.cmdq_drv.sync()
        records = await self.evtq.drain()
        self.backend.check_events(records)
        ids = [r.EventID for r in records]
        self.events.update(EventID(i).name if i in EventID._value2member_map_ else hex(i)
                           for i in ids)
        return ids

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


# ---- scenarios ------------------------------------------------------------------------------
Scenario = Callable[[SvaBench], Awaitable[dict[str, Any]]]


async def multi_process_dma(b: SvaBench, procs: int = 3, devs: int = 3, rounds: int = 2,
                            pages: int = 3) -> dict[str, Any]:
    """Several processes bound to several devices, every engine copying and filling in each
    of its processes concurrently; every destination checked byte for byte by the CPU."""
    engines = [await b.device(f"dma{i}", 0x10 * (i + 1)) for i in range(devs)]
    mms = [b.process(f"p{i}", cpu=i % 2) for i in range(procs)]
    # Process i is bound to engines i and i+1 (to every engine if there are fewer than 2).
    plan = [(engines[(i + k) % devs], mm) for i, mm in enumerate(mms)
            for k in range(min(2, devs))]
    size = pages * PAGE
    work: list[Work] = []
    for eng, mm in plan:
        bond = await b.bind(eng, mm)
        src, dst = b.buffer(mm, pages), b.buffer(mm, pages, bytes(size))
        work.append(Work(eng, mm, bond, src, dst, mm.read(src, size), bytearray(size)))
    assert len({w.bond.pasid for w in work}) == procs  # one PASID per process

    async def engine_job(eng: DmaEngine) -> None:
        mine = [w for w in work if w.eng is eng]
        for _ in range(rounds):
            for w in mine:
                so, do = b.rng.randrange(0, PAGE), b.rng.randrange(0, PAGE)
                n = b.rng.randrange(PAGE, size - max(so, do))
                expect_ok(await eng.run(D.copy(w.src + so, w.dst + do, n, w.bond.pasid)))
                w.image[do:do + n] = w.srcdata[so:so + n]
                fo = b.rng.randrange(0, size - 64)
                fn = b.rng.randrange(1, min(PAGE + 64, size - fo))
                pat = bytes([b.rng.randrange(256), eng.sid])
                expect_ok(await eng.run(D.fill(w.dst + fo, fn, w.bond.pasid, pat)))
                w.image[fo:fo + fn] = (pat * (fn // 2 + 1))[:fn]

    await b.backend.gather(*(engine_job(e) for e in engines))
    for w in work:
        check_memory(w.mm, w.dst, bytes(w.image))
    assert await b.drain_events() == []
    b.work = work
    return {"bonds": len(work), "descriptors": sum(e.stats.descriptors for e in engines)}


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


async def _until(b: SvaBench, cond: Callable[[], bool], what: str, limit: int = 200_000) -> None:
    for _ in range(limit):
        if cond():
            return
        await b.backend.pause(1)
    raise AssertionError(f"timed out waiting for {what}")


async def munmap_during_dma(b: SvaBench) -> dict[str, Any]:
    """Two devices keep copying in one process while the CPU unmaps the page one of them
    reads: once munmap returned (the notifier's TLBI + CMD_SYNC done), the next access to it
    faults; the other device's neighbouring pages keep working throughout."""
    a, c = await b.device("dma0", 0x10), await b.device("dma1", 0x20)
    mm = b.process("p")
    src, dst = b.buffer(mm, 4), b.buffer(mm, 4, bytes(4 * PAGE))
    victim = src + PAGE
    pasid = (await b.bind(a, mm)).pasid
    assert (await b.bind(c, mm)).pasid == pasid
    unmapped = [False]
    stop = [False]
    runs: dict[str, list[tuple[bool, Completion]]] = {"dma0": [], "dma1": []}

    async def hammer(eng: DmaEngine, d: D) -> None:
        while not stop[0]:
            started_after = unmapped[0]
            comp = await eng.run(d)
            runs[eng.name].append((started_after, comp))
            if comp.status is Status.FAULT and started_after:
                return
            await b.backend.pause(1)

    async def cpu_side() -> None:
        await _until(b, lambda: min(len(r) for r in runs.values()) >= 2, "traffic")
        tlbi_before = b.drv.smmu.cmdq_drv.stats.by_opcode.get("CmdTlbiNhVa", 0)
        await b.munmap(mm, victim, PAGE)
        unmapped[0] = True
        assert b.drv.smmu.cmdq_drv.stats.by_opcode.get("CmdTlbiNhVa", 0) == tlbi_before + 1
        await _until(b, lambda: bool(runs["dma0"]) and runs["dma0"][-1][0],
                     "a copy started after munmap")
        n = len(runs["dma1"])
        await _until(b, lambda: len(runs["dma1"]) >= n + 2, "traffic after munmap")
        stop[0] = True

    await b.backend.gather(hammer(a, D.copy(victim, dst, PAGE, pasid)),
                           hammer(c, D.copy(src + 2 * PAGE, dst + 2 * PAGE, 2 * PAGE, pasid)),
                           cpu_side())
    after = [comp for late, comp in runs["dma0"] if late]
    assert after, "no descriptor started after munmap returned"
    expect_fault(after[0], EventID.F_TRANSLATION, va=victim, write=False)
    assert all(comp.status is Status.OK for _, comp in runs["dma1"])
    before = [comp for late, comp in runs["dma0"] if not late]
    # A copy in flight while munmap ran may have faulted too (after the PTE was cleared).
    for comp in before:
        if comp.status is not Status.OK:
            expect_fault(comp, EventID.F_TRANSLATION, va=victim, write=False)
    faults = sum(comp.status is Status.FAULT for _, comp in runs["dma0"])
    assert await b.drain_events() == [EventID.F_TRANSLATION] * faults
    check_memory(mm, dst + 2 * PAGE, mm.read(src + 2 * PAGE, 2 * PAGE))
    return {"copies_before_munmap": len(before), "neighbour_copies": len(runs["dma1"])}


async def asid_collision(b: SvaBench) -> dict[str, Any]:
    """The CPU gives the process the ASID the device's private domain uses: bind moves the
    domain to a new ASID; SSID-less DMA (the domain) and PASID DMA (the process) at the same
    VA each land in their own memory."""
    eng = await b.device("dma0", 0x10)
    dom = b.masters["dma0"].domain
    assert dom.asid == 1
    buf = 0x2_0000_0000
    await dom.map(0x8000, buf, PAGE, IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE)
    expect_ok(await eng.run(D.fill(0x8000, PAGE, None, b"dom")))  # cached under ASID 1
    mm = b.process("p")
    assert mm.asid == 1
    va = b.buffer(mm, 2, at=0x8000)
    pasid = (await b.bind(eng, mm)).pasid
    assert dom.asid == 2
    expect_ok(await eng.run(D.copy(va, va + PAGE + 8, 100, pasid)))
    expect_ok(await eng.run(D.fill(0x8000 + 16, 32, None, b"D")))
    check_memory(mm, va + PAGE + 8, mm.read(va, 100))
    want = bytearray((b"dom" * 2000)[:PAGE])
    want[16:48] = b"D" * 32
    assert b.plat.mem.read(buf, PAGE) == bytes(want)
    assert await b.drain_events() == []
    return {"domain_asid": dom.asid, "process_asid": mm.asid}


async def bind_twice(b: SvaBench) -> dict[str, Any]:
    """Two binds of one (device, mm) give one handle; DMA works until the second unbind,
    then the PASID's CD is invalid (C_BAD_CD)."""
    eng = await b.device("dma0", 0x10)
    mm = b.process("p")
    va = b.buffer(mm, 2)
    h1, h2 = await b.bind(eng, mm), await b.bind(eng, mm)
    assert h1 is h2 and h1.refs == 2
    await b.unbind(h1)
    expect_ok(await eng.run(D.copy(va, va + PAGE, 64, h1.pasid)))
    check_memory(mm, va + PAGE, mm.read(va, 64))
    await b.unbind(h2)
    expect_fault(await eng.run(D.copy(va, va + PAGE, 64, 1)), EventID.C_BAD_CD)
    assert await b.drain_events() == [EventID.C_BAD_CD]
    return {"refs_after": h2.refs}


async def two_devices_one_mm(b: SvaBench) -> dict[str, Any]:
    """Two devices share the mm's PASID; one munmap invalidates for both; unbinding one
    leaves the other working."""
    a, c = await b.device("dma0", 0x10), await b.device("dma1", 0x20)
    mm = b.process("p")
    va = b.buffer(mm, 3)
    ha, hc = await b.bind(a, mm), await b.bind(c, mm)
    assert ha is not hc and ha.pasid == hc.pasid == 1 and mm.context.pinned == 1
    res = await b.backend.gather(a.run(D.fill(va + 2 * PAGE, 256, 1, b"a")),
                                 c.run(D.fill(va + 2 * PAGE + 256, 256, 1, b"c")))
    for comp in res:
        expect_ok(comp)
    assert mm.read(va + 2 * PAGE, 512) == b"a" * 256 + b"c" * 256
    for eng in (a, c):  # both TLBs entries for the first page
        expect_ok(await eng.run(D.copy(va, va + PAGE, 32, 1)))
    await b.munmap(mm, va, PAGE)
    for eng in (a, c):
        expect_fault(await eng.run(D.copy(va, va + PAGE, 32, 1)), EventID.F_TRANSLATION, va)
    await b.unbind(ha)
    expect_fault(await a.run(D.copy(va + PAGE, va + 2 * PAGE, 32, 1)), EventID.C_BAD_CD)
    expect_ok(await c.run(D.copy(va + PAGE, va + 2 * PAGE, 32, 1)))
    await b.unbind(hc)
    assert b.drv.sva.pasids.used == {} and mm.context.pinned == 0
    assert sorted(await b.drain_events()) == sorted(
        [EventID.F_TRANSLATION, EventID.F_TRANSLATION, EventID.C_BAD_CD])
    return {"shared_pasid": 1}


async def pasid_reuse(b: SvaBench) -> dict[str, Any]:
    """Unbind frees the PASID last; the next bind reuses it and DMA on it reaches the new
    process only, never the old one's pages."""
    eng = await b.device("dma0", 0x10)
    mm1, mm2, mm3 = (b.process(f"p{i}", cpu=i % 2) for i in range(3))
    va1 = b.buffer(mm1, 2, bytes(2 * PAGE))
    va2 = b.buffer(mm2, 2, bytes(2 * PAGE))
    h1, h2 = await b.bind(eng, mm1), await b.bind(eng, mm2)
    assert (h1.pasid, h2.pasid) == (1, 2)
    expect_ok(await eng.run(D.fill(va1, 64, 1, b"one")))
    await b.unbind(h1)
    expect_fault(await eng.run(D.fill(va1, 64, 1, b"XX")), EventID.C_BAD_CD)
    va3 = b.buffer(mm3, 2, bytes(2 * PAGE), at=va1)  # the same VA in the new process
    h3 = await b.bind(eng, mm3)
    assert h3.pasid == 1
    expect_ok(await eng.run(D.fill(va3, 64, 1, b"three")))
    expect_ok(await eng.run(D.fill(va2, 64, 2, b"two")))
    check_memory(mm3, va3, (b"three" * 13)[:64])
    check_memory(mm1, va1, (b"one" * 22)[:64])
    check_memory(mm2, va2, (b"two" * 22)[:64])
    assert await b.drain_events() == [EventID.C_BAD_CD]
    return {"reused_pasid": h3.pasid}


async def mm_exit_before_unbind(b: SvaBench) -> dict[str, Any]:
    """The process exits with the bond live: the notifier quiets the CD (late DMA aborts
    silently); unbind then clears it (C_BAD_CD) and frees the PASID."""
    eng = await b.device("dma0", 0x10)
    mm = b.process("p")
    va = b.buffer(mm, 2)
    h = await b.bind(eng, mm)
    expect_ok(await eng.run(D.copy(va, va + PAGE, 128, h.pasid)))
    check_memory(mm, va + PAGE, mm.read(va, 128))
    await b.exit(mm)
    assert h.cleared
    expect_fault(await eng.run(D.copy(va, va + PAGE, 128, h.pasid)), EventID.F_TRANSLATION, va)
    assert await b.drain_events() == []
    await b.unbind(h)
    expect_fault(await eng.run(D.copy(va, va + PAGE, 128, 1)), EventID.C_BAD_CD)
    assert await b.drain_events() == [EventID.C_BAD_CD]
    assert b.drv.sva.pasids.used == {} and mm.pgd is None
    return {"exited": True}


async def asid_rollover(b: SvaBench) -> dict[str, Any]:
    """With 8-bit CPU ASIDs, 600 more processes roll the generation over twice; the bound
    process keeps its pinned ASID and its DMA keeps working. (Create the bench with
    CpuFeatures(asid_bits=8, nr_cpus=2).)"""
    eng = await b.device("dma0", 0x10)
    mm = b.process("p")
    va = b.buffer(mm, 2)
    h = await b.bind(eng, mm)
    asid = mm.asid
    expect_ok(await eng.run(D.copy(va, va + PAGE, 256, h.pasid)))
    alloc = b.sys.cpu_asids
    for i in range(600):
        assert b.process(f"o{i}", cpu=i % 2).asid != asid
    assert alloc.rollovers >= 2 and mm.asid == asid and mm.context.pinned == 1
    alloc.switch_mm(0, mm)
    assert mm.asid == asid
    mm.write(va + 512, b"after the rollover")
    expect_ok(await eng.run(D.copy(va + 512, va + PAGE + 512, 18, h.pasid)))
    check_memory(mm, va + PAGE + 512, b"after the rollover")
    await b.unbind(h)
    assert mm.context.pinned == 0
    assert await b.drain_events() == []
    return {"rollovers": alloc.rollovers, "pinned_asid": asid}


async def flagship(b: SvaBench) -> dict[str, Any]:
    """`make sim`: three processes on three devices, concurrent copies and fills, a munmap
    under traffic, unbind everything."""
    out = await multi_process_dma(b, procs=3, devs=3, rounds=2)
    # munmap under traffic: p0's source page 1 while dma0 keeps reading it and dma2 copies
    # p2's buffers.
    w0 = next(w for w in b.work if w.mm.name == "p0")
    w2 = next(w for w in b.work if w.mm.name == "p2")
    victim = w0.src + PAGE
    stop, unmapped = [False], [False]
    log: dict[str, list[tuple[bool, Completion]]] = {w0.eng.name: [], w2.eng.name: []}

    async def hammer(w: Work, d: D) -> None:
        while not stop[0]:
            late = unmapped[0]
            comp = await w.eng.run(d)
            log[w.eng.name].append((late, comp))
            if comp.status is Status.FAULT and late:
                return
            await b.backend.pause(1)

    async def cpu_side() -> None:
        await _until(b, lambda: min(len(v) for v in log.values()) >= 2, "traffic")
        await b.munmap(w0.mm, victim, PAGE)
        unmapped[0] = True
        await _until(b, lambda: log[w0.eng.name][-1][0], "a copy started after munmap")
        stop[0] = True

    await b.backend.gather(hammer(w0, D.copy(victim, w0.dst, PAGE, w0.bond.pasid)),
                           hammer(w2, D.copy(w2.src, w2.dst, 2 * PAGE, w2.bond.pasid)),
                           cpu_side())
    late = [c for lt, c in log[w0.eng.name] if lt]
    expect_fault(late[0], EventID.F_TRANSLATION, va=victim)
    assert all(c.status is Status.OK for _, c in log[w2.eng.name])
    faults = sum(c.status is Status.FAULT for _, c in log[w0.eng.name])
    assert await b.drain_events() == [EventID.F_TRANSLATION] * faults
    for w in b.work:
        if w.bond.refs:
            await b.unbind(w.bond)
    assert b.drv.sva.pasids.used == {}
    out["munmap_copies_before"] = len(log[w0.eng.name]) - 1
    return out


SCENARIOS: dict[str, tuple[Scenario, CpuFeatures | None]] = {
    "multi_process_dma": (multi_process_dma, None),
    "munmap_during_dma": (munmap_during_dma, None),
    "asid_collision": (asid_collision, None),
    "bind_twice": (bind_twice, None),
    "two_devices_one_mm": (two_devices_one_mm, None),
    "pasid_reuse": (pasid_reuse, None),
    "mm_exit_before_unbind": (mm_exit_before_unbind, None),
    "asid_rollover": (asid_rollover, CpuFeatures(asid_bits=8, nr_cpus=2)),
    "flagship": (flagship, None),
}
