"""Directed tests of the hardware update of the access flag and dirty state (HTTU) on the RTL,
with expectations written from the reference (smmuv3.md §4.4 and §4.5, fault-paths.md §2.2;
SPEC §3.13, §5.4 CD.HA/HD/AFFD), not from the model:

- CD.HA=1: a leaf with AF=0 gets AF set in memory, with no event; CD.AFFD is IGNORED then;
- CD.HD=1 (with HA, IDR0.HTTU=0b10): a write to a leaf with DBM=1 that is read-only only
  because of AP[2] clears AP[2] (and sets AF); the SMMU never sets AP[2], never clears AF and
  never touches DBM; DBM=0, APTable[1]=1 or HD=0 give F_PERMISSION;
- without HA, AF=0 is F_ACCESS, before a permission fault (§4.5);
- an external abort on the update is F_WALK_EABT (CLASS=TT, FetchAddr: the descriptor);
- the update is atomic (§3.15: exclusive accesses on a coherent port): a descriptor another
  agent changed between the SMMU's read and its write is read again, never overwritten.
"""

from __future__ import annotations

import dataclasses
import os

import cocotb

from models.arch import registers as R
from models.arch.events import EventClass, EventID
from models.arch.geometry import desc_addr
from models.arch.pgtable import PTE_AF, PTE_DBM, PTE_RDONLY, TableDescriptor
from models.arch.ste import ATSMode
from models.smmu.port import PERM_W
from tb.directed.harness import ABORT, CDTAB, OK, Soft, cd, check, s1_ste
from tb.dut_config import CONFIGS

SET = os.environ.get("SMMU_PARAMS", "default")
CFG = CONFIGS[SET]
NO_HA = CFG.HTTU == R.HTTU.NONE
NO_HD = CFG.HTTU not in (R.HTTU.ACCESS_DIRTY, R.HTTU.ACCESS_DIRTY_TABLE)
# A permission fault must come back as a response with a record (CD.S=0): not where the stall
# model forces CD.S=1.
STALLS = CFG.STALL_MODEL == R.StallModel.STALL_FORCED
CD_S = int(STALLS)

PA = 0x8000_0000
NO_AF, CLEAN, RO, CLEAN2, NEIGHBOUR = 0x1000, 0x2000, 0x3000, 0x4000, 0x5000
UNDER_APTABLE = 0x20_0000 + CLEAN  # a clean page below a table descriptor with APTable[1]=1
SID_HAHD, SID_NONE, SID_HA, SID_HD_ONLY = 1, 2, 3, 4
AP_RO_EL0 = 0b11


async def setup(dut) -> tuple[Soft, int]:
    s = Soft(dut)
    ttb = s.alloc()
    s.map(ttb, NO_AF, PA + NO_AF, AF=0)
    s.map(ttb, CLEAN, PA + CLEAN, AP=AP_RO_EL0, DBM=1)
    s.map(ttb, CLEAN2, PA + CLEAN2, AP=AP_RO_EL0, DBM=1)
    s.map(ttb, RO, PA + RO, AP=AP_RO_EL0)
    s.map(ttb, NEIGHBOUR, PA + NEIGHBOUR)
    s.map(ttb, UNDER_APTABLE, PA + UNDER_APTABLE, AP=AP_RO_EL0, DBM=1)
    # APTable[1] (no write below) on the level-2 table descriptor above UNDER_APTABLE
    l1 = TableDescriptor.from_int(s.mem.read64(desc_addr(ttb, UNDER_APTABLE, 0))).NextTableAddr
    l2 = TableDescriptor.from_int(s.mem.read64(desc_addr(l1, UNDER_APTABLE, 1))).NextTableAddr
    a = desc_addr(l2, UNDER_APTABLE, 2)
    s.mem.write64(a, dataclasses.replace(TableDescriptor.from_int(s.mem.read64(a)),
                                         APTable=0b10).to_int())
    # one CD per HTTU setting, each with its own ASID (their IOTLB entries stay apart)
    hd = 0 if NO_HD else 1
    cds = {SID_HAHD: dict(HA=1, HD=hd), SID_NONE: {}, SID_HA: dict(HA=1),
           SID_HD_ONLY: dict(HD=hd)}
    for i, (sid, bits) in enumerate(cds.items()):
        s.mem.write(CDTAB + 64 * i, cd(ttb, asid=sid, S=CD_S, **bits).to_bytes())
        s.ste(sid, s1_ste(CDTAB + 64 * i, **({"EATS": ATSMode.FULL} if CFG.ATS else {})))
    await s.start()
    return s, ttb


