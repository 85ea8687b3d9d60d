"""The PCIe endpoint (tb/devices/pcie_ep.py) against a fake SMMU written here: a table of
(PASID, page) -> (PA, R, W) answering Translation Requests as fault-paths.md §3.1 says (W only
without No-Write, R=W=0 for an unmapped page), recording Page Requests and answering them
with PRG Responses after a few steps. Expected values follow the endpoint's specification
(its module docstring), not its output."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from models.arch.geometry import PAGE
from models.arch.priq import PriEntry, PriRespCode
from models.memory import PhysicalMemory
from models.smmu.atc import ATC_INV_SIZE_ALL, AtcInvRequest
from models.smmu.ats import AtsCompletion, AtsReq, AtsStatus
from models.smmu.port import Result
from models.smmu.pri import PrgResponse
from tb.devices.dma import Access, Completion, Status
from tb.devices.dma import Descriptor as D
from tb.devices.pcie_ep import PcieEndpoint, PrgTimeout
from tb.sva.pci import (
    PasidCap,
    PciDev,
    PriCap,
    pci_disable_pri,
    pci_enable_ats,
    pci_enable_pasid,
    pci_enable_pri,
)

SID = 0x10
PASID = 3
VA = 0x40_0000  # page aligned
PA = 0x8000_0000

Key = tuple[int | None, int]
# decides the answer to a Page Request (None: never answer); may change the fake's table
Handler = Callable[[PriEntry], PriRespCode | None]


async def pause() -> None:
    await asyncio.sleep(0)


class FakeSmmu:
    """Just enough SMMU for one endpoint."""

    def __init__(self) -> None:
        self.table: dict[Key, tuple[int, bool, bool]] = {}
        self.status: dict[Key, AtsStatus] = {}  # a failing completion for that page
        self.ats_log: list[AtsReq] = []
        self.pprs: list[PriEntry] = []
        self.handler: Handler | None = None
        self.delay = 3  # steps between a Page Request and its response
        self.outstanding: set[int] = set()  # PRGIs of the requests not yet answered
        self.max_outstanding = 0
        self.inv_done: list[tuple[int, bool]] = []
        self.on_ats: Callable[[AtsReq], None] | None = None
        self.ep: PcieEndpoint | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def map(self, page: int, pa: int, *, pasid: int | None = PASID, r: bool = True,
            w: bool = True) -> None:
        self.table[(pasid, page)] = (pa, r, w)

    def requests_for(self, page: int) -> list[AtsReq]:
        return [q for q in self.ats_log if q.addr == page]

    async def ats(self, req: AtsReq) -> AtsCompletion:
        self.ats_log.append(req)
        assert req.sid == SID and req.addr % PAGE == 0 and req.priv == 0 and req.exe == 0
        comp = self._answer_ats(req)
        if self.on_ats is not None:
            self.on_ats(req)  # the host acts while the completion is on its way
        await pause()
        return comp

    def _answer_ats(self, req: AtsReq) -> AtsCompletion:
        key = (req.ssid if req.ssv else None, req.addr)
        if key in self.status:
            return AtsCompletion(self.status[key])
        if key not in self.table:
            return AtsCompletion(AtsStatus.SUCCESS, addr=0, r=0, w=0)
        pa, r, w = self.table[key]
        return AtsCompletion(AtsStatus.SUCCESS, addr=pa, r=int(r), w=int(w and not req.nw))

    async def page_request(self, ppr: PriEntry) -> None:
        # the PRGI of an outstanding group must not be reused before its response
        assert ppr.PRGIndex not in self.outstanding
        self.pprs.append(ppr)
        self.outstanding.add(ppr.PRGIndex)
        self.max_outstanding = max(self.max_outstanding, len(self.outstanding))
        if self.handler is not None:
            task = asyncio.get_running_loop().create_task(self._answer(ppr, self.handler))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(self, ppr: PriEntry, handler: Handler) -> None:
        for _ in range(self.delay):
            await pause()
        code = handler(ppr)
        if code is not None:
            self.respond(ppr, code)

    def respond(self, ppr: PriEntry, code: PriRespCode) -> None:
        assert self.ep is not None
        self.outstanding.discard(ppr.PRGIndex)
        self.ep.prg_response(PrgResponse(ppr.StreamID, ppr.PRGIndex, code,
                                         ppr.SubstreamID if ppr.SSV else None, auto=False))

    def complete_inv(self, itag: int, ur: bool) -> None:
        self.inv_done.append((itag, ur))


def make(*, ats: bool = True, pri: bool = True, pasid: bool = True, credits: int = 4,
         **kw: Any) -> tuple[PcieEndpoint, FakeSmmu, PhysicalMemory]:
    """An endpoint on a fake SMMU, enabled the way the OS does it (PASID before ATS)."""
    pdev = PciDev("ep0", SID, pri=PriCap(max_requests=16), pasid=PasidCap())
    if pasid:
        pci_enable_pasid(pdev)
    if ats:
        pci_enable_ats(pdev, 12)
    if pri:
        pci_enable_pri(pdev, credits)
    smmu = FakeSmmu()
    mem = PhysicalMemory()
    ep = PcieEndpoint("ep0", pdev, mem, smmu.ats, smmu.page_request, pause, **kw)
    smmu.ep = ep
    ep.inv_complete = smmu.complete_inv
    return ep, smmu, mem


def run(coro: Coroutine[Any, Any, Completion]) -> Completion:
    return asyncio.run(coro)


def fault_in(smmu: FakeSmmu, pa_of: Callable[[int], int],
             code: PriRespCode = PriRespCode.SUCCESS) -> Handler:
    """A host that maps the faulting page (read-write) and answers ``code``."""

    def handle(ppr: PriEntry) -> PriRespCode:
        pasid = ppr.SubstreamID if ppr.SSV else None
        smmu.map(ppr.PageAddr, pa_of(ppr.PageAddr), pasid=pasid)
        return code

    return handle


def inv(*, ssv: int = 1, ssid: int = PASID, addr: int = VA, size: int = 0, itag: int = 7,
        sid: int = SID) -> AtcInvRequest:
    return AtcInvRequest(itag, sid, ssv, ssid, 0, addr, size)


def assert_fault(c: Completion, va: int, write: bool, done: int) -> None:
    assert (c.status, c.va, c.write, c.done, c.fault, c.result) == (
        Status.FAULT, va, write, done, 0, Result.ABORT)


# ---- ATC ----------------------------------------------------------------------------------
def test_an_atc_hit_avoids_a_second_translation_request() -> None:
    ep, smmu, mem = make()
    smmu.map(VA, PA)
    seen: list[Access] = []
    ep.observers.append(seen.append)
    assert run(ep.run(D.fill(VA + 0x10, 8, PASID, b"ab"))).status is Status.OK
    assert run(ep.run(D.fill(VA + 0x20, 8, PASID, b"cd"))).status is Status.OK
    assert [(q.addr, q.ssv, q.ssid, q.nw) for q in smmu.ats_log] == [(VA, 1, PASID, 0)]
    assert (ep.stats.ats_requests, ep.stats.atc_hits, ep.stats.atc_misses) == (1, 1, 1)
    assert mem.read(PA + 0x10, 0x18) == b"abababab" + bytes(8) + b"cdcdcdcd"
    # the observer sees the access at its own VA and PA, not the page's
    assert seen[1] == Access("ep0", SID, PASID, VA + 0x20, PA + 0x20, 8, True)


def test_a_write_after_a_read_only_translation_asks_again() -> None:
    """The read asks with No-Write, so its entry lacks W although the page is writable."""
    ep, smmu, mem = make()
    smmu.map(VA, PA)
    mem.write(PA, b"source!!")
    c = run(ep.run(D.copy(VA, VA + 0x100, 8, PASID)))
    assert c.status is Status.OK and c.done == 8
    assert [q.nw for q in smmu.ats_log] == [1, 0]
    assert mem.read(PA + 0x100, 8) == b"source!!"
    assert run(ep.run(D.copy(VA, VA + 0x200, 8, PASID))).status is Status.OK
    assert len(smmu.ats_log) == 2  # both directions now hit


def test_a_full_atc_replaces_the_entry_filled_first() -> None:
    """FIFO on fill: A, B, hit A, C evicts A (LRU would evict B)."""
    ep, smmu, _ = make(atc_entries=2)
    a, b, c = VA, VA + PAGE, VA + 2 * PAGE
    for i, page in enumerate((a, b, c)):
        smmu.map(page, PA + i * PAGE)
    for page in (a, b, a, c, b, a):
        assert run(ep.run(D.fill(page, 4, PASID, b"x"))).status is Status.OK
    # A: fill, hit, evicted by C, refilled; B: fill, hit; C: fill
    assert [len(smmu.requests_for(p)) for p in (a, b, c)] == [2, 1, 1]
    assert ep.stats.atc_evictions == 2  # C evicts A, then A's refill evicts B
    assert list(ep.atc) == [(PASID, c), (PASID, a)]


# ---- translation failures -----------------------------------------------------------------
def test_ats_disabled_faults_without_a_request_and_ignores_cached_entries() -> None:
    ep, smmu, _ = make(ats=False)
    assert_fault(run(ep.run(D.fill(VA, 4, None, b"x"))), VA, True, 0)
    assert smmu.ats_log == []
    ep2, smmu2, mem2 = make()
    smmu2.map(VA, PA)
    assert run(ep2.run(D.fill(VA, 4, PASID, b"x"))).status is Status.OK
    ep2.pdev.ats_enabled = False  # as pci_disable_ats leaves it
    assert_fault(run(ep2.run(D.fill(VA, 4, PASID, b"y"))), VA, True, 0)
    assert mem2.read(PA, 4) == b"xxxx" and len(smmu2.ats_log) == 1
    assert ep2.stats.faults_by_type == {"ATS_DISABLED": 1}


@pytest.mark.parametrize("status", [AtsStatus.UR, AtsStatus.CA])
def test_ur_or_ca_ends_the_descriptor_at_the_failing_page(status: AtsStatus) -> None:
    ep, smmu, mem = make()
    smmu.map(VA, PA)
    smmu.map(VA + PAGE, PA + PAGE)
    smmu.status[(PASID, VA + PAGE)] = status
    c = run(ep.run(D.fill(VA + PAGE - 0x30, 0x60, PASID, b"z")))
    assert_fault(c, VA + PAGE, True, 0x30)
    assert mem.read(PA + PAGE - 0x30, 0x60) == b"z" * 0x30 + bytes(0x30)
    assert smmu.pprs == []  # not a page fault: no Page Request
    assert ep.stats.faults_by_type == {f"ATS_{status.name}": 1}
    assert ep.completions == [c]


def test_a_read_fault_names_the_source() -> None:
    ep, smmu, _ = make(pri=False)
    smmu.map(VA + PAGE, PA)
    assert_fault(run(ep.run(D.copy(VA, VA + PAGE, 8, PASID))), VA, False, 0)


def test_pasid_traffic_needs_pasid_enabled() -> None:
    ep, smmu, _ = make(pasid=False)
    smmu.map(VA, PA)
    assert_fault(run(ep.run(D.fill(VA, 4, PASID, b"x"))), VA, True, 0)
    assert smmu.ats_log == []
    smmu.map(VA, PA, pasid=None)
    assert run(ep.run(D.fill(VA, 4, None, b"x"))).status is Status.OK
    assert [(q.ssv, q.ssid) for q in smmu.ats_log] == [(0, 0)]


def test_bad_descriptors_raise() -> None:
    ep, _, _ = make()
    with pytest.raises(ValueError, match="PASID"):
        run(ep.run(D.fill(VA, 4, 1 << 20, b"x")))
    with pytest.raises(ValueError, match="empty pattern"):
        run(ep.run(D.fill(VA, 4, PASID, b"")))
    with pytest.raises(ValueError, match="negative"):
        run(ep.run(D.fill(VA, -1, PASID, b"x")))
    assert ep.stats.descriptors == 0


# ---- page requests ------------------------------------------------------------------------
@pytest.mark.parametrize("pasid", [PASID, None])
def test_a_page_fault_is_resolved_by_a_page_request_and_retried(pasid: int | None) -> None:
    ep, smmu, mem = make()
    smmu.handler = fault_in(smmu, lambda page: PA + page - VA)
    smmu.map(VA + PAGE, PA + 0x10_0000, pasid=pasid)
    mem.write(PA + 0x10_0000, b"payload")
    c = run(ep.run(D.copy(VA + PAGE, VA + 0x40, 7, pasid)))
    assert c.status is Status.OK and c.done == 7
    assert mem.read(PA + 0x40, 7) == b"payload"
    [ppr] = smmu.pprs
    assert (ppr.StreamID, ppr.SSV, ppr.SubstreamID, ppr.R, ppr.W, ppr.Last, ppr.PageAddr) == (
        SID, int(pasid is not None), pasid or 0, 0, 1, 1, VA)
    assert (ppr.Priv, ppr.X) == (0, 0)
    # source read, destination fault, destination retry
    assert [(q.addr, q.nw) for q in smmu.ats_log] == [(VA + PAGE, 1), (VA, 0), (VA, 0)]
    assert ep.stats.page_requests == 1 and ep.stats.prg_responses == {"SUCCESS": 1}
    assert ep.outstanding_page_requests == 0


def test_a_read_fault_asks_for_read_access() -> None:
    ep, smmu, mem = make()
    smmu.handler = fault_in(smmu, lambda page: PA)
    smmu.map(VA + PAGE, PA + PAGE)
    mem.write(PA, b"hi")
    assert run(ep.run(D.copy(VA, VA + PAGE, 2, PASID))).status is Status.OK
    [ppr] = smmu.pprs
    assert (ppr.R, ppr.W, ppr.PageAddr) == (1, 0, VA)
    assert mem.read(PA + PAGE, 2) == b"hi"


def test_invalid_request_faults_and_writes_nothing() -> None:
    """The host maps the page anyway, so a retry after Invalid Request would succeed."""
    ep, smmu, mem = make()
    smmu.handler = fault_in(smmu, lambda page: PA, PriRespCode.INVALID_REQUEST)
    c = run(ep.run(D.fill(VA + 8, 4, PASID, b"w")))
    assert_fault(c, VA + 8, True, 0)
    assert mem.read(PA, PAGE) == bytes(PAGE)
    assert len(smmu.ats_log) == 1 and len(smmu.pprs) == 1
    assert ep.stats.faults_by_type == {"PRG_INVALID_REQUEST": 1}
    assert not ep.pri_failed


def test_response_failure_stops_page_requests() -> None:
    ep, smmu, mem = make()
    smmu.handler = fault_in(smmu, lambda page: PA, PriRespCode.RESPONSE_FAILURE)
    assert_fault(run(ep.run(D.fill(VA, 4, PASID, b"w"))), VA, True, 0)
    assert ep.pri_failed
    assert_fault(run(ep.run(D.fill(VA + PAGE, 4, PASID, b"w"))), VA + PAGE, True, 0)
    assert len(smmu.pprs) == 1  # the second fault went straight to FAULT
    assert ep.stats.faults_by_type == {"PRG_RESPONSE_FAILURE": 1, "PRI_FAILED": 1}
    assert mem.read(PA, 4) == bytes(4)


@pytest.mark.parametrize("disabled_later", [False, True])
def test_without_pri_a_page_fault_faults(disabled_later: bool) -> None:
    """Never enabled, or disabled later (pci_disable_pri leaves the credits allocated)."""
    ep, smmu, _ = make(pri=disabled_later)
    smmu.handler = fault_in(smmu, lambda page: PA)
    if disabled_later:
        pci_disable_pri(ep.pdev)
    assert_fault(run(ep.run(D.fill(VA, 4, PASID, b"w"))), VA, True, 0)
    assert smmu.pprs == [] and ep.stats.faults_by_type == {"NO_PRI": 1}


def test_a_read_only_page_written_faults_after_the_retries() -> None:
    """Success never grants W here: max_prg_retries Page Requests, one more Translation
    Request each, then FAULT."""
    ep, smmu, _ = make(max_prg_retries=2)
    smmu.map(VA, PA, w=False)
    smmu.handler = lambda ppr: PriRespCode.SUCCESS
    assert_fault(run(ep.run(D.fill(VA, 4, PASID, b"w"))), VA, True, 0)
    assert (len(smmu.pprs), len(smmu.ats_log)) == (2, 3)
    assert ep.stats.faults_by_type == {"PRG_RETRIES": 1}


@pytest.mark.parametrize("credits,jobs", [(1, 4), (3, 6)])
def test_page_request_credits_are_never_exceeded(credits: int, jobs: int) -> None:
    ep, smmu, mem = make(credits=credits)
    smmu.handler = fault_in(smmu, lambda page: PA + page - VA)
    smmu.delay = 5

    async def all_jobs() -> list[Completion]:
        return await asyncio.gather(*(ep.run(D.fill(VA + i * PAGE, 4, PASID, bytes([i + 1])))
                                      for i in range(jobs)))

    cs = asyncio.run(all_jobs())
    assert [c.status for c in cs] == [Status.OK] * jobs
    for i in range(jobs):
        assert mem.read(PA + i * PAGE, 4) == bytes([i + 1]) * 4
    assert len(smmu.pprs) == jobs
    # the limit is reached (the jobs did overlap) and never passed
    assert smmu.max_outstanding == credits == ep.stats.max_outstanding_prs


def test_a_response_nobody_waits_for_is_counted_and_ignored() -> None:
    ep, _, _ = make()
    ep.prg_response(PrgResponse(SID, 0x1ff, PriRespCode.SUCCESS, PASID, auto=False))
    assert ep.stats.prg_unexpected == 1 and ep.stats.prg_responses == {"SUCCESS": 1}
    with pytest.raises(ValueError, match="StreamID"):
        ep.prg_response(PrgResponse(SID + 1, 0, PriRespCode.SUCCESS, None, auto=False))


def test_a_second_response_to_a_group_is_unexpected() -> None:
    ep, smmu, mem = make()

    def twice(ppr: PriEntry) -> None:
        smmu.map(VA, PA)
        smmu.respond(ppr, PriRespCode.SUCCESS)
        smmu.respond(ppr, PriRespCode.INVALID_REQUEST)

    smmu.handler = twice
    assert run(ep.run(D.fill(VA, 4, PASID, b"d"))).status is Status.OK
    assert mem.read(PA, 4) == b"dddd"
    assert ep.stats.prg_unexpected == 1
    assert ep.stats.prg_responses == {"SUCCESS": 1, "INVALID_REQUEST": 1}


def test_a_response_with_another_pasid_does_not_answer_the_group() -> None:
    ep, smmu, mem = make()

    def wrong_then_right(ppr: PriEntry) -> None:
        assert smmu.ep is not None
        smmu.ep.prg_response(PrgResponse(SID, ppr.PRGIndex, PriRespCode.INVALID_REQUEST,
                                         PASID + 1, auto=False))
        smmu.map(VA, PA)
        smmu.respond(ppr, PriRespCode.SUCCESS)

    smmu.handler = wrong_then_right
    assert run(ep.run(D.fill(VA, 4, PASID, b"k"))).status is Status.OK
    assert mem.read(PA, 4) == b"kkkk" and ep.stats.prg_unexpected == 1


def test_an_automatic_failure_without_pasid_answers_a_pasid_group() -> None:
    """The SMMU's Failure when its PRI queue is unusable carries no PASID (§1.4)."""
    ep, smmu, _ = make()

    def queue_off(ppr: PriEntry) -> None:
        assert smmu.ep is not None
        smmu.ep.prg_response(PrgResponse(SID, ppr.PRGIndex, PriRespCode.RESPONSE_FAILURE,
                                         None, auto=True))

    smmu.handler = queue_off
    assert_fault(run(ep.run(D.fill(VA, 4, PASID, b"k"))), VA, True, 0)
    assert ep.pri_failed and ep.stats.prg_unexpected == 0


