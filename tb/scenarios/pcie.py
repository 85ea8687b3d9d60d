"""PCIe SVA scenarios: an endpoint with ATS, an ATC and PRI (tb/devices/pcie_ep.py) doing
DMA for a process through its own translations (backend-agnostic like scenarios.py; the SMMU
must have ATS and PRI: the functional model, or the RTL's parameter set `pcie`).

The endpoint asks the SMMU for translations and caches them, and sends each access with a
translated address through the SMMU's ATSCHK check first; a page the process never
touched comes back with no access, the endpoint sends a page request, the driver's PRI
thread hands it to the IOPF core, the SVA handler runs the process's fault handler, and
CMD_PRI_RESP tells the endpoint to ask again. When the CPU changes the page tables, the
driver invalidates the SMMU's TLB, then the endpoint's ATC, before the page is freed: the
isolation checker sees every access the endpoint makes with a cached translation, so a
stale ATC entry used after its invalidation completed is a violation.
"""

from __future__ import annotations

from typing import Any

from models.arch.geometry import PAGE
from models.arch.registers import CmdqErr
from models.cpu.pgprot import PROT_READ, PROT_WRITE
from tb.devices.dma import Descriptor as D
from tb.devices.dma import Status
from tb.scenarios.harness import SvaBench, check_memory, expect_ok, until

RW = PROT_READ | PROT_WRITE
# The PRI queue the overflow scenario asks the driver for (log2 entries): 2 entries.
PCIE_PRIQ_SHIFT = 1


def _pri_responses(b: SvaBench) -> dict[str, int]:
    """CMD_PRI_RESPs the driver sent, by code (what it decided, whatever reached the
    endpoint)."""
    return {k.removeprefix("pri_resp_"): v for k, v in b.drv.fault_stats.items()
            if k.startswith("pri_resp_")}


async def _untouched_destination(b: SvaBench, pages: int) -> tuple:
    """An endpoint bound to a new process, a source buffer the CPU filled, its bytes, and a
    destination mapping the CPU never touched: (endpoint, mm, bond, src, data, dst)."""
    ep = await b.pcie_device("nic", 0x40)
    mm = b.process("p")
    bond = await b.bind(ep, mm)
    src = b.buffer(mm, pages)
    data = mm.read(src, pages * PAGE)
    return ep, mm, bond, src, data, mm.mmap(None, pages * PAGE, RW)


async def ats_pri_demand_paged_dma(b: SvaBench, pages: int = 4) -> dict[str, Any]:
    """Copy from a buffer the CPU filled into one it never touched: the source translates
    at once (read-only entries cached), every destination page comes back with no access,
    is requested, populated by the handler, answered Success and translated again. A second
    copy of the same buffers is served from the ATC: no Translation Request at all."""
    ep, mm, bond, src, data, dst = await _untouched_destination(b, pages)
    assert all(mm.translate(dst + i * PAGE) is None for i in range(pages))

    async def job() -> None:
        expect_ok(await ep.run(D.copy(src, dst, pages * PAGE, bond.pasid)))

    await b.serviced(job())
    check_memory(mm, dst, data)
    s = ep.stats
    assert s.page_requests == pages, s
    assert _pri_responses(b) == {"success": pages}
    # per destination page: a request with no access, then one after the response
    assert s.ats_requests == pages + 2 * pages, s
    # every access went through the SMMU as an ATS-Translated transaction (ATSCHK=1)
    assert s.translated_checked == 2 * pages, s
    before = s.ats_requests
    await b.serviced(job())
    assert s.ats_requests == before and s.atc_hits >= 2 * pages, s
    await b.unbind(bond)
    return {"ats_requests": s.ats_requests, "atc_hits": s.atc_hits,
            "page_requests": s.page_requests, "prg_responses": dict(s.prg_responses)}


