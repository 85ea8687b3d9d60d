"""Isolation checker: every DMA access of a PASID landed only in a page mapped in that
PASID's process, at the time of the access, with the permission it used.

Independent of the SMMU and its driver: the scenario tells the checker which process each
PASID belongs to (from bind to unbind), and the checker walks the process's page table in
memory itself (the arm64 tables the CPU uses) at the moment of each access. The walk takes no
lock: the CPU side may be blocked in an mmu notifier with ``mmap_lock`` held.

Allowed besides a current mapping: while the CPU is changing a range (``changing``: from the
PTE change until the mmu notifier returned and the pages were freed), a device may still use
the translation it had before, as long as the page is still allocated; the access is counted
as ``stale_in_window``. After the change returned, such an access is a violation.
SSID-less traffic is checked against the private domain attached to its StreamID.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from models.arch.geometry import DESC_BYTES, GRANULE_SHIFT, LAST_LEVEL, LEVELS, PAGE, desc_addr
from models.arch.pgtable import PageDescriptor, TableDescriptor, decode_descriptor
from models.cpu.mm import MM, TASK_SIZE
from models.cpu.pgprot import PROT_WRITE, pte_user_readable, pte_user_writable
from models.memory import FrameAllocator
from tb.devices.dma import Access


def walk_pte(mm: MM, va: int) -> int | None:
    """The raw level-3 descriptor for ``va`` in ``mm``'s tables (no lock, no access log)."""
    table = mm.pgd
    if table is None or not 0 <= va < TASK_SIZE:
        return None
    for level in range(LEVELS):
        raw = int.from_bytes(mm.mem.peek(desc_addr(table, va, level), DESC_BYTES), "little")
        desc = decode_descriptor(raw, level)
        if level == LAST_LEVEL:
            return raw if isinstance(desc, PageDescriptor) else None
        if not isinstance(desc, TableDescriptor):
            return None
        table = desc.NextTableAddr
    return None


def _pte_pa(raw: int) -> int:
    return PageDescriptor.from_int(raw).OutputAddr


@dataclass
class _Window:
    mm: MM
    start: int
    end: int
    before: dict[int, int]  # page VA -> page PA when the change began


@dataclass
class IsolationChecker:
    frames: FrameAllocator | None = None  # the processes' page allocator (freed-page check)
    pasids: dict[tuple[int, int], MM] = field(default_factory=dict)  # (StreamID, PASID)
    domains: dict[int, Any] = field(default_factory=dict)  # StreamID -> private domain
    windows: list[_Window] = field(default_factory=list)
    checked: int = 0
    stale_in_window: int = 0
    violations: list[str] = field(default_factory=list)

    # ---- what the scenario tells it -------------------------------------------------------
    def bound(self, sid: int, pasid: int, mm: MM) -> None:
        self.pasids[(sid, pasid)] = mm

    def unbound(self, sid: int, pasid: int) -> None:
        self.pasids.pop((sid, pasid), None)

    def attached(self, sid: int, domain: Any) -> None:
        self.domains[sid] = domain

    @contextmanager
    def changing(self, mm: MM, start: int = 0, length: int | None = None) -> Iterator[None]:
        """Around a CPU operation that unmaps or remaps ``[start, start+length)`` of ``mm``
        (default: every VMA, for exit)."""
        end = start + length if length is not None else TASK_SIZE
        before: dict[int, int] = {}
        for vma in list(mm.vmas):
            lo, hi = max(vma.vm_start, start), min(vma.vm_end, end)
            for va in range(lo - lo % PAGE, hi, PAGE):
                raw = walk_pte(mm, va)
                if raw is not None:
                    before[va] = _pte_pa(raw)
        w = _Window(mm, start, end, before)
        self.windows.append(w)
        try:
            yield
        finally:
            self.windows.remove(w)

    # ---- the DMA engines' observer ---------------------------------------------------------
    def observe(self, acc: Access) -> None:
        self.checked += 1
        what = (f"{acc.engine} (sid {acc.sid:#x}, pasid {acc.pasid}) "
                f"{'write' if acc.write else 'read'} va {acc.va:#x}+{acc.length} -> pa "
                f"{acc.pa:#x}")
        if (acc.va ^ (acc.va + acc.length - 1)) >> GRANULE_SHIFT or (acc.pa ^ acc.va) & (PAGE - 1):
            self.violations.append(f"{what}: access is not within one page or offset differs")
            return
        if acc.pasid is None:
            dom = self.domains.get(acc.sid)
            if dom is None or dom.iova_to_phys(acc.va) != acc.pa:
                self.violations.append(f"{what}: not the mapping of the stream's domain")
            return
        mm = self.pasids.get((acc.sid, acc.pasid))
        if mm is None:
            self.violations.append(f"{what}: the PASID is not bound on this device")
            return
        problem = self._check_mm(mm, acc)
        if problem is None:
            return
        page = acc.va - acc.va % PAGE
        for w in self.windows:
            if w.mm is mm and w.start <= acc.va < w.end and \
                    w.before.get(page) == acc.pa - acc.pa % PAGE and self._allocated(acc.pa):
                self.stale_in_window += 1
                return
        self.violations.append(f"{what} in {mm.name}: {problem}")

    def _check_mm(self, mm: MM, acc: Access) -> str | None:
        raw = walk_pte(mm, acc.va)
        if raw is None:
            return "no page mapped there"
        if _pte_pa(raw) | acc.va % PAGE != acc.pa:
            return f"the process maps it to {_pte_pa(raw) | acc.va % PAGE:#x}"
        vma = next((v for v in list(mm.vmas) if v.vm_start <= acc.va < v.vm_end), None)
        if vma is None:
            return "outside every VMA"
        if acc.write and not (vma.vm_flags & PROT_WRITE and pte_user_writable(raw)):
            return "write to a page the process cannot write"
        if not acc.write and not pte_user_readable(raw):
            return "read of a page the process cannot read"
        return None

    def _allocated(self, pa: int) -> bool:
        if self.frames is None:
            return True
        page = pa - pa % PAGE
        return any(b <= page < b + n for b, n in self.frames.allocations.items())
