"""Directed conformance tests: one per deviation a specification audit found (issue 8).

Every expected value is derived from the quoted IHI 0070 text, never from the model or the
RTL; each test failed on the code before its fix. Run one with

    .venv/bin/python -m tb.cli.runner --sim verilator --module tb.directed.conformance \
        --test <name>

`tests/test_rtl.py::test_rtl_directed_smoke` runs them all on both simulators.
"""

from __future__ import annotations

import os

import cocotb

from models.arch import commands as C
from models.arch import registers as R
from models.arch.cd import L1CD
from models.arch.events import EventID
from models.arch.ste import L1STD, STE, S1DefaultSubstream, S1Format, StreamConfig
from tb.directed.harness import ABORT, BYPASS, EVTQ, OK, STRTAB, Soft, basic, cd, check, s1_ste
from tb.dut_config import CONFIGS

CFG = CONFIGS[os.environ.get("SMMU_PARAMS", "default")]
STALL_FORCED = CFG.STALL_MODEL == R.StallModel.STALL_FORCED
# With the stall model forced a CD must have S=1 (and A=1 with TERM_MODEL=1), and a
# translation fault would stall, which this RTL does not build yet: such tests need another
# parameter set.
CD_KW = {"S": 1} if STALL_FORCED else {}


def s1_context(s: Soft) -> tuple[int, int]:
    """A CD (ASID 1, legal on this parameter set) over a fresh table: (CD address, TTB0)."""
    ttb = s.alloc()
    ctx = s.alloc()
    s.mem.write(ctx, cd(ttb, **CD_KW).to_bytes())
    return ctx, ttb


@cocotb.test(skip=STALL_FORCED)
async def global_entry_matches_only_its_aset(dut):
    """§3.17.1: "Global TLB entries with ASET == 0 do not match lookups through configurations
    with ASET == 1. Global TLB entries with ASET == 1 do not match lookups through
    configurations with ASET == 0." §3.17: "CMD_TLBI_* commands invalidate all matching TLB
    entries regardless of their ASET value" (a TLBI_NH_VA matches global entries whatever its
    ASID)."""
    s = Soft(dut)
    va = 0x4000_0000
    pa = {1: 0x1_0000_0000, 2: 0x2_0000_0000}
    ttb = {}
    for sid, aset in ((1, 0), (2, 1)):
        ttb[sid] = s.alloc()
        ctx = s.alloc()
        s.mem.write(ctx, cd(ttb[sid], asid=sid, ASET=aset).to_bytes())
        s.ste(sid, s1_ste(ctx))
        s.map(ttb[sid], va, pa[sid], nG=0)                             # global
        s.map(ttb[sid], va + 0x20_0000, pa[sid] + 0x20_0000, nG=1)
    await s.start()
    await s.sync(C.cfgi_all(), C.CmdTlbiNsnhAll())
    # Contexts cached first, so that the lookups below go through the IOTLB.
    for sid in (1, 2):
        check(await s.x.xlate(tag=sid, addr=va + 0x20_0000, sid=sid), OK,
              pa=pa[sid] + 0x20_0000)
    # The ASET=1 entry is made first, so a lookup that ignored ASET would find it for SID 1.
    check(await s.x.xlate(tag=11, addr=va, sid=2), OK, pa=pa[2])
    check(await s.x.xlate(tag=12, addr=va, sid=1), OK, pa=pa[1])
    check(await s.x.xlate(tag=13, addr=va, sid=2), OK, pa=pa[2])
    # Both global entries go with one TLBI_NH_VA of an unrelated ASID.
    new = {1: 0x3_0000_0000, 2: 0x4_0000_0000}
    for sid in (1, 2):
        s.map(ttb[sid], va, new[sid], nG=0)
    await s.sync(C.CmdTlbiNhVa(ASID=7, Addr=va))
    check(await s.x.xlate(tag=4, addr=va, sid=1), OK, pa=new[1])
    check(await s.x.xlate(tag=5, addr=va, sid=2), OK, pa=new[2])
    assert await s.events() == []


