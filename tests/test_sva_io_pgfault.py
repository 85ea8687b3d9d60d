"""The I/O page-fault core (tb/sva/io_pgfault.py), against the Linux rules of reference
fault-paths.md §1.1: partial faults wait per device, a LAST_PAGE fault makes a group with the
partials of its group ID, one response per group goes out only for a pending fault, device
removal answers what is pending INVALID, and the SVA handler answers Success or Invalid."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from models.cpu.mm import MM
from models.cpu.pgprot import PROT_EXEC, PROT_READ, PROT_WRITE
from models.memory import FrameAllocator, PhysicalMemory
from tb.sva.io_pgfault import (
    IommuFault,
    IommuFaultPerm,
    IommuPageResponse,
    IopfError,
    IopfGroup,
    IopfQueue,
    PageReqFlags,
    PageResponseCode,
    iommu_sva_handle_iopf,
)

PAGE = 0x1000
LAST = PageReqFlags.LAST_PAGE | PageReqFlags.PASID_VALID
PART = PageReqFlags.PASID_VALID
R, W, X = IommuFaultPerm.READ, IommuFaultPerm.WRITE, IommuFaultPerm.EXEC


@dataclass(eq=False)
class Dev:
    name: str


class Rig:
    """A queue with one device whose handler records the groups it was given."""

    def __init__(self, code: PageResponseCode = PageResponseCode.SUCCESS) -> None:
        self.q = IopfQueue("smmu0")
        self.dev = Dev("dev0")
        self.groups: list[IopfGroup] = []
        self.sent: list[tuple[IommuFault, IommuPageResponse]] = []
        self.code = code

        def handler(group: IopfGroup) -> PageResponseCode:
            self.groups.append(group)
            return self.code

        async def respond(_dev, fault: IommuFault, resp: IommuPageResponse) -> None:
            self.sent.append((fault, resp))

        self.q.add_device(self.dev, respond, lambda _dev, _pasid: handler)

    def report(self, flags: PageReqFlags, grpid: int, addr: int, pasid: int = 7) -> IommuFault:
        f = IommuFault(flags, pasid, grpid, R, addr)
        self.q.report(self.dev, f)
        return f


def test_partial_faults_wait_for_their_last_page() -> None:
    rig = Rig()
    a = rig.report(PART, 1, 0x1000)
    b = rig.report(PART, 2, 0x2000)  # another group
    c = rig.report(PART, 1, 0x3000)
    assert not rig.q.work and rig.q.pending_count() == 0
    last = rig.report(LAST, 1, 0x4000)
    asyncio.run(rig.q.run())
    (group,) = rig.groups
    assert group.faults == [a, c, last]  # its group ID only, in report order
    assert rig.q.param(rig.dev).partial == [b]
    ((fault, resp),) = rig.sent
    assert fault is last and resp == IommuPageResponse(7, 1, PageResponseCode.SUCCESS)
    assert rig.q.pending_count() == 0


def test_a_response_needs_a_pending_fault() -> None:
    """Linux iommu_page_response: "no pending PRQ, drop response"."""
    rig = Rig()
    rig.report(LAST, 3, 0x1000)
    asyncio.run(rig.q.page_response(rig.dev, IommuPageResponse(7, 4, PageResponseCode.SUCCESS)))
    assert rig.sent == [] and rig.q.stats["dropped_responses"] == 1
    asyncio.run(rig.q.page_response(rig.dev, IommuPageResponse(7, 3, PageResponseCode.INVALID)))
    assert [r.code for _f, r in rig.sent] == [PageResponseCode.INVALID]
    asyncio.run(rig.q.run())  # the queued group finds its fault answered: nothing more
    assert len(rig.sent) == 1 and rig.q.stats["dropped_responses"] == 2


def test_needs_pasid_matches_the_pasid_too() -> None:
    rig = Rig()
    rig.report(LAST | PageReqFlags.NEEDS_PASID, 3, 0x1000, pasid=9)
    asyncio.run(rig.q.page_response(rig.dev, IommuPageResponse(8, 3, PageResponseCode.SUCCESS)))
    assert rig.sent == []
    asyncio.run(rig.q.page_response(rig.dev, IommuPageResponse(9, 3, PageResponseCode.SUCCESS)))
    assert len(rig.sent) == 1


def test_removal_answers_pending_faults_invalid() -> None:
    """Mainline iopf_queue_remove_device: every still-pending fault answered INVALID,
    partials freed, then the device leaves the queue."""
    rig = Rig()
    rig.report(PART, 1, 0x1000)
    rig.report(LAST, 2, 0x2000)  # queued for the worker, not handled yet
    asyncio.run(rig.q.remove_device(rig.dev))
    assert [(f.grpid, r.code) for f, r in rig.sent] == [(2, PageResponseCode.INVALID)]
    assert rig.groups == [] and rig.q.param(rig.dev) is None
    with pytest.raises(IopfError):
        rig.q.report(rig.dev, IommuFault(LAST, 7, 5, R, 0))


def test_discard_partial_after_an_overflow() -> None:
    rig = Rig()
    rig.report(PART, 1, 0x1000)
    rig.q.discard_partial()
    last = rig.report(LAST, 1, 0x2000)
    asyncio.run(rig.q.run())
    assert rig.groups[0].faults == [last]


def test_no_handler_answers_invalid() -> None:
    q = IopfQueue("smmu0")
    dev = Dev("d")
    sent: list[IommuPageResponse] = []

    async def respond(_dev, _fault, resp) -> None:
        sent.append(resp)

    q.add_device(dev, respond, lambda _d, _p: None)
    q.report(dev, IommuFault(LAST, 1, 0, R, 0))
    asyncio.run(q.run())
    assert [r.code for r in sent] == [PageResponseCode.INVALID]


def test_a_device_is_added_once() -> None:
    rig = Rig()
    with pytest.raises(IopfError):
        rig.q.add_device(rig.dev, None, lambda _d, _p: None)  # type: ignore[arg-type]


# ---- the SVA handler (iommu_sva_handle_iopf) -----------------------------------------------
@pytest.fixture
def mm() -> MM:
    mem = PhysicalMemory(48)
    return MM(mem, FrameAllocator(mem, 0x10_0000, 0x40_0000),
              FrameAllocator(mem, 0x1000_0000, 0x2000_0000))


def _group(*faults: IommuFault) -> IopfGroup:
    return IopfGroup(Dev("d"), faults[-1], list(faults))


def _find(mm: MM):
    def find(pasid: int) -> MM | None:
        return mm if pasid == 7 and mm.mmget_not_zero() else None
    return find


def test_handler_populates_a_never_touched_page(mm: MM) -> None:
    va = mm.mmap(None, 4 * PAGE, PROT_READ | PROT_WRITE)
    assert mm.translate(va + PAGE) is None
    f = IommuFault(LAST, 7, 1, W, va + PAGE + 8)
    assert iommu_sva_handle_iopf(_group(f), _find(mm)) == PageResponseCode.SUCCESS
    assert mm.translate(va + PAGE) is not None
    assert mm.mm_users == 1  # the handler's reference was dropped


@pytest.mark.parametrize(("prot", "perm"), [
    (PROT_READ, W),                # a write to a read-only VMA
    (PROT_READ | PROT_WRITE, X),   # an instruction fetch from a non-executable VMA
    (PROT_WRITE, R),               # Linux checks VM_READ itself for a read
])
def test_handler_refuses_what_the_vma_forbids(mm: MM, prot: int, perm: IommuFaultPerm) -> None:
    va = mm.mmap(None, PAGE, prot)
    f = IommuFault(LAST, 7, 1, perm, va)
    assert iommu_sva_handle_iopf(_group(f), _find(mm)) == PageResponseCode.INVALID
    assert mm.translate(va) is None


def test_handler_refuses_an_address_outside_every_vma(mm: MM) -> None:
    va = mm.mmap(None, PAGE, PROT_READ | PROT_WRITE)
    f = IommuFault(LAST, 7, 1, R, va + 16 * PAGE)
    assert iommu_sva_handle_iopf(_group(f), _find(mm)) == PageResponseCode.INVALID


def test_handler_refuses_an_exited_mm_or_a_missing_pasid(mm: MM) -> None:
    va = mm.mmap(None, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC)
    no_pasid = IommuFault(PageReqFlags.LAST_PAGE, 7, 1, R, va)
    assert iommu_sva_handle_iopf(_group(no_pasid), _find(mm)) == PageResponseCode.INVALID
    mm.mmput()  # the process exits
    f = IommuFault(LAST, 7, 1, R, va)
    assert iommu_sva_handle_iopf(_group(f), _find(mm)) == PageResponseCode.INVALID


def test_one_bad_fault_makes_the_group_invalid(mm: MM) -> None:
    va = mm.mmap(None, PAGE, PROT_READ)
    good = IommuFault(PART, 7, 1, R, va)
    bad = IommuFault(LAST, 7, 1, W, va)
    assert iommu_sva_handle_iopf(_group(good, bad), _find(mm)) == PageResponseCode.INVALID