def test_no_response_raises_naming_the_prgi_and_frees_the_credit() -> None:
    ep, smmu, _ = make(prg_wait_limit=20, credits=1)
    with pytest.raises(PrgTimeout, match=r"PRGI 0x0 PASID 0x3"):
        run(ep.run(D.fill(VA, 4, PASID, b"x")))
    assert ep.outstanding_page_requests == 0
    # with its one credit back, the next fault can send; the PRGI goes round robin
    with pytest.raises(PrgTimeout, match=r"PRGI 0x1 "):
        run(ep.run(D.fill(VA, 4, PASID, b"x")))
    assert [p.PRGIndex for p in smmu.pprs] == [0, 1]


# ---- invalidation -------------------------------------------------------------------------
def cached(*keys: Key) -> tuple[PcieEndpoint, FakeSmmu]:
    ep, smmu, _ = make()
    for i, (pasid, page) in enumerate(keys):
        smmu.map(page, PA + i * PAGE, pasid=pasid)
        assert run(ep.run(D.fill(page, 4, pasid, b"x"))).status is Status.OK
    assert set(ep.atc) == set(keys)
    return ep, smmu


A, B = VA, VA + PAGE
ALL_KEYS: tuple[Key, ...] = ((PASID, A), (PASID, B), (PASID + 1, A), (None, A))