@cocotb.test(skip=STALL_FORCED)
async def endi_ignored_when_both_epds_are_1(dut):
    """§5.4 CD.ENDI: "If the effective values of both CD.EPD0 and CD.EPD1 are 1, this field is
    IGNORED. Otherwise: If SMMU_IDR0.TTENDIAN == 0b10, it is ILLEGAL to set this field to 1."
    This SMMU advertises TTENDIAN=0b10 (little-endian only). With both halves disabled every
    access is an F_TRANSLATION (§3.4.1, EPDx); with a half enabled the CD is C_BAD_CD."""
    s = Soft(dut)
    for sid, (epd0, epd1) in ((1, (1, 1)), (2, (0, 1)), (3, (1, 0))):
        ctx = s.alloc()
        s.mem.write(ctx, cd(s.alloc(), asid=sid, ENDI=1, EPD0=epd0, EPD1=epd1, TG1=0b10,
                            T1SZ=16).to_bytes())
        s.ste(sid, s1_ste(ctx))
    await s.start()
    check(await s.x.xlate(tag=1, addr=0x1000, sid=1), ABORT, fault=EventID.F_TRANSLATION)
    check(await s.x.xlate(tag=2, addr=0x1000, sid=2), ABORT, fault=EventID.C_BAD_CD)
    check(await s.x.xlate(tag=3, addr=0x1000, sid=3), ABORT, fault=EventID.C_BAD_CD)
    got = [(e.EventID, e.StreamID) for e in await s.events(3)]
    assert got == [(EventID.F_TRANSLATION, 1), (EventID.C_BAD_CD, 2), (EventID.C_BAD_CD, 3)], got


@cocotb.test(skip=not CFG.ATS)
async def eats_legality(dut):
    """§5.2 STE.EATS, with ATS implemented: 0b10 (split-stage) "If any of the following hold,
    the STE is ILLEGAL ...: STE.Config != 0b111" (stage 1 only here: C_BAD_STE); 0b11 "If
    SMMU_IDR3.DPT == 0, then this encoding is Reserved for Non-secure STEs and behaves as 0b00"
    (legal: ordinary translations proceed); 0b01 is legal."""
    s = Soft(dut)
    ctx, ttb = s1_context(s)
    s.map(ttb, 0x5000, 0x9_0000_5000)
    for sid, eats in ((1, 0b01), (2, 0b10), (3, 0b11)):
        s.ste(sid, s1_ste(ctx, EATS=eats))
    await s.start()
    check(await s.x.xlate(tag=1, addr=0x5008, sid=1), OK, pa=0x9_0000_5008)
    check(await s.x.xlate(tag=2, addr=0x5008, sid=2), ABORT, fault=EventID.C_BAD_STE)
    check(await s.x.xlate(tag=3, addr=0x5008, sid=3), OK, pa=0x9_0000_5008)
    assert [e.EventID for e in await s.events(1)] == [EventID.C_BAD_STE]


@cocotb.test(skip=CFG.SSIDSIZE != 0)
async def s1cdmax_ignored_without_substreams(dut):
    """§5.2 STE.S1CDMax: "If SMMU_IDR1.SSIDSIZE == 0, this field is IGNORED" (S1Fmt and
    S1DSS only apply with S1CDMax != 0): S1ContextPtr points at the single CD, even with
    S1CDMax=5, a two-level S1Fmt and S1DSS=terminate."""
    s = Soft(dut)
    ctx, ttb = s1_context(s)
    s.map(ttb, 0x5000, 0x9_0000_5000)
    s.ste(1, s1_ste(ctx, S1CDMax=5, S1Fmt=S1Format.TWO_LEVEL_4K,
                    S1DSS=S1DefaultSubstream.TERMINATE))
    await s.start()
    check(await s.x.xlate(addr=0x5008, sid=1), OK, pa=0x9_0000_5008)
    assert await s.events() == []


