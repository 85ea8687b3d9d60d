"""The I/O page-fault core: recoverable device faults queued, grouped and handled.

Mirrors: drivers/iommu/io-pgfault.c (iommu_report_device_fault, iopf_queue_*) and the SVA
handler of drivers/iommu/iommu-sva.c (iommu_sva_handle_iopf), in their mainline shape
(reference fault-paths.md §1.1):

- One :class:`IopfQueue` per IOMMU; a driver adds the devices whose faults it reports
  (``iopf_queue_add_device``) and removes them (``iopf_queue_remove_device``), which answers
  every fault still waiting for its response INVALID.
- A fault without LAST_PAGE waits on its device's ``partial`` list; the fault with LAST_PAGE
  makes a group of itself and every partial fault with the same group ID (PRGI or STAG; not
  the PASID, as Linux), and the group is queued for the worker.
- Every LAST_PAGE fault is also kept on the device's pending list: ``iommu_page_response``
  sends a response only for a pending fault (matched on group ID, and on PASID where the
  response needs one), and drops any other.
- The worker hands each group to the handler of the domain attached to (device, PASID), here
  the SVA handler, and sends the group's response.

Deviation: Linux runs the worker on an unbound workqueue, concurrently with the IRQ thread
that reported the fault. This stack is single-threaded, so the queue runs its work when the
driver calls :meth:`IopfQueue.run` (after reporting a batch of faults, as the IRQ thread
returning would let the workqueue run) and in :meth:`IopfQueue.flush_dev`. The order within a
group, and a group's single response, are as in Linux.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from models.cpu.mm import MM, FaultResult
from models.cpu.pgprot import PROT_EXEC, PROT_READ, PROT_WRITE

__all__ = [
    "IommuFault", "IommuFaultPerm", "IommuPageResponse", "IopfError", "IopfGroup",
    "IopfHandler", "IopfQueue", "PageReqFlags", "PageResponseCode", "iommu_sva_handle_iopf",
]

log = logging.getLogger("sva.iopf")


class IopfError(Exception):
    """A fault the core refused; the message names the Linux errno."""


class PageReqFlags(enum.IntFlag):
    """IOMMU_FAULT_PAGE_REQUEST_* (struct iommu_fault_page_request.flags)."""

    PASID_VALID = 1 << 0
    LAST_PAGE = 1 << 1
    PRIV_DATA = 1 << 2
    NEEDS_PASID = 1 << 3  # IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID


class IommuFaultPerm(enum.IntFlag):
    """IOMMU_FAULT_PERM_*: the access that faulted."""

    READ = 1 << 0
    WRITE = 1 << 1
    EXEC = 1 << 2
    PRIV = 1 << 3


class PageResponseCode(enum.IntEnum):
    """enum iommu_page_response_code."""

    SUCCESS = 0
    INVALID = 1
    FAILURE = 2


@dataclass(frozen=True)
class IommuFault:
    """struct iommu_fault of type IOMMU_FAULT_PAGE_REQ (the only recoverable kind)."""

    flags: PageReqFlags
    pasid: int
    grpid: int
    perm: IommuFaultPerm
    addr: int

    @property
    def last(self) -> bool:
        return bool(self.flags & PageReqFlags.LAST_PAGE)


@dataclass(frozen=True)
class IommuPageResponse:
    """struct iommu_page_response."""

    pasid: int
    grpid: int
    code: PageResponseCode


@dataclass
class IopfGroup:
    """struct iopf_group: the LAST_PAGE fault and the partial faults of its group, in the
    order they were reported."""

    dev: Any
    last: IommuFault
    faults: list[IommuFault]


class IopfHandler(Protocol):
    """domain->iopf_handler: decides the group's response."""

    def __call__(self, group: IopfGroup) -> PageResponseCode: ...


# The driver's page_response op (struct iommu_ops.page_response): sends a response to the
# device (CMD_RESUME for a stall, CMD_PRI_RESP for a PRI page request).
PageResponder = Callable[[Any, IommuFault, IommuPageResponse], Awaitable[None]]


