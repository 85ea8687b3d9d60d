"""Directed smoke tests of the translation RTL (the default parameter set).

Plain cocotb tests, written by the RTL side while building rtl/: each one sets up tables in
memory with the models/arch encoders, programs the SMMU through the register port and checks
translations against values derived by hand from the reference (docs/port-contract.md,
the architecture reference). Run one with

    .venv/bin/python -m tb.cli.runner --sim verilator --module tb.directed.xlate \
        --test <name>

The harness (tb/directed/harness.py) programs the SMMU without the software stack and drives
the translation port with tb/bfm/xlate_port.py.
`tests/test_rtl.py::test_rtl_directed_smoke` runs them all on both simulators.
"""

from __future__ import annotations

import cocotb

from models.arch import commands as C
from models.arch import registers as R
from models.arch.cd import L1CD
from models.arch.events import EventID
from models.arch.pgtable import (
    PageDescriptor,
)
from models.arch.ste import L1STD, STE, S1DefaultSubstream, S1Format, StreamConfig
from tb.bfm.monitors import IrqPulseMonitor
from tb.directed.harness import (
    ABORT,
    BYPASS,
    CDTAB,
    CMDQ,
    EVTQ,
    OK,
    RAZWI,
    STRTAB,
    Soft,
    basic,
    cd,
    check,
    s1_ste,
)


@cocotb.test()
async def gbpa_bypass_abort(dut):
    """SMMUEN=0: GBPA.ABORT=0 passes addresses through, ABORT=1 aborts without an event."""
    s = Soft(dut)
    await s.start(smmuen=0)
    r = await s.x.xlate(addr=0x1234_5678_9ABC, sid=3)
    check(r, BYPASS, pa=0x1234_5678_9ABC)
    await s.w32("GBPA", (1 << 31) | (1 << 20) | (1 << 12))
    await s.poll("GBPA", 0, mask=1 << 31)
    r = await s.x.xlate(addr=0x1000, sid=3)
    check(r, ABORT, pa=0)
    assert await s.events() == []


@cocotb.test()
async def smmuen0_bypass_beyond_oas(dut):
    """§3.4: "If the SMMU is disabled (SMMUEN == 0, and GBPA.ABORT == 0 allows traffic
    bypass), the input address is presented directly to the output PA. If the input address
    of a transaction exceeds the size of the OAS, the transaction is terminated with an abort
    and no event is recorded." The default configuration has a 48-bit OAS."""
    s = Soft(dut)
    await s.start(smmuen=0)
    r = await s.x.xlate(addr=0xFFFF_FFFF_F000, sid=3)                 # the last OAS page
    check(r, BYPASS, pa=0xFFFF_FFFF_F000)
    for tag, addr in ((2, 1 << 48), (3, (1 << 60) | 0x1234), (4, 0xFFFF_0000_0000_0000)):
        r = await s.x.xlate(tag=tag, addr=addr, sid=3)
        check(r, ABORT, pa=0)
        assert r["fault"] == 0, r
    assert await s.events() == []


@cocotb.test()
async def s1_page_hit(dut):
    """A 4-level walk, then hits: PA, permissions, MAIR attribute, SH; hit latency."""
    s, ttb = await basic(dut)
    va, pa = 0x0000_7F12_3456_7000, 0x0000_0008_9ABC_D000
    s.map(ttb, va, pa, AP=0b01, AttrIndx=1, SH=3)
    r = await s.x.xlate(addr=va + 0x123, sid=1, rnw=1)
    miss_lat = r["edge"] - s.x.accepted[1]
    check(r, OK, pa=pa + 0x123, perm=0b111, attr=0xFF, sh=3)
    r = await s.x.xlate(tag=2, addr=va + 0x456, sid=1, rnw=0)
    hit_lat = r["edge"] - s.x.accepted[2]
    check(r, OK, pa=pa + 0x456, perm=0b111)
    dut._log.info("miss latency %d cycles (cold: STE+CD+4 levels), hit latency %d cycles",
                  miss_lat, hit_lat)
    # docs/rtl.md "Hit path, cycle by cycle": answered in the cycle after its handshake (a
    # microarchitecture figure, not the architecture's)
    assert hit_lat == 1, hit_lat
    # back to back: one per cycle, each answered one cycle after its handshake
    reqs = [{"tag": 10 + i, "addr": va + 8 * i, "sid": 1} for i in range(16)]
    await s.x.send(reqs)
    await s.x.wait([q["tag"] for q in reqs])
    first = s.x.accepted[10]
    last = s.x.accepted[25]
    assert last - first == 15, (first, last)
    edges = [s.x.rsps[q["tag"]]["edge"] for q in reqs]
    assert edges == list(range(first + 1, first + 17)), (first, edges)
    assert await s.events() == []