@pytest.mark.parametrize("req,left", [
    # one page of one PASID
    (inv(), {(PASID, B), (PASID + 1, A), (None, A)}),
    # SSV=0: every entry of the stream on the page, tagged or not
    (inv(ssv=0, ssid=0), {(PASID, B)}),
    # two pages of one PASID
    (inv(size=1), {(PASID + 1, A), (None, A)}),
    # everything of PASID+1
    (inv(ssid=PASID + 1, addr=0, size=ATC_INV_SIZE_ALL), {(PASID, A), (PASID, B), (None, A)}),
    # a page nobody cached
    (inv(addr=VA + 2 * PAGE), set(ALL_KEYS)),
])
def test_invalidation_removes_only_the_entries_it_reaches(req: AtcInvRequest,
                                                          left: set[Key]) -> None:
    ep, smmu = cached(*ALL_KEYS)
    ep.invalidate(req)
    assert set(ep.atc) == left
    assert ep.stats.entries_invalidated == len(ALL_KEYS) - len(left)
    assert smmu.inv_done == [(7, False)]
    # a removed entry is asked for again, a kept one is not
    before = len(smmu.ats_log)
    for pasid, page in ALL_KEYS:
        run(ep.run(D.fill(page, 4, pasid, b"y")))
    assert len(smmu.ats_log) - before == len(ALL_KEYS) - len(left)


