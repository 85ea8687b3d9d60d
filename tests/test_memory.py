"""Tests of the shared sparse physical memory and the frame allocator."""

from __future__ import annotations

import itertools
import pickle
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.memory import (
    PAGE_SIZE,
    Access,
    ExternalAbort,
    FrameAllocator,
    PhysicalMemory,
)

TOP = 1 << 48


@pytest.fixture
def mem() -> PhysicalMemory:
    return PhysicalMemory()


# -- plain storage ----------------------------------------------------------------------------
def test_unwritten_memory_reads_zero_without_allocating(mem: PhysicalMemory) -> None:
    assert mem.read(0x1234_5678_9000, 3 * PAGE_SIZE + 5) == bytes(3 * PAGE_SIZE + 5)
    assert mem.read64(TOP - 8) == 0
    assert mem.read8(0) == 0
    assert mem.pages_allocated == 0


def test_bytes_round_trip_across_page_boundary(mem: PhysicalMemory) -> None:
    data = bytes(range(1, 201))
    addr = 3 * PAGE_SIZE - 100
    mem.write(addr, data)
    assert mem.read(addr, 200) == data
    assert mem.pages_allocated == 2
    # the neighbours stay zero and the split point is exact
    assert mem.read(addr - 1, 1) == b"\x00"
    assert mem.read(addr + 200, 1) == b"\x00"
    assert mem.read(3 * PAGE_SIZE, 1) == bytes([101])
    assert mem.read(3 * PAGE_SIZE - 1, 1) == bytes([100])


def test_write_accepts_bytes_like(mem: PhysicalMemory) -> None:
    mem.write(0x10, bytearray(b"ab"))
    mem.write(0x12, memoryview(b"cd"))
    assert mem.read(0x10, 4) == b"abcd"


WINDOW = TOP - 3 * PAGE_SIZE  # three pages at the very top of the address space


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3 * PAGE_SIZE - 1), st.binary(min_size=0, max_size=600)),
                max_size=12))
def test_random_writes_match_reference(writes: list[tuple[int, bytes]]) -> None:
    m = PhysicalMemory()
    ref = bytearray(3 * PAGE_SIZE)
    writes = [(off, data[: 3 * PAGE_SIZE - off]) for off, data in writes]
    for off, data in writes:
        m.write(WINDOW + off, data)
        ref[off:off + len(data)] = data
    assert m.read(WINDOW, 3 * PAGE_SIZE) == bytes(ref)
    for off, data in writes:
        assert m.read(WINDOW + off, len(data)) == bytes(ref[off:off + len(data)])


def test_little_endian_layout(mem: PhysicalMemory) -> None:
    mem.write64(0x2000, 0x0123_4567_89AB_CDEF)
    assert mem.read(0x2000, 8) == bytes([0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01])
    assert mem.read32(0x2000) == 0x89AB_CDEF
    assert mem.read32(0x2004) == 0x0123_4567
    assert [mem.read8(0x2000 + i) for i in range(3)] == [0xEF, 0xCD, 0xAB]
    mem.write32(0x2004, 0xDEAD_BEEF)
    mem.write8(0x2000, 0x11)
    assert mem.read64(0x2000) == 0xDEAD_BEEF_89AB_CD11


@given(st.integers(0, (1 << 64) - 1), st.integers(0, (TOP >> 3) - 1))
def test_word_round_trip(value: int, word_index: int) -> None:
    m = PhysicalMemory()
    addr = word_index * 8
    m.write64(addr, value)
    assert m.read64(addr) == value
    assert m.read(addr, 8) == value.to_bytes(8, "little")
    assert m.read32(addr) | m.read32(addr + 4) << 32 == value


# -- address and value checks -------------------------------------------------------------------
def test_last_byte_of_pa_space_is_accessible(mem: PhysicalMemory) -> None:
    mem.write8(TOP - 1, 0x5A)
    assert mem.read(TOP - 1, 1) == b"\x5a"
    mem.write64(TOP - 8, 7)
    assert mem.read64(TOP - 8) == 7


