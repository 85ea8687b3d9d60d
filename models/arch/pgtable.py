"""AArch64 stage-1 translation table descriptors, 4 KiB granule, 48-bit OA (ref §4.2).

A descriptor's meaning depends on the level it is read at, so :func:`decode_descriptor` takes
the level and returns the matching class. Encodings that fault (Valid=0, an L0 block, L3 type
0b01) decode to :class:`InvalidDescriptor` / :class:`ReservedDescriptor` instead of raising,
because the walker must turn them into F_TRANSLATION.

Blocks get one class per level (:class:`L1BlockDescriptor`, :class:`L2BlockDescriptor`) rather
than a level argument: the output-address width is then static, and the RES0 bits below it
(e.g. [29:21] of an L1 block) are reported by ``problems()`` like any other reserved bit.

Bits the architecture leaves IGNORED are declared as fields (software such as Linux keeps state
there), so only RES0 bits count as reserved.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from models.arch.bitfield import ArchStruct, arch_struct, bits

__all__ = [
    "AccessPerm",
    "BlockDescriptor",
    "Descriptor",
    "InvalidDescriptor",
    "L1BlockDescriptor",
    "L2BlockDescriptor",
    "LeafDescriptor",
    "PTE_AF",
    "PTE_DBM",
    "PTE_DIRTY",
    "PTE_NG",
    "PTE_PXN",
    "PTE_RDONLY",
    "PTE_SPECIAL",
    "PTE_USER",
    "PTE_UXN",
    "PTE_VALID",
    "PTE_WRITE",
    "PageDescriptor",
    "ReservedDescriptor",
    "Shareability",
    "TableDescriptor",
    "decode_descriptor",
]


class AccessPerm(enum.IntEnum):
    """AP[2:1] of a block/page descriptor (AP[2] = read-only, AP[1] = EL0 accessible)."""

    RW_PRIV = 0b00
    RW_ALL = 0b01
    RO_PRIV = 0b10
    RO_ALL = 0b11


class Shareability(enum.IntEnum):
    """SH[1:0]; 0b01 is reserved (CONSTRAINED UNPREDICTABLE)."""

    NSH = 0b00
    OSH = 0b10
    ISH = 0b11


@arch_struct(64)
class TableDescriptor(ArchStruct):
    """Points at the next-level table (levels 0..2)."""

    Valid: int = bits(0, 0)
    Type: int = bits(1, 1, default=1)
    IgnoredLow: int = bits(11, 2)
    NextTableAddr: int = bits(47, 12, addr_lo=12)
    IgnoredHigh: int = bits(58, 52)
    PXNTable: int = bits(59, 59)
    UXNTable: int = bits(60, 60)
    APTable: int = bits(62, 61)  # bit 61: no EL0 access below, bit 62: no write below
    NSTable: int = bits(63, 63)


@dataclass
class LeafDescriptor(ArchStruct):
    """Attributes shared by blocks and pages; concrete classes add Type's value and OutputAddr."""

    Valid: int = bits(0, 0)
    Type: int = bits(1, 1)
    AttrIndx: int = bits(4, 2)
    NS: int = bits(5, 5)
    AP: int = bits(7, 6, enum=AccessPerm)
    SH: int = bits(9, 8, enum=Shareability)
    AF: int = bits(10, 10)
    nG: int = bits(11, 11)
    DBM: int = bits(51, 51)
    Contiguous: int = bits(52, 52)
    PXN: int = bits(53, 53)
    UXN: int = bits(54, 54)
    SW: int = bits(58, 55)  # reserved for software: Linux PTE_DIRTY (55), PTE_SPECIAL (56)
    PBHA: int = bits(62, 59)
    Ignored: int = bits(63, 63)

    LEVEL: ClassVar[int]

    @classmethod
    def span(cls) -> int:
        """Bytes mapped by one descriptor of this kind."""
        return 1 << cls.field("OutputAddr").addr_lo


@dataclass
class BlockDescriptor(LeafDescriptor):
    """Either block kind; use ``isinstance(d, BlockDescriptor)`` to ask 'is it a block?'."""


@arch_struct(64)
class L1BlockDescriptor(BlockDescriptor):
    LEVEL = 1
    OutputAddr: int = bits(47, 30, addr_lo=30)


@arch_struct(64)
class L2BlockDescriptor(BlockDescriptor):
    LEVEL = 2
    OutputAddr: int = bits(47, 21, addr_lo=21)


@arch_struct(64)
class PageDescriptor(LeafDescriptor):
    LEVEL = 3
    Type: int = bits(1, 1, default=1)
    OutputAddr: int = bits(47, 12, addr_lo=12)


@arch_struct(64)
class InvalidDescriptor(ArchStruct):
    """Valid == 0 at any level: the other 63 bits are ignored by hardware (Linux swap entries)."""

    Valid: int = bits(0, 0)
    Ignored: int = bits(63, 1)


@arch_struct(64)
class ReservedDescriptor(ArchStruct):
    """A valid descriptor with a reserved encoding for its level: an L0 block or an L3 type 0b01.

    It translation-faults like an invalid one, but is reported because software never means it.
    """

    Valid: int = bits(0, 0)
    Type: int = bits(1, 1)
    Rest: int = bits(63, 2)  # bits [63:2], right-aligned

    def problems(self) -> list[str]:
        return ["reserved descriptor encoding (L0 block or L3 type 0b01)", *super().problems()]


Descriptor = (TableDescriptor | L1BlockDescriptor | L2BlockDescriptor | PageDescriptor
              | InvalidDescriptor | ReservedDescriptor)

_BLOCKS: dict[int, type[BlockDescriptor]] = {1: L1BlockDescriptor, 2: L2BlockDescriptor}


def decode_descriptor(raw: int, level: int) -> Descriptor:
    """Decode a 64-bit descriptor read at ``level`` (0..3); never raises on its contents."""
    if level not in (0, 1, 2, 3):
        raise ValueError(f"level {level} is not a 4 KiB-granule lookup level")
    if raw < 0 or raw >> 64:
        raise ValueError(f"descriptor {raw:#x} does not fit in 64 bits")
    cls: type[Descriptor]
    if not raw & 1:
        cls = InvalidDescriptor
    elif raw & 2:
        cls = PageDescriptor if level == 3 else TableDescriptor
    else:
        cls = _BLOCKS.get(level, ReservedDescriptor)
    return cls.from_int(raw)


# Linux arm64 PTE bits used by SVA page tables, derived from the field declarations.
_AP = PageDescriptor.field("AP")
_SW = PageDescriptor.field("SW")
PTE_VALID = PageDescriptor.field("Valid").mask
PTE_USER = 1 << _AP.lsb  # AP[1]
PTE_RDONLY = 1 << (_AP.lsb + 1)  # AP[2]
PTE_AF = PageDescriptor.field("AF").mask
PTE_NG = PageDescriptor.field("nG").mask
PTE_DBM = PageDescriptor.field("DBM").mask
PTE_WRITE = PTE_DBM  # Linux tracks "writable" in DBM: AP[2] then only records clean/dirty
PTE_PXN = PageDescriptor.field("PXN").mask
PTE_UXN = PageDescriptor.field("UXN").mask
PTE_DIRTY = 1 << _SW.lsb
PTE_SPECIAL = 1 << (_SW.lsb + 1)
