"""The arm64 ASID allocator with SVA pinning (models/cpu/asid.py, ref §8.5).

Small ASID spaces (4 bits) make rollovers cheap to reach; the expected ASIDs are worked out by
hand from the allocation rules: lowest free index at or after the last one allocated, ASID 0
never used, and a rollover keeping pinned ASIDs and every CPU's running one.
"""

from __future__ import annotations

import pytest

from models.cpu import MM, AsidAllocator, CpuFeatures, MMContext, TlbiOp
from models.memory import FrameAllocator, PhysicalMemory

GEN = 1 << 4  # one generation step with 4-bit ASIDs


class Task:
    """Just enough of an mm for the allocator: a context."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.context = MMContext()

    def __repr__(self) -> str:
        return f"Task({self.name}, {self.context.id:#x})"


def alloc(asid_bits: int = 4, nr_cpus: int = 2, kpti: bool = False) -> AsidAllocator:
    return AsidAllocator(CpuFeatures(asid_bits=asid_bits, nr_cpus=nr_cpus, kpti=kpti))


def test_limits_match_reference() -> None:
    assert AsidAllocator(CpuFeatures()).max_pinned_asids == 65536 - 4 - 2
    assert AsidAllocator(CpuFeatures(kpti=True)).max_pinned_asids == 32768 - 4 - 2
    assert AsidAllocator(CpuFeatures(asid_bits=8, nr_cpus=8)).max_pinned_asids == 256 - 10
    with pytest.raises(ValueError):
        AsidAllocator(CpuFeatures(asid_bits=2, nr_cpus=4))


def test_fresh_allocation_and_fast_path() -> None:
    a = alloc()
    m1, m2 = Task("m1"), Task("m2")
    assert a.switch_mm(0, m1) == 1 and m1.context.id == GEN | 1
    assert a.switch_mm(1, m2) == 2 and m2.context.id == GEN | 2
    assert a.switch_mm(0, m2) == 2 and a.switch_mm(1, m1) == 1  # current generation: reuse
    assert a.active_asids == [GEN | 2, GEN | 1] and a.local_flushes == []
    assert a.asid_map == {1, 2} and a.rollovers == 0


def test_rollover_keeps_pinned_and_active_asids() -> None:
    a = alloc()  # 15 usable ASIDs (1..15), 2 CPUs, max 12 pinned
    b, p = Task("b"), Task("p")
    assert a.switch_mm(1, b) == 1
    assert a.mm_context_get(p) == 2  # never ran: pinning allocates
    others = [Task(f"m{i}") for i in range(3, 16)]
    for i, m in enumerate(others, start=3):
        assert a.switch_mm(0, m) == i
    assert a.generation == GEN and a.rollovers == 0

    n = Task("n")
    assert a.switch_mm(0, n) == 3  # 1 (cpu1), 2 (pinned), 15 (cpu0) survive the rollover
    assert a.generation == 2 * GEN and a.rollovers == 1 and n.context.id == 2 * GEN | 3
    assert a.asid_map == {1, 2, 3, 15} and a.reserved_asids == [GEN | 15, GEN | 1]
    assert a.local_flushes == [0] and a.tlb_flush_pending == {1}

    assert a.switch_mm(1, b) == 1 and b.context.id == 2 * GEN | 1  # reserved on cpu1
    assert a.local_flushes == [0, 1] and a.tlb_flush_pending == set()
    assert a.mm_context_get(p) == 2 and p.context.pinned == 2  # same ASID, refcount 2
    assert a.switch_mm(0, p) == 2 and p.context.id == 2 * GEN | 2
    assert a.switch_mm(0, others[-1]) == 15  # was cpu0's reserved ASID
    assert a.switch_mm(0, others[0]) == 4  # its old number 3 went to n: fresh one
    assert a.switch_mm(0, others[2]) == 5  # old number 5 still free: kept


def test_pinned_asid_is_never_handed_out_again_across_rollovers() -> None:
    a = alloc()
    p = Task("p")
    pinned = a.mm_context_get(p)
    seen_gens = set()
    for i in range(60):
        m = Task(f"m{i}")
        assert a.switch_mm(i % 2, m) != pinned
        seen_gens.add(a.generation)
    assert len(seen_gens) > 3
    assert a.switch_mm(0, p) == pinned and a.gen_match(p.context.id)


def test_unique_asids_within_a_generation() -> None:
    a = alloc()
    tasks = [Task(f"t{i}") for i in range(40)]
    for i, t in enumerate(tasks):
        a.switch_mm(i % 2, t)
        live = [x.context.id for x in tasks if a.gen_match(x.context.id)]
        assert len(live) == len(set(live))
        assert all(x & a.asid_mask for x in live)  # ASID 0 is never allocated


def test_get_on_old_generation_allocates_fresh() -> None:
    a = alloc()
    old = Task("old")
    a.switch_mm(0, old)  # ASID 1, generation 1
    for i in range(15):
        a.switch_mm(1, Task(f"f{i}"))  # 2..15, then a rollover
    assert a.rollovers == 1 and not a.gen_match(old.context.id)
    asid = a.mm_context_get(old)
    assert a.gen_match(old.context.id) and asid == old.context.id & a.asid_mask
    assert a.asid2idx(asid) in a.pinned_asid_map


def test_max_pinned_refusal_and_refcounted_put() -> None:
    a = alloc()
    assert a.max_pinned_asids == 12
    tasks = [Task(f"p{i}") for i in range(13)]
    asids = [a.mm_context_get(t) for t in tasks[:12]]
    assert asids == list(range(1, 13))
    assert a.mm_context_get(tasks[12]) == 0 and tasks[12].context.pinned == 0
    assert a.mm_context_get(tasks[0]) == 1  # re-pinning an already pinned mm is allowed
    a.mm_context_put(tasks[0])
    assert a.mm_context_get(tasks[12]) == 0  # still 12 pinned mms
    a.mm_context_put(tasks[0])
    assert tasks[0].context.pinned == 0 and 1 not in a.pinned_asid_map
    assert a.nr_pinned_asids == 11
    assert a.mm_context_get(tasks[12]) == 13
    with pytest.raises(ValueError):
        a.mm_context_put(tasks[0])


def test_unpinned_asid_is_recycled_after_rollover() -> None:
    a = alloc()
    p = Task("p")
    assert a.mm_context_get(p) == 1
    a.mm_context_put(p)
    tasks = [Task(f"m{i}") for i in range(15)]
    for t in tasks:  # 2..15, then a rollover that frees everything not running
        a.switch_mm(0, t)
    assert a.rollovers == 1
    assert tasks[-1].context.id == 2 * GEN | 1  # the unpinned ASID is reused at once


def test_kpti_pairs_and_user_asid() -> None:
    a = alloc(kpti=True)  # 8 index slots, ASIDs 2,4,..,14; max pinned 8 - 2 - 2
    assert a.num_user_asids == 8 and a.max_pinned_asids == 4
    tasks = [Task(f"k{i}") for i in range(8)]
    got = [a.switch_mm(0, t) for t in tasks[:7]]
    assert got == [2, 4, 6, 8, 10, 12, 14]  # even: kernel ASID; user ASID = kernel | 1
    assert a.mm_context_get(tasks[0]) == 3  # the odd (user) ASID the SMMU must use
    assert a.switch_mm(0, tasks[7]) == 4  # rollover: idx 1 pinned, idx 7 running on cpu0
    assert a.rollovers == 1 and a.asid_map == {0, 1, 2, 7}
    for t in tasks[1:4]:
        assert a.mm_context_get(t) & 1
    assert a.mm_context_get(Task("x")) == 0  # 4 pinned


def test_switch_mm_tags_the_mm_tlbis() -> None:
    mem = PhysicalMemory(48)
    fa = FrameAllocator(mem, 0x10_0000, 0x100_0000)
    feats = CpuFeatures(kpti=True)
    a = AsidAllocator(feats)
    mm = MM(mem, fa, features=feats)
    a.switch_mm(3, mm)
    user_asid = a.mm_context_get(mm)
    assert user_asid == mm.asid | 1 == 3
    va = mm.mmap(None, 0x1000, 3, populate=True)
    mm.munmap(va, 0x1000)
    assert {(t.op, t.asid) for t in mm.tlbi_log} == {(TlbiOp.VAE1IS, 2), (TlbiOp.VAE1IS, 3)}
    a.mm_context_put(mm)
    mm.exit()