@cocotb.test()
async def same_page_misses_merge(dut):
    """Misses to one page, back to back: one walk serves them all (docs/rtl.md, "Miss
    merging"), each still answered with its own translation. Misses that fault are not
    merged into nothing: each terminated transaction records its own F_TRANSLATION (CD.R=1);
    the architecture merges only identical Stall=0 records, and not at all with STE.MEV=0,
    while these differ in InputAddr."""
    s, ttb = await basic(dut)
    va, pa = 0x0000_7F12_3456_7000, 0x0000_0008_9ABC_D000
    s.map(ttb, va, pa, AP=0b01)
    leaf = s.leaf_addr(ttb, va)
    s.mem.enable_log()
    s.mem.take_log()
    reqs = [{"tag": 40 + i, "addr": va + 64 * i, "sid": 1} for i in range(8)]
    await s.x.send(reqs)
    await s.x.wait([q["tag"] for q in reqs])
    reads = [a.addr for a in s.mem.take_log() if a.op == "r"]
    for q in reqs:
        check(s.x.rsps[q["tag"]], OK, pa=pa + q["addr"] - va)
    assert reads.count(leaf) == 1, [hex(a) for a in reads]
    # every one was a miss: the parked ones are answered through stage 1 but count as walked
    assert all(s.x.rsps[q["tag"]]["walked"] for q in reqs)
    # an unmapped page: no fill to wait for, so each parked miss walks again and faults
    bad = va + 0x10_0000
    reqs = [{"tag": 50 + i, "addr": bad + 8 * i, "sid": 1} for i in range(4)]
    await s.x.send(reqs)
    await s.x.wait([q["tag"] for q in reqs])
    for q in reqs:
        check(s.x.rsps[q["tag"]], ABORT, fault=EventID.F_TRANSLATION)
    ev = await s.events(4)
    assert sorted(e.InputAddr for e in ev) == [q["addr"] for q in reqs], ev
    s.mem.disable_log()


@cocotb.test()
async def s1_blocks_and_t0sz(dut):
    """1 GiB and 2 MiB blocks; a 39-bit VA (T0SZ=25) starts at level 1."""
    s = Soft(dut)
    ttb = s.alloc()
    ttb2 = s.alloc()
    s.mem.write(CDTAB, cd(ttb).to_bytes())
    s.mem.write(CDTAB + 64, cd(ttb2, asid=2, T0SZ=25).to_bytes())
    s.ste(1, s1_ste(CDTAB))
    s.ste(2, s1_ste(CDTAB + 64))
    s.map(ttb, 0x40_0000_0000, 0x8000_0000, level=1)
    s.map(ttb, 0x1234_5600_0000 & ~0x1F_FFFF, 0x20_0000 * 77, level=2)
    s.map(ttb2, 0x12_3456_7000, 0xABC_D000, start=1)
    await s.start()
    r = await s.x.xlate(addr=0x40_1234_5678, sid=1)
    check(r, OK, pa=0x8000_0000 + 0x1234_5678)
    r = await s.x.xlate(addr=0x40_3FFF_FFF8, sid=1)  # same block: a hit
    check(r, OK, pa=0x8000_0000 + 0x3FFF_FFF8)
    va2 = (0x1234_5600_0000 & ~0x1F_FFFF) + 0x1_2345
    r = await s.x.xlate(addr=va2, sid=1)
    check(r, OK, pa=0x20_0000 * 77 + 0x1_2345)
    r = await s.x.xlate(addr=0x12_3456_7ABC, sid=2)
    check(r, OK, pa=0xABC_DABC)
    # beyond the 39-bit input range of SID 2: F_TRANSLATION, recorded (CD.R=1)
    r = await s.x.xlate(addr=0x80_0000_0000, sid=2)
    check(r, ABORT, fault=EventID.F_TRANSLATION)
    ev = await s.events(1)
    assert len(ev) == 1 and ev[0].EventID == EventID.F_TRANSLATION, ev
    assert ev[0].InputAddr == 0x80_0000_0000 and ev[0].StreamID == 2 and ev[0].CLASS == 0b10


