"""I/O page-fault scenarios: DMA through stall-capable devices into memory the CPU never
touched (backend-agnostic, like scenarios.py; the SMMU must implement the stall model).

Each scenario runs its DMA under :meth:`SvaBench.serviced`, so the driver's event thread
services stall faults while the engines wait: the fault becomes an I/O page fault, the SVA
handler runs the process's own fault handler, and CMD_RESUME retries (or aborts) the held
transaction. Data is checked byte for byte and every access by the isolation checker.
"""

from __future__ import annotations

from typing import Any

from models.arch import registers as R
from models.arch.events import EventID
from models.arch.geometry import PAGE
from models.cpu.pgprot import PROT_READ, PROT_WRITE
from tb.devices.dma import Descriptor as D
from tb.devices.dma import Status
from tb.scenarios.harness import SvaBench, check_memory, expect_fault, expect_ok, until
from tb.sva.io_pgfault import PageResponseCode

RW = PROT_READ | PROT_WRITE
# The event queue these scenarios want (log2 records; the driver caps it there): 4 records,
# fewer than the fault storm's stalls.
IOPF_EVTQ_SHIFT = 2


def _responses(b: SvaBench) -> dict[str, int]:
    """The page responses sent so far, by code."""
    q = b.drv.iopf
    assert q is not None, "the SMMU cannot stall: no IOPF queue"
    out: dict[str, int] = {}
    for _dev, _fault, resp in q.responses:
        out[resp.code.name] = out.get(resp.code.name, 0) + 1
    return out