@pytest.mark.parametrize(
    ("call", "addr"),
    [
        (lambda m: m.read(TOP, 1), TOP),
        (lambda m: m.read(TOP - 1, 2), TOP - 1),
        (lambda m: m.write(TOP - 4, bytes(8)), TOP - 4),
        (lambda m: m.write(-1, b"x"), -1),
        (lambda m: m.read64(TOP), TOP),
        (lambda m: m.write32(TOP, 0), TOP),
        (lambda m: m.cas64(TOP, 0, 1), TOP),
        (lambda m: m.peek(TOP, 1), TOP),
        (lambda m: m.poke(TOP - 1, b"ab"), TOP - 1),
        (lambda m: m.fault_at(TOP, 1, False), TOP),
    ],
)
def test_out_of_range_access_names_address(mem: PhysicalMemory, call, addr: int) -> None:
    with pytest.raises(ValueError, match=f"{addr:#x}"):
        call(mem)
    assert mem.pages_allocated == 0


def test_smaller_pa_space() -> None:
    m = PhysicalMemory(pa_bits=32)
    m.write32(0xFFFF_FFFC, 1)
    with pytest.raises(ValueError, match="0x100000000"):
        m.read8(1 << 32)
    with pytest.raises(ValueError):
        PhysicalMemory(pa_bits=0)


@pytest.mark.parametrize(
    ("call", "addr"),
    [
        (lambda m: m.read32(0x1002), 0x1002),
        (lambda m: m.write32(0x1001, 0), 0x1001),
        (lambda m: m.read64(0x1004), 0x1004),
        (lambda m: m.write64(0x1004, 0), 0x1004),
        (lambda m: m.cas64(0x1004, 0, 1), 0x1004),
    ],
)
def test_misaligned_word_access(mem: PhysicalMemory, call, addr: int) -> None:
    with pytest.raises(ValueError, match=f"{addr:#x}.*misaligned"):
        call(mem)
    assert mem.pages_allocated == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.write8(0, 256),
        lambda m: m.write8(0, -1),
        lambda m: m.write32(0, 1 << 32),
        lambda m: m.write64(0, 1 << 64),
        lambda m: m.write64(0, -1),
        lambda m: m.cas64(0, 0, 1 << 64),
        lambda m: m.cas64(0, -1, 0),
    ],
)
def test_values_must_fit(mem: PhysicalMemory, call) -> None:
    with pytest.raises(ValueError, match="does not fit"):
        call(mem)
    assert mem.pages_allocated == 0


def test_non_int_value_rejected(mem: PhysicalMemory) -> None:
    with pytest.raises(TypeError):
        mem.write64(0, 1.0)  # type: ignore[arg-type]


# -- compare and swap ---------------------------------------------------------------------------
def test_cas_success_and_failure(mem: PhysicalMemory) -> None:
    mem.write64(0x40, 5)
    assert mem.cas64(0x40, 5, 0xFFFF_FFFF_FFFF_FFFF) == 5
    assert mem.read64(0x40) == 0xFFFF_FFFF_FFFF_FFFF
    assert mem.cas64(0x40, 5, 11) == 0xFFFF_FFFF_FFFF_FFFF
    assert mem.read64(0x40) == 0xFFFF_FFFF_FFFF_FFFF
    # unwritten memory is zero, so a CAS expecting zero succeeds
    assert mem.cas64(0x8000, 0, 3) == 0
    assert mem.read(0x8000, 8) == b"\x03" + bytes(7)


def test_cas_is_atomic_under_threads(mem: PhysicalMemory) -> None:
    per_thread, nthreads, addr = 1500, 4, 0x1000
    retries = [0] * nthreads

    def worker(idx: int) -> None:
        for _ in range(per_thread):
            while True:
                old = mem.read64(addr)
                if mem.cas64(addr, old, old + 1) == old:
                    break
                retries[idx] += 1

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # force frequent preemption between the read and the CAS
    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(nthreads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old_interval)
    assert mem.read64(addr) == per_thread * nthreads


