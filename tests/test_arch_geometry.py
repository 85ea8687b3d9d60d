"""The walk geometry and the structure sizes of models/arch, against values derived by hand.

Every expected number below is written out from the architecture text, never computed with
the module under test.
"""

from __future__ import annotations

import pytest

from models.arch import commands as C
from models.arch import events as E
from models.arch import geometry as g
from models.arch import pgtable as pt
from models.arch.cd import CD, L1CD
from models.arch.priq import PriEntry
from models.arch.ste import L1STD, STE

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30


# -- the 4 KiB granule -------------------------------------------------------------------------
# Arm ARM (DDI 0487) VMSAv8-64 translation, 4KB granule: a translation table is one 4KB
# granule of 64-bit descriptors, so 512 entries and 9 input-address bits per lookup level:
#   level 0 resolves IA[47:39], each entry maps 512GB (a table only: no level 0 block),
#   level 1 resolves IA[38:30], a block maps 1GB,
#   level 2 resolves IA[29:21], a block maps 2MB,
#   level 3 resolves IA[20:12], a page maps 4KB.
def test_granule_constants() -> None:
    assert g.GRANULE == g.PAGE == 4096
    assert g.GRANULE_SHIFT == 12
    assert g.DESC_BYTES == 8
    assert g.ENTRIES == 512
    assert g.LEVEL_BITS == 9
    assert (g.LEVELS, g.LAST_LEVEL) == (4, 3)


@pytest.mark.parametrize(("level", "shift", "size"), [
    (3, 12, 4 * KIB),
    (2, 21, 2 * MIB),
    (1, 30, 1 * GIB),
    (0, 39, 512 * GIB),
])
def test_level_shift_and_size(level: int, shift: int, size: int) -> None:
    assert g.level_shift(level) == shift
    assert g.level_size(level) == size


def test_descriptor_declarations_agree_with_the_level_sizes() -> None:
    """The output-address fields of blocks and pages start at the bits their level maps."""
    assert pt.L1BlockDescriptor.span() == 1 * GIB == g.level_size(1)
    assert pt.L2BlockDescriptor.span() == 2 * MIB == g.level_size(2)
    assert pt.PageDescriptor.span() == 4 * KIB == g.level_size(3)
    assert pt.TableDescriptor.field("NextTableAddr").addr_lo == 12  # tables are 4KB aligned


# -- TxSZ, the initial lookup level and the size of the first table ------------------------
# IA = 64 - TxSZ bits. Arm ARM, initial lookup level for the 4KB granule: TxSZ 16..24
# (IA 48..40 bits) starts at level 0, 25..33 (IA 39..31) at level 1, 34..39 (IA 30..25) at
# level 2. The first table only has the entries for the IA bits its level resolves:
# 2^(IA - level shift) of them, at most 512.
@pytest.mark.parametrize(("t0sz", "ia", "start", "root_entries"), [
    (16, 48, 0, 512),  # IA[47:39]: 9 bits
    (20, 44, 0, 32),   # IA[43:39]: 5 bits
    (24, 40, 0, 2),    # IA[39:39]: 1 bit
    (25, 39, 1, 512),  # IA[38:30]: 9 bits
    (30, 34, 1, 16),   # IA[33:30]: 4 bits
    (33, 31, 1, 2),    # IA[30:30]: 1 bit
    (34, 30, 2, 512),  # IA[29:21]: 9 bits
    (39, 25, 2, 16),   # IA[24:21]: 4 bits
])
def test_start_level_and_root_table(t0sz: int, ia: int, start: int, root_entries: int) -> None:
    assert g.input_bits(t0sz) == ia
    assert g.start_level(t0sz) == start
    assert g.table_entries(start, t0sz) == root_entries
    assert g.table_bytes(start, t0sz) == 8 * root_entries
    for level in range(start + 1, 4):
        assert g.table_entries(level, t0sz) == 512
        assert g.table_bytes(level, t0sz) == 4096


