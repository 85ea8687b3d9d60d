"""A stage-1 translation table for one context, built in PhysicalMemory, with a record of it.

The record (leaves and holes by VA) is what request generation aims at and what mutations
edit; ``check()`` proves it still matches memory. A table is a TTB0 table (VAs 0 ..
2^IA - 1) or a TTB1 table (VAs 2^64 - 2^IA .. 2^64 - 1: VA[63:IA] all ones, as the range
check wants them without TBI1); records hold the full 64-bit VA either way. Tables are
never freed: a walk cache that still holds a pointer to a dropped table must not find the
memory reused by another table, otherwise a deliberately stale scenario would read
unrelated descriptors.

Descriptors are always produced by the ``models.arch.pgtable`` encoders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from models.arch import pgtable as pt
from models.arch.geometry import (
    DESC_BYTES,
    ENTRIES,
    PAGE,
    align_down,
    input_bits,
    level_size,
    start_level,
    table_bytes,
    table_index,
)
from models.memory import FrameAllocator, PhysicalMemory

__all__ = ["Hole", "Leaf", "PageTable", "leaf_descriptor"]

LEAF_CLASSES: dict[int, type[pt.LeafDescriptor]] = {
    1: pt.L1BlockDescriptor, 2: pt.L2BlockDescriptor, 3: pt.PageDescriptor,
}


def leaf_descriptor(level: int, oa: int, **fields: int) -> int:
    """Raw block (L1/L2) or page (L3) descriptor; unspecified attributes default to 0, AF=1."""
    fields.setdefault("AF", 1)
    cls = LEAF_CLASSES[level]
    return cls(Valid=1, Type=1 if level == 3 else 0, OutputAddr=oa, **fields).to_int()


# Bytes one entry maps at each level (the world's overlap checks ask this millions of times).
LEVEL_SIZES = tuple(level_size(lvl) for lvl in range(4))


@dataclass
class Leaf:
    """A block or page the table maps: ``raw`` is the descriptor currently in memory."""

    va: int
    level: int
    raw: int
    addr: int  # PA of the descriptor

    @property
    def size(self) -> int:
        return LEVEL_SIZES[self.level]

    @property
    def desc(self) -> pt.Descriptor:
        return pt.decode_descriptor(self.raw, self.level)

    @property
    def is_global(self) -> bool:
        """nG=0: the TLB entry matches every ASID."""
        return not self.raw & pt.PTE_NG


@dataclass
class Hole:
    """A deliberately faulting entry: ``kind`` names the fault it is meant to provoke."""

    va: int
    level: int
    raw: int
    addr: int
    kind: str  # invalid, l0_block, l3_type01, leaf_addr_size, table_addr_size, table_eabt

    @property
    def size(self) -> int:
        return LEVEL_SIZES[self.level]


class PageTable:
    """The TTB0 (or, ``upper``, TTB1) tables of one context: 4 KiB granule, start level from
    TxSZ, little-endian."""

    def __init__(self, mem: PhysicalMemory, alloc: FrameAllocator, txsz: int,
                 upper: bool = False) -> None:
        self.mem = mem
        self.alloc = alloc
        self.txsz = txsz
        self.upper = upper
        self.ia = input_bits(txsz)
        # the lowest VA of the half: VA[63:IA] all zeros (TTB0) or all ones (TTB1)
        self.va_base = ((1 << 64) - (1 << self.ia)) if upper else 0
        self.start = start_level(txsz)
        root_bytes = table_bytes(self.start, txsz)
        self.root = alloc.alloc(max(64, root_bytes))  # naturally aligned to its size
        # table PA -> (level, VA the table starts at); only tables this object built
        self.tables: dict[int, tuple[int, int]] = {self.root: (self.start, self.va_base)}
        self.leaves: dict[int, Leaf] = {}
        self.holes: dict[int, Hole] = {}
        self.edits = 0  # leaves or holes added or removed (what Context.mapped caches on)

    # -- memory ------------------------------------------------------------------------------
    def read(self, addr: int) -> int:
        return int.from_bytes(self.mem.peek(addr, DESC_BYTES), "little")

    def write(self, addr: int, raw: int) -> None:
        # Backdoor: the CPU writes tables; the SMMU's own accesses are what a log should show.
        self.mem.poke(addr, raw.to_bytes(DESC_BYTES, "little"))

    def entry_addr(self, table: int, va: int, level: int) -> int:
        return table + table_index(va, level, self.txsz) * DESC_BYTES

    def contains(self, va: int) -> bool:
        """``va`` lies in this half's range (no top byte ignored)."""
        return self.va_base <= va < self.va_base + (1 << self.ia)

    # -- building ----------------------------------------------------------------------------
    def walk_to(self, va: int, level: int,
                new_table: Callable[[int], dict[str, int]] | None = None) -> int | None:
        """PA of the descriptor for ``va`` at ``level``, creating tables on the way.

        ``new_table(level)`` gives extra TableDescriptor fields (APTable, ...) for a table
        descriptor written at that level. Returns None when something other than one of our
        tables (a leaf, a hole, a foreign pointer) is in the way.
        """
        if not self.contains(va) or not self.start <= level <= 3:
            return None
        table = self.root
        for lvl in range(self.start, level):
            addr = self.entry_addr(table, va, lvl)
            raw = self.read(addr)
            if raw == 0:
                nxt = self.alloc.alloc(PAGE)
                extra = new_table(lvl) if new_table else {}
                self.write(addr, pt.TableDescriptor(Valid=1, NextTableAddr=nxt,
                                                    **extra).to_int())
                self.tables[nxt] = (lvl + 1, align_down(va, level_size(lvl)))
            else:
                d = pt.decode_descriptor(raw, lvl)
                nxt = d.NextTableAddr if isinstance(d, pt.TableDescriptor) else -1
                if nxt not in self.tables:
                    return None
            table = nxt
        return self.entry_addr(table, va, level)

    def is_free(self, va: int, level: int) -> bool:
        """No leaf or hole overlaps [va, va + size of a level entry)."""
        end = va + level_size(level)
        return not any(r.va < end and va < r.va + r.size
                       for r in (*self.leaves.values(), *self.holes.values()))

    def map(self, va: int, level: int, raw: int,
            new_table: Callable[[int], dict[str, int]] | None = None) -> Leaf | None:
        """Install a leaf descriptor; None if the slot is taken or blocked."""
        addr = self._claim(va, level, new_table)
        if addr is None:
            return None
        self.write(addr, raw)
        leaf = self.leaves[va] = Leaf(va, level, raw, addr)
        self.edits += 1
        return leaf

    def put_hole(self, va: int, level: int, raw: int, kind: str,
                 new_table: Callable[[int], dict[str, int]] | None = None) -> Hole | None:
        """Install a faulting entry (raw must be non-zero so the slot reads as taken)."""
        assert raw != 0, "a hole must be distinguishable from an empty entry"
        addr = self._claim(va, level, new_table)
        if addr is None:
            return None
        self.write(addr, raw)
        hole = self.holes[va] = Hole(va, level, raw, addr, kind)
        self.edits += 1
        return hole

    def _claim(self, va: int, level: int,
               new_table: Callable[[int], dict[str, int]] | None) -> int | None:
        if va % level_size(level) or not self.is_free(va, level):
            return None
        addr = self.walk_to(va, level, new_table)
        if addr is None or self.read(addr) != 0:
            return None
        return addr

    # -- editing (mutations) -----------------------------------------------------------------
    def rewrite(self, leaf: Leaf, raw: int) -> None:
        self.write(leaf.addr, raw)
        leaf.raw = raw

    def unmap(self, leaf: Leaf, raw: int = 0) -> None:
        """Replace a leaf by an invalid descriptor (raw must have Valid=0)."""
        assert not raw & 1
        self.write(leaf.addr, raw)
        del self.leaves[leaf.va]
        self.edits += 1

    def drop_table(self, table: int, raw: int = 0) -> list[Leaf]:
        """Invalidate the descriptor pointing at ``table``; returns the leaves that vanished."""
        level, base = self.tables[table]
        assert table != self.root
        parent_level = level - 1
        size = level_size(parent_level)
        self.edits += 1
        parent = next(t for t, (lvl, b) in self.tables.items()
                      if lvl == parent_level and b <= base < b + level_size(lvl) * ENTRIES)
        self.write(self.entry_addr(parent, base, parent_level), raw)
        gone = [lf for lf in self.leaves.values() if base <= lf.va < base + size]
        for lf in gone:
            del self.leaves[lf.va]
        for va in [h.va for h in self.holes.values() if base <= h.va < base + size]:
            del self.holes[va]
        # The table and the tables under it. Its ancestors may start at the same VA (a
        # table's first entry covers the start of its own span): they stay.
        for t in [t for t, (lvl, b) in self.tables.items() if t != self.root
                  and lvl >= level and base <= b < base + size]:
            del self.tables[t]
        return gone

    # -- checking ----------------------------------------------------------------------------
    def check(self) -> list[str]:
        """Differences between the record and memory (empty when consistent)."""
        out = []
        for t, (lvl, b) in self.tables.items():
            at = None if t == self.root else self.lookup_addr(b, lvl - 1)
            if t != self.root and (at is None or self.read(at) & ~0xFFF & ((1 << 48) - 1) != t):
                out.append(f"L{lvl} table {t:#x} at VA {b:#x}: no descriptor points at it")
        for rec in (*self.leaves.values(), *self.holes.values()):
            found = self.lookup_addr(rec.va, rec.level)
            if found != rec.addr:
                out.append(f"VA {rec.va:#x} L{rec.level}: walk reaches {found}, "
                           f"record says {rec.addr:#x}")
            elif self.read(rec.addr) != rec.raw:
                out.append(f"VA {rec.va:#x} L{rec.level}: memory {self.read(rec.addr):#x} "
                           f"!= record {rec.raw:#x}")
        return out

    def lookup_addr(self, va: int, level: int) -> int | None:
        """Descriptor PA for ``va`` at ``level`` through existing tables only (no allocation)."""
        table = self.root
        for lvl in range(self.start, level):
            d = pt.decode_descriptor(self.read(self.entry_addr(table, va, lvl)), lvl)
            if not isinstance(d, pt.TableDescriptor):
                return None
            table = d.NextTableAddr
            if table not in self.tables:
                return None
        return self.entry_addr(table, va, level)