@cocotb.test()
async def s1_faults(dut):
    """Walk faults and permission faults, their A/R behaviour and their event records."""
    s, ttb = await basic(dut)
    base = 0x0000_1000_0000_0000
    s.map(ttb, base + 0x0000, 0x10_0000_0000, AP=0b00)                 # EL1 RW only
    s.map(ttb, base + 0x1000, 0x10_0000_1000, AP=0b11, UXN=1)          # RO all, no EL0 exec
    s.map(ttb, base + 0x2000, 0x10_0000_2000, AF=0)                     # access flag clear
    s.map(ttb, base + 0x3000, 0x10_0000_3000, AP=0b01, PXN=1)           # EL0 RW
    s.map(ttb, base + 0x4000, 0x1_0000_0000_0000 - 0x1000)              # OA[47:44] set
    # unmapped -> F_TRANSLATION, aborted (A=1), recorded (R=1)
    r = await s.x.xlate(addr=base + 0x9000, sid=1, rnw=0, pnu=1)
    check(r, ABORT, fault=EventID.F_TRANSLATION)
    ev = await s.events(1)
    assert len(ev) == 1, ev
    e = ev[0]
    assert (e.EventID, e.StreamID, e.SSV, e.RnW, e.PnU, e.InD, e.CLASS, e.S2, e.InputAddr) == \
        (EventID.F_TRANSLATION, 1, 0, 0, 1, 0, 0b10, 0, base + 0x9000), e
    # EL1-only page: unprivileged read faults, privileged write works
    r = await s.x.xlate(addr=base + 0x10, sid=1, pnu=0)
    check(r, ABORT, fault=EventID.F_PERMISSION)
    r = await s.x.xlate(addr=base + 0x10, sid=1, pnu=1, rnw=0)
    check(r, OK, pa=0x10_0000_0010, perm=0b111)
    # read-only page: writes fault at both levels; unprivileged exec forbidden by UXN,
    # privileged exec allowed (page not EL0-writable, PXN=0)
    r = await s.x.xlate(addr=base + 0x1008, sid=1, rnw=0, pnu=1)
    check(r, ABORT, fault=EventID.F_PERMISSION)
    r = await s.x.xlate(addr=base + 0x1008, sid=1, ind=1, pnu=0)
    check(r, ABORT, fault=EventID.F_PERMISSION)
    r = await s.x.xlate(addr=base + 0x1008, sid=1, ind=1, pnu=1)
    check(r, OK, pa=0x10_0000_1008, perm=0b101)
    # EL0-writable page: privileged exec never allowed
    r = await s.x.xlate(addr=base + 0x3000, sid=1, ind=1, pnu=1)
    check(r, ABORT, fault=EventID.F_PERMISSION)
    r = await s.x.xlate(addr=base + 0x3000, sid=1, ind=1, pnu=0)
    check(r, OK, perm=0b111)
    # AF=0 without AFFD -> F_ACCESS (before any permission check)
    r = await s.x.xlate(addr=base + 0x2000, sid=1, rnw=0)
    check(r, ABORT, fault=EventID.F_ACCESS)
    # output address beyond IPS (40 bits would be needed; IPS=48 here): fine
    r = await s.x.xlate(addr=base + 0x4000, sid=1)
    check(r, OK, pa=0xFFFF_FFFF_F000)
    ev = await s.events(5)
    ids = [e.EventID for e in ev]
    assert ids == [EventID.F_PERMISSION] * 4 + [EventID.F_ACCESS], ids
    assert ev[0].TTRnW == 0 and ev[0].CLASS == 0b10


