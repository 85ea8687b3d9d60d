"""The CPU's view of a process (models/cpu/mm.py): page tables, PTE bits, faults, notifiers.

Tables are walked here independently of the MM, with models.arch.pgtable's decoders, and PTE
values are compared with constants derived by hand from ref §4.2/§4.4 and the Linux arm64
conventions (bit 51 PTE_WRITE/DBM, bit 7 PTE_RDONLY = AP[2], bit 6 PTE_USER = AP[1]).
"""

from __future__ import annotations

import pytest

from models.arch import pgtable as pt
from models.arch.cd import CD
from models.cpu import (
    MM,
    CpuFeatures,
    FaultResult,
    MMUNotifier,
    MMUNotifierOps,
    SegmentationFault,
    TlbiOp,
    mmu_notifier_get,
    mmu_notifier_put,
    mmu_notifier_register,
    mmu_notifier_synchronize,
    mmu_notifier_unregister,
)
from models.cpu.pgprot import (
    PROT_EXEC,
    PROT_NONE,
    PROT_READ,
    PROT_WRITE,
    pte_dirty,
    pte_hw_dirty,
    pte_young,
)
from models.memory import PAGE_SIZE, FrameAllocator, PhysicalMemory

RW = PROT_READ | PROT_WRITE
PAGE = 0x1000

# Hand-derived PTE attribute words (output address zero). Low 12 bits of every valid user page:
# Valid|Type = 0x3, AttrIndx=4 (MT_NORMAL) = 0x10, SH=ISH = 0x300, AF = 0x400, nG = 0x800,
# plus AP[2:1] at [7:6]: 0b11 (user, read-only/clean) = 0xC0 -> 0xFD3; 0b01 (user RW) -> 0xF53.
# High bits: DBM/PTE_WRITE 51 = 0x0008.., PXN 53 = 0x0020.., UXN 54 = 0x0040..,
# PTE_DIRTY 55 = 0x0080...
CLEAN_RW = 0x0068_0000_0000_0FD3  # PAGE_SHARED: DBM + PXN + UXN, AP=0b11
DIRTY_RW = 0x00E8_0000_0000_0F53  # + PTE_DIRTY, AP=0b01
READ_ONLY = 0x0060_0000_0000_0FD3  # PAGE_READONLY: PXN + UXN, AP=0b11
READ_EXEC = 0x0020_0000_0000_0FD3  # PAGE_READONLY_EXEC: PXN only
CLEAN_RWX = 0x0028_0000_0000_0FD3  # PAGE_SHARED_EXEC: DBM + PXN
OA_MASK = 0x0000_FFFF_FFFF_F000


@pytest.fixture
def mem() -> PhysicalMemory:
    return PhysicalMemory(48)


@pytest.fixture
def tables(mem: PhysicalMemory) -> FrameAllocator:
    return FrameAllocator(mem, 0x10_0000, 0x40_0000)


@pytest.fixture
def pages(mem: PhysicalMemory) -> FrameAllocator:
    return FrameAllocator(mem, 0x1000_0000, 0x2000_0000)


@pytest.fixture
def mm(mem: PhysicalMemory, tables: FrameAllocator, pages: FrameAllocator) -> MM:
    return MM(mem, tables, pages)


def walk(mem: PhysicalMemory, pgd: int, va: int) -> list[pt.Descriptor]:
    """Descriptors read for ``va`` from L0 down to the first non-table one (ref §4.1)."""
    out: list[pt.Descriptor] = []
    table = pgd
    for level in range(4):
        index = (va >> (39 - 9 * level)) & 0x1FF
        desc = pt.decode_descriptor(mem.read64(table + 8 * index), level)
        out.append(desc)
        if not isinstance(desc, pt.TableDescriptor):
            break
        table = desc.NextTableAddr
    return out


def leaf(mem: PhysicalMemory, mm: MM, va: int) -> pt.Descriptor:
    descs = walk(mem, mm.pgd, va)
    assert len(descs) == 4, f"no level-3 table for {va:#x}: {descs}"
    return descs[-1]


class Recorder(MMUNotifier):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []

    def release(self, mm: MM) -> None:
        self.calls.append(("release",))

    def invalidate_range(self, mm: MM, start: int, end: int) -> None:
        self.calls.append(("invalidate_range", start, end))