@cocotb.test(skip=not CFG.CD2L or CFG.SSIDSIZE < 11 or STALL_FORCED)
async def l1cd_l2ptr_low_bits_ignored_for_64k_leaves(dut):
    """§5.2 STE.S1Fmt=0b10: "L2 tables are 64KB-aligned: L1CD.L2Ptr[15:12] are RES0 and
    L1CD.L2Ptr[11:0] are taken to be zero by the SMMU." The table is 64 KiB aligned, so those
    bits are not address bits: a descriptor with them set still reaches CD 1 of the leaf
    table at the aligned address (the model's choice for the RES0 bits, which the RTL
    shares)."""
    s = Soft(dut)
    leaf = 0x0080_0000                                   # 64 KiB aligned
    l1 = s.alloc()
    ttb = s.alloc()
    s.mem.write64(l1, L1CD(V=1, L2Ptr=leaf | 0xF000).to_int())
    s.mem.write(leaf + 64 * 1, cd(ttb, asid=5).to_bytes())
    s.map(ttb, 0x5000, 0x9_0000_5000)
    s.ste(1, s1_ste(l1, S1CDMax=10, S1Fmt=S1Format.TWO_LEVEL_64K))
    await s.start()
    check(await s.x.xlate(addr=0x5008, sid=1, ssid=1), OK, pa=0x9_0000_5008)
    assert await s.events() == []


@cocotb.test(skip=STALL_FORCED)
async def queue_and_stream_table_bases_are_aligned(dut):
    """§6.3.24 STRTAB_BASE (linear): "the effective base address is aligned by the SMMU to the
    table size ... ADDR[LOG2SIZE + 5:0] = 0"; §6.3.26/§6.3.29 CMDQ_BASE/EVENTQ_BASE: "The
    effective base address is aligned by the SMMU to the larger of the queue size in bytes or
    32 bytes, ignoring the least-significant bits of ADDR as required". With low ADDR bits
    set, the STE, the commands and the event records are still at the aligned addresses."""
    s = Soft(dut)
    ctx, ttb = s1_context(s)
    s.ste(1, s1_ste(ctx))
    s.map(ttb, 0x5000, 0x9_0000_5000)
    # LOG2SIZE=6: a 4 KiB stream table; 16 commands: 256 bytes; 16 records: 512 bytes
    await s.start(low_bits=(0xFC0, 0xE0, 0x1E0))
    await s.sync(C.CmdTlbiNsnhAll())                       # consumed from the aligned base
    check(await s.x.xlate(tag=1, addr=0x5008, sid=1), OK, pa=0x9_0000_5008)
    check(await s.x.xlate(tag=2, addr=0x6008, sid=1), ABORT, fault=EventID.F_TRANSLATION)
    ev = await s.events(1)                                   # read from the aligned base
    assert [(e.EventID, e.StreamID, e.InputAddr) for e in ev] == \
        [(EventID.F_TRANSLATION, 1, 0x6008)], ev


@cocotb.test(skip=not CFG.ST_LEVEL or STALL_FORCED)
async def two_level_stream_table_bases_are_aligned(dut):
    """§6.3.24, 2-level: "the effective base address is aligned by the SMMU to the larger of
    64 bytes or the first-level table size: ADDR[MAX(5, (LOG2SIZE - SPLIT - 1 + 3)):0] = 0";
    §5.1 L1STD.L2Ptr: "Bits L2Ptr[N:0] are treated as 0 by the SMMU, where N == 5 + (Span -1)".
    LOG2SIZE=16, SPLIT=8: ADDR[10:0] ignored; Span=5: L2Ptr[9:0] ignored."""
    s = Soft(dut)
    l2 = s.alloc()                                           # 4 KiB aligned
    ctx, ttb = s1_context(s)
    s.mem.write64(STRTAB + 8 * 0x12, L1STD(Span=5, L2Ptr=l2 | 0x3C0).to_int())
    s.mem.write(l2 + 64 * 3, s1_ste(ctx).to_bytes())
    s.map(ttb, 0x5000, 0x9_0000_5000)
    cfg = R.STRTAB_BASE_CFG(LOG2SIZE=16, SPLIT=8, FMT=R.StrtabFmt.TWO_LEVEL).to_int()
    await s.start(strtab_cfg=cfg, low_bits=(0x7C0, 0, 0))
    check(await s.x.xlate(addr=0x5008, sid=0x1203), OK, pa=0x9_0000_5008)
    assert await s.events() == []