@cocotb.test()
async def s1_fault_behaviour(dut):
    """CD.A=0 gives RAZ/WI, CD.R=0 keeps faults silent; IPS limits; AFFD; WXN; PAN; TBI."""
    s = Soft(dut)
    ttb = s.alloc()
    s.mem.write(CDTAB + 0 * 64, cd(ttb, asid=5, A=0, R=1).to_bytes())
    s.mem.write(CDTAB + 1 * 64, cd(ttb, asid=6, A=1, R=0).to_bytes())
    s.mem.write(CDTAB + 2 * 64, cd(ttb, asid=7, IPS=2, AFFD=1, TBI0=1).to_bytes())  # 40-bit
    s.mem.write(CDTAB + 3 * 64, cd(ttb, asid=8, WXN=1, PAN=1).to_bytes())
    for i in range(4):
        s.ste(4 + i, s1_ste(CDTAB + 64 * i))
    va = 0x0000_2000_0000_0000
    s.map(ttb, va, 0x7F_0000_0000, AP=0b01)              # OA bit 38: inside 40 bits
    s.map(ttb, va + 0x1000, 0x100_0000_0000)             # OA bit 40: beyond 40 bits
    s.map(ttb, va + 0x2000, 0x7F_0000_2000, AF=0)
    await s.start()
    r = await s.x.xlate(addr=va + 0x5000, sid=4)
    check(r, RAZWI, pa=0, fault=EventID.F_TRANSLATION)
    r = await s.x.xlate(addr=va + 0x5000, sid=5)
    check(r, ABORT, fault=EventID.F_TRANSLATION)
    assert [e.StreamID for e in await s.events(1)] == [4]
    r = await s.x.xlate(addr=va + 0x1000, sid=6)
    check(r, ABORT, fault=EventID.F_ADDR_SIZE)
    r = await s.x.xlate(addr=va + 0x2008, sid=6)           # AFFD=1: AF=0 is fine
    check(r, OK, pa=0x7F_0000_2008)
    r = await s.x.xlate(addr=(0xAB << 56) | (va + 0x10), sid=6)   # TBI0 ignores the top byte
    check(r, OK, pa=0x7F_0000_0010)
    r = await s.x.xlate(addr=(0xAB << 56) | (va + 0x10), sid=7)   # no TBI0: out of range
    check(r, ABORT, fault=EventID.F_TRANSLATION)
    # WXN: a writable page is never executable; PAN: privileged data access to an EL0 page
    r = await s.x.xlate(addr=va + 0x10, sid=7, ind=1, pnu=0)
    check(r, ABORT, fault=EventID.F_PERMISSION)
    r = await s.x.xlate(addr=va + 0x10, sid=7, pnu=1)
    check(r, ABORT, fault=EventID.F_PERMISSION)
    r = await s.x.xlate(addr=va + 0x10, sid=7, pnu=0, rnw=0)
    check(r, OK, perm=0b011)
    ev = await s.events(4)
    assert [e.EventID for e in ev] == [EventID.F_ADDR_SIZE, EventID.F_TRANSLATION,
                                       EventID.F_PERMISSION, EventID.F_PERMISSION], ev