# -- demand paging and PTE bits --------------------------------------------------------------

def test_read_fault_maps_clean_writable_page(mem, mm, tables, pages) -> None:
    va = mm.mmap(None, 2 * PAGE, RW)
    assert isinstance(walk(mem, mm.pgd, va)[0], pt.InvalidDescriptor)  # nothing until touched
    assert mm.translate(va) is None and pages.used == 0

    assert mm.read(va + 8, 8) == bytes(8)
    descs = walk(mem, mm.pgd, va)
    assert [type(d) for d in descs] == [pt.TableDescriptor] * 3 + [pt.PageDescriptor]
    for d in descs[:3]:  # Linux v5.7 user tables: Valid|Table and the address, no attributes
        assert d.to_int() == d.NextTableAddr | 0b11
        assert d.NextTableAddr in tables.allocations
    page = descs[3]
    pa = page.OutputAddr
    assert pages.allocations == {pa: PAGE}
    assert page.to_int() == CLEAN_RW | pa
    assert (page.AP, page.DBM, page.AF, page.nG) == (pt.AccessPerm.RO_ALL, 1, 1, 1)
    assert (page.SH, page.PXN, page.UXN, page.SW) == (pt.Shareability.ISH, 1, 1, 0)
    assert (mm.mair >> (8 * page.AttrIndx)) & 0xFF == 0xFF  # Normal WBWA
    assert mm.translate(va + 0x123) == pa + 0x123
    assert mm.rss == 1


def test_write_fault_makes_clean_page_dirty(mem, mm, pages) -> None:
    va = mm.mmap(None, PAGE, RW)
    mm.read(va, 1)
    pa = leaf(mem, mm, va).OutputAddr
    mm.write(va + 4, b"dirty")
    page = leaf(mem, mm, va)
    assert page.to_int() == DIRTY_RW | pa  # same page, AP 0b11 -> 0b01, PTE_DIRTY set
    assert page.AP == pt.AccessPerm.RW_ALL and page.DBM == 1
    assert pages.allocations == {pa: PAGE}
    assert mem.peek(pa + 4, 5) == b"dirty"
    assert mm.read(va + 4, 5) == b"dirty"


def test_first_touch_write_maps_dirty(mem, mm) -> None:
    va = mm.mmap(None, PAGE, RW)
    assert mm.handle_mm_fault(va, write=True) == FaultResult.OK
    page = leaf(mem, mm, va)
    assert page.to_int() == DIRTY_RW | page.OutputAddr


@pytest.mark.parametrize(("prot", "expected"), [
    (PROT_READ, READ_ONLY),
    (PROT_READ | PROT_EXEC, READ_EXEC),
    (PROT_EXEC, READ_EXEC),  # no execute-only user pages: readable
    (PROT_WRITE, CLEAN_RW),  # no write-only pages on AArch64
    (RW | PROT_EXEC, CLEAN_RWX),
])
def test_pte_bits_per_prot(mem, mm, prot: int, expected: int) -> None:
    va = mm.mmap(None, PAGE, prot)
    assert mm.handle_mm_fault(va, write=False, exec=bool(prot & PROT_EXEC)) == FaultResult.OK
    page = leaf(mem, mm, va)
    assert page.to_int() == expected | page.OutputAddr


def test_demand_paging_allocates_once(mem, mm, pages, tables) -> None:
    va = mm.mmap(None, 4 * PAGE, RW)
    mm.read(va, 1)
    used_tables = tables.used
    for _ in range(3):
        assert mm.handle_mm_fault(va + 0x10, write=False) == FaultResult.OK
        mm.read(va + 0x20, 4)
    mm.write(va, b"x")
    mm.write(va + 1, b"y")
    assert pages.used == PAGE and mm.rss == 1 and tables.used == used_tables
    mm.read(va + PAGE, 1)  # neighbour page shares the L3 table: one more data page only
    assert pages.used == 2 * PAGE and tables.used == used_tables