@pytest.mark.parametrize("policy,at_once,after_release", [
    ("now", [(7, False)], [(7, False)]),
    ("ur", [(7, True)], [(7, True)]),
    ("hold", [], [(7, False)]),
    ("drop", [], []),
])
def test_invalidation_completes_per_policy(policy: str, at_once: list[tuple[int, bool]],
                                           after_release: list[tuple[int, bool]]) -> None:
    ep, smmu = cached((PASID, A))
    ep.inv_policy = policy
    ep.invalidate(inv())
    assert ep.atc == {}  # whatever the answer, the entry is gone
    assert smmu.inv_done == at_once
    ep.release_invalidations()
    assert smmu.inv_done == after_release


def test_invalidation_needs_its_completion_wired() -> None:
    ep, _ = cached((PASID, A))
    ep.inv_complete = None
    with pytest.raises(RuntimeError, match="ITAG 7"):
        ep.invalidate(inv())
    ep.inv_policy = "hold"
    ep.invalidate(inv(itag=8))
    with pytest.raises(RuntimeError, match="ITAG 8"):
        ep.release_invalidations()
    with pytest.raises(ValueError, match="inv_policy"):
        ep.inv_policy = "later"
    with pytest.raises(ValueError, match="StreamID"):
        ep.invalidate(inv(sid=SID + 1))