@cocotb.test()
async def config_errors(dut):
    """Stream-table and STE errors: C_BAD_STREAMID (RECINVSID), C_BAD_STE, silent aborts,
    bypass, F_STE_FETCH with FetchAddr."""
    s = Soft(dut)
    s.ste(0, STE(V=1, Config=StreamConfig.BYPASS))
    s.ste(1, STE(V=0))
    s.ste(2, STE(V=1, Config=StreamConfig.ABORT))
    s.ste(3, STE(V=1, Config=0b010))                       # reserved: silent abort
    s.ste(4, STE(V=1, Config=StreamConfig.S2_TRANS))        # no stage 2: ILLEGAL
    s.ste(5, s1_ste(CDTAB, S1CDMax=17))                     # > SSIDSIZE: ILLEGAL
    s.ste(6, s1_ste(CDTAB, S1STALLD=1))                     # no stalls: ILLEGAL
    s.ste(7, s1_ste(CDTAB + 64))                            # CD V=0 -> C_BAD_CD
    s.ste(8, s1_ste(CDTAB + 128))                           # CD S=1 -> ILLEGAL
    s.ste(9, s1_ste(CDTAB + 192))                           # CD fetch aborts
    s.mem.write(CDTAB + 64, bytes(64))
    s.mem.write(CDTAB + 128, cd(0x1000, S=1).to_bytes())
    s.mem.add_fault(CDTAB + 192, CDTAB + 256)
    s.mem.add_fault(STRTAB + 64 * 10, STRTAB + 64 * 11)    # STE 10 fetch aborts
    await s.start()
    r = await s.x.xlate(addr=0xDEAD_B000, sid=0)
    check(r, BYPASS, pa=0xDEAD_B000)
    r = await s.x.xlate(addr=0x1000, sid=0, ssid=1)
    check(r, ABORT, fault=EventID.C_BAD_SUBSTREAMID)
    want = []
    for sid, fault in ((1, 4), (2, 0), (3, 0), (4, 4), (5, 4), (6, 4), (7, 0xA), (8, 0xA),
                       (9, 9), (10, 3), (64, 2)):
        r = await s.x.xlate(addr=0x1000, sid=sid)
        check(r, ABORT, fault=fault)
        if fault:
            want.append((fault, sid))
    ev = await s.events(len(want) + 1)
    got = [(e.EventID, e.StreamID) for e in ev]
    assert got == [(8, 0), *want], got
    assert ev[0].SubstreamID == 1 and ev[0].SSV == 0
    assert ev[-3].FetchAddr == CDTAB + 192 and ev[-2].FetchAddr == STRTAB + 640, ev[-3:]
    # without RECINVSID the bad StreamID is not recorded
    await s.w32("CR0", 0b1100)
    await s.poll("CR0ACK", 0b1100)
    await s.w32("CR2", 0)
    await s.w32("CR0", 0b1101)
    await s.poll("CR0ACK", 0b1101)
    r = await s.x.xlate(addr=0x1000, sid=1 << 20)
    check(r, ABORT, fault=EventID.C_BAD_STREAMID)
    r = await s.x.xlate(addr=0x1000, sid=1)
    check(r, ABORT, fault=EventID.C_BAD_STE)
    assert [e.EventID for e in await s.events(1)] == [EventID.C_BAD_STE]


@cocotb.test()
async def two_level_tables(dut):
    """2-level stream table (SPLIT=8, Span rules) and 2-level CD table with PASIDs, S1DSS."""
    s = Soft(dut)
    l2 = s.alloc(16 * 1024)
    ttb = s.alloc()
    # L1STD 0x12 covers SIDs 0x1200..0x12FF; Span 5 -> 16 STEs (0x1200..0x120F)
    s.mem.write64(STRTAB + 8 * 0x12, L1STD(Span=5, L2Ptr=l2).to_int())
    s.mem.write64(STRTAB + 8 * 0x13, L1STD(Span=10, L2Ptr=l2).to_int())   # > SPLIT+1
    l1cd = CDTAB
    leaf = s.alloc()
    s.mem.write64(l1cd + 8 * 0, L1CD(V=1, L2Ptr=leaf).to_int())   # SSIDs 0..63
    ste = s1_ste(l1cd, S1Fmt=S1Format.TWO_LEVEL_4K, S1CDMax=10,
                 S1DSS=S1DefaultSubstream.SSID0)
    s.mem.write(l2 + 64 * 3, ste.to_bytes())
    s.mem.write(l2 + 64 * 4, s1_ste(l1cd, S1Fmt=S1Format.TWO_LEVEL_4K, S1CDMax=10,
                                    S1DSS=S1DefaultSubstream.BYPASS).to_bytes())
    s.mem.write(l2 + 64 * 5, s1_ste(l1cd, S1Fmt=S1Format.TWO_LEVEL_4K, S1CDMax=10).to_bytes())
    s.mem.write(leaf + 64 * 0, cd(ttb, asid=10).to_bytes())
    s.mem.write(leaf + 64 * 7, cd(ttb, asid=11).to_bytes())
    s.map(ttb, 0x5000, 0x9_0000_5000, nG=1)
    cfg = R.STRTAB_BASE_CFG(LOG2SIZE=16, SPLIT=8, FMT=R.StrtabFmt.TWO_LEVEL).to_int()
    await s.start(strtab_cfg=cfg)
    r = await s.x.xlate(addr=0x5008, sid=0x1203, ssid=7)
    check(r, OK, pa=0x9_0000_5008)
    r = await s.x.xlate(addr=0x5010, sid=0x1203)          # no PASID: CD 0 (S1DSS=SSID0)
    check(r, OK, pa=0x9_0000_5010)
    r = await s.x.xlate(addr=0x5010, sid=0x1203, ssid=0)  # SSID 0 is reserved: disabled
    check(r, ABORT, fault=EventID.F_STREAM_DISABLED)
    r = await s.x.xlate(addr=0x5010, sid=0x1203, ssid=1 << 10)   # >= 2^S1CDMax
    check(r, ABORT, fault=EventID.C_BAD_SUBSTREAMID)
    r = await s.x.xlate(addr=0x5010, sid=0x1203, ssid=64)        # L1CD 1 invalid
    check(r, ABORT, fault=EventID.C_BAD_SUBSTREAMID)
    r = await s.x.xlate(addr=0x5010, sid=0x1203, ssid=8)         # CD 8 V=0
    check(r, ABORT, fault=EventID.C_BAD_CD)
    r = await s.x.xlate(addr=0x7777_5010, sid=0x1204)            # S1DSS=bypass
    check(r, BYPASS, pa=0x7777_5010)
    r = await s.x.xlate(addr=0x5010, sid=0x1205)                 # S1DSS=terminate
    check(r, ABORT, fault=EventID.F_STREAM_DISABLED)
    r = await s.x.xlate(addr=0x5010, sid=0x1210)                 # beyond Span
    check(r, ABORT, fault=EventID.C_BAD_STREAMID)
    r = await s.x.xlate(addr=0x5010, sid=0x1300)                 # Span > SPLIT+1
    check(r, ABORT, fault=EventID.C_BAD_STREAMID)
    r = await s.x.xlate(addr=0x5010, sid=0x1400)                 # Span 0
    check(r, ABORT, fault=EventID.C_BAD_STREAMID)
    ev = await s.events(8)
    got = [(e.EventID, e.StreamID, e.SSV, e.SubstreamID) for e in ev]
    assert got == [(6, 0x1203, 0, 0), (8, 0x1203, 0, 1 << 10), (8, 0x1203, 0, 64),
                   (0xA, 0x1203, 1, 8), (6, 0x1205, 0, 0), (2, 0x1210, 0, 0),
                   (2, 0x1300, 0, 0), (2, 0x1400, 0, 0)], got