def test_access_across_page_boundary(mem, mm) -> None:
    va = mm.mmap(None, 2 * PAGE, RW)
    mm.write(va + PAGE - 3, b"abcdef")
    assert mm.read(va + PAGE - 3, 6) == b"abcdef"
    assert mem.peek(mm.translate(va + PAGE), 3) == b"def"


def test_populate_maps_every_page_clean(mem, mm, pages) -> None:
    va = mm.mmap(None, 3 * PAGE, RW, populate=True)
    assert pages.used == 3 * PAGE
    for i in range(3):
        page = leaf(mem, mm, va + i * PAGE)
        assert page.to_int() == CLEAN_RW | page.OutputAddr


def test_fault_errors(mem, mm) -> None:
    ro = mm.mmap(None, PAGE, PROT_READ)
    none = mm.mmap(None, PAGE, PROT_NONE)
    assert mm.handle_mm_fault(0x1000_0000, write=False) == FaultResult.BADMAP
    assert mm.handle_mm_fault(1 << 48, write=False) == FaultResult.BADMAP
    assert mm.handle_mm_fault(ro, write=True) == FaultResult.BADACCESS
    assert mm.handle_mm_fault(ro, write=False, exec=True) == FaultResult.BADACCESS
    assert mm.handle_mm_fault(none, write=False) == FaultResult.BADACCESS
    assert all(r.error for r in (FaultResult.BADMAP, FaultResult.BADACCESS, FaultResult.OOM))
    assert not FaultResult.OK.error
    assert mm.translate(ro) is None and mm.rss == 0
    with pytest.raises(SegmentationFault) as exc:
        mm.write(ro, b"x")
    assert exc.value.result == FaultResult.BADACCESS
    mm.read(ro, 1)
    assert leaf(mem, mm, ro).to_int() & ~OA_MASK == READ_ONLY  # still read-only after all
    with pytest.raises(SegmentationFault):
        mm.read(none, 1)


def test_out_of_memory_is_vm_fault_oom(mem, tables) -> None:
    tiny = FrameAllocator(mem, 0x8000_0000, 0x8000_1000)
    mm = MM(mem, tables, tiny)
    va = mm.mmap(None, 2 * PAGE, RW)
    assert mm.handle_mm_fault(va, write=True) == FaultResult.OK
    assert mm.handle_mm_fault(va + PAGE, write=True) == FaultResult.OOM


# -- address space layout --------------------------------------------------------------------

def test_mmap_top_down_and_map_fixed(mem, mm, pages) -> None:
    a = mm.mmap(None, PAGE, RW)
    b = mm.mmap(None, 2 * PAGE, PROT_READ)
    assert b + 2 * PAGE == a and a % PAGE == 0  # top-down, adjacent
    c = mm.mmap(0x40_0000, 3 * PAGE, RW)
    assert c == 0x40_0000 and mm.find_vma(c + 2 * PAGE).vm_flags == RW
    mm.write(c + PAGE, b"old")
    rec = Recorder()
    mmu_notifier_register(rec, mm)
    # MAP_FIXED over the middle page: the old page is unmapped (with notification) first.
    assert mm.mmap(c + PAGE, PAGE, PROT_READ) == c + PAGE
    assert ("invalidate_range", c + PAGE, c + 2 * PAGE) in rec.calls
    assert mm.read(c + PAGE, 3) == bytes(3)
    low = [(v.vm_start - c, v.vm_end - c, v.vm_flags) for v in mm.vmas if v.vm_start < b]
    assert low == [(0, PAGE, RW), (PAGE, 2 * PAGE, PROT_READ), (2 * PAGE, 3 * PAGE, RW)]
    mmu_notifier_unregister(rec, mm)


def test_vmas_merge_after_mprotect_back(mm) -> None:
    va = mm.mmap(None, 4 * PAGE, RW)
    mm.mprotect(va + PAGE, PAGE, PROT_READ)
    assert len(mm.vmas) == 3
    mm.mprotect(va + PAGE, PAGE, RW)
    assert [(v.vm_start, v.vm_end, v.vm_flags) for v in mm.vmas] == [(va, va + 4 * PAGE, RW)]
    with pytest.raises(MemoryError):
        mm.mprotect(va, 8 * PAGE, PROT_READ)  # hole above the VMA