@dataclass
class IopfDeviceParam:
    """struct iommu_fault_param of one device: the queue it reports to, its partial faults
    and the LAST_PAGE faults awaiting a response."""

    queue: IopfQueue
    page_response: PageResponder
    handler: Callable[[Any, int], IopfHandler | None]  # (dev, pasid) -> the domain's handler
    partial: list[IommuFault] = field(default_factory=list)
    pending: list[IommuFault] = field(default_factory=list)
    removing: bool = False


class IopfQueue:
    """struct iopf_queue: the devices of one IOMMU and the groups waiting for the worker."""

    def __init__(self, name: str,
                 flush_hw: Callable[[], Awaitable[Any]] | None = None) -> None:
        self.name = name
        # v5 iopf_queue_alloc(name, flush, cookie): the driver's low-level flush (its event
        # or PRI queue drained into this queue), run first by flush_dev.
        self.flush_hw = flush_hw
        self.devices: dict[int, tuple[Any, IopfDeviceParam]] = {}
        self.work: deque[IopfGroup] = deque()
        self.stats = {"reported": 0, "groups": 0, "responses": 0, "dropped_responses": 0,
                      "discarded_partial": 0, "answered_at_removal": 0}
        # Every (device, response) sent, in order: scenarios check that nothing stays
        # unanswered and that nothing is answered twice.
        self.responses: list[tuple[str, IommuFault, IommuPageResponse]] = []

    # ---- devices ------------------------------------------------------------------------
    def param(self, dev: Any) -> IopfDeviceParam | None:
        got = self.devices.get(id(dev))
        return None if got is None else got[1]

    def add_device(self, dev: Any, page_response: PageResponder,
                   handler: Callable[[Any, int], IopfHandler | None]) -> IopfDeviceParam:
        """iopf_queue_add_device."""
        if id(dev) in self.devices:
            raise IopfError(f"-EBUSY: {dev.name} is already on IOPF queue {self.name}")
        p = IopfDeviceParam(self, page_response, handler)
        self.devices[id(dev)] = (dev, p)
        return p

    async def remove_device(self, dev: Any) -> None:
        """iopf_queue_remove_device: the caller has stopped the device's faults and flushed the
        hardware queue; every fault still pending is answered INVALID, partial faults are
        freed, and the device leaves the queue."""
        p = self.param(dev)
        if p is None:
            raise IopfError(f"-EINVAL: {dev.name} is not on IOPF queue {self.name}")
        p.removing = True
        # Groups already queued for the worker: answered INVALID below like every pending one.
        self.work = deque(g for g in self.work if g.dev is not dev)
        for fault in list(p.pending):
            self.stats["answered_at_removal"] += 1
            await self._respond(dev, p, fault, PageResponseCode.INVALID)
        p.partial.clear()
        del self.devices[id(dev)]

    def discard_partial(self) -> None:
        """iopf_queue_discard_partial: after a hardware queue overflow, every partial fault of
        every device is dropped (its group's LAST_PAGE fault was lost or answered)."""
        for _dev, p in self.devices.values():
            self.stats["discarded_partial"] += len(p.partial)
            p.partial.clear()

    # ---- faults -------------------------------------------------------------------------
    def report(self, dev: Any, fault: IommuFault) -> None:
        """iommu_report_device_fault for a page request: kept as partial, or grouped with its
        partials and queued for the worker."""
        p = self.param(dev)
        if p is None or p.removing:
            raise IopfError(f"-ENODEV: {dev.name} reports faults to no IOPF queue")
        self.stats["reported"] += 1
        if not fault.last:
            p.partial.append(fault)
            return
        group = [f for f in p.partial if f.grpid == fault.grpid]
        p.partial = [f for f in p.partial if f.grpid != fault.grpid]
        p.pending.append(fault)
        self.work.append(IopfGroup(dev, fault, [*group, fault]))
        self.stats["groups"] += 1

    async def run(self) -> None:
        """The worker: handle every queued group, oldest first, and send its response."""
        while self.work:
            group = self.work.popleft()
            p = self.param(group.dev)
            if p is None:
                continue
            handler = p.handler(group.dev, group.last.pasid)
            # No domain or no handler: the group is dropped and answered INVALID (Linux
            # returns the error to the driver, which responds).
            code = PageResponseCode.INVALID if handler is None else handler(group)
            await self.page_response(group.dev, IommuPageResponse(
                group.last.pasid, group.last.grpid, code))

    async def flush_dev(self, dev: Any) -> None:
        """iopf_queue_flush_dev: every group reported so far is handled and answered. The
        driver must have flushed its own hardware queue first (and stopped new faults)."""
        if self.param(dev) is None:
            raise IopfError(f"-ENODEV: {dev.name} is not on IOPF queue {self.name}")
        if self.flush_hw is not None:
            await self.flush_hw()
        await self.run()

    async def page_response(self, dev: Any, resp: IommuPageResponse) -> None:
        """iommu_page_response: the response goes out only for a pending LAST_PAGE fault with
        its group ID (and PASID, where the response needs one); any other is dropped."""
        p = self.param(dev)
        if p is None:
            self.stats["dropped_responses"] += 1
            return
        for fault in p.pending:
            if fault.grpid != resp.grpid:
                continue
            if fault.flags & PageReqFlags.NEEDS_PASID and fault.pasid != resp.pasid:
                continue
            await self._respond(dev, p, fault, resp.code)
            return
        log.warning("%s: no pending page request for group %#x, response dropped",
                    getattr(dev, "name", dev), resp.grpid)
        self.stats["dropped_responses"] += 1

    async def _respond(self, dev: Any, p: IopfDeviceParam, fault: IommuFault,
                       code: PageResponseCode) -> None:
        p.pending.remove(fault)
        resp = IommuPageResponse(fault.pasid, fault.grpid, code)
        self.responses.append((dev.name, fault, resp))
        self.stats["responses"] += 1
        await p.page_response(dev, fault, resp)

    def pending_count(self) -> int:
        return sum(len(p.pending) for _d, p in self.devices.values())