@cocotb.test()
async def c_bad_substreamid_without_ssv(dut):
    """A transaction without a SubstreamID (SSV=0) reaches CD 0 through S1DSS=0b10; with
    L1CD 0 invalid that is C_BAD_SUBSTREAMID, whose record names SubstreamID 0 (reference
    §5: "C_BAD_SUBSTREAMID (SSID reported, 0 if reached via S1DSS=0b10)"), whatever the
    port's SubstreamID wires carry when SSV=0 (they mean nothing then)."""
    s = Soft(dut)
    ttb = s.alloc()
    l1cd = CDTAB
    s.mem.write64(l1cd + 8 * 0, L1CD(V=0).to_int())
    s.ste(9, s1_ste(l1cd, S1Fmt=S1Format.TWO_LEVEL_4K, S1CDMax=10,
                    S1DSS=S1DefaultSubstream.SSID0))
    s.map(ttb, 0x5000, 0x9_0000_5000)
    await s.start()
    r = await s.x.xlate(addr=0x5010, sid=9, ssv=0, ssid=0x55)
    check(r, ABORT, fault=EventID.C_BAD_SUBSTREAMID)
    ev = await s.events(1)
    got = [(e.EventID, e.StreamID, e.SSV, e.SubstreamID) for e in ev]
    assert got == [(EventID.C_BAD_SUBSTREAMID, 9, 0, 0)], got