# -- mprotect --------------------------------------------------------------------------------

def test_mprotect_rewrites_ptes_then_tlbi_then_notifier(mem, mm) -> None:
    va = mm.mmap(None, 2 * PAGE, RW)
    mm.write(va, b"data")
    pa = mm.translate(va)
    rec = Recorder()
    seen: list[tuple[int, int]] = []

    def check(mm_: MM, start: int, end: int) -> None:
        # PTE already read-only and the CPU TLBI already broadcast when the notifier runs.
        seen.append((leaf(mem, mm_, va).to_int(), len(mm_.tlbi_log)))
        Recorder.invalidate_range(rec, mm_, start, end)

    rec.invalidate_range = check  # type: ignore[method-assign]
    mmu_notifier_register(rec, mm)
    mm.mprotect(va, 2 * PAGE, PROT_READ)
    # pte_modify: new permission bits; dirty state kept in PTE_DIRTY, AP[2] set, DBM cleared.
    assert leaf(mem, mm, va).to_int() == 0x00E0_0000_0000_0FD3 | pa
    assert seen == [(0x00E0_0000_0000_0FD3 | pa, 2)]
    assert rec.calls == [("invalidate_range", va, va + 2 * PAGE)]
    assert [(t.op, t.asid, t.start) for t in mm.tlbi_log] == \
        [(TlbiOp.VAE1IS, 0, va), (TlbiOp.VAE1IS, 0, va + PAGE)]
    with pytest.raises(SegmentationFault):
        mm.write(va, b"x")

    mm.mprotect(va, 2 * PAGE, RW)  # writable again, dirty in software, clean in hardware
    assert leaf(mem, mm, va).to_int() == 0x00E8_0000_0000_0FD3 | pa
    mm.write(va, b"again")
    assert leaf(mem, mm, va).to_int() == DIRTY_RW | pa
    mmu_notifier_unregister(rec, mm)


def test_mprotect_none_keeps_page_behind_invalid_pte(mem, mm, pages) -> None:
    va = mm.mmap(None, PAGE, RW)
    mm.write(va, b"keep")
    pa = mm.translate(va)
    mm.mprotect(va, PAGE, PROT_NONE)
    desc = leaf(mem, mm, va)
    assert isinstance(desc, pt.InvalidDescriptor)  # Valid=0: the SMMU and CPU both fault
    # PAGE_NONE: PTE_PROT_NONE (58) + PTE_DIRTY (55) + UXN + PXN + AF/SH/AttrIndx/nG/RDONLY/Type
    assert desc.to_int() == 0x04E0_0000_0000_0F92 | pa
    assert mm.translate(va) is None and pa in pages.allocations
    with pytest.raises(SegmentationFault):
        mm.read(va, 1)
    mm.mprotect(va, PAGE, PROT_READ)
    assert mm.read(va, 4) == b"keep" and mm.translate(va) == pa


def test_mprotect_of_unpopulated_range_is_silent(mm) -> None:
    va = mm.mmap(None, PAGE, RW)
    rec = Recorder()
    mmu_notifier_register(rec, mm)
    mm.mprotect(va, PAGE, PROT_READ)
    assert rec.calls == [] and mm.tlbi_log == []
    mmu_notifier_unregister(rec, mm)


# -- munmap ----------------------------------------------------------------------------------