async def demand_paged_dma(b: SvaBench, pages: int = 4) -> dict[str, Any]:
    """Copy from a buffer the CPU filled into one it never touched, then fill another never
    touched: every destination page faults once (a write fault), is populated by the
    process's fault handler and the transaction completes. A copy out of never-touched
    memory reads zeros (its pages fault as reads)."""
    eng = await b.device("dma0", 0x10, stall=True)
    mm = b.process("p")
    bond = await b.bind(eng, mm)
    src = b.buffer(mm, pages)
    data = mm.read(src, pages * PAGE)
    dst = mm.mmap(None, pages * PAGE, RW)    # never touched: no page table entries
    fill = mm.mmap(None, pages * PAGE, RW)
    zeros = mm.mmap(None, pages * PAGE, RW)  # read by the device before anyone wrote it
    out = mm.mmap(None, pages * PAGE, RW)
    assert all(mm.translate(va + i * PAGE) is None
               for va in (dst, fill, zeros, out) for i in range(pages))
    pat = bytes([0x5A, 0xC3, 0x0F])

    async def job() -> None:
        expect_ok(await eng.run(D.copy(src, dst, pages * PAGE, bond.pasid)))
        expect_ok(await eng.run(D.fill(fill + 8, pages * PAGE - 16, bond.pasid, pat)))
        expect_ok(await eng.run(D.copy(zeros, out, pages * PAGE, bond.pasid)))

    await b.serviced(job())
    check_memory(mm, dst, data)
    n = pages * PAGE - 16
    check_memory(mm, fill + 8, (pat * (n // len(pat) + 1))[:n])
    check_memory(mm, out, bytes(pages * PAGE))
    # Each never-touched page faulted exactly once: dst, fill, out (writes) and zeros (reads).
    stats = dict(b.drv.fault_stats)
    assert stats.get("reported") == 4 * pages, stats
    assert _responses(b) == {"SUCCESS": 4 * pages}
    assert b.events.get("F_TRANSLATION") == 4 * pages
    await b.unbind(bond)
    return {"faults_serviced": stats["reported"], "responses": _responses(b),
            "bytes_moved": eng.stats.bytes_written}


async def stall_storm(b: SvaBench, devs: int = 10, pages: int = 100) -> dict[str, Any]:
    """A thousand stalls (``devs`` stall-capable engines, each copying into ``pages`` pages
    its process never touched) against a 4-record event queue: the queue stays full for
    most of the run and stalls wait for room without a record; with more engines than
    STALL_MAX, as many as that are held and the rest wait at the port. None is lost: every
    page faults exactly once, gets one Success response, and every copy completes with its
    data in place."""
    engines = [await b.device(f"dma{i}", 0x10 * (i + 1), stall=True) for i in range(devs)]
    work = []
    for i, eng in enumerate(engines):
        mm = b.process(f"p{i}", cpu=i % 2)
        bond = await b.bind(eng, mm)
        src = b.buffer(mm, pages)
        dst = mm.mmap(None, pages * PAGE, RW)  # never touched
        work.append((eng, mm, bond, src, dst, mm.read(src, pages * PAGE)))

    async def job(eng, bond, src, dst) -> None:
        expect_ok(await eng.run(D.copy(src, dst, pages * PAGE, bond.pasid)))

    await b.serviced(*(job(eng, bond, src, dst) for eng, _mm, bond, src, dst, _ in work))
    for _eng, mm, _bond, _src, dst, data in work:
        check_memory(mm, dst, data)
    n = devs * pages
    stats = dict(b.drv.fault_stats)
    assert stats.get("reported") == n, stats
    assert _responses(b) == {"SUCCESS": n}
    assert b.events.get("F_TRANSLATION") == n
    assert b.drv.evtq_consumer.stats.overflows == 0  # stall records are never discarded
    for _eng, _mm, bond, *_ in work:
        await b.unbind(bond)
    return {"stalls_serviced": n, "responses": _responses(b)}


async def invalid_accesses(b: SvaBench) -> dict[str, Any]:
    """A write into a read-only mapping and a read outside every mapping: the handler answers
    Invalid, the SMMU aborts the transaction, the engine reports a clean error naming the
    address; nothing is written and the process's pages are untouched."""
    eng = await b.device("dma0", 0x10, stall=True)
    mm = b.process("p")
    bond = await b.bind(eng, mm)
    src = b.buffer(mm, 1)
    ro = mm.mmap(None, PAGE, PROT_READ)  # never touched
    hole = mm.mmap(None, 3 * PAGE, RW)
    await b.munmap(mm, hole + PAGE, PAGE)  # a gap between two mappings
    before = mm.read(src, PAGE)

    async def job() -> list[Any]:
        return [await eng.run(D.copy(src, ro, 64, bond.pasid)),
                await eng.run(D.copy(hole + PAGE, src, 64, bond.pasid))]

    (wr, rd), = await b.serviced(job())
    assert (wr.status, wr.va, wr.write, wr.done) == (Status.FAULT, ro, True, 0), wr
    assert (rd.status, rd.va, rd.write, rd.done) == (Status.FAULT, hole + PAGE, False, 0), rd
    # The transaction was terminated after its stall: an abort, with the fault that stalled.
    assert wr.fault == rd.fault == EventID.F_TRANSLATION
    assert _responses(b) == {"INVALID": 2}
    assert b.drv.fault_stats["resume_abort"] == 2
    assert mm.translate(ro) is None  # nothing was populated for the refused write
    check_memory(mm, src, before)
    await b.unbind(bond)
    return {"refused": 2}


async def fault_storm(b: SvaBench, devs: int = 6, pages: int = 3) -> dict[str, Any]:
    """Several processes and engines faulting at once, more stalls than the event queue holds
    records. With no event thread yet, the queue fills with stall records and the stalls
    beyond wait for room without one; an engine that cannot stall then faults twice, and
    its records are discarded with an overflow (§7.4: EVENTQ_PROD.OVFLG). Then the driver
    services the queue: the waiting stalls get their records as it drains (never lost,
    never overflowed), and every DMA completes."""
    shift = b.drv.smmu.evtq.shift
    assert 1 << shift < devs, f"a 2^{shift}-record event queue: the storm cannot fill it"
    # With STALL_MAX held the port takes nothing, and this storm services the queue only
    # after the engine that cannot stall has faulted: it would wait forever.
    stall_max = R.IDR5.from_int(b.drv.smmu.features.idr["IDR5"]).STALL_MAX
    assert devs < stall_max, f"{devs} stalling engines: at most STALL_MAX - 1 = {stall_max - 1}"
    engines = [await b.device(f"dma{i}", 0x10 * (i + 1), stall=True) for i in range(devs)]
    plain = await b.device("plain", 0x10 * (devs + 1))  # no "dma-can-stall"
    pmm = b.process("q")
    pbond = await b.bind(plain, pmm)
    holes = pmm.mmap(None, 2 * PAGE, RW)  # never touched: this engine cannot fault them in
    work = []
    for i, eng in enumerate(engines):
        mm = b.process(f"p{i}", cpu=i % 2)
        bond = await b.bind(eng, mm)
        src = b.buffer(mm, pages)
        dst = mm.mmap(None, pages * PAGE, RW)
        work.append((eng, mm, bond, src, dst, mm.read(src, pages * PAGE)))
    running = len(work)

    async def job(eng, bond, src, dst) -> None:
        nonlocal running
        try:
            expect_ok(await eng.run(D.copy(src, dst, pages * PAGE, bond.pasid)))
        finally:
            running -= 1

    async def overflow_then_service() -> None:
        await _until_evtq_full(b)
        assert not await _evtq_overflow_seen(b), "OVFLG toggled while only stalls recorded"
        for i in range(2):
            va = holes + i * PAGE
            expect_fault(await plain.run(D.fill(va, 64, pbond.pasid, b"\x5A")),
                         EventID.F_TRANSLATION, va)
        for _ in range(1000):  # the record is written (here: discarded) after the response
            if await _evtq_overflow_seen(b):
                break
            await b.backend.pause(4)
        else:
            raise AssertionError("a fault with the event queue full did not overflow it")
        await b.irq_thread(lambda: running == 0)

    await b.backend.gather(*(job(eng, bond, src, dst)
                             for eng, _mm, bond, src, dst, _d in work),
                           overflow_then_service())
    for _eng, mm, _bond, _src, dst, data in work:
        check_memory(mm, dst, data)
    assert b.evtq.stats.overflows == 1, b.evtq.stats  # the plain engine's, acknowledged once
    assert _responses(b) == {"SUCCESS": devs * pages}
    assert b.drv.fault_stats["reported"] == devs * pages  # every stall record arrived
    await b.drain_events()
    for _eng, _mm, bond, *_ in work:
        await b.unbind(bond)
    await b.unbind(pbond)
    return {"faults_serviced": b.drv.fault_stats["reported"], "engines": devs,
            "event_queue_records": 1 << shift, "overflows": b.evtq.stats.overflows}


async def _until_evtq_full(b: SvaBench, limit: int = 20_000) -> None:
    """Poll EVENTQ_PROD and EVENTQ_CONS until the queue is full (same index, wrap bits
    differing), as nothing consumes it meanwhile."""
    shift = b.drv.smmu.evtq.shift
    mask = (2 << shift) - 1
    for _ in range(limit):
        prod = await b.plat.mmio_read32(R.OFFSETS["EVENTQ_PROD"])
        cons = await b.plat.mmio_read32(R.OFFSETS["EVENTQ_CONS"])
        if (prod ^ cons) & mask == 1 << shift:
            return
        await b.backend.pause(16)
    raise AssertionError("the event queue never filled")


async def _evtq_overflow_seen(b: SvaBench) -> bool:
    """EVENTQ_PROD.OVFLG differs from EVENTQ_CONS.OVACKFLG: records were discarded."""
    prod = R.EVENTQ_PROD.from_int(await b.plat.mmio_read32(R.OFFSETS["EVENTQ_PROD"]))
    cons = R.EVENTQ_CONS.from_int(await b.plat.mmio_read32(R.OFFSETS["EVENTQ_CONS"]))
    return prod.OVFLG != cons.OVACKFLG


async def _stalled_then(b: SvaBench, eng, d, action) -> Any:
    """Start descriptor ``d`` with no event thread running, so its first fault stays
    pending; once its stall record is in the queue (the event-queue interrupt is up) run
    ``action``; returns the descriptor's completion."""
    async def control() -> None:
        await until(b, lambda: b.plat.irq_line("eventq"), "a stall record")
        await action()

    completion, _ = await b.backend.gather(eng.run(d), control())
    return completion


async def unbind_with_faults_pending(b: SvaBench) -> dict[str, Any]:
    """Unbind while a stalled transaction's fault is pending. The order is the one whose
    violation was CVE-2025-38594 (reference fault-paths.md §1.5): the CD is torn down and
    synced first (no new fault), then the fault queues are flushed and every pending fault
    answered, and only then is the PASID freed. The device sees a clean error."""
    eng = await b.device("dma0", 0x10, stall=True)
    mm = b.process("p")
    bond = await b.bind(eng, mm)
    pasid = bond.pasid
    expect_ok(await eng.run(D.fill(b.buffer(mm, 1), 64, pasid, b"\x01")))  # before the fault
    dst = mm.mmap(None, PAGE, RW)
    trace = b.drv.sva.trace
    start = len(trace)

    async def unbind() -> None:
        await b.unbind(bond)

    c = await _stalled_then(b, eng, D.fill(dst, 64, pasid, b"\xAA"), unbind)
    steps = [step for step, p in trace[start:] if p == pasid]
    assert steps == ["cd_cleared", "faults_flushed", "pasid_free"], steps
    assert c.status is Status.FAULT and c.va == dst, c  # the retry met no context: aborted
    assert not b.drv.iopf.pending_count()  # type: ignore[union-attr]
    await b.drain_events()
    return {"order": steps, "device": str(c)}


async def mm_exit_with_faults_pending(b: SvaBench) -> dict[str, Any]:
    """The process exits while its fault is pending: the handler finds no live mm and
    answers Invalid (no handler touches a dead mm), the transaction is aborted; unbind
    afterwards completes."""
    eng = await b.device("dma0", 0x10, stall=True)
    mm = b.process("p")
    bond = await b.bind(eng, mm)
    expect_ok(await eng.run(D.fill(b.buffer(mm, 1), 64, bond.pasid, b"\x01")))
    dst = mm.mmap(None, PAGE, RW)

    async def exit_then_service() -> None:
        await b.exit(mm)
        await b.drain_events()

    c = await _stalled_then(b, eng, D.fill(dst, 64, bond.pasid, b"\x11"), exit_then_service)
    assert c.status is Status.FAULT and c.va == dst, c
    assert _responses(b) == {"INVALID": 1}
    await b.unbind(bond)
    return {"device": str(c)}


async def munmap_while_stalled(b: SvaBench) -> dict[str, Any]:
    """The CPU unmaps the page a stalled transaction waits for: the handler finds no VMA
    and answers Invalid; the transaction is aborted, and no access reaches a freed page
    (the isolation checker watches)."""
    eng = await b.device("dma0", 0x10, stall=True)
    mm = b.process("p")
    bond = await b.bind(eng, mm)
    src = b.buffer(mm, 1)
    dst = mm.mmap(None, 2 * PAGE, RW)

    async def unmap_then_service() -> None:
        await b.munmap(mm, dst, 2 * PAGE)
        await b.drain_events()

    c = await _stalled_then(b, eng, D.copy(src, dst, 2 * PAGE, bond.pasid), unmap_then_service)
    assert c.status is Status.FAULT and c.va == dst and c.done == 0, c
    assert _responses(b) == {"INVALID": 1}
    await b.unbind(bond)
    return {"device": str(c)}


async def munmap_racing_retry(b: SvaBench) -> dict[str, Any]:
    """The CPU unmaps a page after the handler populated it and answered Success, before the
    held transaction's retry completes.
    (a) Between the Success and its CMD_RESUME: the unmap's invalidation and CMD_SYNC come
        first, so the retry walks tables without the page and stalls again; the handler
        finds no VMA now, answers Invalid, and the transaction is aborted.
    (b) At once with the CMD_RESUME: the retry may complete into the page before the unmap,
        or fault as in (a).
    Either way no access reaches the page once the unmap returned (the isolation checker
    watches every access)."""
    eng = await b.device("dma0", 0x10, stall=True)
    mm = b.process("p")
    bond = await b.bind(eng, mm)
    a, race = mm.mmap(None, PAGE, RW), mm.mmap(None, PAGE, RW)  # never touched
    p = b.drv.iopf.param(b.masters[eng.name])  # type: ignore[union-attr]
    assert p is not None
    respond = p.page_response
    unmapped: list[int] = []

    async def racing(dev: Any, fault: Any, resp: Any) -> None:
        page = fault.addr & ~(PAGE - 1)
        if resp.code is not PageResponseCode.SUCCESS or page not in (a, race) \
                or page in unmapped:
            await respond(dev, fault, resp)
            return
        unmapped.append(page)
        if page == a:
            await b.munmap(mm, a, PAGE)
            await respond(dev, fault, resp)
        else:
            await b.backend.gather(respond(dev, fault, resp), b.munmap(mm, race, PAGE))

    p.page_response = racing
    before = dict(_responses(b))
    ca, = await b.serviced(eng.run(D.fill(a, 64, bond.pasid, b"\xA5")))
    assert (ca.status, ca.va, ca.done) == (Status.FAULT, a, 0), ca
    assert mm.translate(a) is None
    got = _responses(b)
    assert got == {"SUCCESS": before.get("SUCCESS", 0) + 1,
                   "INVALID": before.get("INVALID", 0) + 1}, got
    cr, = await b.serviced(eng.run(D.fill(race, 64, bond.pasid, b"\x5A")))
    assert cr.status is Status.OK or (cr.status, cr.va) == (Status.FAULT, race), cr
    assert mm.translate(race) is None
    p.page_response = respond
    await b.drain_events()
    await b.unbind(bond)
    return {"unmapped_before_resume": str(ca), "unmapped_with_resume": str(cr)}


IOPF_SCENARIOS = {
    "demand_paged_dma": demand_paged_dma,
    "invalid_accesses": invalid_accesses,
    "fault_storm": fault_storm,
    "stall_storm": stall_storm,
    "unbind_with_faults_pending": unbind_with_faults_pending,
    "mm_exit_with_faults_pending": mm_exit_with_faults_pending,
    "munmap_while_stalled": munmap_while_stalled,
    "munmap_racing_retry": munmap_racing_retry,
}

__all__ = ["IOPF_EVTQ_SHIFT", "IOPF_SCENARIOS", "demand_paged_dma", "fault_storm",
           "stall_storm",
           "invalid_accesses", "mm_exit_with_faults_pending", "munmap_racing_retry",
           "munmap_while_stalled",
           "unbind_with_faults_pending"]
