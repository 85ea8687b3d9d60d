"""Directed tests of the caches' documented capacity and replacement (docs/rtl.md): the lowest
free entry (for the IOTLB: way of the leaf's set) first, then a round-robin pointer (the
IOTLB's: one per set) that advances only when it was used, and a fill whose key is already
cached refilling that entry.

The architecture lets a cache drop anything at any time, so these are the implementation's
own contract, as `make bench` figures are: a policy that loses capacity costs walks, which
the memory-port read counts show. Expected counts follow from the policy: a configuration
miss reads the STE and the CD, a cold walk from a cached context reads 4 descriptors, a walk
whose level-2 chain is in the walk cache reads 1, one whose level-1 chain is (and not its
level-2 chain) reads 2, an IOTLB hit reads nothing.
"""

from __future__ import annotations

import cocotb

from models.arch import commands as C
from models.arch import registers as R
from tb.bfm.monitors import MemReadMonitor
from tb.directed.harness import CDTAB, OK, Soft, basic, s1_ste

# smmu_top's defaults, which every parameter set keeps
TLB_N, TLB_WAYS, TLB_BLK_N, CTX_N, WALK_N, WALK_UP_N = 256, 4, 16, 64, 16, 8
TLB_SETS = TLB_N // TLB_WAYS      # a 4 KiB page's set: VA[12 + log2(TLB_SETS) - 1:12]
BASE = 0x0000_4000_0000_0000


async def reads(s: Soft, ar: MemReadMonitor, tag: int, addr: int, sid: int = 1) -> int:
    """Translate (must succeed) and return the number of memory reads it made."""
    n0 = ar.n
    r = await s.x.xlate(tag=tag, addr=addr, sid=sid)
    assert r["result"] == OK, (hex(addr), r)
    return ar.n - n0


@cocotb.test()
async def iotlb_set_keeps_its_newest_ways(dut):
    """2 * TLB_WAYS + 4 pages of one set (TLB_SETS pages apart) walked in turn: the first
    TLB_WAYS fill its free ways, the rest replace the oldest (the set's round robin from way
    0); the newest TLB_WAYS then all hit, and the first page walks again."""
    s, ttb = await basic(dut)
    pages = [BASE + (i * TLB_SETS << 12) for i in range(2 * TLB_WAYS + 4)]
    for i, va in enumerate(pages):
        s.map(ttb, va, 0x8_0000_0000 + (i << 12))
    ar = MemReadMonitor(dut)
    for tag, va in enumerate(pages, start=1):
        await reads(s, ar, tag, va)
    got = [await reads(s, ar, 100 + i, va) for i, va in enumerate(pages[-TLB_WAYS:])]
    assert got == [0] * TLB_WAYS, got
    assert await reads(s, ar, 120, pages[0]) > 0


@cocotb.test()
async def iotlb_holds_tlb_n_consecutive_pages(dut):
    """TLB_N consecutive pages take TLB_WAYS ways of every set: walked once, all then hit."""
    s, ttb = await basic(dut)
    pages = [BASE + (i << 12) for i in range(TLB_N)]
    for i, va in enumerate(pages):
        s.map(ttb, va, 0x8_0000_0000 + (i << 12))
    ar = MemReadMonitor(dut)
    for i, va in enumerate(pages):
        await reads(s, ar, 1 + i % 200, va)
    got = [await reads(s, ar, 1 + i % 200, va) for i, va in enumerate(pages)]
    assert got == [0] * TLB_N, [i for i, n in enumerate(got) if n]


@cocotb.test()
async def iotlb_block_array_keeps_the_newest_blocks(dut):
    """2 * TLB_BLK_N + 4 blocks of 2 MiB (level-2 block descriptors) walked in turn: they
    fill the block array's free entries, then replace round robin from entry 0; the newest
    TLB_BLK_N then all hit, and the first walks again (below the cached level-1 chain: 1
    read, its block descriptor). A 4 KiB page walked after them is not displaced by them: it
    takes a page way and hits."""
    s, ttb = await basic(dut)
    blocks = [BASE + (i << 21) for i in range(2 * TLB_BLK_N + 4)]
    for i, va in enumerate(blocks):
        s.map(ttb, va, 0x8_0000_0000 + (i << 21), level=2)
    page = BASE + (1 << 30)
    s.map(ttb, page, 0x9_0000_0000)
    ar = MemReadMonitor(dut)
    for tag, va in enumerate(blocks, start=1):
        await reads(s, ar, tag, va + 0x1234)
    got = [await reads(s, ar, 100 + i, va + 0x5678)
           for i, va in enumerate(blocks[-TLB_BLK_N:])]
    assert got == [0] * TLB_BLK_N, got
    assert await reads(s, ar, 120, blocks[0] + 0x40) == 1
    await reads(s, ar, 121, page)
    assert await reads(s, ar, 122, page + 0x80) == 0