def iommu_sva_handle_iopf(group: IopfGroup, find_mm: Callable[[int], MM | None]) -> \
        PageResponseCode:
    """iommu_sva_handle_iopf, applied to each fault of the group in order: the first that
    fails makes the group INVALID. ``find_mm`` is iommu_sva_find (a user reference, or None
    once the mm exited)."""
    for fault in group.faults:
        if _handle_one(fault, find_mm) != PageResponseCode.SUCCESS:
            return PageResponseCode.INVALID
    return PageResponseCode.SUCCESS


def _handle_one(fault: IommuFault, find_mm: Callable[[int], MM | None]) -> PageResponseCode:
    if not fault.flags & PageReqFlags.PASID_VALID:
        return PageResponseCode.INVALID
    mm = find_mm(fault.pasid)
    if mm is None:  # no fault is handled for an mm that has exited
        return PageResponseCode.INVALID
    try:
        vma = mm.find_vma(fault.addr)
        if vma is None:
            return PageResponseCode.INVALID
        # Linux: every access the fault names must be allowed by the VMA's own flags.
        access = ((PROT_READ if fault.perm & IommuFaultPerm.READ else 0)
                  | (PROT_WRITE if fault.perm & IommuFaultPerm.WRITE else 0)
                  | (PROT_EXEC if fault.perm & IommuFaultPerm.EXEC else 0))
        if access & ~vma.vm_flags:
            return PageResponseCode.INVALID
        ret = mm.handle_mm_fault(fault.addr, write=bool(fault.perm & IommuFaultPerm.WRITE),
                                 exec=bool(fault.perm & IommuFaultPerm.EXEC),
                                 user=not fault.perm & IommuFaultPerm.PRIV)
        return PageResponseCode.INVALID if ret != FaultResult.OK else PageResponseCode.SUCCESS
    finally:
        mm.mmput()