@cocotb.test(skip=STALL_FORCED)
async def eventq_abort_stops_delivery_until_acknowledged(dut):
    """§7.2.1: the Event queue is writable only when "No unacknowledged
    GERROR.EVENTQ_ABT_ERR condition exists for the queue", and "When the queue is not
    writable, events not associated with stalled faults are silently discarded"; §7.5
    EVENTQ_ABT_ERR: "Delivery into the Event queue stops when an abort is flagged". The error
    is active while GERROR[x] != GERRORN[x]."""
    s = Soft(dut)
    ctx, _ttb = s1_context(s)
    s.ste(1, s1_ste(ctx))
    await s.start()
    abt = R.GERROR.field("EVENTQ_ABT_ERR").mask
    fault = s.mem.add_fault(EVTQ, EVTQ + 32)                 # slot 0 aborts
    check(await s.x.xlate(tag=1, addr=0x1000, sid=1), ABORT, fault=EventID.F_TRANSLATION)
    await s.poll("GERROR", abt, mask=abt)
    s.mem.remove_fault(fault)
    # Two more faults while the error is unacknowledged: discarded, PROD stays at 0.
    check(await s.x.xlate(tag=2, addr=0x2000, sid=1), ABORT, fault=EventID.F_TRANSLATION)
    check(await s.x.xlate(tag=3, addr=0x3000, sid=1), ABORT, fault=EventID.F_TRANSLATION)
    await s.bfm.clocks(50)
    assert await s.r32("EVENTQ_PROD") == 0
    assert s.mem.read(EVTQ, 64) == bytes(64), "a record was written while EVENTQ_ABT_ERR was active"
    await s.w32("GERRORN", await s.r32("GERROR") & abt)     # acknowledge
    check(await s.x.xlate(tag=4, addr=0x4000, sid=1), ABORT, fault=EventID.F_TRANSLATION)
    ev = await s.events(1)
    assert [(e.EventID, e.InputAddr) for e in ev] == [(EventID.F_TRANSLATION, 0x4000)], ev


@cocotb.test(skip=STALL_FORCED)
async def cr0ack_cmdqen_waits_for_the_command_in_progress(dut):
    """§6.3.9.3: "When SMMU_(*_)CR0.CMDQEN completes update from 1 to 0: Command processing
    has stopped. Any commands that are in progress have been Consumed in their entirety ...
    The index after the last Consumed command ... is observable in SMMU_(*_)CMDQ_CONS." A
    CMD_SYNC held by a response the client has not taken (§4.7.3) is in progress: CR0ACK.CMDQEN
    stays 1 until it completes, and CMDQ_CONS, which software may write once the ACK reads 0,
    is never written by the SMMU after that."""
    s, ttb = await basic(dut)
    va = 0x4000_0000
    s.map(ttb, va, 0x1_0000_0000)
    await s.sync(C.cfgi_all(), C.CmdTlbiNsnhAll())
    check(await s.x.xlate(tag=1, addr=va, sid=1), OK, pa=0x1_0000_0000)
    s.x.hold_responses(True)
    await s.x.send([{"tag": 2, "addr": va, "sid": 1}])       # a hit, held inside the SMMU
    await s.cmds(C.CmdTlbiNhVa(ASID=1, Addr=va), C.CmdSync(), wait=False)
    await s.bfm.clocks(20)
    await s.w32("CR0", 0b0101)                               # CMDQEN 1 -> 0
    cmdqen = R.CR0.field("CMDQEN").mask
    for _ in range(20):                                      # ~100 cycles of polling
        assert await s.r32("CR0ACK") & cmdqen, "CR0ACK.CMDQEN cleared while a CMD_SYNC " \
                                                "was still in progress"
    s.x.hold_responses(False)
    await s.x.wait([2])
    await s.poll("CR0ACK", 0, mask=cmdqen)
    mask = 2 * (1 << s.cmdq_log2) - 1
    assert await s.r32("CMDQ_CONS") & mask == s.cmd_prod     # the SYNC was consumed
    await s.w32("CMDQ_CONS", 0)                              # software owns CONS now
    await s.bfm.clocks(50)
    assert await s.r32("CMDQ_CONS") == 0