@cocotb.test()
async def walk_cache_keeps_the_newest_chains(dut):
    """2 * WALK_N + 4 regions of 2 MiB, one page each: every walk fills its level-2 chain,
    replacing round robin once full; the newest WALK_N chains then all serve a walk to
    another page of their region (1 read)."""
    s, ttb = await basic(dut)
    regions = [BASE + (i << 21) for i in range(2 * WALK_N + 4)]
    for i, va in enumerate(regions):
        for page in (0, 1):
            s.map(ttb, va + (page << 12), 0x8_0000_0000 + (i << 21) + (page << 12))
    ar = MemReadMonitor(dut)
    for tag, va in enumerate(regions, start=1):
        await reads(s, ar, tag, va)
    got = [await reads(s, ar, 100 + i, va + 0x1000)
           for i, va in enumerate(regions[-WALK_N:])]
    assert got == [1] * WALK_N, got


@cocotb.test()
async def concurrent_walks_of_one_chain_fill_one_entry(dut):
    """With the level-2 array full, two misses into one new region arrive together: the
    second waits for the first's chain and reads its leaf only, so one entry is filled and
    only one older chain (the round-robin pointer's, region 0) is lost; region 1's chain
    still serves a walk (1 read), and region 0's walk starts below the level-1 chain that
    every region here shares (2 reads)."""
    s, ttb = await basic(dut)
    regions = [BASE + (i << 21) for i in range(WALK_N + 1)]
    for i, va in enumerate(regions):
        for page in (0, 1, 2):
            s.map(ttb, va + (page << 12), 0x8_0000_0000 + (i << 21) + (page << 12))
    ar = MemReadMonitor(dut)
    for tag, va in enumerate(regions[:WALK_N], start=1):
        await reads(s, ar, tag, va)
    new = regions[WALK_N]
    await s.x.send([{"tag": 50, "addr": new, "sid": 1}, {"tag": 51, "addr": new + 0x1000,
                                                          "sid": 1}])
    await s.x.wait([50, 51])
    assert await reads(s, ar, 60, regions[1] + 0x2000) == 1
    assert await reads(s, ar, 61, regions[0] + 0x2000) == 2


@cocotb.test()
async def walk_cache_level_1_keeps_the_newest_chains(dut):
    """2 * WALK_UP_N + 4 regions of 1 GiB in one 512 GiB region, one page each: every walk
    fills a level-1 chain, replacing round robin once full. A page in another 2 MiB region of
    each of the newest WALK_UP_N then reads 2 (its level-2 chain is not cached); one in the
    first region reads 3 (only the shared level-0 chain is left)."""
    s, ttb = await basic(dut)
    gib = [BASE + (i << 30) for i in range(2 * WALK_UP_N + 4)]
    for i, va in enumerate(gib):
        for off in (0, 1 << 21):
            s.map(ttb, va + off, 0x8_0000_0000 + (i << 22) + off)
    ar = MemReadMonitor(dut)
    # the first also fetches the STE and the CD; the rest start below the level-0 chain
    for tag, va in enumerate(gib, start=1):
        assert await reads(s, ar, tag, va) == (2 + 4 if tag == 1 else 3)
    got = [await reads(s, ar, 100 + i, va + (1 << 21))
           for i, va in enumerate(gib[-WALK_UP_N:])]
    assert got == [2] * WALK_UP_N, got
    assert await reads(s, ar, 120, gib[0] + (1 << 21)) == 3


@cocotb.test()
async def configuration_cache_keeps_the_newest_contexts(dut):
    """2 * CTX_N + 2 streams (one CD, one ASID) used in turn: the newest CTX_N contexts are
    cached, so translating the same (IOTLB-resident) page through each reads nothing."""
    # a linear stream table of 256 STEs: the streams go up to 2 * CTX_N + 3
    s, ttb = await basic(dut, strtab_cfg=R.STRTAB_BASE_CFG(LOG2SIZE=8).to_int())
    sids = list(range(2, 2 * CTX_N + 4))
    for sid in sids:
        s.ste(sid, s1_ste(CDTAB))
    s.map(ttb, BASE, 0x8_0000_0000)
    await s.sync(C.cfgi_all())
    ar = MemReadMonitor(dut)
    for tag, sid in enumerate(sids, start=1):
        await reads(s, ar, tag, BASE, sid)
    got = [await reads(s, ar, 100 + i, BASE, sid) for i, sid in enumerate(sids[-CTX_N:])]
    assert got == [0] * CTX_N, got
