"""Stage-1 AArch64 4 KiB-granule walk geometry (ref §4.1): the one place it is derived.

A 4 KiB table holds 512 eight-byte descriptors, so each lookup level resolves 9 VA bits:
level 3 maps 4 KiB pages (VA[20:12]), level 2 2 MiB (VA[29:21]), level 1 1 GiB (VA[38:30]),
level 0 512 GiB (VA[47:39]). TTB0 translates IA = 64 - T0SZ bits; the walk starts at the
level whose table resolves the top of them, and that first table may be smaller than 512
entries. Every builder, walker and checker (model, testbench, software stack) uses these
functions rather than its own shifts and masks.
"""

from __future__ import annotations

from models.arch.pgtable import TableDescriptor

__all__ = [
    "DESC_BYTES", "ENTRIES", "GRANULE", "GRANULE_SHIFT", "LAST_LEVEL", "LEVELS", "LEVEL_BITS",
    "PAGE", "TXSZ_MAX", "TXSZ_MIN", "align_down", "desc_addr", "input_bits", "level_index",
    "level_shift", "level_size", "start_level", "table_bytes", "table_entries", "table_index",
]

GRANULE_SHIFT = 12
GRANULE = PAGE = 1 << GRANULE_SHIFT  # bytes of a translation granule, a table, a page
DESC_BYTES = TableDescriptor.SIZE  # every descriptor is 64 bits
ENTRIES = GRANULE // DESC_BYTES  # descriptors in a full table
LEVEL_BITS = ENTRIES.bit_length() - 1  # VA bits one level resolves
LEVELS = 4  # lookup levels 0..3
LAST_LEVEL = LEVELS - 1  # the page level
TXSZ_MIN, TXSZ_MAX = 16, 39  # T0SZ/T1SZ the 4 KiB granule allows (IA 48..25 bits)


def input_bits(txsz: int) -> int:
    """IA: the number of VA bits TTB0 (TTB1) translates, from T0SZ (T1SZ)."""
    return 64 - txsz


def start_level(txsz: int) -> int:
    """First lookup level for a T0SZ in 16..39: IA 40..48 -> L0, 31..39 -> L1, 22..30 -> L2."""
    ia = input_bits(txsz)
    return LEVELS - -(-(ia - GRANULE_SHIFT) // LEVEL_BITS)


def level_shift(level: int) -> int:
    """log2 of the bytes one descriptor at ``level`` maps (L3 page 12, L2 21, L1 30, L0 39)."""
    return GRANULE_SHIFT + LEVEL_BITS * (LAST_LEVEL - level)


def level_size(level: int) -> int:
    return 1 << level_shift(level)


def table_entries(level: int, txsz: int) -> int:
    """Entries of the table read at ``level``: the root may be smaller than 512 entries."""
    if level == start_level(txsz):
        return 1 << (input_bits(txsz) - level_shift(level))
    return ENTRIES


def table_bytes(level: int, txsz: int) -> int:
    """Size (and alignment) of the table read at ``level``."""
    return table_entries(level, txsz) * DESC_BYTES


def table_index(va: int, level: int, txsz: int) -> int:
    return (va >> level_shift(level)) & (table_entries(level, txsz) - 1)


def level_index(va: int, level: int) -> int:
    """Index of ``va`` in a full (512-entry) table at ``level``: the VA bits it resolves.

    The same as :func:`table_index` for every table but a root smaller than a full table.
    """
    return (va >> level_shift(level)) & (ENTRIES - 1)


def desc_addr(table: int, va: int, level: int) -> int:
    """Address of the descriptor for ``va`` in the full table at ``table`` read at ``level``."""
    return table + level_index(va, level) * DESC_BYTES


def align_down(value: int, size: int) -> int:
    return value & ~(size - 1)