async def xl(s: Soft, va: int, *, sid: int = SID_HAHD, write: int = 0, tag: int = 1) -> dict:
    return await s.x.xlate(tag, sid=sid, addr=va, rnw=1 - write, ind=0, pnu=0)


@cocotb.test(skip=NO_HA)
async def ha_sets_af_with_no_event(dut):
    """§3.13.2 / smmuv3.md §4.4: AF=0 with CD.HA=1: the translation succeeds, AF is 1 in memory
    and nothing else in the descriptor changed, no record. Without HA the same page gives
    F_ACCESS first and stays as it was."""
    s, ttb = await setup(dut)
    leaf = s.leaf_addr(ttb, NO_AF)
    before = s.mem.read64(leaf)
    if not STALLS:
        check(await xl(s, NO_AF, sid=SID_NONE), ABORT, fault=EventID.F_ACCESS)
        assert s.mem.read64(leaf) == before
        assert [e.EventID for e in await s.events(1)] == [EventID.F_ACCESS]
    check(await xl(s, NO_AF + 0x18, sid=SID_HA, tag=2), OK, pa=PA + NO_AF + 0x18)
    assert s.mem.read64(leaf) == before | PTE_AF
    # now cached: a hit, the same answer, memory untouched
    rsp = await xl(s, NO_AF, sid=SID_HA, tag=3)
    check(rsp, OK, pa=PA + NO_AF)
    assert not rsp["walked"] and s.mem.read64(leaf) == before | PTE_AF
    assert await s.events() == []


@cocotb.test(skip=NO_HA)
async def affd_is_ignored_with_ha(dut):
    """§5.4 CD.AFFD: "If HA == 1, this flag is IGNORED": AF=0 is set all the same."""
    s, ttb = await setup(dut)
    s.mem.write(CDTAB + 256, cd(ttb, asid=9, S=CD_S, HA=1, AFFD=1).to_bytes())
    s.ste(9, s1_ste(CDTAB + 256))
    leaf = s.leaf_addr(ttb, NO_AF)
    before = s.mem.read64(leaf)
    check(await xl(s, NO_AF, sid=9), OK, pa=PA + NO_AF)
    assert s.mem.read64(leaf) == before | PTE_AF


@cocotb.test(skip=NO_HD or STALLS)
async def hd_clears_ap2_of_a_clean_page_on_a_write(dut):
    """§3.13.3: a read of a writable-clean page (DBM=1, AP[2]=1) grants no W and changes
    nothing; a write clears AP[2] and goes through with W, DBM stays 1, AF stays 1. The
    write after it hits the updated entry; the read-only copy the read cached never serves a
    write."""
    s, ttb = await setup(dut)
    leaf = s.leaf_addr(ttb, CLEAN)
    before = s.mem.read64(leaf)
    rsp = await xl(s, CLEAN)
    check(rsp, OK, pa=PA + CLEAN)
    assert not rsp["perm"] & PERM_W and s.mem.read64(leaf) == before
    rsp = await xl(s, CLEAN + 8, write=1, tag=2)
    check(rsp, OK, pa=PA + CLEAN + 8)
    assert rsp["perm"] & PERM_W and rsp["walked"], rsp
    after = s.mem.read64(leaf)
    assert after == before & ~PTE_RDONLY and after & PTE_DBM and after & PTE_AF, hex(after)
    rsp = await xl(s, CLEAN + 16, write=1, tag=3)
    check(rsp, OK, pa=PA + CLEAN + 16)
    assert not rsp["walked"] and s.mem.read64(leaf) == after
    assert await s.events() == []


