"""One process address space as arm64 Linux builds it: VMAs, 4-level page tables, demand paging.

SVA shares exactly these tables with the SMMU (CD.TTB0 = pgd), so they live in the common
:class:`~models.memory.PhysicalMemory` and every PTE follows the Linux arm64 conventions of
:mod:`models.cpu.pgprot`. The operations that change mappings do what the kernel does, in the
kernel's order, because SVA correctness depends on that order:

munmap: clear PTEs (and empty tables) -> broadcast TLBI -> mmu notifier invalidate_range ->
free pages and tables. mprotect: rewrite PTEs -> TLBI -> invalidate_range. exit: notifier
release (pages still mapped) -> tear everything down. Page migration: clear PTE -> TLBI ->
invalidate_range -> copy -> new PTE (AF=0) -> free the old page. The TLBIs are logged in
:attr:`MM.tlbi_log` for a BTM model to replay to the SMMU.

Configuration: 4 KiB granule and 48-bit VA only (T0SZ=16, lookup starts at level 0).
Memory is shared-anonymous-like: a read fault in a writable VMA maps a fresh zeroed page
clean-writable (AP=0b11 + DBM) instead of Linux's shared zero page, and a write fault maps it
dirty (AP=0b01); there is no copy-on-write, swap, huge page, file mapping or stack growth.
Without FEAT_HAFDBS (CpuFeatures.hafdbs=0) writes to a clean page and accesses to an old
(AF=0) page take a fault that handle_mm_fault fixes, as on such a CPU; with it the CPU's walk
sets AF (1) and clears AP[2] of a DBM page on a write (2) itself, by compare-and-swap. An SMMU
with HTTU may set AF and clear AP[2] in these PTEs at any time: every read-modify-write of a
PTE here is a compare-and-swap, and page aging (ptep_clear_flush_young) and write-back's
dirty harvest (page_mkclean) see what it did.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from models.arch.cd import IPSize, TG0Granule
from models.arch.geometry import DESC_BYTES, ENTRIES, LAST_LEVEL, desc_addr, level_size
from models.arch.pgtable import (
    PTE_RDONLY,
    InvalidDescriptor,
    PageDescriptor,
    Shareability,
    TableDescriptor,
    decode_descriptor,
)
from models.cpu.features import CpuFeatures
from models.cpu.notifier import (
    MMUNotifier,
    mmu_notifier_invalidate_range,
    mmu_notifier_release,
)
from models.cpu.pgprot import (
    MAIR_EL1,
    PROT_EXEC,
    PROT_MASK,
    PROT_WRITE,
    mk_pte,
    pte_dirty,
    pte_mkclean,
    pte_mkdirty,
    pte_mkold,
    pte_mkyoung,
    pte_modify,
    pte_pa,
    pte_present,
    pte_user_exec,
    pte_user_readable,
    pte_user_writable,
    pte_write,
    pte_wrprotect,
    pte_young,
    vm_get_page_prot,
)
from models.cpu.tlbi import Tlbi, flush_tlb_mm, flush_tlb_range
from models.memory import PAGE_SIZE, FrameAllocator, PhysicalMemory

__all__ = [
    "MM", "MMContext", "VMA", "FaultResult", "SegmentationFault",
    "TASK_SIZE", "MMAP_MIN_ADDR", "VM_FAULT_ERROR", "IRGN_WBWA",
]

TASK_SIZE = 1 << 48  # user VA space of a 48-bit-VA kernel
MMAP_MIN_ADDR = 0x8000  # vm.mmap_min_addr default on arm64 (32 KiB)
MMAP_BASE = TASK_SIZE - (1 << 30)  # top of the top-down mmap area (below a 1 GiB stack gap)
IRGN_WBWA = 0b01  # TCR IRGN0/ORGN0 and CD.IR0/OR0: Normal, write-back read/write-allocate
CPU = "cpu"  # PhysicalMemory access source for everything the CPU (kernel or user) does


class FaultResult(enum.IntFlag):
    """vm_fault_t of handle_mm_fault; 0 means the fault was fixed up.

    BADMAP/BADACCESS are arm64's own codes for "no VMA" and "VMA forbids the access", which
    Linux checks in the arch fault handler (and the IOPF handler) before handle_mm_fault;
    here handle_mm_fault checks the VMA itself and returns them.
    """

    OK = 0
    OOM = 0x000001
    SIGBUS = 0x000002
    SIGSEGV = 0x000040
    BADMAP = 0x010000
    BADACCESS = 0x020000

    @property
    def error(self) -> bool:
        return bool(self & VM_FAULT_ERROR)


VM_FAULT_ERROR = (FaultResult.OOM | FaultResult.SIGBUS | FaultResult.SIGSEGV
                  | FaultResult.BADMAP | FaultResult.BADACCESS)


class SegmentationFault(Exception):
    """A CPU access through :meth:`MM.read`/:meth:`MM.write` that no fault could fix."""

    def __init__(self, va: int, access: str, result: FaultResult) -> None:
        self.va = va
        self.access = access
        self.result = result
        super().__init__(f"SIGSEGV: {access} at {va:#x} ({result!r})")


@dataclass
class MMContext:
    """arm64 mm->context: ``id`` = generation | ASID (0: never ran), ``pinned`` = pin count.

    Owned by :mod:`models.cpu.asid`; the MM only reads the ASID to tag its TLBIs.
    """

    id: int = 0
    pinned: int = 0


@dataclass
class VMA:
    """A virtual memory area ``[vm_start, vm_end)``; vm_flags holds VM_READ/WRITE/EXEC, which
    have the same values as PROT_READ/WRITE/EXEC."""

    vm_start: int
    vm_end: int
    vm_flags: int

    def __contains__(self, addr: int) -> bool:
        return self.vm_start <= addr < self.vm_end

    @property
    def vm_page_prot(self) -> int:
        return vm_get_page_prot(self.vm_flags)

    def allows(self, write: bool, exec: bool) -> bool:
        """arm64 do_page_fault's VMA check: write needs VM_WRITE, exec VM_EXEC, and a read any
        access flag (a writable or executable page is also readable on AArch64)."""
        if write:
            return bool(self.vm_flags & PROT_WRITE)
        if exec:
            return bool(self.vm_flags & PROT_EXEC)
        return bool(self.vm_flags & PROT_MASK)


def _page_align(n: int) -> int:
    return -(-n // PAGE_SIZE) * PAGE_SIZE


def _slots(table: int, level: int, base: int, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(descriptor address, VA it maps) of the entries of ``table`` that overlap
    ``[start, end)``; ``base`` is the VA the table starts at."""
    span = level_size(level)
    first = max(0, (start - base) // span)
    last = min(ENTRIES, -(-(end - base) // span))
    for i in range(first, last):
        yield table + DESC_BYTES * i, base + i * span


class MM:
    """A process address space (struct mm_struct) backed by page tables in ``mem``.

    ``table_alloc`` provides the pgd and table pages, ``page_alloc`` (default: the same) the
    data pages; both hand out zeroed, page-aligned frames.
    """

    def __init__(self, mem: PhysicalMemory, table_alloc: FrameAllocator,
                 page_alloc: FrameAllocator | None = None,
                 features: CpuFeatures | None = None, name: str = "mm") -> None:
        self.features = features or CpuFeatures()
        if self.features.page_size != PAGE_SIZE or self.features.va_bits != 48:
            raise NotImplementedError("only the 4 KiB granule with 48-bit VA is modelled")
        self.mem = mem
        self.table_alloc = table_alloc
        self.page_alloc = page_alloc or table_alloc
        self.name = name
        self.mmap_lock = threading.RLock()
        self.context = MMContext()
        self.vmas: list[VMA] = []  # sorted, non-overlapping
        self.tlbi_log: list[Tlbi] = []
        # DVM: who receives the broadcast TLBIs besides the log (an SMMU with BTM), each
        # called with the TLBIs of one flush, which complete (DVM sync) before it returns
        self.dvm: list[Callable[[list[Tlbi]], None]] = []
        self.notifier_subscriptions: list[MMUNotifier] = []  # managed by models.cpu.notifier
        self.mm_users = 1  # the process itself (mmget/mmput)
        self.mm_count = 1  # held collectively by the users (mmgrab/mmdrop): keeps the pgd
        self.rss = 0  # present data pages
        self._exited = False
        self.pgd: int | None = table_alloc.alloc(PAGE_SIZE, align=PAGE_SIZE)

    # -- what a CD must mirror (ref §8.4) -------------------------------------------------
    @property
    def mair(self) -> int:
        return MAIR_EL1

    def tcr_fields(self) -> dict[str, int]:
        """TCR_EL1's TTB0 half as CD fields (names as in :class:`models.arch.cd.CD`)."""
        return {
            "T0SZ": 64 - self.features.va_bits,
            "TG0": TG0Granule.SZ_4K,
            "IR0": IRGN_WBWA,
            "OR0": IRGN_WBWA,
            "SH0": Shareability.ISH,
            "EPD1": 1,
            "IPS": IPSize(self.features.parange),
            "AA64": 1,
        }

    @property
    def asid(self) -> int:
        """ASID(mm): the ASID in the context id (the kernel/even one under KPTI)."""
        return self.context.id % (1 << self.features.asid_bits)

    def _tlbi_asids(self) -> tuple[int, ...]:
        """ASIDs a TLBI must name: with KPTI also the user ASID (bit 0 set), as __tlbi_user."""
        asid = self.asid
        return (asid, asid | 1) if self.features.kpti else (asid,)

    # -- lifetime ---------------------------------------------------------------------------
    @property
    def exited(self) -> bool:
        return self.mm_users <= 0

    def mmget_not_zero(self) -> bool:
        """Take a user reference unless the mm already exited (the IOPF path does this)."""
        with self.mmap_lock:
            if self.mm_users <= 0:
                return False
            self.mm_users += 1
            return True

    def mmput(self) -> None:
        """Drop a user reference; the last one tears the address space down (exit_mmap)."""
        with self.mmap_lock:
            if self.mm_users <= 0:
                raise ValueError(f"{self.name}: mmput on an exited mm")
            self.mm_users -= 1
            if self.mm_users == 0:
                self._exit_mmap()
                self.mmdrop()

    def exit(self) -> None:
        """The process exits: drop its reference (teardown waits for other mmget users)."""
        with self.mmap_lock:
            if self._exited:
                raise ValueError(f"{self.name}: process already exited")
            self._exited = True
            self.mmput()

    def mmgrab(self) -> None:
        with self.mmap_lock:
            if self.mm_count <= 0:
                raise ValueError(f"{self.name}: mmgrab on a freed mm")
            self.mm_count += 1

    def mmdrop(self) -> None:
        """Drop an mm_count reference; the last one frees the pgd (__mmdrop)."""
        with self.mmap_lock:
            if self.mm_count <= 0:
                raise ValueError(f"{self.name}: mmdrop on a freed mm")
            self.mm_count -= 1
            if self.mm_count == 0 and self.pgd is not None:
                self.table_alloc.free(self.pgd)
                self.pgd = None

    def _exit_mmap(self) -> None:
        mmu_notifier_release(self)  # secondary MMUs stop while everything is still mapped
        self.vmas.clear()
        pages, tables, _ = self._clear_range(0, TASK_SIZE)
        if tables:  # fullmm: only walk caches need it, the ASID is not reused before rollover
            self._broadcast(flush_tlb_mm(self._tlbi_asids()))
        self._free(pages, tables)

    def _check_alive(self) -> None:
        if self.exited:
            raise ValueError(f"{self.name}: the mm has exited")

    # -- VMAs -------------------------------------------------------------------------------
    def find_vma(self, addr: int) -> VMA | None:
        """The VMA containing ``addr`` (unlike Linux's find_vma, not the next one above)."""
        with self.mmap_lock:
            for vma in self.vmas:
                if addr in vma:
                    return vma
            return None

    def mmap(self, addr: int | None, length: int, prot: int, populate: bool = False) -> int:
        """Map ``length`` bytes of anonymous memory; ``addr`` given means MAP_FIXED.

        ``populate`` (MAP_POPULATE) faults every page in with read faults, so pages start
        clean. Returns the start address. Raises ValueError (EINVAL) or MemoryError (ENOMEM).
        """
        if prot & ~PROT_MASK:
            raise ValueError(f"unknown prot bits {prot:#x}")
        length = _page_align(length)
        if length <= 0:
            raise ValueError("mmap of an empty range")
        with self.mmap_lock:
            self._check_alive()
            if addr is None:
                addr = self._get_unmapped_area(length)
            else:
                self._check_range(addr, length)
                self._unmap(addr, addr + length)
            self._split_at(addr)
            self._split_at(addr + length)
            self.vmas.append(VMA(addr, addr + length, prot))
            self._merge()
            if populate and prot:
                for va in range(addr, addr + length, PAGE_SIZE):
                    result = self.handle_mm_fault(va, write=False)
                    if result.error:
                        raise MemoryError(f"MAP_POPULATE failed at {va:#x}: {result!r}")
            return addr

    def munmap(self, addr: int, length: int) -> None:
        length = _page_align(length)
        self._check_range(addr, length)
        with self.mmap_lock:
            self._check_alive()
            self._unmap(addr, addr + length)

    def mprotect(self, addr: int, length: int, prot: int) -> None:
        """Change the protection of ``[addr, addr+length)``; every page must be in a VMA."""
        if prot & ~PROT_MASK:
            raise ValueError(f"unknown prot bits {prot:#x}")
        length = _page_align(length)
        self._check_range(addr, length)
        end = addr + length
        with self.mmap_lock:
            self._check_alive()
            va = addr
            for vma in self.vmas:  # sorted: must cover [addr, end) without holes
                if vma.vm_end <= va:
                    continue
                if vma.vm_start > va or va >= end:
                    break
                va = vma.vm_end
            if va < end:
                raise MemoryError(f"mprotect [{addr:#x}, {end:#x}): unmapped hole at {va:#x}")
            self._split_at(addr)
            self._split_at(end)
            for vma in self.vmas:
                if addr <= vma.vm_start and vma.vm_end <= end:
                    vma.vm_flags = prot
            self._merge()
            newprot = vm_get_page_prot(prot)
            changed = False
            for _, ptep, _ in list(self._iter_ptes(addr, end)):
                self._update_pte(ptep, lambda pte: pte_modify(pte, newprot))
                changed = True
            if changed:
                # change_protection: flush_tlb_range (all levels), then the notifier range end.
                self._broadcast(flush_tlb_range(self._tlbi_asids(), addr, end, False))
                mmu_notifier_invalidate_range(self, addr, end)

    def _check_range(self, addr: int, length: int) -> None:
        if addr % PAGE_SIZE:
            raise ValueError(f"address {addr:#x} is not page aligned")
        if length <= 0 or addr < 0 or addr + length > TASK_SIZE:
            raise ValueError(f"range [{addr:#x}, +{length:#x}) is empty or not in user space")

    def _get_unmapped_area(self, length: int) -> int:
        """Top-down first fit below MMAP_BASE, as the arm64 default mmap layout."""
        top = MMAP_BASE
        for vma in sorted(self.vmas, key=lambda v: v.vm_start, reverse=True):
            if vma.vm_start >= top:
                continue
            if top - vma.vm_end >= length:
                return top - length
            top = vma.vm_start
        if top - length < MMAP_MIN_ADDR:
            raise MemoryError(f"no {length:#x}-byte hole in the address space")
        return top - length

    def _split_at(self, addr: int) -> None:
        for i, vma in enumerate(self.vmas):
            if vma.vm_start < addr < vma.vm_end:
                self.vmas[i:i + 1] = [VMA(vma.vm_start, addr, vma.vm_flags),
                                      VMA(addr, vma.vm_end, vma.vm_flags)]
                return

    def _merge(self) -> None:
        """Sort and merge adjacent VMAs with equal flags (vma_merge)."""
        self.vmas.sort(key=lambda v: v.vm_start)
        merged: list[VMA] = []
        for vma in self.vmas:
            if merged and merged[-1].vm_end == vma.vm_start \
                    and merged[-1].vm_flags == vma.vm_flags:
                merged[-1].vm_end = vma.vm_end
            else:
                merged.append(vma)
        self.vmas = merged

    def _unmap(self, start: int, end: int) -> None:
        """do_munmap: remove VMAs, zap PTEs, TLBI, notify, then free pages and tables."""
        if not any(v.vm_start < end and start < v.vm_end for v in self.vmas):
            return
        self._split_at(start)
        self._split_at(end)
        self.vmas = [v for v in self.vmas if not (start <= v.vm_start and v.vm_end <= end)]
        pages, tables, span = self._clear_range(start, end)
        if span is not None:
            # tlb_flush: leaf-only TLBIs unless table pages went too (walk caches hold them).
            self._broadcast(
                flush_tlb_range(self._tlbi_asids(), span[0], span[1], last_level=not tables))
        mmu_notifier_invalidate_range(self, start, end)
        self._free(pages, tables)

    def _free(self, pages: list[int], tables: list[int]) -> None:
        for pa in pages:
            self.page_alloc.free(pa)
        for pa in tables:
            self.table_alloc.free(pa)
        self.rss -= len(pages)

    # -- page tables ------------------------------------------------------------------------
    def _read_desc(self, addr: int, level: int):
        return decode_descriptor(self.mem.read64(addr, source=CPU), level)

    def _walk(self, va: int, alloc: bool) -> int | None:
        """PA of the level-3 entry for ``va``, allocating missing tables if ``alloc``."""
        if self.pgd is None:
            return None
        table = self.pgd
        for level in range(LAST_LEVEL):
            slot = desc_addr(table, va, level)
            desc = self._read_desc(slot, level)
            if isinstance(desc, TableDescriptor):
                table = desc.NextTableAddr
                continue
            if not isinstance(desc, InvalidDescriptor):
                raise RuntimeError(f"{self.name}: unexpected {desc!r} at level {level}")
            if not alloc:
                return None
            table = self.table_alloc.alloc(PAGE_SIZE, align=PAGE_SIZE)
            self.mem.write64(slot, TableDescriptor(Valid=1, NextTableAddr=table).to_int(),
                             source=CPU)
        return desc_addr(table, va, LAST_LEVEL)

    def _update_pte(self, ptep: int, fn: Callable[[int], int]) -> int:
        """Atomic read-modify-write: the SMMU may set AF/dirty (HTTU) in the same PTE."""
        while True:
            old = self.mem.read64(ptep, source=CPU)
            new = fn(old)
            if new == old or self.mem.cas64(ptep, old, new, source=CPU) == old:
                return new

    def _ptep_get_and_clear(self, ptep: int) -> int:
        """Atomically clear a PTE and return its last value (including any HTTU update)."""
        while True:
            old = self.mem.read64(ptep, source=CPU)
            if self.mem.cas64(ptep, old, 0, source=CPU) == old:
                return old

    def _iter_ptes(self, start: int, end: int) -> Iterator[tuple[int, int, int]]:
        """(va, ptep, pte) of every present PTE in ``[start, end)``, skipping empty tables."""
        if self.pgd is None:
            return
        yield from self._iter_table(self.pgd, 0, 0, start, end)

    def _iter_table(self, table: int, level: int, base: int, start: int,
                    end: int) -> Iterator[tuple[int, int, int]]:
        for slot, va in _slots(table, level, base, start, end):
            raw = self.mem.read64(slot, source=CPU)
            if level == LAST_LEVEL:
                if pte_present(raw):
                    yield va, slot, raw
            else:
                desc = decode_descriptor(raw, level)
                if isinstance(desc, TableDescriptor):
                    yield from self._iter_table(desc.NextTableAddr, level + 1, va, start, end)

    def _clear_range(self, start: int, end: int
                     ) -> tuple[list[int], list[int], tuple[int, int] | None]:
        """Clear PTEs and now-empty tables of ``[start, end)`` without freeing anything.

        Returns (data pages, table pages, VA span that needs a TLBI or None). The pgd stays.
        """
        assert self.pgd is not None
        pages: list[int] = []
        tables: list[int] = []
        touched: list[int] = []
        self._clear_table(self.pgd, 0, 0, start, end, pages, tables, touched)
        span = (min(touched), max(touched) + PAGE_SIZE) if touched else None
        return pages, tables, span

    def _clear_table(self, table: int, level: int, base: int, start: int, end: int,
                     pages: list[int], tables: list[int], touched: list[int]) -> bool:
        """Clear within one table; returns True if the table ended up empty."""
        for slot, va in _slots(table, level, base, start, end):
            raw = self.mem.read64(slot, source=CPU)
            if level == LAST_LEVEL:
                if pte_present(raw):
                    pages.append(pte_pa(self._ptep_get_and_clear(slot)))
                    touched.append(va)
                continue
            desc = decode_descriptor(raw, level)
            if not isinstance(desc, TableDescriptor):
                continue
            child = desc.NextTableAddr
            if self._clear_table(child, level + 1, va, start, end, pages, tables, touched):
                self.mem.write64(slot, 0, source=CPU)
                tables.append(child)
                touched.append(max(va, start))
        return self.mem.peek(table, PAGE_SIZE) == bytes(PAGE_SIZE)

    # -- faults -----------------------------------------------------------------------------
    def handle_mm_fault(self, addr: int, write: bool, exec: bool = False,
                        user: bool = True) -> FaultResult:
        """Resolve a fault at ``addr`` as Linux would; 0 (FaultResult.OK) when fixed.

        No page yet: allocate a zeroed page and map it with the VMA's protection, dirty if the
        fault is a write. A write to a clean writable page marks it dirty. ``user`` is
        FAULT_FLAG_USER (it changes nothing here: no OOM-killer or uaccess model).
        """
        del user
        with self.mmap_lock:
            if self.exited or not 0 <= addr < TASK_SIZE:
                return FaultResult.BADMAP
            vma = self.find_vma(addr)
            if vma is None:
                return FaultResult.BADMAP
            if not vma.allows(write, exec):
                return FaultResult.BADACCESS
            try:
                ptep = self._walk(addr, alloc=True)
            except MemoryError:
                return FaultResult.OOM
            assert ptep is not None
            pte = self.mem.read64(ptep, source=CPU)
            if not pte_present(pte):
                try:
                    pa = self.page_alloc.alloc(PAGE_SIZE, align=PAGE_SIZE)
                except MemoryError:
                    return FaultResult.OOM
                new = mk_pte(pa, vma.vm_page_prot)
                if write:
                    new = pte_mkdirty(new)
                self.mem.write64(ptep, new, source=CPU)
                self.rss += 1
                return FaultResult.OK
            # Access-flag fault (e.g. after migration) and/or write fault on a clean page.
            self._update_pte(ptep, lambda p: pte_mkdirty(pte_mkyoung(p)) if write
                             and not pte_user_writable(p) else pte_mkyoung(p))
            return FaultResult.OK

    def _broadcast(self, tlbis: list[Tlbi]) -> None:
        """Issue inner-shareable TLBIs (and their DSB): logged, and seen by every DVM
        receiver before the next step of the caller."""
        if self.features.vhe:
            tlbis = [dataclasses.replace(t, e2h=True) for t in tlbis]
        self.tlbi_log.extend(tlbis)
        for receive in self.dvm:
            receive(tlbis)

    def _present_ptep(self, va: int) -> int | None:
        """The level-3 entry's address for page ``va`` if it holds a present PTE (mmap_lock
        held, the mm alive)."""
        self._check_alive()
        ptep = self._walk(va, alloc=False)
        if ptep is None or not pte_present(self.mem.read64(ptep, source=CPU)):
            return None
        return ptep

    def ptep_clear_flush_young(self, va: int) -> bool:
        """Page aging (ptep_clear_flush_young_notify): clear AF atomically, as an HTTU agent
        may be setting it in the same PTE, and TLBI the page if it was young; True if it was.
        No secondary MMU is told (Linux's SMMU SVA notifier has no clear_flush_young), so an
        SMMU that cached the entry may go on using it without setting AF again."""
        with self.mmap_lock:
            va -= va % PAGE_SIZE
            ptep = self._present_ptep(va)
            if ptep is None:
                return False
            young = False

            def old(p: int) -> int:
                nonlocal young
                young = pte_young(p)
                return pte_mkold(p)

            self._update_pte(ptep, old)
            if young:
                self._broadcast(flush_tlb_range(self._tlbi_asids(), va, va + PAGE_SIZE,
                                                     True))
            return young

    def page_mkclean(self, va: int) -> bool:
        """Write-back's dirty harvest (page_mkclean_one): the PTE is cleared and flushed, the
        secondary MMUs invalidated (mmu notifier), and the page mapped again write-protected
        and clean; True if it was dirty, by the CPU or by an HTTU agent (AP[2] cleared).
        A later write faults, so no write goes through the page after the invalidation."""
        with self.mmap_lock:
            va -= va % PAGE_SIZE
            ptep = self._present_ptep(va)
            if ptep is None:
                return False
            old = self._ptep_get_and_clear(ptep)
            self._broadcast(flush_tlb_range(self._tlbi_asids(), va, va + PAGE_SIZE, True))
            mmu_notifier_invalidate_range(self, va, va + PAGE_SIZE)
            self.mem.write64(ptep, pte_mkclean(pte_wrprotect(old)), source=CPU)
            return pte_dirty(old)

    def migrate_page(self, va: int) -> int:
        """Move the page at ``va`` to a new frame, as page migration/compaction does.

        Order as Linux: clear the PTE (a migration entry), TLBI the page, notify secondary
        MMUs, copy, install the new PTE (clean and old: AF=0, like remove_migration_pte), free
        the old page. Returns the new PA.
        """
        with self.mmap_lock:
            self._check_alive()
            va -= va % PAGE_SIZE
            vma = self.find_vma(va)
            ptep = self._walk(va, alloc=False)
            old = None if ptep is None else self.mem.read64(ptep, source=CPU)
            if vma is None or ptep is None or old is None or not pte_present(old):
                raise ValueError(f"{self.name}: no page mapped at {va:#x}")
            new_pa = self.page_alloc.alloc(PAGE_SIZE, align=PAGE_SIZE, zero=False)
            old_pa = pte_pa(self._ptep_get_and_clear(ptep))
            self._broadcast(flush_tlb_range(self._tlbi_asids(), va, va + PAGE_SIZE, True))
            mmu_notifier_invalidate_range(self, va, va + PAGE_SIZE)
            self.mem.write(new_pa, self.mem.read(old_pa, PAGE_SIZE, source=CPU), source=CPU)
            self.mem.write64(ptep, pte_mkold(mk_pte(new_pa, vma.vm_page_prot)), source=CPU)
            self.page_alloc.free(old_pa)
            return new_pa

    # -- what the CPU sees ------------------------------------------------------------------
    def pte(self, va: int) -> int | None:
        """The raw level-3 entry for ``va``, or None if no level-3 table covers it."""
        with self.mmap_lock:
            ptep = self._walk(va, alloc=False)
            return None if ptep is None else self.mem.read64(ptep, source=CPU)

    def translate(self, va: int) -> int | None:
        """PA that a valid PTE maps ``va`` to (ignoring permissions), else None."""
        if not 0 <= va < TASK_SIZE:
            return None
        raw = self.pte(va)
        if raw is None:
            return None
        desc = decode_descriptor(raw, LAST_LEVEL)
        if not isinstance(desc, PageDescriptor):
            return None
        return desc.OutputAddr | va % PAGE_SIZE

    def _cpu_access(self, va: int, write: bool, exec: bool = False) -> int:
        """PA for an EL0 access, faulting like the CPU would (at most one fixup per access).
        With FEAT_HAFDBS the CPU's own walk sets AF (HAFDBS >= 1) and makes a clean DBM page
        dirty on a write (HAFDBS = 2) by compare-and-swap, as an SMMU with HTTU does, instead
        of faulting."""
        access = "write" if write else "exec" if exec else "read"
        ok = pte_user_writable if write else pte_user_exec if exec else pte_user_readable
        for _ in range(2):
            raw = self.pte(va) if 0 <= va < TASK_SIZE else None
            if raw is not None and self.features.hafdbs:
                raw = self._hw_update(va, raw, write)
            if raw is not None and ok(raw) and pte_young(raw):
                return pte_pa(raw) | va % PAGE_SIZE
            result = self.handle_mm_fault(va, write, exec)
            if result.error:
                raise SegmentationFault(va, access, result)
        raise RuntimeError(f"{self.name}: fault at {va:#x} ({access}) did not fix the PTE")

    def _hw_update(self, va: int, raw: int, write: bool) -> int:
        """FEAT_HAFDBS on the CPU's walk: the PTE as the hardware leaves it (AF set; AP[2]
        cleared for a write to a DBM page where HAFDBS = 2), updated by compare-and-swap."""
        if not pte_present(raw) or not pte_user_readable(raw):
            return raw  # a fault either way: software decides
        with self.mmap_lock:
            ptep = self._walk(va, alloc=False)
            if ptep is None:
                return raw

            def hw(p: int) -> int:
                if not pte_user_readable(p):
                    return p
                p = pte_mkyoung(p)
                if write and self.features.hafdbs >= 2 and pte_write(p):
                    p &= ~PTE_RDONLY
                return p

            return self._update_pte(ptep, hw)

    def read(self, va: int, length: int) -> bytes:
        """Load ``length`` bytes at ``va`` as user code would."""
        out = bytearray()
        while length > 0:
            n = min(length, PAGE_SIZE - va % PAGE_SIZE)
            out += self.mem.read(self._cpu_access(va, write=False), n, source=CPU)
            va, length = va + n, length - n
        return bytes(out)

    def write(self, va: int, data: bytes) -> None:
        """Store ``data`` at ``va`` as user code would (faulting pages in, marking them dirty)."""
        data = bytes(data)
        while data:
            n = min(len(data), PAGE_SIZE - va % PAGE_SIZE)
            self.mem.write(self._cpu_access(va, write=True), data[:n], source=CPU)
            va, data = va + n, data[n:]

    def __repr__(self) -> str:
        pgd = "freed" if self.pgd is None else f"{self.pgd:#x}"
        return (f"MM({self.name}, pgd={pgd}, ctx={self.context.id:#x}, "
                f"vmas={len(self.vmas)}, rss={self.rss})")