def test_an_invalidation_overtaking_a_translation_makes_it_stale() -> None:
    """The page moves while its Translation Request is outstanding: the old answer must be
    neither used nor cached."""
    ep, smmu, mem = make()
    smmu.map(VA, PA)
    new_pa = PA + 0x10_0000

    def move(req: AtsReq) -> None:
        if len(smmu.ats_log) == 1:
            smmu.map(VA, new_pa)
            ep.invalidate(inv())

    smmu.on_ats = move
    assert run(ep.run(D.fill(VA, 4, PASID, b"n"))).status is Status.OK
    assert mem.read(new_pa, 4) == b"nnnn" and mem.read(PA, 4) == bytes(4)
    assert ep.atc[(PASID, VA)].pa == new_pa and ep.stats.ats_discarded == 1
    assert len(smmu.ats_log) == 2 and smmu.inv_done == [(7, False)]


# ---- translated traffic through the SMMU (the endpoint docstring: ``translated``) ----------
def test_translated_accesses_go_through_the_smmu_at_their_pa() -> None:
    """Every access is first an ATS-Translated transaction at its PA, without a PASID; the
    data moves only once the SMMU passed it; an abort ends the descriptor with
    TRANSLATED_ABORT and moves nothing."""
    log: list[tuple[int, int, int]] = []
    verdict = {"result": Result.OK_BYPASS}

    async def translated(sid: int, addr: int, rnw: int) -> dict[str, int]:
        log.append((sid, addr, rnw))
        await pause()
        return {"result": verdict["result"], "pa": addr if verdict["result"] else 0}

    ep, smmu, mem = make(translated=translated)
    smmu.map(VA, PA)
    assert run(ep.run(D.fill(VA + 0x10, 8, PASID, b"ab"))).status is Status.OK
    assert log == [(SID, PA + 0x10, 0)] and mem.read(PA + 0x10, 2) == b"ab"
    assert ep.stats.translated_checked == 1
    verdict["result"] = Result.ABORT
    c = run(ep.run(D.fill(VA + 0x20, 8, PASID, b"cd")))
    assert_fault(c, VA + 0x20, True, 0)
    assert ep.stats.faults_by_type == {"TRANSLATED_ABORT": 1}
    assert mem.read(PA + 0x20, 2) == b"\0\0"


def test_an_invalidation_while_the_translated_access_is_on_its_way_retranslates() -> None:
    """An invalidation that reaches the entry while the translated transaction is on its way:
    the entry is dropped, the page translated again (a new Translation Request), and the
    data goes to the new PA, never to the invalidated one."""
    calls = 0

    async def translated(sid: int, addr: int, rnw: int) -> dict[str, int]:
        nonlocal calls
        calls += 1
        if calls == 1:  # the host remaps the page and invalidates meanwhile
            smmu.map(VA, PA + 2 * PAGE)
            ep.invalidate(inv())
        await pause()
        return {"result": Result.OK_BYPASS, "pa": addr}

    ep, smmu, mem = make(translated=translated)
    smmu.map(VA, PA)
    assert run(ep.run(D.fill(VA, 4, PASID, b"zz"))).status is Status.OK
    assert mem.read(PA + 2 * PAGE, 4) == b"zzzz" and mem.read(PA, 4) == b"\0" * 4
    assert len(smmu.requests_for(VA)) == 2 and ep.stats.translated_retried == 1
    assert smmu.inv_done == [(7, False)]