@cocotb.test(skip=NO_HD or STALLS)
async def no_dirty_update_unless_read_only_solely_by_ap2_with_dbm_and_hd(dut):
    """smmuv3.md §4.4: DBM=0, APTable[1]=1 above the page, or CD.HD=0 (HA only, or HD without
    HA, which behaves as neither, §5.4) give F_PERMISSION for a write, and memory is not
    changed."""
    s, ttb = await setup(dut)
    cases = [(RO, SID_HAHD), (UNDER_APTABLE, SID_HAHD), (CLEAN, SID_HA), (CLEAN, SID_HD_ONLY)]
    for i, (va, sid) in enumerate(cases):
        leaf = s.leaf_addr(ttb, va)
        before = s.mem.read64(leaf)
        check(await xl(s, va, sid=sid, write=1, tag=i), ABORT, fault=EventID.F_PERMISSION)
        assert s.mem.read64(leaf) == before, (hex(va), sid)
    ev = await s.events(len(cases))
    assert [(e.EventID, e.StreamID, e.InputAddr, e.RnW) for e in ev] == \
        [(EventID.F_PERMISSION, sid, va, 0) for va, sid in cases]


@cocotb.test(skip=NO_HA or STALLS)
async def af_0_comes_before_a_permission_fault(dut):
    """§4.5: without HA, AF=0 on a read-only page gives F_ACCESS to a write, not
    F_PERMISSION. With HA it is F_PERMISSION; whether AF is then set is UNKNOWN (§3.13.2), so
    only the other bits are checked."""
    s, ttb = await setup(dut)
    leaf = s.leaf_addr(ttb, RO)
    s.mem.write64(leaf, s.mem.read64(leaf) & ~PTE_AF)
    before = s.mem.read64(leaf)
    check(await xl(s, RO, sid=SID_NONE, write=1), ABORT, fault=EventID.F_ACCESS)
    check(await xl(s, RO, sid=SID_HA, write=1, tag=2), ABORT, fault=EventID.F_PERMISSION)
    assert s.mem.read64(leaf) & ~PTE_AF == before
    assert [e.EventID for e in await s.events(2)] == [EventID.F_ACCESS, EventID.F_PERMISSION]


@cocotb.test(skip=NO_HA)
async def an_external_abort_on_the_update_is_f_walk_eabt(dut):
    """smmuv3.md §4.4: an external abort on the update of a descriptor is F_WALK_EABT, with
    CLASS=TT and the descriptor's address as FetchAddr, recorded whatever CD.R/A/S say (not a
    translation-class fault). Once the memory takes writes again, the access succeeds and
    AF is set."""
    s, ttb = await setup(dut)
    leaf = s.leaf_addr(ttb, NO_AF)
    before = s.mem.read64(leaf)
    fault = s.mem.add_fault(leaf, leaf + 8, on="w")
    check(await xl(s, NO_AF + 0x40, sid=SID_HA), ABORT, fault=EventID.F_WALK_EABT)
    assert s.mem.read64(leaf) == before
    (e,) = await s.events(1)
    assert (e.EventID, e.StreamID, e.CLASS, e.FetchAddr, e.InputAddr, e.RnW) == \
        (EventID.F_WALK_EABT, SID_HA, EventClass.TT, leaf, NO_AF + 0x40, 1), e
    s.mem.remove_fault(fault)
    check(await xl(s, NO_AF, sid=SID_HA, tag=2), OK, pa=PA + NO_AF)
    assert s.mem.read64(leaf) == before | PTE_AF


