"""Physically contiguous frame allocation for tables, queues and buffers in a PhysicalMemory.

SMMU structures (stream tables, CD tables, queues, translation tables) need contiguous memory
aligned to their own size, so every region is naturally aligned by default. First fit over a
sorted free list is enough: test workloads allocate at most a few thousand regions.
"""

from __future__ import annotations

import bisect
import threading

from .physmem import PhysicalMemory

__all__ = ["FrameAllocator"]

MIN_ALIGN = 64  # one cache line: the smallest SMMU structure (STE, CD) alignment


def _next_pow2(n: int) -> int:
    return 1 << (n - 1).bit_length()


class FrameAllocator:
    """Hands out naturally aligned regions of ``[base, limit)`` of one PhysicalMemory."""

    def __init__(self, mem: PhysicalMemory, base: int, limit: int) -> None:
        if not 0 <= base < limit <= mem.size:
            raise ValueError(
                f"allocator window [{base:#x}, {limit:#x}) is empty or outside the "
                f"{mem.pa_bits}-bit physical address space"
            )
        self.mem = mem
        self.base = base
        self.limit = limit
        # Disjoint, non-adjacent [start, end) blocks sorted by start; adjacency is always
        # merged away so a fully freed window is one block again.
        self._free: list[tuple[int, int]] = [(base, limit)]
        self._allocs: dict[int, int] = {}
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        """Bytes currently allocated (alignment padding is not counted: it stays free)."""
        return self._used

    @property
    def free_bytes(self) -> int:
        return self.limit - self.base - self._used

    @property
    def free_blocks(self) -> list[tuple[int, int]]:
        """The free list as sorted ``(start, end)`` pairs, end exclusive."""
        with self._lock:
            return list(self._free)

    @property
    def allocations(self) -> dict[int, int]:
        """``{pa: size}`` of every live allocation."""
        with self._lock:
            return dict(self._allocs)

    def alloc(self, size: int, align: int | None = None, zero: bool = True) -> int:
        """Allocate ``size`` contiguous bytes; returns the PA, a multiple of ``align``.

        ``align`` defaults to ``size`` rounded up to a power of two (at least 64).
        ``zero`` clears the region through the backdoor, so it neither faults nor logs.
        """
        if size <= 0:
            raise ValueError(f"cannot allocate {size} bytes: size must be positive")
        if align is None:
            align = max(MIN_ALIGN, _next_pow2(size))
        elif align <= 0 or align & (align - 1):
            raise ValueError(f"alignment {align:#x} is not a power of two")
        with self._lock:
            pa = self._take(size, align)
        if zero:
            self.mem.poke(pa, bytes(size))
        return pa

    def free(self, pa: int) -> None:
        with self._lock:
            size = self._allocs.pop(pa, None)
            if size is None:
                raise ValueError(
                    f"free({pa:#x}): no live allocation starts there (double free or unknown PA)"
                )
            self._used -= size
            self._give(pa, pa + size)

    def _take(self, size: int, align: int) -> int:
        for i, (start, end) in enumerate(self._free):
            pa = -(-start // align) * align
            if pa + size <= end:
                pieces = [(s, e) for s, e in ((start, pa), (pa + size, end)) if s < e]
                self._free[i:i + 1] = pieces
                self._allocs[pa] = size
                self._used += size
                return pa
        largest = max((e - s for s, e in self._free), default=0)
        raise MemoryError(
            f"cannot allocate {size:#x} bytes aligned to {align:#x} in "
            f"[{self.base:#x}, {self.limit:#x}): {self.free_bytes:#x} bytes free, "
            f"largest free block {largest:#x}"
        )

    def _give(self, start: int, end: int) -> None:
        i = bisect.bisect_left(self._free, (start, end))
        if i < len(self._free) and self._free[i][0] == end:
            end = self._free.pop(i)[1]
        if i > 0 and self._free[i - 1][1] == start:
            i -= 1
            start = self._free.pop(i)[0]
        self._free.insert(i, (start, end))