def test_txsz_range() -> None:
    """SMMU CD.T0SZ/T1SZ with the 4KB granule (no small-translation-table support): 16..39."""
    assert (g.TXSZ_MIN, g.TXSZ_MAX) == (16, 39)


# -- indices -----------------------------------------------------------------------------------
# VA built from its indices: L0 1, L1 2, L2 3, L3 4, offset 5 ->
# 1 << 39 = 0x80_0000_0000, 2 << 30 = 0x8000_0000, 3 << 21 = 0x60_0000, 4 << 12 = 0x4000.
VA = 0x0000_0080_8060_4005


@pytest.mark.parametrize(("level", "index"), [(0, 1), (1, 2), (2, 3), (3, 4)])
def test_indices_of_a_va(level: int, index: int) -> None:
    assert g.level_index(VA, level) == index
    assert g.table_index(VA, level, 16) == index
    assert g.desc_addr(0x1000_0000, VA, level) == 0x1000_0000 + 8 * index


def test_indices_at_the_top_and_beyond_the_input_range() -> None:
    top = 0x0000_FFFF_FFFF_F000  # every index 511
    assert [g.level_index(top, lvl) for lvl in range(4)] == [511] * 4
    assert g.desc_addr(0x2000, top, 3) == 0x2000 + 0xFF8
    # VA[48] is not an index bit of a 48-bit IA: the level 0 index ignores it.
    assert g.level_index(1 << 48, 0) == 0
    assert g.table_index(1 << 48, 0, 16) == 0
    # T0SZ 39: the level 2 root has 16 entries, indexed by VA[24:21].
    assert g.table_index(0x1E0_0000, 2, 39) == 15  # 15 << 21
    assert g.table_index(0x200_0000, 2, 39) == 0   # VA[25] is beyond the 25-bit IA
    assert g.level_index(0x200_0000, 2) == 16      # a full level 2 table would use it


def test_align_down() -> None:
    assert g.align_down(0x1234_5678, 2 * MIB) == 0x1220_0000
    assert g.align_down(0x1234_5678, 4 * KIB) == 0x1234_5000
    assert g.align_down(0x1234_5000, 4 * KIB) == 0x1234_5000


# -- structure sizes (Arm IHI 0070) -----------------------------------------------------------
# STE 64 bytes (8 doublewords), CD 64 bytes, Level 1 Stream Table Descriptor and Level 1 CD
# 8 bytes, command queue entries 16 bytes, event records 32 bytes, PRI queue entries 16 bytes;
# translation table descriptors (Arm ARM) 8 bytes.
@pytest.mark.parametrize(("cls", "size"), [
    (STE, 64), (CD, 64), (L1STD, 8), (L1CD, 8),
    (C.Command, 16), (C.UnknownCommand, 16),
    (E.Event, 32), (E.TranslationEvent, 32), (E.FetchEvent, 32), (E.ImpdefEvent, 32),
    (E.UnknownEvent, 32),
    (PriEntry, 16),
    (pt.TableDescriptor, 8), (pt.L1BlockDescriptor, 8), (pt.L2BlockDescriptor, 8),
    (pt.PageDescriptor, 8), (pt.InvalidDescriptor, 8), (pt.ReservedDescriptor, 8),
])
def test_structure_size(cls: type, size: int) -> None:
    assert cls.SIZE == size
    assert cls.NBITS == 8 * size


@pytest.mark.parametrize("cls", list(C.COMMAND_CLASSES.values()), ids=lambda c: c.__name__)
def test_every_command_is_16_bytes(cls: type[C.Command]) -> None:
    assert cls.SIZE == 16
    assert len(cls().to_bytes()) == 16


def test_encoded_lengths_are_the_sizes() -> None:
    assert len(STE().to_bytes()) == 64
    assert len(CD().to_bytes()) == 64
    assert len(L1STD().to_bytes()) == 8
    assert len(L1CD().to_bytes()) == 8
    assert len(E.Event().to_bytes()) == 32
    assert len(PriEntry().to_bytes()) == 16
    assert len(pt.PageDescriptor().to_bytes()) == 8
