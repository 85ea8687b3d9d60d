"""Directed tests of walker cases the random worlds reach rarely or never (default parameters).

- T0SZ above 33 (an input address of 30 bits or fewer): the walk starts at level 2;
- a 2-level stream table with STRTAB_BASE_CFG.SPLIT=10 (the random worlds draw 6, 8 or 10);
- CD.IPS above IDR5.OAS behaves as the OAS (ref §5.4: "IPS ... values greater than OAS are
  treated as OAS"), and the smallest IPS, 36 bits, bounds leaf OAs and TTB0;
- an L1CD fetch that aborts: F_CD_FETCH with the L1CD's address.

Expectations come from the architecture and the walk geometry, not from the RTL or the model.
`make cov` shows the walker lines they reach (docs/rtl-coverage.md). Run one with

    .venv/bin/python -m tb.cli.runner --sim verilator --module tb.directed.walk_edges --test <name>
"""

from __future__ import annotations

import cocotb

from models.arch import registers as R
from models.arch.cd import L1CD
from models.arch.events import EventID
from models.arch.ste import L1STD, S1DefaultSubstream, S1Format
from tb.bfm.monitors import MemReadMonitor
from tb.directed.harness import ABORT, CDTAB, OK, STRTAB, Soft, cd, check, s1_ste


@cocotb.test()
async def start_level_2(dut):
    """T0SZ=36: a 28-bit input address, a level-2 table of 128 entries at TTB0; a cold walk
    reads the STE, the CD and two levels; an address of 28 bits or more is out of range."""
    s = Soft(dut)
    ttb = s.alloc()
    s.mem.write(CDTAB, cd(ttb, T0SZ=36).to_bytes())
    s.ste(1, s1_ste(CDTAB))
    va, pa = 0x0ABC_D000, 0x5_1234_5000
    s.map(ttb, va, pa, start=2)
    s.map(ttb, 0x0FE0_0000, 0x6_0000_0000, level=2, start=2)   # 2 MiB block, last entry
    await s.start()
    ar = MemReadMonitor(dut)
    r = await s.x.xlate(tag=1, addr=va + 0x18, sid=1)
    check(r, OK, pa=pa + 0x18)
    assert ar.n == 4, ar.n                                      # STE, CD, L2, L3
    r = await s.x.xlate(tag=2, addr=0x0FFF_FFF8, sid=1)
    check(r, OK, pa=0x6_001F_FFF8)
    r = await s.x.xlate(tag=3, addr=1 << 28, sid=1)             # beyond the 28-bit range
    check(r, ABORT, fault=EventID.F_TRANSLATION)
    ev = await s.events(1)
    assert [(e.EventID, e.InputAddr) for e in ev] == [(EventID.F_TRANSLATION, 1 << 28)], ev


@cocotb.test()
async def split_10(dut):
    """SPLIT=10: StreamID bits [15:10] pick the L1STD, bits [9:0] the STE; Span 11 (1024
    STEs) is the largest legal one, Span 12 is more than SPLIT+1 (C_BAD_STREAMID)."""
    s = Soft(dut)
    ttb = s.alloc()
    l2 = 0x00A0_0000   # 64 KiB aligned: with Span 11, L2Ptr[15:0] are treated as 0 (§5.1)
    s.mem.write64(STRTAB + 8 * 0x3, L1STD(Span=11, L2Ptr=l2).to_int())     # SIDs 0xC00..0xFFF
    s.mem.write64(STRTAB + 8 * 0x4, L1STD(Span=12, L2Ptr=l2).to_int())     # > SPLIT+1
    s.mem.write(CDTAB, cd(ttb).to_bytes())
    s.mem.write(l2 + 64 * 0x3FE, s1_ste(CDTAB).to_bytes())
    s.map(ttb, 0x9000, 0x2_0000_9000)
    cfg = R.STRTAB_BASE_CFG(LOG2SIZE=16, SPLIT=10, FMT=R.StrtabFmt.TWO_LEVEL).to_int()
    await s.start(strtab_cfg=cfg)
    r = await s.x.xlate(tag=1, addr=0x9008, sid=0xFFE)
    check(r, OK, pa=0x2_0000_9008)
    r = await s.x.xlate(tag=2, addr=0x9008, sid=0x13FE)
    check(r, ABORT, fault=EventID.C_BAD_STREAMID)
    ev = await s.events(1)
    assert [(e.EventID, e.StreamID) for e in ev] == [(EventID.C_BAD_STREAMID, 0x13FE)], ev