async def _race(s: Soft, va: int, leaf: int, cpu_write) -> dict:
    """A write to ``va`` whose update write the memory holds back (AW paused) until the CPU
    has run ``cpu_write`` after the SMMU's exclusive read of the descriptor at ``leaf``."""
    port = s.bfm.memport
    failed = port.exclusive["failed"]
    port.set_pause("mem.aw", True)
    task = cocotb.start_soon(xl(s, va, write=1))
    for _ in range(200):
        await s.bfm.clocks(1)
        if port.exclusive_at(leaf):
            break
    assert port.exclusive_at(leaf), "the SMMU never read the descriptor exclusively"
    cpu_write()
    port.set_pause("mem.aw", False)
    rsp = await task
    assert port.exclusive["failed"] > failed, "the exclusive write did not fail"
    return rsp


@cocotb.test(skip=NO_HD or STALLS)
async def a_descriptor_the_cpu_changed_under_the_update_is_read_again(dut):
    """§3.13, §3.15: the update is atomic against the CPU. The CPU write-protects a clean page
    (DBM cleared, AP[2] set: Linux's pte_wrprotect) between the SMMU's read and its write:
    the SMMU's write fails, it reads the descriptor again and the write is refused
    (F_PERMISSION), the CPU's descriptor intact. A CPU store to another descriptor of the same
    table fails the SMMU's write too; read again, the page is still clean and gets dirty,
    the CPU's store kept."""
    s, ttb = await setup(dut)
    leaf = s.leaf_addr(ttb, CLEAN)
    protected = (s.mem.read64(leaf) & ~PTE_DBM) | PTE_RDONLY
    rsp = await _race(s, CLEAN, leaf, lambda: s.mem.write64(leaf, protected))
    check(rsp, ABORT, fault=EventID.F_PERMISSION)
    assert s.mem.read64(leaf) == protected
    assert [e.EventID for e in await s.events(1)] == [EventID.F_PERMISSION]

    leaf2, other = s.leaf_addr(ttb, CLEAN2), s.leaf_addr(ttb, NEIGHBOUR)
    before, other_new = s.mem.read64(leaf2), s.mem.read64(other) | PTE_RDONLY
    rsp = await _race(s, CLEAN2, leaf2, lambda: s.mem.write64(other, other_new))
    check(rsp, OK, pa=PA + CLEAN2)
    assert s.mem.read64(leaf2) == before & ~PTE_RDONLY
    assert s.mem.read64(other) == other_new
    assert await s.events() == []


@cocotb.test(skip=NO_HD or not CFG.ATS or STALLS)
async def an_ats_request_without_no_write_dirties_a_clean_page(dut):
    """§3.13.7 (fault-paths.md §2.2): HTTU happens at the ATS Translation Request. With
    No-Write=1 a writable-clean page gives R only and stays clean; without CD.HD it gives W=0;
    with HD and No-Write=0 the SMMU clears AP[2] before the completion grants W."""
    s, ttb = await setup(dut)
    leaf = s.leaf_addr(ttb, CLEAN)
    before = s.mem.read64(leaf)

    async def ats(sid: int, nw: int, tag: int) -> dict:
        return await s.x.xlate(tag, sid=sid, addr=CLEAN, rnw=1, ind=0, pnu=0, ats=1, nw=nw)

    for i, (sid, nw) in enumerate(((SID_HAHD, 1), (SID_HA, 0))):
        rsp = await ats(sid, nw, i)
        check(rsp, OK, pa=PA + CLEAN)
        assert not rsp["perm"] & PERM_W, rsp
        assert s.mem.read64(leaf) == before
    rsp = await ats(SID_HAHD, 0, 5)
    check(rsp, OK, pa=PA + CLEAN)
    assert rsp["perm"] & PERM_W, rsp
    assert s.mem.read64(leaf) == before & ~PTE_RDONLY
    assert await s.events() == []