async def munmap_with_busy_atc(b: SvaBench, pages: int = 3) -> dict[str, Any]:
    """The endpoint holds translations of a buffer in its ATC when the process unmaps it: the
    notifier's TLBI, CMD_SYNC, ATC_INV, CMD_SYNC come before the pages are freed, the
    endpoint drops its entries, and its next access asks again, is refused (no VMA: Invalid
    Request) and ends in an error. No access reaches a freed page."""
    ep = await b.pcie_device("nic", 0x40)
    mm = b.process("p")
    bond = await b.bind(ep, mm)
    buf = b.buffer(mm, pages)

    async def fill() -> Any:
        return await ep.run(D.fill(buf, pages * PAGE, bond.pasid, b"\x3C"))

    (c,) = await b.serviced(fill())
    expect_ok(c)
    assert len(ep.atc) >= pages
    inv_before = ep.stats.entries_invalidated
    await b.munmap(mm, buf, pages * PAGE)
    assert ep.stats.entries_invalidated - inv_before >= pages
    assert not any(page >= buf and page < buf + pages * PAGE for _pasid, page in ep.atc)
    (c,) = await b.serviced(fill())
    assert c.status is Status.FAULT and c.va == buf and c.done == 0, c
    assert ep.stats.faults_by_type.get("PRG_INVALID_REQUEST") == 1
    await b.unbind(bond)
    return {"entries_invalidated": ep.stats.entries_invalidated, "device": str(c)}


async def invalid_page_requests(b: SvaBench) -> dict[str, Any]:
    """A page request for a hole between mappings, a write to a read-only mapping, and one
    after the process exited: Invalid Request each, and the endpoint reports a clean error;
    nothing is populated for the refused write."""
    ep = await b.pcie_device("nic", 0x40)
    mm = b.process("p")
    bond = await b.bind(ep, mm)
    ro = mm.mmap(None, PAGE, PROT_READ)
    late = mm.mmap(None, PAGE, RW)  # before the hole exists: mmap would fill it
    hole = mm.mmap(None, 3 * PAGE, RW)
    await b.munmap(mm, hole + PAGE, PAGE)

    async def job() -> list[Any]:
        return [await ep.run(D.fill(ro, 64, bond.pasid, b"\x01")),
                await ep.run(D.fill(hole + PAGE, 64, bond.pasid, b"\x02"))]

    ((wr, gap),) = await b.serviced(job())
    assert (wr.status, wr.va, wr.write) == (Status.FAULT, ro, True), wr
    assert (gap.status, gap.va) == (Status.FAULT, hole + PAGE), gap
    assert mm.translate(ro) is None
    await b.exit(mm)
    (after,) = await b.serviced(ep.run(D.fill(late, 64, bond.pasid, b"\x03")))
    assert after.status is Status.FAULT and after.va == late, after
    assert _pri_responses(b) == {"invalid_request": 3}
    assert ep.stats.faults_by_type == {"PRG_INVALID_REQUEST": 3}
    await b.unbind(bond)
    return {"refused": 3}


async def atc_invalidation_timeout(b: SvaBench) -> dict[str, Any]:
    """The endpoint drops its invalidation completions: the SYNC after the ATC_INV times
    out with CERROR_ATC_INV_SYNC (CONS at the SYNC), the driver acknowledges it and the
    SYNC is retried, and the munmap completes. The endpoint did drop its entries, so nothing
    stale is used; once it answers again, invalidations complete without error."""
    ep = await b.pcie_device("nic", 0x40)
    mm = b.process("p")
    bond = await b.bind(ep, mm)
    buf = b.buffer(mm, 2)
    (c,) = await b.serviced(ep.run(D.fill(buf, 2 * PAGE, bond.pasid, b"\x77")))
    expect_ok(c)
    errors = b.drv.smmu.cmdq_drv.stats.errors
    ep.inv_policy = "drop"
    await b.munmap(mm, buf, PAGE)
    assert errors.get(CmdqErr.CERROR_ATC_INV_SYNC.name) == 1, errors
    ep.inv_policy = "now"
    await b.munmap(mm, buf + PAGE, PAGE)
    assert errors.get(CmdqErr.CERROR_ATC_INV_SYNC.name) == 1, errors
    await b.unbind(bond)
    return {"cmdq_errors": dict(errors)}


