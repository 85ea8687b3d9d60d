"""Stream tables (linear or 2-level), STEs and the CD tables they point at, with their records.

The record says, for every StreamID and SubstreamID the world knows, which structure the SMMU
would fetch and why it might fail, so requests can be aimed at each failure on purpose. The
classes only encode (models.arch) and place structures; choosing what is nasty is world.py's
business.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from models.arch.cd import CD, L1CD
from models.arch.registers import STRTAB_BASE, STRTAB_BASE_CFG, StrtabFmt
from models.arch.ste import L1STD, STE, S1Format
from models.memory import FrameAllocator, PhysicalMemory

__all__ = ["CdSlot", "CdTable", "L1CdEntry", "L1StdEntry", "Stream", "StreamTable",
           "CD_LEAF_BITS"]

# SSID bits indexed inside one leaf: 64 CDs per 4 KiB leaf, 1024 per 64 KiB leaf (ref §2.3).
CD_LEAF_BITS = {S1Format.TWO_LEVEL_4K: 6, S1Format.TWO_LEVEL_64K: 10}


def _poke64(mem: PhysicalMemory, addr: int, raw: int) -> None:
    mem.poke(addr, raw.to_bytes(8, "little"))


# -- stream table ----------------------------------------------------------------------------
@dataclass
class L1StdEntry:
    """One L1STD; ``table``/``table_span`` stay known while Span is 0 so it can come back."""

    index: int
    span: int
    table: int | None  # PA of the level-2 table (in the fault range for kind "eabt")
    table_span: int
    kind: str  # full, small, invalid, eabt, reserved, fuzz (random Span and L2Ptr)


class StreamTable:
    """SMMU_STRTAB_BASE/_CFG and the tables behind them."""

    def __init__(self, mem: PhysicalMemory, alloc: FrameAllocator, *, two_level: bool,
                 log2size: int, split: int = 0) -> None:
        self.mem = mem
        self.alloc = alloc
        self.two_level = two_level
        self.log2size = log2size
        self.split = split
        if two_level:
            n_l1 = 1 << max(0, log2size - split)
            self.base = alloc.alloc(n_l1 * L1STD.SIZE)
        else:
            self.base = alloc.alloc(STE.SIZE << log2size)
        self.l1: dict[int, L1StdEntry] = {}

    @property
    def strtab_base(self) -> int:
        return STRTAB_BASE(ADDR=self.base, RA=1).to_int()

    @property
    def strtab_base_cfg(self) -> int:
        fmt = StrtabFmt.TWO_LEVEL if self.two_level else StrtabFmt.LINEAR
        return STRTAB_BASE_CFG(LOG2SIZE=self.log2size, SPLIT=self.split if self.two_level
                               else 0, FMT=fmt).to_int()

    @property
    def n_l1(self) -> int:
        return 1 << max(0, self.log2size - self.split) if self.two_level else 0

    def l1_addr(self, index: int) -> int:
        return self.base + index * L1STD.SIZE

    def set_l1(self, index: int, span: int, table: int | None, table_span: int,
               kind: str) -> L1StdEntry:
        entry = self.l1[index] = L1StdEntry(index, span, table, table_span, kind)
        self.write_l1(entry)
        return entry

    def write_l1(self, entry: L1StdEntry) -> None:
        _poke64(self.mem, self.l1_addr(entry.index),
                L1STD(Span=entry.span, L2Ptr=entry.table or 0).to_int())

    def sid_status(self, sid: int) -> str:
        """ok, or why the SID has no STE: beyond_log2size, l1_invalid, l1_reserved,
        l1_eabt (the STE fetch aborts), beyond_span."""
        if sid >> self.log2size:
            return "beyond_log2size"
        if not self.two_level:
            return "ok"
        e = self.l1.get(sid >> self.split)
        span = e.span if e else 0
        if e is None or span == 0:
            return "l1_invalid"
        if span > self.split + 1:
            return "l1_reserved"
        if sid & ((1 << self.split) - 1) >= 1 << (span - 1):
            return "beyond_span"
        if e.kind == "fuzz":
            return "l1_fuzz"
        return "l1_eabt" if e.kind == "eabt" else "ok"

    def ste_addr(self, sid: int) -> int | None:
        """Where the STE of ``sid`` lives in memory we own (also behind a Span=0 L1STD)."""
        if sid >> self.log2size:
            return None
        if not self.two_level:
            return self.base + sid * STE.SIZE
        e = self.l1.get(sid >> self.split)
        low = sid & ((1 << self.split) - 1)
        if e is None or e.table is None or e.kind in ("eabt", "fuzz") \
                or low >= 1 << (e.table_span - 1):
            return None
        return e.table + low * STE.SIZE

    def write_ste(self, sid: int, ste: STE) -> int:
        addr = self.ste_addr(sid)
        assert addr is not None, f"SID {sid:#x} has no STE slot"
        self.mem.poke(addr, ste.to_bytes())
        return addr


# -- CD tables -------------------------------------------------------------------------------
@dataclass
class L1CdEntry:
    index: int
    valid: int
    leaf: int | None  # PA of the leaf (in the fault range for kind "eabt")
    kind: str  # ok, v0 (leaf present, V=0), v0_noleaf, eabt


@dataclass
class CdSlot:
    """A CD written in memory; ``ctx`` is the context it copies (or was made ILLEGAL from)."""

    ssid: int
    addr: int
    cd: CD
    ctx: int
    legal: bool
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.legal and bool(self.cd.V)


@dataclass
class CdTable:
    """The CD table (linear or 2-level) behind one S1ContextPtr; ``users`` are the SIDs
    whose STE points at it (a CD change needs a CFGI_CD for each of them)."""

    mem: PhysicalMemory
    alloc: FrameAllocator
    fmt: int
    s1cdmax: int
    ptr: int = 0
    l1: dict[int, L1CdEntry] = field(default_factory=dict)
    slots: dict[int, CdSlot] = field(default_factory=dict)
    users: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.s1cdmax == 0:
            self.fmt = S1Format.LINEAR  # S1Fmt is ignored: the pointer names one CD
        if self.fmt == S1Format.LINEAR:
            self.ptr = self.alloc.alloc(CD.SIZE << self.s1cdmax)
        else:
            self.ptr = self.alloc.alloc(self.n_l1 * L1CD.SIZE)

    @property
    def two_level(self) -> bool:
        return self.fmt != S1Format.LINEAR

    @property
    def leaf_bits(self) -> int:
        return CD_LEAF_BITS[S1Format(self.fmt)]

    @property
    def n_l1(self) -> int:
        return 1 << max(0, self.s1cdmax - self.leaf_bits)

    def l1_index(self, ssid: int) -> int:
        return ssid >> self.leaf_bits

    def l1_addr(self, index: int) -> int:
        return self.ptr + index * L1CD.SIZE

    def set_l1(self, index: int, kind: str, leaf: int | None) -> L1CdEntry:
        e = self.l1[index] = L1CdEntry(index, int(kind in ("ok", "eabt")), leaf, kind)
        self.write_l1(e)
        return e

    def write_l1(self, e: L1CdEntry) -> None:
        _poke64(self.mem, self.l1_addr(e.index), L1CD(V=e.valid, L2Ptr=e.leaf or 0).to_int())

    def slot_addr(self, ssid: int) -> int | None:
        """Where CD ``ssid`` lives in memory we own (also under an L1CD with V=0)."""
        if ssid >> self.s1cdmax:
            return None
        if not self.two_level:
            return self.ptr + ssid * CD.SIZE
        e = self.l1.get(self.l1_index(ssid))
        if e is None or e.leaf is None or e.kind == "eabt":
            return None
        return e.leaf + (ssid & ((1 << self.leaf_bits) - 1)) * CD.SIZE

    def ssid_status(self, ssid: int) -> str:
        """ok, or l1_invalid / l1_eabt on the way to the CD (the CD itself is not judged)."""
        if not self.two_level:
            return "ok"
        e = self.l1.get(self.l1_index(ssid))
        if e is None or not e.valid:
            return "l1_invalid"
        return "l1_eabt" if e.kind == "eabt" else "ok"

    def write_cd(self, ssid: int, cd: CD, ctx: int, legal: bool, reason: str = "") -> CdSlot:
        addr = self.slot_addr(ssid)
        assert addr is not None, f"SSID {ssid:#x} has no CD slot"
        self.mem.poke(addr, cd.to_bytes())
        slot = self.slots[ssid] = CdSlot(ssid, addr, cd, ctx, legal, reason)
        return slot

    def update_cd(self, slot: CdSlot, cd: CD) -> None:
        self.mem.poke(slot.addr, cd.to_bytes())
        slot.cd = cd


# -- streams ---------------------------------------------------------------------------------
@dataclass
class Stream:
    """A StreamID with an STE written in memory.

    ``kind``: translate, bypass, abort, reserved (Config 0b001..0b011), v0, illegal,
    cd_eabt (S1ContextPtr in the abort range), fuzz (random bits: World.fuzz_ste). ``base``
    is the stage-1 STE the stream was built around, so an STE mutation can switch to bypass
    and back.
    """

    sid: int
    kind: str
    ste: STE
    base: STE
    cdt: CdTable | None
    reason: str = ""
    addr: int = 0  # PA of the STE
    base_kind: str = ""  # kind of ``base``: translate, cd_eabt, bypass, abort, reserved

    @property
    def s1cdmax(self) -> int:
        return self.ste.S1CDMax

    def replace_ste(self, **fields: int) -> STE:
        return dataclasses.replace(self.ste, **fields)
