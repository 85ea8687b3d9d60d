"""Stage-1 AArch64 4 KiB-granule walk geometry (ref §4.1), shared by every builder.

Kept apart from the page-table builder so that request generation can reason about input
ranges (IA = 64 - T0SZ) without touching memory.
"""

from __future__ import annotations

GRANULE_SHIFT = 12
PAGE = 1 << GRANULE_SHIFT
ENTRIES = 512
DESC_BYTES = 8


def input_bits(t0sz: int) -> int:
    """IA: the number of VA bits TTB0 translates."""
    return 64 - t0sz


def start_level(t0sz: int) -> int:
    """First lookup level for a T0SZ in 16..39: IA 40..48 -> L0, 31..39 -> L1, 22..30 -> L2."""
    ia = input_bits(t0sz)
    return 4 - -(-(ia - GRANULE_SHIFT) // 9)


def level_shift(level: int) -> int:
    """log2 of the bytes one descriptor at ``level`` maps (L3 page 12, L2 21, L1 30, L0 39)."""
    return GRANULE_SHIFT + 9 * (3 - level)


def level_size(level: int) -> int:
    return 1 << level_shift(level)


def table_entries(level: int, t0sz: int) -> int:
    """Entries of the table read at ``level``: the root may be smaller than 512 entries."""
    if level == start_level(t0sz):
        return 1 << (input_bits(t0sz) - level_shift(level))
    return ENTRIES


def table_index(va: int, level: int, t0sz: int) -> int:
    return (va >> level_shift(level)) & (table_entries(level, t0sz) - 1)


def align_down(value: int, size: int) -> int:
    return value & ~(size - 1)
