"""A PCIe endpoint with ATS, an ATC and PRI: the DMA engine of tb/devices/dma.py on the
Untranslated-address side of PCIe (reference fault-paths.md §3 and §1.4).

Transaction level and backend-agnostic like :class:`~tb.devices.dma.DmaEngine`: it only
awaits the coroutines it is given (``ats`` for Translation Requests, ``page_request`` for
Page Requests, ``pause`` to let simulated time pass one step) and is called synchronously for
what the SMMU sends it (:meth:`PcieEndpoint.prg_response`, :meth:`PcieEndpoint.invalidate`).
It obeys the control state the OS programmed in its :class:`~tb.sva.pci.PciDev`: no
Translation Request while ATS is disabled, no PASID prefix while PASID is disabled, no Page
Request while PRI is disabled, never more than ``pri_reqs_alloc`` Page Requests outstanding.

Each access (page by page, like the DMA engine: COPY reads the source chunk then writes the
destination chunk; FILL writes) takes its translation from the ATC, or on a miss asks the
SMMU with a Translation Request and caches the answer. Success with R=W=0 (or W=0 for a
write) is the SMMU's way of saying "page fault": with PRI the endpoint sends a Page Request
Group of one request, waits for the PRG Response, and on Success asks again. The
translation is used with no await before the memory access, so an ATC invalidation can
never overtake a translation in use; one that arrives while a Translation Request is
outstanding makes its result stale, which is then neither used nor cached (PCIe requires
the function to discard it) and the request is sent again.

Faults end the descriptor like the DMA engine's: a FAULT :class:`~tb.devices.dma.Completion`
naming the failing VA and direction, with ``fault=0`` (an ATS completion carries no event
for the endpoint) and ``result=Result.ABORT``; the pages before it were moved. Why it
faulted is counted in ``stats.faults_by_type`` under an :class:`EpFault` name.

Bad input: a descriptor the endpoint could not even encode (negative length or address,
an empty FILL pattern, a PASID outside 0..2^20-1 or beyond the PASID capability's width)
raises ValueError before anything moves. A PASID the function may not *send* right now
(PASID not enabled) is control state, not bad input: the access ends with a FAULT
completion (``EpFault.PASID_DISABLED``), as a device would refuse the job.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from models.arch.geometry import PAGE
from models.arch.priq import PriEntry, PriRespCode
from models.memory import PhysicalMemory
from models.smmu.atc import AtcInvRequest
from models.smmu.ats import AtsCompletion, AtsReq, AtsStatus
from models.smmu.port import Result
from models.smmu.pri import PrgResponse
from tb.devices.dma import (
    Access,
    Completion,
    Descriptor,
    DescriptorRunner,
    DmaStats,
    Op,
    Status,
)
from tb.sva.pci import PciDev, pci_max_pasids, pci_prg_resp_pasid_required

__all__ = ["AtcEntry", "AtsTranslate", "EpFault", "EpStats", "INV_POLICIES", "InvComplete",
           "Pause", "PcieEndpoint", "PcieRouter", "PrgTimeout", "SendPageRequest"]

AtsTranslate = Callable[[AtsReq], Awaitable[AtsCompletion]]
# An ATS-Translated transaction through the SMMU: (StreamID, PA, RnW) -> t_rsp_* fields
SendTranslated = Callable[[int, int, int], Awaitable[dict[str, int]]]
SendPageRequest = Callable[[PriEntry], Awaitable[None]]
Pause = Callable[[], Awaitable[None]]  # lets simulated time pass one step
InvComplete = Callable[[int, bool], None]  # (itag, ur) back to the SMMU

INV_POLICIES = ("now", "hold", "drop", "ur")
PRGI_COUNT = 1 << 9  # PRGIndex is a 9-bit field
PASID_LIMIT = 1 << 20  # the PASID TLP prefix carries 20 bits


class EpFault(enum.Enum):
    """Why an access ended its descriptor (the key of ``stats.faults_by_type``)."""

    ATS_DISABLED = "a translation was needed while ATS is disabled"
    PASID_DISABLED = "a PASID-tagged request while PASID is disabled"
    ATS_UR = "the Translation Completion was Unsupported Request"
    ATS_CA = "the Translation Completion was Completer Abort"
    NO_PRI = "no access granted and PRI is disabled"
    PRI_FAILED = "no access granted and PRI stopped after a Response Failure"
    PRG_INVALID_REQUEST = "the PRG Response was Invalid Request"
    PRG_RESPONSE_FAILURE = "the PRG Response was Response Failure"
    PRG_RETRIES = "still no access after max_prg_retries successful page requests"
    TRANSLATED_ABORT = "the SMMU aborted the translated access (ATSCHK: ATS not allowed)"


class PrgTimeout(RuntimeError):
    """A Page Request Group got no usable response (or no credit) within prg_wait_limit."""


@dataclass(frozen=True)
class AtcEntry:
    """One cached translation: the page's translated address and what it allows."""

    pa: int
    r: bool
    w: bool

    def allows(self, write: bool) -> bool:
        return self.w if write else self.r


