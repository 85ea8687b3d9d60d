"""The SVA scenarios with DMA engines, backend-agnostic (no cocotb, no pyuvm).

Each scenario runs on an :class:`~tb.scenarios.harness.SvaBench`, on the RTL
(``tb.env.seq_lib.sva_sequences``) or on the functional model (tests/test_sva_dma.py). They
mirror tests/test_sva_bind.py with real traffic: data is checked byte for byte in the
processes' memory, and every DMA access by the isolation checker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from models.arch.events import EventID
from models.arch.geometry import PAGE
from models.cpu.features import CpuFeatures
from models.cpu.pgprot import PROT_READ, PROT_WRITE, pte_dirty, pte_young
from tb.devices.dma import Completion, DmaEngine, Status
from tb.devices.dma import Descriptor as D
from tb.scenarios.harness import (
    SvaBench,
    Work,
    check_memory,
    expect_fault,
    expect_ok,
    until,
)
from tb.scenarios.robustness import gerror_recovery
from tb.sva.iopgtable import IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE

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
        await until(b, lambda: min(len(r) for r in runs.values()) >= 2, "traffic")
        tlbi_before = b.drv.smmu.cmdq_drv.stats.by_opcode.get("CmdTlbiNhVa", 0)
        await b.munmap(mm, victim, PAGE)
        unmapped[0] = True
        # one TLBI from the notifier; none with BTM, where the CPU's broadcast TLBI and its
        # DVM sync did it (v5 arm_smmu_mm_invalidate_range)
        sent = 0 if b.drv.smmu.features.has("BTM") else 1
        assert b.drv.smmu.cmdq_drv.stats.by_opcode.get("CmdTlbiNhVa", 0) == tlbi_before + sent
        await until(b, lambda: bool(runs["dma0"]) and runs["dma0"][-1][0],
                     "a copy started after munmap")
        n = len(runs["dma1"])
        await until(b, lambda: len(runs["dma1"]) >= n + 2, "traffic after munmap")
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


async def writeback_round(b: SvaBench) -> dict[str, int]:
    """With HTTU (the shared CDs ask for HA and HD): the CPU's write-back harvests every
    destination page (page_mkclean, then writable and clean again, as a write fault would
    leave it) and its page aging makes every source page old; one more copy per pair of the
    first two pages, and the pages are then exactly as the device used them (SPEC §3.13): the
    destination pages it wrote dirty, the others clean; with BTM the source pages it read
    young."""
    rw = PROT_READ | PROT_WRITE
    for w in b.work:
        for i in range(len(w.image) // PAGE):
            va = w.dst + i * PAGE
            with b.checker.changing(w.mm, va, PAGE):
                await b.backend.cpu(w.mm.page_mkclean, va)
                await b.backend.cpu(w.mm.mprotect, va, PAGE, rw)
            await b.backend.cpu(w.mm.ptep_clear_flush_young, w.src + i * PAGE)
    dirty = young = 0
    for w in b.work:
        expect_ok(await w.eng.run(D.copy(w.src, w.dst, PAGE + 64, w.bond.pasid)))
        w.image[:PAGE + 64] = w.srcdata[:PAGE + 64]
    for w in b.work:
        pages = range(len(w.image) // PAGE)
        got_dirty = {i for i in pages if pte_dirty(w.mm.pte(w.dst + i * PAGE))}
        got_young = {i for i in pages if pte_young(w.mm.pte(w.src + i * PAGE))}
        # two pairs may share a process but never a buffer: these pages are this copy's
        assert got_dirty == {0, 1}, (w.mm.name, w.eng.name, got_dirty)
        # Aging tells no secondary MMU (Linux has no clear_flush_young notifier for the SMMU):
        # only the CPU's broadcast TLBI reaches a cached entry, with BTM.
        if b.drv.smmu.features.has("BTM"):
            assert got_young == {0, 1}, (w.mm.name, w.eng.name, got_young)
        check_memory(w.mm, w.dst, bytes(w.image))
        dirty += len(got_dirty)
        young += len(got_young)
    return {"pages_dirtied": dirty, "pages_made_young": young}


FLAGSHIP_BURST = 256


async def flagship(b: SvaBench) -> dict[str, Any]:
    """`make sim`: three processes on three devices, concurrent copies and fills, (with HTTU
    a write-back round: harvest and aging, one more copy, the flags as the device left them),
    a munmap under traffic, unbind everything. The devices move data in 256-byte bursts, each
    translated on its own, as a DMA master behind a TBU does (256 bytes: a common PCIe Max
    Payload Size), so the IOTLB can serve every burst after a page's first."""
    b.dma_burst = FLAGSHIP_BURST
    out = await multi_process_dma(b, procs=3, devs=3, rounds=2)
    f = b.drv.smmu.features
    if f is not None and f.has("HA") and f.has("HD"):
        out.update(await writeback_round(b))
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
        await until(b, lambda: min(len(v) for v in log.values()) >= 2, "traffic")
        await b.munmap(w0.mm, victim, PAGE)
        unmapped[0] = True
        await until(b, lambda: log[w0.eng.name][-1][0], "a copy started after munmap")
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
    # The kernel at EL2 (VHE). IDR0.Hyp is RES0 without stage 2, so this SMMU makes NS-EL1
    # entries that the CPU's EL2&0 TLBIs miss: the driver must not rely on BTM (Linux's
    # arm_smmu_device_hw_probe) and sends its own TLBI commands.
    "munmap_during_dma_vhe": (munmap_during_dma, CpuFeatures(vhe=True)),
    "flagship_vhe": (flagship, CpuFeatures(vhe=True)),
    "gerror_recovery": (gerror_recovery, None),
}