def test_munmap_frees_pages_and_tables_after_notifier(mem, mm, pages, tables) -> None:
    va = mm.mmap(None, 2 * PAGE, RW)
    mm.write(va, b"one")
    mm.write(va + PAGE, b"two")
    pas = [mm.translate(va), mm.translate(va + PAGE)]
    table_pas = [d.NextTableAddr for d in walk(mem, mm.pgd, va)[:3]]
    at_callback: list[dict] = []

    class Check(MMUNotifier):
        def invalidate_range(self, mm_: MM, start: int, end: int) -> None:
            at_callback.append({
                "range": (start, end),
                "pages_allocated": all(pa in pages.allocations for pa in pas),
                "tables_allocated": all(t in tables.allocations for t in table_pas),
                "contents": [mem.peek(pa, 3) for pa in pas],
                "pte_cleared": mm_.translate(va) is None,
                "tlbi_done": len(mm_.tlbi_log),
            })

    mmu_notifier_register(Check(), mm)
    mm.munmap(va, 2 * PAGE)
    assert at_callback == [{
        "range": (va, va + 2 * PAGE), "pages_allocated": True, "tables_allocated": True,
        "contents": [b"one", b"two"], "pte_cleared": True, "tlbi_done": 2,
    }]
    assert not any(pa in pages.allocations for pa in pas)
    assert tables.allocations == {mm.pgd: PAGE}  # every now-empty table went too
    assert isinstance(walk(mem, mm.pgd, va)[0], pt.InvalidDescriptor)
    # Tables were freed, so the TLBI must reach the walk caches: VAE1IS, not VALE1IS.
    assert [(t.op, t.start, t.end) for t in mm.tlbi_log] == \
        [(TlbiOp.VAE1IS, va, va + PAGE), (TlbiOp.VAE1IS, va + PAGE, va + 2 * PAGE)]
    assert mm.vmas == [] and mm.rss == 0


def test_partial_munmap_keeps_tables_and_uses_leaf_tlbi(mem, mm, pages) -> None:
    va = mm.mmap(None, 3 * PAGE, RW, populate=True)
    kept = mm.translate(va + 2 * PAGE)
    mm.munmap(va, PAGE)
    assert isinstance(leaf(mem, mm, va), pt.InvalidDescriptor)
    assert mm.translate(va + 2 * PAGE) == kept and pages.used == 2 * PAGE
    assert [(t.op, t.start) for t in mm.tlbi_log] == [(TlbiOp.VALE1IS, va)]
    assert [(v.vm_start, v.vm_end) for v in mm.vmas] == [(va + PAGE, va + 3 * PAGE)]


def test_large_munmap_flushes_by_asid(mm) -> None:
    va = mm.mmap(None, 600 * PAGE, RW)
    mm.read(va, 1)
    mm.read(va + 599 * PAGE, 1)
    mm.context.id = (1 << 16) | 0x42  # as if the ASID allocator had given it ASID 0x42
    mm.munmap(va, 600 * PAGE)
    assert [(t.op, t.asid) for t in mm.tlbi_log] == [(TlbiOp.ASIDE1IS, 0x42)]


def test_munmap_of_empty_range_does_nothing(mm) -> None:
    rec = Recorder()
    mmu_notifier_register(rec, mm)
    mm.munmap(0x40_0000, PAGE)
    va = mm.mmap(None, PAGE, RW)
    mm.munmap(va, PAGE)  # a VMA but no pages: notify, nothing to flush
    assert rec.calls == [("invalidate_range", va, va + PAGE)] and mm.tlbi_log == []
    mmu_notifier_unregister(rec, mm)


def test_kpti_tlbi_covers_kernel_and_user_asid(mem, tables, pages) -> None:
    mm = MM(mem, tables, pages, CpuFeatures(kpti=True))
    mm.context.id = (1 << 16) | 6
    va = mm.mmap(None, 2 * PAGE, RW, populate=True)
    mm.munmap(va + PAGE, PAGE)
    assert [(t.op, t.asid, t.start) for t in mm.tlbi_log] == \
        [(TlbiOp.VALE1IS, 6, va + PAGE), (TlbiOp.VALE1IS, 7, va + PAGE)]


# -- exit and notifiers ----------------------------------------------------------------------

def test_exit_calls_release_with_pages_mapped_then_frees(mem, mm, pages, tables) -> None:
    va = mm.mmap(None, PAGE, RW)
    mm.write(va, b"x")
    pa = mm.translate(va)
    log: list = []

    class Sub(MMUNotifier):
        def release(self, mm_: MM) -> None:
            log.append(("release", mm_.translate(va) == pa, pa in pages.allocations))

        def invalidate_range(self, mm_: MM, start: int, end: int) -> None:
            log.append(("invalidate_range", start, end))

    sub = Sub()
    mmu_notifier_register(sub, mm)
    pgd = mm.pgd
    mm.exit()
    assert log == [("release", True, True)]  # no invalidate_range for the teardown
    assert mm.exited and not mm.mmget_not_zero() and not sub.linked
    assert pages.used == 0 and tables.allocations == {pgd: PAGE}  # notifier holds mm_count
    assert [t.op for t in mm.tlbi_log] == [TlbiOp.ASIDE1IS]
    mmu_notifier_unregister(sub, mm)  # already released: no second release
    assert log == [("release", True, True)]
    assert mm.pgd is None and tables.used == 0
    with pytest.raises(ValueError):
        mm.mmap(None, PAGE, RW)