# -- fault injection ----------------------------------------------------------------------------
def test_read_fault_reports_first_faulting_byte(mem: PhysicalMemory) -> None:
    mem.add_fault(0x1010, 0x1020, kind="decerr")
    with pytest.raises(ExternalAbort) as ei:
        mem.read(0x1000, 0x20)
    assert (ei.value.addr, ei.value.kind, ei.value.is_write) == (0x1010, "decerr", False)
    assert "0x1010" in str(ei.value)
    with pytest.raises(ExternalAbort) as ei:
        mem.read64(0x1018)
    assert ei.value.addr == 0x1018
    # end is exclusive, start is inclusive
    assert mem.read(0x1020, 8) == bytes(8)
    assert mem.read(0x1000, 0x10) == bytes(0x10)
    with pytest.raises(ExternalAbort):
        mem.read8(0x101F)


def test_fault_direction(mem: PhysicalMemory) -> None:
    mem.add_fault(0x0, 0x100, on="w")
    mem.add_fault(0x100, 0x200, on="r", kind="decerr")
    assert mem.read64(0x0) == 0
    with pytest.raises(ExternalAbort) as ei:
        mem.write64(0x8, 1)
    assert (ei.value.is_write, ei.value.kind) == (True, "slverr")
    mem.write64(0x108, 0x77)
    assert mem.peek(0x108, 1) == b"\x77"
    with pytest.raises(ExternalAbort) as ei:
        mem.read64(0x108)
    assert (ei.value.is_write, ei.value.kind, ei.value.addr) == (False, "decerr", 0x108)


def test_partially_overlapping_write_writes_nothing(mem: PhysicalMemory) -> None:
    mem.poke(0xFF0, b"\xaa" * 0x20)
    mem.add_fault(0x1008, 0x1009)
    with pytest.raises(ExternalAbort) as ei:
        mem.write(0xFF0, b"\x55" * 0x20)
    assert ei.value.addr == 0x1008 and ei.value.is_write
    assert mem.peek(0xFF0, 0x20) == b"\xaa" * 0x20
    assert mem.pages_allocated == 2


def test_fault_removal_and_clear(mem: PhysicalMemory) -> None:
    a = mem.add_fault(0x0, 0x40)
    b = mem.add_fault(0x0, 0x40)  # an identical range is a separate handle
    mem.remove_fault(a)
    with pytest.raises(ExternalAbort):
        mem.read8(0)
    mem.remove_fault(b)
    assert mem.read8(0) == 0
    with pytest.raises(ValueError):
        mem.remove_fault(a)
    mem.add_fault(0x0, 0x40)
    mem.add_fault(0x80, 0x100, on="r")
    assert len(mem.faults) == 2
    mem.clear_faults()
    assert mem.faults == ()
    mem.write64(0x80, 1)
    assert mem.read64(0x80) == 1


def test_fault_at(mem: PhysicalMemory) -> None:
    mem.add_fault(0x2000, 0x3000, kind="decerr", on="w")
    mem.add_fault(0x1FF0, 0x2008, kind="slverr", on="rw")
    assert mem.fault_at(0x1000, 0xFF0, False) is None
    assert mem.fault_at(0x1000, 0xFF1, False) == "slverr"
    assert mem.fault_at(0x2008, 8, False) is None
    assert mem.fault_at(0x2008, 8, True) == "decerr"
    # the range covering the lowest touched byte wins
    assert mem.fault_at(0x1FF8, 0x20, True) == "slverr"
    assert mem.fault_at(0x2000, 0x20, True) == "decerr"  # same first byte: the older range wins
    assert mem.fault_at(0x2000, 0, True) is None


def test_cas_faults_in_either_direction(mem: PhysicalMemory) -> None:
    mem.write64(0x100, 1)
    h = mem.add_fault(0x100, 0x108, on="w")
    with pytest.raises(ExternalAbort) as ei:
        mem.cas64(0x100, 1, 2)
    assert ei.value.is_write
    mem.remove_fault(h)
    mem.add_fault(0x104, 0x105, on="r", kind="decerr")
    with pytest.raises(ExternalAbort) as ei:
        mem.cas64(0x100, 1, 2)
    assert (ei.value.is_write, ei.value.addr, ei.value.kind) == (False, 0x104, "decerr")
    assert mem.peek(0x100, 8) == (1).to_bytes(8, "little")


@pytest.mark.parametrize(
    "args",
    [
        (0x100, 0x100, "slverr", "rw"),
        (0x200, 0x100, "slverr", "rw"),
        (0, TOP + 1, "slverr", "rw"),
        (0, 8, "okay", "rw"),
        (0, 8, "slverr", "x"),
    ],
)
def test_bad_fault_arguments(mem: PhysicalMemory, args) -> None:
    with pytest.raises(ValueError):
        mem.add_fault(*args)
    assert mem.faults == ()


