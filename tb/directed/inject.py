"""Fault injection on the fetches the random worlds reach without naming the address: an
external abort on each level of a stage-1 walk and on an L1STD. Each gets its record with the
address of the aborted fetch, and traffic through the same tables resumes once the memory
answers again.

The other injection points have their own directed tests: STE and CD fetch (xlate.py
``stream_table_errors``), L1CD fetch (walk_edges.py), command fetch (xlate.py CERROR_ABT),
event-queue write (conformance.py EVENTQ_ABT_ERR), PRI-queue write (pri.py PRIQ_ABT_ERR),
HTTU update (httu.py). Expectations come from the architecture (reference smmuv3.md §4.4,
§7.3), not from the RTL or the model:

- "External abort during fetch or update of a descriptor -> F_WALK_EABT (CLASS=TT,
  FetchAddr)";
- "External abort while fetching L1STD/STE -> F_STE_FETCH (FetchAddr in event)".
"""

from __future__ import annotations

import cocotb

from models.arch import commands as C
from models.arch import registers as R
from models.arch.events import EventClass, EventID
from models.arch.ste import L1STD
from tb.directed.harness import ABORT, CDTAB, OK, STRTAB, Soft, basic, cd, check, s1_ste


@cocotb.test()
async def walk_abort_at_every_level_names_the_descriptor(dut):
    """T0SZ 16, 4 KiB granule: levels 0 to 3. For each level, the descriptor the walk reads
    there aborts: F_WALK_EABT, CLASS=TT, FetchAddr that descriptor, InputAddr the VA; with the
    abort gone the same VA translates (an aborted walk caches nothing that would say
    otherwise)."""
    s, ttb = await basic(dut)
    for level in range(4):
        va = (level + 1) << 39 | level << 30 | 0x5000 | 0x48   # its own tables below L0
        pa = 0x7_0000_0000 + level * 0x1000
        s.map(ttb, va & ~0xFFF, pa)
        desc = s.leaf_addr(ttb, va, level=level)
        fault = s.mem.add_fault(desc, desc + 8)
        r = await s.x.xlate(tag=level, addr=va, sid=1)
        check(r, ABORT, fault=EventID.F_WALK_EABT)
        (e,) = await s.events(1)
        assert (e.EventID, e.StreamID, e.CLASS, e.InputAddr, e.FetchAddr, e.RnW) == (
            EventID.F_WALK_EABT, 1, EventClass.TT, va, desc, 1), (level, e)
        s.mem.remove_fault(fault)
        r = await s.x.xlate(tag=level, addr=va, sid=1)
        check(r, OK, pa=pa | 0x48)
    assert await s.events() == []


@cocotb.test()
async def l1std_fetch_abort_names_the_descriptor(dut):
    """A 2-level stream table (SPLIT 8) whose L1STD for StreamIDs 0x100..0x1FF aborts:
    F_STE_FETCH for StreamID 0x105 with FetchAddr that L1STD; StreamID 5, behind a readable
    L1STD, translates meanwhile; with the abort gone (and CFGI_STE, as software would after
    fixing a table), 0x105 translates too."""
    s = Soft(dut)
    ttb = s.alloc()
    l2a, l2b = 0x00A0_0000, 0x00A1_0000  # 16 KiB aligned (Span 9: 256 STEs, §5.1)
    s.mem.write64(STRTAB + 8 * 0, L1STD(Span=9, L2Ptr=l2a).to_int())
    s.mem.write64(STRTAB + 8 * 1, L1STD(Span=9, L2Ptr=l2b).to_int())
    s.mem.write(CDTAB, cd(ttb).to_bytes())
    s.mem.write(l2a + 64 * 5, s1_ste(CDTAB).to_bytes())
    s.mem.write(l2b + 64 * 5, s1_ste(CDTAB).to_bytes())
    s.map(ttb, 0x9000, 0x2_0000_9000)
    fault = s.mem.add_fault(STRTAB + 8, STRTAB + 16)
    cfg = R.STRTAB_BASE_CFG(LOG2SIZE=16, SPLIT=8, FMT=R.StrtabFmt.TWO_LEVEL).to_int()
    await s.start(strtab_cfg=cfg)
    check(await s.x.xlate(tag=1, addr=0x9010, sid=0x105), ABORT, fault=EventID.F_STE_FETCH)
    check(await s.x.xlate(tag=2, addr=0x9010, sid=0x005), OK, pa=0x2_0000_9010)
    (e,) = await s.events(1)
    assert (e.EventID, e.StreamID, e.FetchAddr) == (EventID.F_STE_FETCH, 0x105, STRTAB + 8), e
    s.mem.remove_fault(fault)
    await s.sync(C.CmdCfgiSte(StreamID=0x105, Leaf=1))
    check(await s.x.xlate(tag=3, addr=0x9010, sid=0x105), OK, pa=0x2_0000_9010)
    assert await s.events() == []