def test_exit_waits_for_mmget_users(mm) -> None:
    rec = Recorder()
    mmu_notifier_register(rec, mm)
    assert mm.mmget_not_zero()  # e.g. an IOPF handler working on the mm
    mm.exit()
    assert rec.calls == [] and not mm.exited
    mm.mmput()
    assert rec.calls == [("release",)] and mm.exited


def test_unregister_on_live_mm_calls_release(mm) -> None:
    rec = Recorder()
    mmu_notifier_register(rec, mm)
    with pytest.raises(ValueError):
        mmu_notifier_register(rec, mm)
    mmu_notifier_unregister(rec, mm)
    assert rec.calls == [("release",)] and mm.notifier_subscriptions == []
    assert mm.mm_count == 1


class CountingOps(MMUNotifierOps):
    def __init__(self) -> None:
        self.allocated: list[Recorder] = []
        self.freed: list[Recorder] = []

    def alloc_notifier(self, mm: MM) -> Recorder:
        sub = Recorder()
        self.allocated.append(sub)
        return sub

    def free_notifier(self, subscription: MMUNotifier) -> None:
        self.freed.append(subscription)


def test_notifier_get_put_one_per_ops_and_mm(mem, tables, pages, mm) -> None:
    mmu_notifier_synchronize()  # nothing pending from elsewhere
    ops, other = CountingOps(), CountingOps()
    a = mmu_notifier_get(ops, mm)
    assert mmu_notifier_get(ops, mm) is a and a.users == 2 and a.ops is ops
    b = mmu_notifier_get(other, mm)
    assert b is not a and len(ops.allocated) == 1
    mm2 = MM(mem, tables, pages, name="mm2")
    assert mmu_notifier_get(ops, mm2) is not a
    assert mm.mm_count == 3  # two notifiers hold the mm

    va = mm.mmap(None, PAGE, RW, populate=True)
    mm.munmap(va, PAGE)
    assert a.calls == b.calls == [("invalidate_range", va, va + PAGE)]

    mmu_notifier_put(a)
    assert a.linked and ops.freed == []
    mmu_notifier_put(a)
    assert not a.linked and ops.freed == []  # unlinked now, freed after the grace period
    assert mmu_notifier_get(ops, mm) is not a  # a new one for the same (ops, mm)
    mmu_notifier_synchronize()
    assert ops.freed == [a] and a.mm is None
    with pytest.raises(ValueError):
        mmu_notifier_put(a)


# -- what a CD mirrors -----------------------------------------------------------------------

def test_cd_fields_mirror_cpu_configuration(mem, tables, pages) -> None:
    mm = MM(mem, tables, pages, CpuFeatures(parange=2))  # 40-bit PA
    fields = mm.tcr_fields()
    assert fields == {"T0SZ": 16, "TG0": 0, "IR0": 1, "OR0": 1, "SH0": 3, "EPD1": 1,
                      "IPS": 2, "AA64": 1}
    assert mm.mair == 0x0000_BBFF_440C_0400
    cd = CD(**fields, TTB0=mm.pgd, MAIR=mm.mair, ASID=5, V=1)
    back = CD.from_int(cd.to_int())
    assert (back.T0SZ, back.TTB0, back.MAIR, back.IPS) == (16, mm.pgd, 0xBBFF_440C_0400, 2)
    assert back.problems() == []


def test_unsupported_configuration_is_refused(mem, tables) -> None:
    with pytest.raises(NotImplementedError):
        MM(mem, tables, features=CpuFeatures(va_bits=39))