@dataclass
class EpStats(DmaStats):
    """DmaStats (``translations`` counts the translations the accesses needed, hit or miss)
    plus the ATS, ATC and PRI traffic."""

    ats_requests: int = 0
    ats_discarded: int = 0  # completions made stale by an invalidation while in flight
    atc_hits: int = 0
    atc_misses: int = 0  # no entry, or an entry without the needed permission
    atc_evictions: int = 0
    page_requests: int = 0
    prg_responses: dict[str, int] = field(default_factory=dict)  # every one received, by code
    prg_unexpected: int = 0  # received, but no group waited for it: ignored
    max_outstanding_prs: int = 0
    invalidations: int = 0
    entries_invalidated: int = 0
    inv_completions: int = 0
    inv_ur: int = 0
    translated_checked: int = 0  # translated accesses the SMMU let through
    translated_retried: int = 0  # invalidated while on their way: translated again


@dataclass(eq=False)
class _Group:
    """One outstanding Page Request Group (of one request)."""

    prgi: int
    pasid: int | None
    response: PrgResponse | None = None


@dataclass(eq=False)
class _InFlight:
    """An outstanding Translation Request; an invalidation that reaches it sets ``stale``."""

    pasid: int | None
    page: int
    stale: bool = False


class PcieEndpoint(DescriptorRunner):
    """One PCIe function (StreamID = Requester ID) with a DMA engine, an ATC of
    ``atc_entries`` translations and a Page Request Interface.

    ATC replacement is FIFO on fill: when full, the entry filled longest ago goes, whether or
    not it was hit since (hits do not refresh it; a new translation of a page already cached
    replaces that entry and counts as the newest). FIFO keeps which entry goes a function of
    the Translation Requests alone, which a test can see from the SMMU side.

    Page faults are resolved per access: at most ``max_prg_retries`` Page Requests (each
    answered Success, then a new Translation Request); if the last retry still grants no
    access the access faults without another Page Request. ``prg_wait_limit`` bounds, in
    ``pause()`` steps, both the wait for a credit and the wait for a response; running out
    raises :class:`PrgTimeout` (a hung testbench, not a device outcome).

    With ``translated``, every access goes through the SMMU as an ATS-Translated transaction
    first (checked against STE.EATS where CR0.ATSCHK=1; an abort ends the descriptor with
    ``EpFault.TRANSLATED_ABORT``); without it the access goes straight to memory. An
    invalidation that reaches the entry while that transaction is on its way makes the
    endpoint translate again before any data moves, so its completion never overtakes an
    access that used the entry.

    ``observers`` get every :class:`~tb.devices.dma.Access` just before the data moves.
    ``inv_complete`` must be set (by the platform wiring) before an invalidation has to be
    completed. ``pri_failed`` is the PRI Status Response Failure bit: set by a Response
    Failure, after which no Page Request is sent; software may clear it.
    """

    SOURCE = "ep"

    def __init__(self, name: str, pdev: PciDev, mem: PhysicalMemory, ats: AtsTranslate,
                 page_request: SendPageRequest, pause: Pause, *, atc_entries: int = 16,
                 prg_wait_limit: int = 100_000, max_prg_retries: int = 2,
                 translated: SendTranslated | None = None) -> None:
        if atc_entries < 1:
            raise ValueError(f"{name}: atc_entries must be at least 1, got {atc_entries}")
        if prg_wait_limit < 1:
            raise ValueError(f"{name}: prg_wait_limit must be at least 1, got {prg_wait_limit}")
        if max_prg_retries < 0:
            raise ValueError(f"{name}: max_prg_retries must be >= 0, got {max_prg_retries}")
        self.name = name
        self.pdev = pdev
        self.mem = mem
        self._ats = ats
        self._page_request = page_request
        self._pause = pause
        self._translated = translated
        self.atc_entries = atc_entries
        self.prg_wait_limit = prg_wait_limit
        self.max_prg_retries = max_prg_retries
        self.observers: list[Callable[[Access], None]] = []
        self.stats = EpStats()
        self.completions: list[Completion] = []
        self.inv_complete: InvComplete | None = None
        self._inv_policy = "now"
        self.held: list[AtcInvRequest] = []  # "hold": waiting for release_invalidations()
        self.dropped: list[AtcInvRequest] = []  # "drop": never completed
        self.pri_failed = False
        self.atc: OrderedDict[tuple[int | None, int], AtcEntry] = OrderedDict()
        self._groups: dict[int, _Group] = {}  # outstanding, by PRGI
        self._next_prgi = 0
        self._inflight: list[_InFlight] = []

    @property
    def sid(self) -> int:
        return self.pdev.rid

    @property
    def inv_policy(self) -> str:
        """How invalidations are completed: "now" inside :meth:`invalidate`, "hold" until
        :meth:`release_invalidations`, "drop" never, "ur" at once with Unsupported Request."""
        return self._inv_policy

    @inv_policy.setter
    def inv_policy(self, policy: str) -> None:
        if policy not in INV_POLICIES:
            raise ValueError(f"{self.name}: inv_policy {policy!r} is not one of {INV_POLICIES}")
        self._inv_policy = policy

    @property
    def outstanding_page_requests(self) -> int:
        return len(self._groups)

    # ---- DMA (the loop: tb/devices/dma.py DescriptorRunner) ---------------------------
    async def run(self, d: Descriptor) -> Completion:
        """Execute one descriptor to completion (or to its first fault)."""
        self._check(d)
        return await super().run(d)

    async def _pa(self, pasid: int | None, va: int, write: bool, done: int) -> int | Completion:
        while True:
            pa = await self._translate(pasid, va, write)
            if isinstance(pa, EpFault):
                return self._fault(done, va, write, pa)
            if self._translated is None:
                return pa
            # No PASID on translated traffic (no IDR3.PASIDTT): the SMMU checks the stream.
            mark = _InFlight(pasid, va - va % PAGE)
            self._inflight.append(mark)
            try:
                rsp = await self._translated(self.sid, pa, int(not write))
            finally:
                self._inflight.remove(mark)
            if mark.stale:
                self.stats.translated_retried += 1
                continue
            if rsp["result"] != Result.OK_BYPASS or rsp["pa"] != pa:
                return self._fault(done, va, write, EpFault.TRANSLATED_ABORT)
            self.stats.translated_checked += 1
            return pa

    def _check(self, d: Descriptor) -> None:
        if d.length < 0 or d.dst < 0 or d.src < 0:
            raise ValueError(f"{self.name}: negative length or address in {d}")
        if d.op is Op.FILL and not d.pattern:
            raise ValueError(f"{self.name}: FILL with an empty pattern")
        if d.pasid is not None:
            limit = min(PASID_LIMIT, pci_max_pasids(self.pdev) or PASID_LIMIT)
            if not 0 <= d.pasid < limit:
                raise ValueError(f"{self.name}: PASID {d.pasid:#x} outside 0..{limit - 1:#x}")

    def _fault(self, done: int, va: int, write: bool, why: EpFault) -> Completion:
        self.stats.faults += 1
        self.stats.faults_by_type[why.name] = self.stats.faults_by_type.get(why.name, 0) + 1
        return Completion(Status.FAULT, done, va=va, write=write, fault=0, result=Result.ABORT)

    # ---- translation: ATC, ATS, PRI ------------------------------------------------------
    async def _translate(self, pasid: int | None, va: int, write: bool) -> int | EpFault:
        """The PA for ``va``, or why there is none. The caller must use it before awaiting."""
        self.stats.translations += 1
        page = va - va % PAGE
        key = (pasid, page)
        rounds = 0  # successful PRG responses for this access
        while True:
            if not self.pdev.ats_enabled:
                # entries survive a disable but are not used: only an invalidation removes
                # them, so a driver that re-enables without one sees its stale entries
                return EpFault.ATS_DISABLED
            if pasid is not None and not self.pdev.pasid_enabled:
                return EpFault.PASID_DISABLED
            entry = self.atc.get(key)
            if entry is not None and entry.allows(write):
                self.stats.atc_hits += 1
                return entry.pa + va % PAGE
            self.stats.atc_misses += 1
            comp = await self._request(pasid, page, write)
            if comp is None:
                continue  # invalidated while in flight: ask again
            if comp.status == AtsStatus.UR:
                return EpFault.ATS_UR
            if comp.status != AtsStatus.SUCCESS:
                return EpFault.ATS_CA
            granted = AtcEntry(self._page_pa(comp, page), bool(comp.r), bool(comp.w))
            if granted.allows(write):
                self._fill(key, granted)
                return granted.pa + va % PAGE
            # Success without the access: a page fault the host may resolve
            if not self.pdev.pri_enabled:
                return EpFault.NO_PRI
            if self.pri_failed:
                return EpFault.PRI_FAILED
            if rounds == self.max_prg_retries:
                return EpFault.PRG_RETRIES
            code = await self._page_fault(pasid, page, write)
            if code is None:
                return EpFault.NO_PRI  # PRI was disabled while waiting for a credit
            if code == PriRespCode.INVALID_REQUEST:
                return EpFault.PRG_INVALID_REQUEST
            if code == PriRespCode.RESPONSE_FAILURE:
                self.pri_failed = True
                return EpFault.PRG_RESPONSE_FAILURE
            rounds += 1
            # Let time pass before asking again, as the response's own latency would: an
            # automatic Success during a PRI queue overflow would otherwise be retried in a
            # loop that never lets the host drain the queue.
            await self._pause()

    async def _request(self, pasid: int | None, page: int, write: bool) -> AtsCompletion | None:
        """One Translation Request; None if an invalidation reached it while in flight."""
        req = AtsReq(self.sid, addr=page, ssv=int(pasid is not None), ssid=pasid or 0,
                     priv=0, exe=0, nw=int(not write))
        mark = _InFlight(pasid, page)
        self._inflight.append(mark)
        self.stats.ats_requests += 1
        try:
            comp = await self._ats(req)
        finally:
            self._inflight.remove(mark)
        if mark.stale:
            self.stats.ats_discarded += 1
            return None
        return comp

    def _page_pa(self, comp: AtsCompletion, page: int) -> int:
        """The translated address of ``page`` in a completion that covers ``comp.size`` bytes
        (a power of two, at least a page) around it."""
        size = comp.size
        if size < PAGE or size & (size - 1):
            raise ValueError(f"{self.name}: Translation Completion size {size:#x} is not a "
                             f"power of two of at least {PAGE:#x}")
        return (comp.addr & ~(size - 1)) + page % size

    def _fill(self, key: tuple[int | None, int], entry: AtcEntry) -> None:
        if key in self.atc:
            del self.atc[key]  # a refill counts as the newest entry
        elif len(self.atc) >= self.atc_entries:
            self.atc.popitem(last=False)
            self.stats.atc_evictions += 1
        self.atc[key] = entry

    async def _page_fault(self, pasid: int | None, page: int, write: bool) -> PriRespCode | None:
        """Send a one-request Page Request Group and wait for its response; its code, or None
        if PRI was disabled before a credit came free."""
        steps = 0
        while (len(self._groups) >= self.pdev.pri_reqs_alloc
               or len(self._groups) >= PRGI_COUNT):
            if steps >= self.prg_wait_limit:
                raise PrgTimeout(f"{self.name}: no Page Request credit after {steps} steps "
                                 f"({len(self._groups)} outstanding, pri_reqs_alloc="
                                 f"{self.pdev.pri_reqs_alloc})")
            await self._pause()
            steps += 1
            if not self.pdev.pri_enabled:
                return None
        group = _Group(self._alloc_prgi(), pasid)
        self._groups[group.prgi] = group
        self.stats.max_outstanding_prs = max(self.stats.max_outstanding_prs, len(self._groups))
        ppr = PriEntry(StreamID=self.sid, SubstreamID=pasid or 0, SSV=int(pasid is not None),
                       Priv=0, X=0, R=int(not write), W=int(write), Last=1,
                       PRGIndex=group.prgi, PageAddr=page)
        try:
            await self._page_request(ppr)
            self.stats.page_requests += 1  # sent: the SMMU took it
            steps = 0
            while group.response is None:
                if steps >= self.prg_wait_limit:
                    where = "" if pasid is None else f" PASID {pasid:#x}"
                    raise PrgTimeout(f"{self.name}: no PRG Response for PRGI {group.prgi:#x}"
                                     f"{where} (page {page:#x}) after {steps} steps")
                await self._pause()
                steps += 1
        finally:
            # a response has already removed it and returned its credit
            if self._groups.get(group.prgi) is group:
                del self._groups[group.prgi]
        resp = group.response
        assert resp is not None
        return resp.code

    def _alloc_prgi(self) -> int:
        # round robin over the free indices, so a late response to a finished group is less
        # likely to land on a new group with the same PRGI
        for i in range(PRGI_COUNT):
            prgi = (self._next_prgi + i) % PRGI_COUNT
            if prgi not in self._groups:
                self._next_prgi = (prgi + 1) % PRGI_COUNT
                return prgi
        raise AssertionError("no free PRGI although fewer than 512 groups are outstanding")

    # ---- SMMU -> endpoint ---------------------------------------------------------------
    def clear_response_failure(self) -> None:
        """Software writes 1 to the PRI Status register's Response Failure bit (RW1C), as a
        driver recovering the function does: the endpoint sends Page Requests again."""
        self.pri_failed = False

    def prg_response(self, resp: PrgResponse) -> None:
        """A PRG Response message. It answers the outstanding group with its PRGI if its PASID
        fits: the same PASID, or none where the function does not require one (PRI
        capability) or the code is Response Failure (the SMMU's automatic Failure when its
        queue is unusable carries none, fault-paths.md §1.4). Anything else is counted in
        ``stats.prg_unexpected`` and ignored; the group it names (if any) keeps waiting."""
        if resp.sid != self.sid:
            raise ValueError(f"{self.name}: PRG Response for StreamID {resp.sid:#x} delivered "
                             f"to the function with Requester ID {self.sid:#x}")
        name = PriRespCode(resp.code).name
        self.stats.prg_responses[name] = self.stats.prg_responses.get(name, 0) + 1
        group = self._groups.get(resp.prgi)
        if group is None or not self._pasid_fits(group, resp):
            self.stats.prg_unexpected += 1
            return
        group.response = resp
        del self._groups[resp.prgi]  # the credit returns with the response

    def _pasid_fits(self, group: _Group, resp: PrgResponse) -> bool:
        if resp.pasid is not None:
            return resp.pasid == group.pasid
        return (group.pasid is None or not pci_prg_resp_pasid_required(self.pdev)
                or resp.code == PriRespCode.RESPONSE_FAILURE)

    def invalidate(self, req: AtcInvRequest) -> None:
        """An Invalidation Request: drop the ATC entries it reaches (and make the results of
        Translation Requests it reaches in flight stale), then complete per ``inv_policy``.
        Entries are dropped whatever the policy; only the completion differs."""
        if req.sid != self.sid:
            raise ValueError(f"{self.name}: Invalidation Request for StreamID {req.sid:#x} "
                             f"delivered to the function with Requester ID {self.sid:#x}")
        policy = self._inv_policy
        if policy in ("now", "ur"):
            self._need_inv_complete(req.itag)
        self.stats.invalidations += 1
        gone = [k for k in self.atc if req.matches(self.sid, k[0]) and req.covers(k[1], PAGE)]
        for k in gone:
            del self.atc[k]
        self.stats.entries_invalidated += len(gone)
        for mark in self._inflight:
            if req.matches(self.sid, mark.pasid) and req.covers(mark.page, PAGE):
                mark.stale = True
        if policy == "hold":
            self.held.append(req)
        elif policy == "drop":
            self.dropped.append(req)
        else:
            self._send_inv_complete(req.itag, policy == "ur")

    def release_invalidations(self) -> None:
        """Complete the invalidations held back (in arrival order)."""
        if self.held:
            self._need_inv_complete(self.held[0].itag)
        held, self.held = self.held, []
        for req in held:
            self._send_inv_complete(req.itag, False)

    def _need_inv_complete(self, itag: int) -> None:
        if self.inv_complete is None:
            raise RuntimeError(f"{self.name}: invalidation ITAG {itag} must be completed but "
                               "inv_complete is not wired")

    def _send_inv_complete(self, itag: int, ur: bool) -> None:
        assert self.inv_complete is not None
        if ur:
            self.stats.inv_ur += 1
        else:
            self.stats.inv_completions += 1
        self.inv_complete(itag, ur)