async def pri_queue_overflow(b: SvaBench, devs: int = 3, pages: int = 2) -> dict[str, Any]:
    """More page requests at once than the PRI queue holds (2 entries): the SMMU answers the
    ones it cannot write with an automatic Success, the endpoints ask again, find no access
    yet, and request again; the driver acknowledges the overflow, and every DMA completes
    with the data in place."""
    eps = [await b.pcie_device(f"nic{i}", 0x40 + i) for i in range(devs)]
    work = []
    for i, ep in enumerate(eps):
        mm = b.process(f"p{i}", cpu=i % 2)
        bond = await b.bind(ep, mm)
        dst = mm.mmap(None, pages * PAGE, RW)
        work.append((ep, mm, bond, dst))

    async def job(ep, bond, dst) -> None:
        expect_ok(await ep.run(D.fill(dst, pages * PAGE, bond.pasid, b"\xA5")))

    # A CPU slow to take the PRI interrupt: nothing is drained until every endpoint has sent
    # its first request and one of them has had its answer, which only the SMMU can have
    # given (an automatic response to a request it could not queue), whatever the backend's
    # timing. An SMMU that never overflows leaves the endpoints waiting: PrgTimeout.
    b.priq_irq_gate = lambda: sum(ep.stats.page_requests for ep in eps) >= devs and \
        any(ep.stats.prg_responses for ep in eps)
    await b.serviced(*(job(ep, bond, dst) for ep, _mm, bond, dst in work))
    b.priq_irq_gate = None
    for _ep, mm, _bond, dst in work:
        check_memory(mm, dst, b"\xA5" * (pages * PAGE))
    assert b.drv.priq_consumer is not None
    assert b.drv.priq_consumer.stats.overflows >= 1, \
        (b.drv.priq_consumer.stats, [(ep.stats.page_requests, ep.stats.prg_responses)
                                     for ep in eps])
    autos = sum(ep.stats.prg_responses.get("SUCCESS", 0) for ep in eps) \
        - _pri_responses(b).get("success", 0)
    assert autos >= 1, "no automatic response reached an endpoint"
    for _ep, _mm, bond, _dst in work:
        await b.unbind(bond)
    return {"overflows": b.drv.priq_consumer.stats.overflows, "automatic_success": autos}


async def unbind_with_prgs_outstanding(b: SvaBench) -> dict[str, Any]:
    """Unbind while a page request waits in the PRI queue: the CD is torn down and synced,
    the fault queues are flushed (the request is handled and answered), and only then is
    the PASID freed. The endpoint's next Translation Request meets no context (Completer
    Abort) and it reports an error."""
    ep = await b.pcie_device("nic", 0x40)
    mm = b.process("p")
    bond = await b.bind(ep, mm)
    pasid = bond.pasid
    dst = mm.mmap(None, PAGE, RW)
    trace = b.drv.sva.trace
    start = len(trace)

    async def control() -> None:
        await until(b, lambda: b.plat.irq_line("priq"), "a page request")
        await b.unbind(bond)

    c, _ = await b.backend.gather(ep.run(D.fill(dst, 64, pasid, b"\xEE")), control())
    steps = [step for step, p in trace[start:] if p == pasid]
    assert steps == ["cd_cleared", "faults_flushed", "pasid_free"], steps
    assert c.status is Status.FAULT and c.va == dst, c
    assert ep.stats.faults_by_type == {"ATS_CA": 1}, ep.stats.faults_by_type
    return {"order": steps, "device": str(c)}


async def stall_and_pri_for_one_process(b: SvaBench, pages: int = 3) -> dict[str, Any]:
    """One process bound to a platform device that stalls and to a PCIe function with PRI
    at once: both fill never-touched buffers concurrently, each fault is serviced through
    its own queue (event queue, PRI queue), and both buffers hold their data."""
    dma = await b.device("dma0", 0x10, stall=True)
    ep = await b.pcie_device("nic", 0x40)
    mm = b.process("p")
    b1 = await b.bind(dma, mm)
    b2 = await b.bind(ep, mm)
    assert b1.pasid == b2.pasid  # one PASID per mm
    x = mm.mmap(None, pages * PAGE, RW)
    y = mm.mmap(None, pages * PAGE, RW)

    async def platform() -> None:
        expect_ok(await dma.run(D.fill(x, pages * PAGE, b1.pasid, b"\x11")))

    async def pcie() -> None:
        expect_ok(await ep.run(D.fill(y, pages * PAGE, b2.pasid, b"\x22")))

    await b.serviced(platform(), pcie())
    check_memory(mm, x, b"\x11" * (pages * PAGE))
    check_memory(mm, y, b"\x22" * (pages * PAGE))
    assert b.drv.fault_stats["reported"] == pages  # stall faults
    assert b.drv.fault_stats["ppr_reported"] == pages  # page requests
    await b.unbind(b1)
    await b.unbind(b2)
    return {"stall_faults": pages, "page_requests": ep.stats.page_requests}