@cocotb.test()
async def ips_above_oas_and_36_bits(dut):
    """IPS=6 (52 bits) with a 48-bit OAS acts as 48 bits: a 48-bit OA translates, a TTB0 with
    bit 48 set is ILLEGAL (C_BAD_CD). IPS=1 (36 bits): an OA below 2^36 translates, one at
    2^36 is F_ADDR_SIZE, a TTB0 at 2^36 is ILLEGAL."""
    s = Soft(dut)
    ttb = s.alloc()
    s.mem.write(CDTAB + 0 * 64, cd(ttb, asid=1, IPS=6).to_bytes())
    s.mem.write(CDTAB + 1 * 64, cd(ttb | 1 << 48, asid=2, IPS=6).to_bytes())
    s.mem.write(CDTAB + 2 * 64, cd(ttb, asid=3, IPS=1).to_bytes())
    s.mem.write(CDTAB + 3 * 64, cd(1 << 36, asid=4, IPS=1).to_bytes())
    for i in range(4):
        s.ste(1 + i, s1_ste(CDTAB + 64 * i))
    va = 0x0000_1000_0000_0000
    # nG=1: a global entry cached through one CD would serve the others' ASIDs too
    s.map(ttb, va, 0xFFFF_FFFF_F000, nG=1)           # OA bit 47
    s.map(ttb, va + 0x1000, 0xF_FFFF_F000, nG=1)     # OA bit 35: the last 36-bit page
    s.map(ttb, va + 0x2000, 0x10_0000_0000, nG=1)    # OA 2^36
    await s.start()
    r = await s.x.xlate(tag=1, addr=va + 0x10, sid=1)
    check(r, OK, pa=0xFFFF_FFFF_F010)
    r = await s.x.xlate(tag=2, addr=va + 0x10, sid=2)
    check(r, ABORT, fault=EventID.C_BAD_CD)
    r = await s.x.xlate(tag=3, addr=va + 0x1020, sid=3)
    check(r, OK, pa=0xF_FFFF_F020)
    r = await s.x.xlate(tag=4, addr=va + 0x2020, sid=3)
    check(r, ABORT, fault=EventID.F_ADDR_SIZE)
    r = await s.x.xlate(tag=5, addr=va + 0x10, sid=3)   # OA bit 47 is beyond 36 bits too
    check(r, ABORT, fault=EventID.F_ADDR_SIZE)
    r = await s.x.xlate(tag=6, addr=va + 0x1020, sid=4)
    check(r, ABORT, fault=EventID.C_BAD_CD)
    ev = await s.events(4)
    got = [(e.EventID, e.StreamID) for e in ev]
    assert got == [(EventID.C_BAD_CD, 2), (EventID.F_ADDR_SIZE, 3), (EventID.F_ADDR_SIZE, 3),
                   (EventID.C_BAD_CD, 4)], got


@cocotb.test()
async def l1cd_fetch_abort(dut):
    """A 2-level CD table whose L1CD read aborts: F_CD_FETCH, FetchAddr the L1CD (for
    SubstreamID 70: L1CD 1); the stream's other L1CD table, readable, still works."""
    s = Soft(dut)
    ttb = s.alloc()
    bad = s.alloc()                                   # the aborting L1CD table
    good, leaf = s.alloc(), s.alloc()
    s.mem.write64(good + 8 * 1, L1CD(V=1, L2Ptr=leaf).to_int())    # SSIDs 64..127
    s.mem.write(leaf + 64 * 6, cd(ttb, asid=9).to_bytes())          # SSID 70
    for sid, l1 in ((1, bad), (2, good)):
        s.ste(sid, s1_ste(l1, S1Fmt=S1Format.TWO_LEVEL_4K, S1CDMax=10,
                          S1DSS=S1DefaultSubstream.TERMINATE))
    s.map(ttb, 0x7000, 0x3_0000_7000)
    s.mem.add_fault(bad, bad + 0x1000)
    await s.start()
    r = await s.x.xlate(tag=1, addr=0x7040, sid=1, ssid=70)
    check(r, ABORT, fault=EventID.F_CD_FETCH)
    r = await s.x.xlate(tag=2, addr=0x7040, sid=2, ssid=70)
    check(r, OK, pa=0x3_0000_7040)
    ev = await s.events(1)
    assert [(e.EventID, e.StreamID, e.SSV, e.SubstreamID, e.FetchAddr) for e in ev] == [
        (EventID.F_CD_FETCH, 1, 1, 70, bad + 8)], ev