@cocotb.test()
async def commands_invalidate_and_sync(dut):
    """Cached translations stay until TLBI + SYNC; CFGI_STE/CD; SIG_IRQ pulse; nG/ASID."""
    s, ttb = await basic(dut)
    pulses = IrqPulseMonitor(dut, "cmdq_sync", s.bfm.cycle).cycles
    va = 0x4000_0000
    s.map(ttb, va, 0x1_0000_0000, nG=1)
    s.map(ttb, va + 0x1000, 0x1_0000_1000, nG=0)       # global
    await s.sync(C.cfgi_all(), C.CmdTlbiNsnhAll())
    r = await s.x.xlate(addr=va, sid=1)
    check(r, OK, pa=0x1_0000_0000)
    r = await s.x.xlate(addr=va + 0x1000, sid=1)
    check(r, OK, pa=0x1_0000_1000)
    # change the tables behind the SMMU's back: the IOTLB keeps the old translations
    s.mem.write64(s.leaf_addr(ttb, va), PageDescriptor(
        Valid=1, AF=1, AP=1, SH=3, AttrIndx=1, nG=1, OutputAddr=0x2_0000_0000).to_int())
    s.mem.write64(s.leaf_addr(ttb, va + 0x1000), PageDescriptor(
        Valid=1, AF=1, AP=1, SH=3, AttrIndx=1, OutputAddr=0x2_0000_1000).to_int())
    check(await s.x.xlate(addr=va, sid=1), OK, pa=0x1_0000_0000)
    # TLBI by another ASID: no effect; by ASID 1: only the non-global entry goes
    await s.sync(C.CmdTlbiNhAsid(ASID=2))
    check(await s.x.xlate(addr=va, sid=1), OK, pa=0x1_0000_0000)
    await s.sync(C.CmdTlbiNhAsid(ASID=1))
    check(await s.x.xlate(addr=va, sid=1), OK, pa=0x2_0000_0000)
    check(await s.x.xlate(addr=va + 0x1000, sid=1), OK, pa=0x1_0000_1000)
    await s.sync(C.CmdTlbiNhVaa(Addr=va + 0x1000))
    check(await s.x.xlate(addr=va + 0x1000, sid=1), OK, pa=0x2_0000_1000)
    # the STE is cached too: point SID 1 at a bypass STE; only CFGI_STE makes it visible
    s.ste(1, STE(V=1, Config=StreamConfig.BYPASS))
    check(await s.x.xlate(addr=va, sid=1), OK, pa=0x2_0000_0000)
    await s.sync(C.CmdCfgiSte(StreamID=1, Leaf=1))
    check(await s.x.xlate(addr=va, sid=1), BYPASS, pa=va)
    # SIG_IRQ SYNC: exactly one pulse
    n = len(pulses)
    await s.cmds(C.CmdSync(CS=C.SyncCS.SIG_IRQ))
    await s.bfm.clocks(2)
    assert len(pulses) == n + 1, pulses


@cocotb.test()
async def sync_waits_for_held_responses(dut):
    """§4.7.3: a CMD_SYNC completes only when every transaction translated with an entry that
    an invalidation before it targeted has completed. A response the client has not accepted
    (t_rsp_ready low) belongs to a transaction that has not completed, so the SYNC after the
    TLBI of its page must wait for it; the response itself may carry the old translation."""
    s, ttb = await basic(dut)
    va = 0x4000_0000
    s.map(ttb, va, 0x1_0000_0000, nG=1)
    await s.sync(C.cfgi_all(), C.CmdTlbiNsnhAll())
    check(await s.x.xlate(tag=1, addr=va, sid=1), OK, pa=0x1_0000_0000)   # now in the IOTLB
    s.x.hold_responses(True)
    await s.x.send([{"tag": 2, "addr": va, "sid": 1}])                   # a hit, held inside
    await s.bfm.clocks(4)
    assert 2 not in s.x.rsps
    # munmap: the PTE goes, then TLBI + SYNC
    s.mem.write64(s.leaf_addr(ttb, va), 0)
    await s.cmds(C.CmdTlbiNhVa(ASID=1, Addr=va), C.CmdSync(), wait=False)
    mask = 2 * (1 << s.cmdq_log2) - 1
    for _ in range(40):  # about 200 cycles of register reads
        cons = await s.r32("CMDQ_CONS")
        assert cons & mask != s.cmd_prod, "CMD_SYNC completed while a response it must " \
                                          "wait for was still held in the SMMU"
    s.x.hold_responses(False)
    await s.x.wait([2])
    check(s.x.rsps[2], OK, pa=0x1_0000_0000)   # translated before the invalidation
    await s.poll("CMDQ_CONS", s.cmd_prod, mask=mask)
    r = await s.x.xlate(tag=3, addr=va, sid=1)
    check(r, ABORT, fault=EventID.F_TRANSLATION)