class PcieRouter:
    """The fabric between the SMMU and its endpoints, by Requester ID (= StreamID): where ATC
    invalidations and PRG responses go. Each backend feeds it what its SMMU sends and gives
    it ``inv_complete``, the way back. An invalidation for a RID with no function behind it
    is answered UR, as a PCIe fabric answers a request to nobody (it completes without
    error, §5.5); a PRG response for one is kept in ``unrouted_prg_responses``."""

    def __init__(self, inv_complete: InvComplete) -> None:
        self.inv_complete = inv_complete
        self.endpoints: dict[int, PcieEndpoint] = {}
        self.unrouted_prg_responses: list[PrgResponse] = []

    def attach(self, sid: int, ep: PcieEndpoint) -> None:
        if sid in self.endpoints:
            raise ValueError(f"an endpoint is already attached at RID {sid:#x}")
        self.endpoints[sid] = ep
        ep.inv_complete = self.inv_complete

    def invalidation(self, req: AtcInvRequest) -> None:
        ep = self.endpoints.get(req.sid)
        if ep is None:
            self.inv_complete(req.itag, True)
        else:
            ep.invalidate(req)

    def prg_response(self, resp: PrgResponse) -> None:
        ep = self.endpoints.get(resp.sid)
        if ep is None:
            self.unrouted_prg_responses.append(resp)
        else:
            ep.prg_response(resp)