def test_external_abort_pickles() -> None:
    e = pickle.loads(pickle.dumps(ExternalAbort(0x40, "decerr", True)))
    assert (e.addr, e.kind, e.is_write) == (0x40, "decerr", True)


# -- access log ---------------------------------------------------------------------------------
def test_log_disabled_by_default(mem: PhysicalMemory) -> None:
    mem.write64(0, 1)
    assert mem.log is None
    assert mem.take_log() == []


def test_log_contents(mem: PhysicalMemory) -> None:
    mem.poke(0x10, b"\x09" + bytes(7))
    mem.enable_log()
    mem.write32(0x20, 0x0102_0304, source="cpu")
    assert mem.read(0x10, 2, source="smmu") == b"\x09\x00"
    assert mem.cas64(0x10, 9, 10, source="smmu") == 9
    assert mem.cas64(0x10, 9, 11) == 10
    mem.peek(0x10, 8)
    mem.poke(0x30, b"z")
    log = mem.take_log()
    assert log == [
        Access("w", 0x20, 4, b"\x04\x03\x02\x01", "cpu"),
        Access("r", 0x10, 2, b"\x09\x00", "smmu"),
        Access("cas", 0x10, 8, b"\x09" + bytes(7), "smmu", swapped=True),
        Access("cas", 0x10, 8, b"\x0a" + bytes(7), None, swapped=False),
    ]
    assert not any(a.faulted for a in log)
    assert mem.take_log() == []
    mem.read8(0)
    assert len(mem.log or []) == 1
    mem.enable_log()  # already on: keeps entries
    assert len(mem.take_log()) == 1
    mem.disable_log()
    mem.read8(0)
    assert mem.log is None


def test_faulted_accesses_are_logged(mem: PhysicalMemory) -> None:
    mem.add_fault(0x100, 0x200, kind="decerr")
    mem.enable_log()
    for call in (lambda: mem.read64(0x100, source="smmu"),
                 lambda: mem.write(0xF8, b"\x01" * 16, source="cpu"),
                 lambda: mem.cas64(0x1F8, 0, 1, source="smmu")):
        with pytest.raises(ExternalAbort):
            call()
    log = mem.take_log()
    assert log == [
        Access("r", 0x100, 8, b"", "smmu", fault="decerr"),
        Access("w", 0xF8, 16, b"\x01" * 16, "cpu", fault="decerr"),
        Access("cas", 0x1F8, 8, b"", "smmu", fault="decerr", swapped=False),
    ]
    assert all(a.faulted for a in log)


# -- backdoor -----------------------------------------------------------------------------------
def test_peek_poke_bypass_faults_and_log(mem: PhysicalMemory) -> None:
    mem.add_fault(0, 0x1000)
    mem.enable_log()
    mem.poke(0xFFC, b"\x01\x02\x03\x04\x05\x06\x07\x08")
    assert mem.peek(0xFFC, 8) == b"\x01\x02\x03\x04\x05\x06\x07\x08"
    assert mem.take_log() == []
    mem.clear_faults()
    assert mem.read64(0xFF8) == 0x0403_0201_0000_0000


def test_clear(mem: PhysicalMemory) -> None:
    mem.write(0, b"x" * (2 * PAGE_SIZE))
    assert mem.pages_allocated == 2
    mem.clear()
    assert mem.pages_allocated == 0
    assert mem.read(0, 2 * PAGE_SIZE) == bytes(2 * PAGE_SIZE)


# -- frame allocator ----------------------------------------------------------------------------
def test_default_alignment_is_natural(mem: PhysicalMemory) -> None:
    fa = FrameAllocator(mem, 0x1_0000 + 8, 0x10_0000)
    cases = [(1, 64), (64, 64), (65, 128), (100, 128), (4096, 4096), (0x3000, 0x4000)]
    for size, align in cases:
        pa = fa.alloc(size)
        assert pa % align == 0, (size, hex(pa))
    pa = fa.alloc(64, align=0x10_000)
    assert pa % 0x10_000 == 0
    assert fa.used == sum(s for s, _ in cases) + 64
    assert fa.free_bytes == 0x10_0000 - 0x1_0008 - fa.used