@cocotb.test(skip=STALL_FORCED)
async def cr0ack_eventqen_waits_for_the_record_in_flight(dut):
    """§6.3.9.4: "When SMMU_(*_)CR0.EVENTQEN is transitioned from 1 to 0, SMMU accesses to
    the queue stop. EVENTQEN completes Update when all committed event records that are in
    progress become visible in the queue". A record whose write is in flight (its write
    response held by memory) is committed: CR0ACK.EVENTQEN stays 1 until PROD shows it, and
    EVENTQ_PROD, which software may write once the ACK reads 0, keeps what software wrote."""
    s = Soft(dut)
    ctx, _ttb = s1_context(s)
    s.ste(1, s1_ste(ctx))
    await s.start()
    gate = s.bfm.target.hold(EVTQ, EVTQ + 32)
    check(await s.x.xlate(tag=1, addr=0x1000, sid=1), ABORT, fault=EventID.F_TRANSLATION)
    await s.bfm.clocks(20)                                   # the record's write is held
    await s.w32("CR0", 0b1001)                               # EVENTQEN 1 -> 0
    eventqen = R.CR0.field("EVENTQEN").mask
    for _ in range(20):
        assert await s.r32("CR0ACK") & eventqen, "CR0ACK.EVENTQEN cleared while a record " \
                                                  "write was in flight"
    gate.set()
    await s.poll("CR0ACK", 0, mask=eventqen)
    assert await s.r32("EVENTQ_PROD") == 1                   # the committed record is visible
    await s.w32("EVENTQ_PROD", 0)                            # software owns PROD now
    await s.bfm.clocks(50)
    assert await s.r32("EVENTQ_PROD") == 0


@cocotb.test(skip=CFG.OAS != R.OAS.PA52 or STALL_FORCED)
async def ste_bypass_limit_is_the_oas(dut):
    """§3.4: "When a stream selects an STE with STE.Config == 0b100, transactions bypass all
    stages of translation. If the input address of a transaction exceeds the size of the OAS,
    the transaction is terminated with an abort and a stage 1 Address Size fault (F_ADDR_SIZE)
    is recorded." With a 52-bit OAS the limit is 2^52 on the first transaction (STE fetched by
    a miss engine) and on the next (STE from the configuration cache) alike."""
    s = Soft(dut)
    s.ste(1, STE(V=1, Config=StreamConfig.BYPASS))
    await s.start()
    for tag in (1, 2):
        check(await s.x.xlate(tag=tag, addr=(1 << 50) | 0x1234, sid=1), BYPASS,
              pa=(1 << 50) | 0x1234)
    for tag in (3, 4):
        check(await s.x.xlate(tag=tag, addr=(1 << 52) | 0x1000, sid=1), ABORT,
              fault=EventID.F_ADDR_SIZE)
    got = [(e.EventID, e.InputAddr) for e in await s.events(2)]
    assert got == [(EventID.F_ADDR_SIZE, (1 << 52) | 0x1000)] * 2, got


@cocotb.test(skip=STALL_FORCED)
async def sync_waits_for_walks_in_flight(dut):
    """§4.7.3: a CMD_SYNC completes only when every transaction that might use an entry an
    earlier invalidation targeted has completed. A walk that read the old level-2 descriptor
    and waits for its level-3 read is such a transaction: after the table is unlinked and
    TLBI_NH_VA (Leaf=0) issued, the SYNC must not complete while that read is outstanding."""
    s, ttb = await basic(dut)
    va = 0x4000_0000
    s.map(ttb, va, 0x1_0000_0000)
    l3 = s.leaf_addr(ttb, va) & ~0xFFF                     # the level-3 table
    await s.sync(C.cfgi_all(), C.CmdTlbiNsnhAll())
    check(await s.x.xlate(tag=1, addr=va + 0x1000, sid=1), ABORT, fault=EventID.F_TRANSLATION)
    await s.events(1)                                      # context cached, no leaf
    gate = s.bfm.target.hold(l3, l3 + 0x1000)
    await s.x.send([{"tag": 2, "addr": va, "sid": 1}])     # walks to the held level-3 read
    await s.bfm.clocks(30)
    s.mem.write64(s.leaf_addr(ttb, va, level=2), 0)        # unlink the level-3 table
    await s.cmds(C.CmdTlbiNhVa(ASID=1, Addr=va), C.CmdSync(), wait=False)
    mask = 2 * (1 << s.cmdq_log2) - 1
    for _ in range(30):
        assert await s.r32("CMDQ_CONS") & mask != s.cmd_prod, \
            "CMD_SYNC completed while a walk that read the unlinked table was in flight"
    gate.set()
    await s.x.wait([2])
    check(s.x.rsps[2], OK, pa=0x1_0000_0000)               # translated before the TLBI
    await s.poll("CMDQ_CONS", s.cmd_prod, mask=mask)
    check(await s.x.xlate(tag=3, addr=va, sid=1), ABORT, fault=EventID.F_TRANSLATION)