@cocotb.test()
async def command_errors(dut):
    """CERROR_ILL and CERROR_ABT: CONS stops on the command, GERROR.CMDQ_ERR, restart."""
    s, _ttb = await basic(dut)
    await s.cmds(C.CmdSync(), C.UnknownCommand(Opcode=0x7F), C.CmdSync(), wait=False)
    await s.poll("CMDQ_CONS", (1 << 24) | 1)           # ERR = CERROR_ILL, RD at the bad one
    g = await s.r32("GERROR")
    assert g & 1, g
    assert s.bfm.irq("gerror") == 1
    # software replaces the command with a SYNC and acknowledges
    s.mem.write(CMDQ + 16, C.CmdSync().to_bytes())
    await s.w32("GERRORN", g)
    await s.poll("CMDQ_CONS", 3, mask=0xFFFFF)
    assert s.bfm.irq("gerror") == 0
    # a command fetch abort
    s.mem.add_fault(CMDQ + 16 * 3, CMDQ + 16 * 4, on="r")
    await s.cmds(C.CmdSync(), wait=False)
    await s.poll("CMDQ_CONS", (2 << 24) | 3)
    s.mem.clear_faults()
    await s.w32("GERRORN", await s.r32("GERROR"))
    await s.poll("CMDQ_CONS", 4, mask=0xFFFFF)


@cocotb.test()
async def event_queue_overflow(dut):
    """A 2-entry event queue: records beyond it are lost and OVFLG toggles once."""
    s, _ttb = await basic(dut)
    # shrink the queue: disable it first (EVENTQ_BASE is guarded by EVENTQEN)
    await s.w32("CR0", 0b1001)
    await s.poll("CR0ACK", 0b1001)
    s.evtq_log2 = 1
    await s.w64("EVENTQ_BASE", EVTQ | 1)
    await s.w32("CR0", 0b1101)
    await s.poll("CR0ACK", 0b1101)
    assert s.bfm.irq("eventq") == 0
    for i in range(4):
        check(await s.x.xlate(addr=0x1000 * (i + 1), sid=1), ABORT, fault=0x10)
    await s.bfm.clocks(40)
    prod = await s.r32("EVENTQ_PROD")
    assert prod == (1 << 31) | 2, hex(prod)             # full (wrap set, index 0), overflow
    assert s.bfm.irq("eventq") == 1
    ev = await s.events(2)
    assert [e.InputAddr for e in ev] == [0x1000, 0x2000], ev
    # acknowledged by events(): OVACKFLG = OVFLG; new records flow again
    check(await s.x.xlate(addr=0x9000, sid=1), ABORT, fault=0x10)
    ev = await s.events(1)
    assert [e.InputAddr for e in ev] == [0x9000]
    assert (await s.r32("EVENTQ_PROD")) >> 31 == 1     # flag stays until the next overflow


@cocotb.test()
async def hit_under_miss(dut):
    """Misses do not block hits; several walks in flight; responses by tag out of order."""
    s, ttb = await basic(dut)
    base = 0x0000_3000_0000_0000
    for i in range(8):
        s.map(ttb, base + 0x20_0000 * i, 0x5_0000_0000 + 0x1000 * i)
    check(await s.x.xlate(addr=base, sid=1), OK, pa=0x5_0000_0000)   # warm page 0
    reqs = [{"tag": 20 + i, "addr": base + 0x20_0000 * i, "sid": 1} for i in range(1, 5)]
    reqs += [{"tag": 40 + i, "addr": base + 8 * i, "sid": 1} for i in range(8)]
    await s.x.send(reqs)
    await s.x.wait([q["tag"] for q in reqs])
    for q in reqs:
        i = q["tag"] % 20
        want = 0x5_0000_0000 + (0x1000 * i if q["tag"] < 40 else 8 * (q["tag"] - 40))
        check(s.x.rsps[q["tag"]], OK, pa=want)
    order = s.x.order[-12:]
    # the eight hits come back before any of the four misses
    assert order[:8] == [40 + i for i in range(8)], order
    accepted = [s.x.accepted[q["tag"]] for q in reqs]
    assert accepted == list(range(accepted[0], accepted[0] + 12)), accepted
    miss_edges = [s.x.rsps[20 + i]["edge"] for i in range(1, 5)]
    dut._log.info("four concurrent misses answered at edges %s (issued from %d)",
                  miss_edges, accepted[0])
    # the four walks overlapped: all done well before 4 serial walks would be
    assert max(miss_edges) - accepted[0] < 2 * 30, miss_edges