def test_alloc_zeroes_through_backdoor(mem: PhysicalMemory) -> None:
    mem.poke(0x4000, b"\xff" * 0x200)
    mem.add_fault(0x4000, 0x4200)
    mem.enable_log()
    fa = FrameAllocator(mem, 0x4000, 0x8000)
    pa = fa.alloc(0x100)
    assert pa == 0x4000
    assert mem.peek(0x4000, 0x100) == bytes(0x100)
    pa2 = fa.alloc(0x100, zero=False)
    assert pa2 == 0x4100
    assert mem.peek(0x4100, 0x100) == b"\xff" * 0x100
    assert mem.take_log() == []


def test_allocator_errors(mem: PhysicalMemory) -> None:
    fa = FrameAllocator(mem, 0x1000, 0x2000)
    with pytest.raises(ValueError, match="positive"):
        fa.alloc(0)
    with pytest.raises(ValueError, match="power of two"):
        fa.alloc(64, align=48)
    with pytest.raises(MemoryError, match="0x2000"):
        fa.alloc(0x2000)
    pa = fa.alloc(0x800)
    with pytest.raises(ValueError, match="0x1800"):
        fa.free(0x1800)
    fa.free(pa)
    with pytest.raises(ValueError, match="double free"):
        fa.free(pa)
    with pytest.raises(ValueError):
        FrameAllocator(mem, 0x2000, 0x2000)
    with pytest.raises(ValueError):
        FrameAllocator(mem, 0, TOP + 1)


def test_alignment_padding_can_cause_exhaustion(mem: PhysicalMemory) -> None:
    # 0x1000 bytes free in total but no 0x1000-aligned block fits inside [0x800, 0x1800)
    fa = FrameAllocator(mem, 0x800, 0x1800)
    with pytest.raises(MemoryError):
        fa.alloc(0x1000)
    assert fa.alloc(0x1000, align=0x800) == 0x800


def test_freed_neighbours_coalesce(mem: PhysicalMemory) -> None:
    base = 0x40_0000
    fa = FrameAllocator(mem, base, base + 4 * PAGE_SIZE)
    pages = [fa.alloc(PAGE_SIZE) for _ in range(4)]
    assert pages == [base + i * PAGE_SIZE for i in range(4)]
    assert fa.free_blocks == []
    fa.free(pages[0])
    fa.free(pages[2])
    assert fa.free_blocks == [(pages[0], pages[1]), (pages[2], pages[3])]
    with pytest.raises(MemoryError):
        fa.alloc(2 * PAGE_SIZE, align=PAGE_SIZE)
    fa.free(pages[1])  # joins both neighbours
    assert fa.free_blocks == [(base, pages[3])]
    fa.free(pages[3])
    assert fa.free_blocks == [(base, base + 4 * PAGE_SIZE)]
    assert fa.alloc(4 * PAGE_SIZE) == base
    assert fa.free_bytes == 0


ALLOC_BASE, ALLOC_LIMIT = 0x3_0040, 0x3_4000  # deliberately not page aligned at the bottom

_ops = st.lists(
    st.one_of(
        st.tuples(st.just("alloc"), st.integers(1, 0x1800),
                  st.one_of(st.none(), st.sampled_from([1, 8, 64, 0x100, 0x1000]))),
        st.tuples(st.just("free"), st.integers(0, 1 << 16), st.none()),
    ),
    max_size=40,
)


