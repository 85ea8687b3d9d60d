"""Deterministic builders for hand-written tests: one stream, one CD, one page table.

The pieces compose: ``stream_table`` + ``install_ste`` + ``s1_ste`` + ``context_cd`` +
``PageTable.map`` are what ``single_stream`` does, and a test that needs two streams or a
second SSID calls them again on the same allocator. All encodings go through models.arch.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.arch.cd import CD, IPSize, TG0Granule
from models.arch.ste import STE, S1DefaultSubstream, S1Format, StreamConfig
from models.memory import FrameAllocator, PhysicalMemory
from tb.stimgen.pagetable import PageTable, leaf_descriptor
from tb.stimgen.streams import CdTable, StreamTable

__all__ = ["DEFAULT_MAIR", "DirectedSetup", "context_cd", "install_ste", "s1_ste",
           "single_stream", "stream_table"]

# Attr0 Normal WB (0xFF), Attr1 Normal tagged (0xF0), Attr2 Normal NC (0x44),
# Attr3 Device-nGnRnE (0x00), Attr4 Device-nGnRE (0x04): AttrIndx n selects byte n.
DEFAULT_MAIR = 0x0000_0004_0044_F0FF


def stream_table(mem: PhysicalMemory, alloc: FrameAllocator, *, log2size: int = 6,
                 two_level: bool = False, split: int = 8) -> StreamTable:
    """An empty stream table; with ``two_level`` the L1STDs are filled by install_ste."""
    return StreamTable(mem, alloc, two_level=two_level, log2size=log2size, split=split)


def install_ste(strtab: StreamTable, sid: int, ste: STE) -> int:
    """Write an STE; a 2-level table gets a full-span leaf for the SID first if needed."""
    if strtab.two_level:
        idx = sid >> strtab.split
        if idx not in strtab.l1 or strtab.l1[idx].span == 0:
            full = strtab.split + 1
            strtab.set_l1(idx, full, strtab.alloc.alloc(STE.SIZE << strtab.split), full, "full")
    return strtab.write_ste(sid, ste)


def s1_ste(cd_ptr: int, *, s1cdmax: int = 0, s1fmt: int = S1Format.LINEAR,
           s1dss: int = S1DefaultSubstream.SSID0, **fields: int) -> STE:
    """A V=1 stage-1 STE as Linux writes it (CD fetch WB, ISH), plus any extra fields."""
    base = {"S1CIR": 1, "S1COR": 1, "S1CSH": 3}
    base.update(fields)
    return STE(V=1, Config=StreamConfig.S1_TRANS, S1Fmt=s1fmt, S1ContextPtr=cd_ptr,
               S1CDMax=s1cdmax, S1DSS=s1dss, **base)


def context_cd(table: PageTable, *, asid: int, ips: int = IPSize.PA48,
               mair: int = DEFAULT_MAIR, a: int = 1, r: int = 1, **fields: int) -> CD:
    """A V=1 AArch64 4 KiB-granule CD for ``table`` (T0SZ from the table), EPD1=1."""
    base = {"IR0": 1, "OR0": 1, "SH0": 3}
    base.update(fields)
    return CD(T0SZ=table.txsz, TG0=TG0Granule.SZ_4K, EPD1=1, V=1, IPS=ips, AA64=1, A=a, R=r,
              ASID=asid, TTB0=table.root, MAIR=mair, **base)


@dataclass
class DirectedSetup:
    """One stream with one CD and its page table; register values ready to program."""

    mem: PhysicalMemory
    alloc: FrameAllocator
    strtab: StreamTable
    sid: int
    ste: STE
    ste_addr: int
    cd_table: CdTable
    ssid: int
    cd: CD
    cd_addr: int
    table: PageTable

    @property
    def strtab_base(self) -> int:
        return self.strtab.strtab_base

    @property
    def strtab_base_cfg(self) -> int:
        return self.strtab.strtab_base_cfg

    @property
    def asid(self) -> int:
        return self.cd.ASID

    def map(self, va: int, pa: int, *, level: int = 3, **attrs: int) -> int:
        """Map ``va`` -> ``pa`` with a page (level 3) or block (1, 2); returns the
        descriptor's PA. Attributes are PageDescriptor field names (AP, UXN, nG, ...);
        AF defaults to 1."""
        leaf = self.table.map(va, level, leaf_descriptor(level, pa, **attrs))
        if leaf is None:
            raise ValueError(f"VA {va:#x} at level {level} is already mapped or blocked")
        return leaf.addr


def single_stream(mem: PhysicalMemory, window: tuple[int, int], *, sid: int = 0,
                  asid: int = 1, t0sz: int = 16, ssid: int = 0, s1cdmax: int = 0,
                  log2size: int | None = None, two_level: bool = False, split: int = 8,
                  cd_fields: dict[str, int] | None = None,
                  ste_fields: dict[str, int] | None = None,
                  mappings: tuple[tuple[int, int], ...] = (), **attrs: int) -> DirectedSetup:
    """A stream table holding one stage-1 STE for ``sid`` whose CD ``ssid`` (linear CD
    table of 2^s1cdmax entries) points at a fresh T0SZ-sized table; ``mappings`` are
    (VA, PA) 4 KiB pages with ``attrs`` (PageDescriptor fields)."""
    alloc = FrameAllocator(mem, *window)
    if log2size is None:
        log2size = max(sid.bit_length(), split if two_level else 1)
    strtab = stream_table(mem, alloc, log2size=log2size, two_level=two_level, split=split)
    table = PageTable(mem, alloc, t0sz)
    cdt = CdTable(mem, alloc, S1Format.LINEAR, s1cdmax)
    cd = context_cd(table, asid=asid, **(cd_fields or {}))
    slot = cdt.write_cd(ssid, cd, 0, True)
    cdt.users.append(sid)
    ste = s1_ste(cdt.ptr, s1cdmax=s1cdmax, **(ste_fields or {}))
    ste_addr = install_ste(strtab, sid, ste)
    setup = DirectedSetup(mem, alloc, strtab, sid, ste, ste_addr, cdt, ssid, cd, slot.addr,
                          table)
    for va, pa in mappings:
        setup.map(va, pa, **attrs)
    return setup