def test_migration_notifies_before_freeing_and_maps_old_clean_pte(mem, mm, pages) -> None:
    va = mm.mmap(None, PAGE, RW)
    mm.write(va, b"move me")
    old_pa = mm.translate(va)
    seen: list = []

    class Sub(MMUNotifier):
        def invalidate_range(self, mm_: MM, start: int, end: int) -> None:
            seen.append((start, end, old_pa in pages.allocations, mm_.translate(va),
                         [t.op for t in mm_.tlbi_log]))

    sub = Sub()
    mmu_notifier_register(sub, mm)
    new_pa = mm.migrate_page(va + 5)
    assert new_pa != old_pa and old_pa not in pages.allocations
    assert seen == [(va, va + PAGE, True, None, [TlbiOp.VALE1IS])]
    # remove_migration_pte: vm_page_prot (clean) and old (AF=0): 0x0068...0FD3 minus AF 0x400
    assert leaf(mem, mm, va).to_int() == 0x0068_0000_0000_0BD3 | new_pa
    assert mm.read(va, 7) == b"move me"  # access-flag fault sets AF again
    assert leaf(mem, mm, va).to_int() == CLEAN_RW | new_pa
    mm.write(va, b"M")
    assert leaf(mem, mm, va).to_int() == DIRTY_RW | new_pa
    with pytest.raises(ValueError):
        mm.migrate_page(va + PAGE)
    mmu_notifier_unregister(sub, mm)


def test_hardware_dirty_state_survives_mprotect(mem, mm) -> None:
    va = mm.mmap(None, PAGE, RW)
    mm.read(va, 1)
    ptep_pa = walk(mem, mm.pgd, va)[2].NextTableAddr + 8 * ((va >> 12) & 0x1FF)
    clean = mem.read64(ptep_pa)
    pa = clean & OA_MASK
    # The SMMU (HTTU, HD=1) dirties a DBM page by clearing AP[2] only (ref §4.4).
    assert mem.cas64(ptep_pa, clean, clean & ~pt.PTE_RDONLY) == clean
    assert mm.pte(va) == 0x0068_0000_0000_0F53 | pa  # hardware-dirty: no PTE_DIRTY yet
    mm.mprotect(va, PAGE, PROT_READ)
    assert mm.pte(va) == 0x00E0_0000_0000_0FD3 | pa  # folded into PTE_DIRTY before AP[2] set


# ---- FEAT_HAFDBS on the CPU (ID_AA64MMFR1_EL1.HAFDBS) -------------------------------------
def _hafdbs_mm(mem, tables, pages, level: int) -> MM:
    return MM(mem, tables, pages, features=CpuFeatures(hafdbs=level), name="hw")


def _no_fault(va, write, exec=False):
    raise AssertionError(f"a fault at {va:#x}: the hardware should have updated the PTE")


def test_hafdbs_2_dirties_a_clean_page_without_a_fault(mem, tables, pages) -> None:
    """HAFDBS=2: a write to a clean DBM page clears AP[2] in hardware (by compare-and-swap),
    no fault taken; DBM stays set and the software dirty bit is not involved."""
    m = _hafdbs_mm(mem, tables, pages, 2)
    va = m.mmap(None, PAGE_SIZE, PROT_READ | PROT_WRITE)
    m.read(va, 1)  # a read fault maps it clean-writable
    m.handle_mm_fault = _no_fault  # type: ignore[method-assign]
    m.write(va, b"x")
    raw = m.pte(va)
    assert raw is not None and pte_hw_dirty(raw) and raw & pt.PTE_DBM


def test_hafdbs_1_sets_af_but_a_write_to_a_clean_page_still_faults(mem, tables, pages) -> None:
    """HAFDBS=1: the access flag in hardware (a migrated, old page is read without a fault),
    the dirty state still by the write fault."""
    m = _hafdbs_mm(mem, tables, pages, 1)
    va = m.mmap(None, PAGE_SIZE, PROT_READ | PROT_WRITE)
    m.read(va, 1)
    m.migrate_page(va)
    assert not pte_young(m.pte(va))
    real = m.handle_mm_fault
    m.handle_mm_fault = _no_fault  # type: ignore[method-assign]
    m.read(va, 1)
    assert pte_young(m.pte(va))
    m.handle_mm_fault = real  # type: ignore[method-assign]
    m.write(va, b"y")  # needs the fault: software marks it dirty
    assert pte_dirty(m.pte(va))