def _lowest_fit(live: dict[int, int], size: int, align: int) -> int | None:
    """Reference: lowest aligned address in the window where ``size`` bytes are all free."""
    cursor = ALLOC_BASE
    for start in [*sorted(live), ALLOC_LIMIT]:
        pa = -(-cursor // align) * align
        if pa + size <= start:
            return pa
        if start < ALLOC_LIMIT:
            cursor = start + live[start]
    return None


@settings(max_examples=150, deadline=None)
@given(_ops)
def test_allocator_matches_reference(ops: list[tuple[str, int, int | None]]) -> None:
    mem = PhysicalMemory()
    fa = FrameAllocator(mem, ALLOC_BASE, ALLOC_LIMIT)
    live: dict[int, int] = {}
    for op, n, align in ops:
        if op == "alloc":
            eff_align = align if align is not None else max(64, 1 << (n - 1).bit_length())
            expected = _lowest_fit(live, n, eff_align)
            if expected is None:
                with pytest.raises(MemoryError):
                    fa.alloc(n, align)
                continue
            pa = fa.alloc(n, align)
            assert pa == expected  # first fit: the lowest suitable address
            assert pa % eff_align == 0
            assert pa >= ALLOC_BASE and pa + n <= ALLOC_LIMIT
            assert all(pa + n <= q or q + s <= pa for q, s in live.items())
            live[pa] = n
        elif live:
            pa = sorted(live)[n % len(live)]
            fa.free(pa)
            del live[pa]
        assert fa.used == sum(live.values())
        assert fa.free_bytes == ALLOC_LIMIT - ALLOC_BASE - sum(live.values())
        assert fa.allocations == live
    blocks = fa.free_blocks
    assert all(a[1] < b[0] for a, b in itertools.pairwise(blocks))  # sorted, never adjacent
    for pa in list(live):
        fa.free(pa)
    assert fa.free_blocks == [(ALLOC_BASE, ALLOC_LIMIT)]


def test_zero_length_access_touches_nothing(mem: PhysicalMemory) -> None:
    mem.add_fault(0x100, 0x200)
    assert mem.read(0x180, 0) == b""
    mem.write(0x180, b"")
    assert mem.pages_allocated == 0


# -- change tracking (models memoizing what they read rely on it) -----------------------------
@pytest.mark.parametrize("change", [
    lambda m: m.write(0x1008, b"\x01"),
    lambda m: m.write8(0x1008, 1),
    lambda m: m.write32(0x1008, 1),
    lambda m: m.write64(0x1008, 1),
    lambda m: m.cas64(0x1008, 0, 1),
    lambda m: m.poke(0x1ffe, b"\x01\x02\x03"),  # straddles into the next page too
    lambda m: m.clear(),
    lambda m: m.add_fault(0x9000, 0xA000),
    lambda m: m.clear_faults(),
])
def test_every_change_is_seen(mem: PhysicalMemory, change) -> None:
    epoch, pages = mem.epoch, mem.page_versions(0x1000, 0x1000)
    assert mem.unchanged(epoch, pages)
    change(mem)
    assert not mem.unchanged(epoch, pages)


def test_unchanged_ignores_other_pages_reads_and_failed_writes(mem: PhysicalMemory) -> None:
    mem.write64(0x3000, 5)
    fault = mem.add_fault(0x1000, 0x1008, on="w")
    epoch, pages = mem.epoch, mem.page_versions(0x1000, 8)
    mem.write64(0x3000, 6)
    mem.read(0x1000, 8)
    mem.cas64(0x1010, 1, 2)  # no swap: nothing stored
    with pytest.raises(ExternalAbort):
        mem.write64(0x1000, 1)
    assert mem.unchanged(epoch, pages)
    mem.remove_fault(fault)
    assert not mem.unchanged(epoch, pages)
    assert mem.page_versions(0xFFF, 2) == ((0, 0), (1, 0))


def test_watch_words_reports_descriptor_stores() -> None:
    """Aligned 8-byte stores by write and by a successful cas64 are reported with the old and
    new words, the source and whether it was a CAS; other stores and pokes are not."""
    mem = PhysicalMemory(48)
    seen: list[tuple] = []
    mem.watch_words(lambda n, addr, old, new, src, cas: seen.append((addr, old, new, src, cas)))
    mem.write64(0x1000, 5, source="cpu")
    mem.write(0x1004, b"\x01\x02\x03\x04", source="cpu")  # not 8 bytes
    mem.write(0x2004, bytes(8), source="cpu")             # not aligned
    mem.poke(0x1000, (7).to_bytes(8, "little"))
    assert mem.cas64(0x1000, 1, 9, source="smmu") != 1   # fails: no store
    mem.cas64(0x1008, 0, 3, source="smmu")
    assert seen == [(0x1000, 0, 5, "cpu", False), (0x1008, 0, 3, "smmu", True)]