async def pri_abort_recovery(b: SvaBench, pages: int = 2) -> dict[str, Any]:
    """The PRI queue's memory aborts a write (fault-paths.md §1.4, §8.2): GERROR.PRIQ_ABT_ERR,
    the entry is lost and its page request gets Response Failure (taken as a synchronous
    abort). The endpoint stops sending page requests (PRI Status Response Failure) and its copy
    fails. The GERROR handler reports and acknowledges the error, the device driver clears the
    endpoint's Response Failure, and the copy, run again, completes through PRI: the page
    requests are written, the driver's PRI thread answers them Success."""
    ep, mm, bond, src, data, dst = await _untouched_destination(b, pages)
    smmu, mem = b.drv.smmu, b.plat.mem

    async def copy() -> Any:
        return await ep.run(D.copy(src, dst, pages * PAGE, bond.pasid))

    fault = mem.add_fault(smmu.priq.base, smmu.priq.base + smmu.priq.size_bytes, on="w")
    (c,) = await b.serviced(copy())
    assert c.status is Status.FAULT and c.done == 0, c
    assert ep.stats.faults_by_type.get("PRG_RESPONSE_FAILURE") == 1, ep.stats
    assert ep.pri_failed and ep.stats.page_requests == 1, ep.stats
    active = await b.global_error(fault, "PRIQ_ABT_ERR")
    assert _pri_responses(b) == {}, "the driver answered a request it never saw"
    ep.clear_response_failure()
    (c,) = await b.serviced(copy())
    expect_ok(c)
    check_memory(mm, dst, data)
    assert _pri_responses(b) == {"success": pages}
    await b.unbind(bond)
    return {"page_requests": ep.stats.page_requests, "prg_responses": dict(ep.stats.prg_responses),
            "gerror_acknowledged": active}


def pcie_summary(b: SvaBench) -> dict[str, Any]:
    """The PCIe traffic of every endpoint of ``b`` (what `make sim` prints)."""
    eps = list(b.endpoints.values())
    codes: dict[str, int] = {}
    for ep in eps:
        for k, v in ep.stats.prg_responses.items():
            codes[k] = codes.get(k, 0) + v
    return {
        "ats_requests": sum(ep.stats.ats_requests for ep in eps),
        "translations": sum(ep.stats.translations for ep in eps),
        "atc_hits": sum(ep.stats.atc_hits for ep in eps),
        "page_requests": sum(ep.stats.page_requests for ep in eps),
        "prg_responses": codes,
        "atc_invalidations": sum(ep.stats.invalidations for ep in eps),
        "inv_completions": sum(ep.stats.inv_completions for ep in eps),
        "pri_resp_commands": _pri_responses(b),
    }


PCIE_SCENARIOS = {
    "ats_pri_demand_paged_dma": ats_pri_demand_paged_dma,
    "munmap_with_busy_atc": munmap_with_busy_atc,
    "invalid_page_requests": invalid_page_requests,
    "atc_invalidation_timeout": atc_invalidation_timeout,
    "pri_queue_overflow": pri_queue_overflow,
    "unbind_with_prgs_outstanding": unbind_with_prgs_outstanding,
    "stall_and_pri_for_one_process": stall_and_pri_for_one_process,
    "pri_abort_recovery": pri_abort_recovery,
}

__all__ = ["PCIE_PRIQ_SHIFT", "PCIE_SCENARIOS", "pcie_summary", *PCIE_SCENARIOS]