@cocotb.test(skip=STALL_FORCED)
async def tlbi_nh_all_removes_every_entry(dut):
    """§4.4.2.1 CMD_TLBI_NH_ALL(VMID): from the Non-secure queue it "invalidates all stage 1
    NS-EL1 ... entries for VMID, including global entries" (VMID 0 without stage 2). A
    non-global and a global page are cached, both remapped in memory: after TLBI_NH_ALL and
    CMD_SYNC both translate to the new addresses."""
    s, ttb = await basic(dut)
    va = 0x4000_0000
    s.map(ttb, va, 0x1_0000_0000, nG=1)
    s.map(ttb, va + 0x1000, 0x1_0000_1000, nG=0)
    await s.sync(C.cfgi_all(), C.CmdTlbiNsnhAll())
    check(await s.x.xlate(tag=1, addr=va, sid=1), OK, pa=0x1_0000_0000)
    check(await s.x.xlate(tag=2, addr=va + 0x1000, sid=1), OK, pa=0x1_0000_1000)
    s.map(ttb, va, 0x2_0000_0000, nG=1)
    s.map(ttb, va + 0x1000, 0x2_0000_1000, nG=0)
    await s.sync(C.CmdTlbiNhAll(VMID=0))
    check(await s.x.xlate(tag=3, addr=va, sid=1), OK, pa=0x2_0000_0000)
    check(await s.x.xlate(tag=4, addr=va + 0x1000, sid=1), OK, pa=0x2_0000_1000)


@cocotb.test(skip=not CFG.CD2L or not CFG.SSIDSIZE or STALL_FORCED)
async def s1cdmax_equal_to_ssidsize_is_legal(dut):
    """§5.2 STE.S1CDMax: "The allowable range is 0 to SMMU_IDR1.SSIDSIZE inclusive. Other
    values are ILLEGAL." S1CDMax = SSIDSIZE is legal: a substream of a 2-level CD table
    translates; S1CDMax = SSIDSIZE + 1 is C_BAD_STE."""
    s = Soft(dut)
    ctx, ttb = s1_context(s)                                 # reused as CD 5 of the leaf
    l1, leaf = s.alloc(), s.alloc()
    s.mem.write64(l1, L1CD(V=1, L2Ptr=leaf).to_int())
    s.mem.write(leaf + 64 * 5, s.mem.read(ctx, 64))
    s.map(ttb, 0x5000, 0x9_0000_5000)
    s.ste(1, s1_ste(l1, S1CDMax=CFG.SSIDSIZE, S1Fmt=S1Format.TWO_LEVEL_4K))
    s.ste(2, s1_ste(l1, S1CDMax=CFG.SSIDSIZE + 1, S1Fmt=S1Format.TWO_LEVEL_4K))
    await s.start()
    check(await s.x.xlate(tag=1, addr=0x5008, sid=1, ssid=5), OK, pa=0x9_0000_5008)
    check(await s.x.xlate(tag=2, addr=0x5008, sid=2, ssid=5), ABORT, fault=EventID.C_BAD_STE)
    assert [e.EventID for e in await s.events(1)] == [EventID.C_BAD_STE]
