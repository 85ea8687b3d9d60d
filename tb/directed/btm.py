"""Directed tests of broadcast TLB maintenance (BTM) on the RTL's DVM port, with expectations
from the reference (smmuv3.md §8.6; SPEC §3.17 and §5.4 CD.ASET), not from the model:

- a broadcast TLBI by VA or ASID reaches the TLB entries made through a CD with ASET=0 (an
  address space shared with a process on the PE); a later translation walks the tables again;
- entries of an ASET=1 context "are not expected to be invalidated" by it: this SMMU keeps
  them (a choice the text allows, docs/rtl.md); TLBI VMALLE1IS reaches every entry "regardless
  of ASET";
- CR2.PTM=1 permits the SMMU to ignore broadcast maintenance: this SMMU then ignores it;
- the EL2&0 forms (a kernel at EL2 with VHE) reach only EL2-E2H entries, which an SMMU
  without IDR0.Hyp never makes;
- the DVM sync completes only once a translation in flight when the invalidation arrived has
  completed.

Each page's PTE is rewritten in memory (no command) before the broadcast, so a translation
through a cached entry and one through a fresh walk give different addresses.
"""

from __future__ import annotations

import os

import cocotb

from models.arch import registers as R
from tb.directed.harness import CDTAB, OK, Soft, cd, check, s1_ste
from tb.dut_config import CONFIGS

SET = os.environ.get("SMMU_PARAMS", "default")
CFG = CONFIGS[SET]
NO_BTM = not CFG.BTM
STALLS = int(CFG.STALL_MODEL == R.StallModel.STALL_FORCED)  # CD.S must be 1 then

VA, VA2 = 0x4000, 0x7000
OLD, NEW = 0x8000_0000, 0x9000_0000
SHARED, PRIVATE = 1, 2  # StreamIDs: CDs with ASET=0 (ASID 1) and ASET=1 (ASID 2)


async def setup(dut, *, ptm: int = 0) -> tuple[Soft, int]:
    s = Soft(dut)
    ttb = s.alloc()
    s.map(ttb, VA, OLD, nG=1)  # non-global: ASIDE1IS reaches only non-global entries
    s.map(ttb, VA2, OLD + 0x1000, nG=1)
    for sid, aset in ((SHARED, 0), (PRIVATE, 1)):
        s.mem.write(CDTAB + 64 * sid, cd(ttb, asid=sid, ASET=aset, S=STALLS).to_bytes())
        s.ste(sid, s1_ste(CDTAB + 64 * sid))
    await s.start(ptm=ptm)
    s.dvm = s.bfm.dvm
    return s, ttb


async def xl(s: Soft, sid: int, va: int, tag: int = 1) -> dict:
    return await s.x.xlate(tag, sid=sid, addr=va, rnw=1, ind=0, pnu=0)


async def cached(s: Soft, ttb: int, va: int, pa: int) -> None:
    """Both streams translate ``va`` (filling the IOTLB), then its PTE moves to another page
    with no command: a hit still gives ``pa``."""
    for sid in (SHARED, PRIVATE):
        check(await xl(s, sid, va), OK, pa=pa)
    s.map(ttb, va, pa + NEW - OLD, nG=1)
    for sid in (SHARED, PRIVATE):
        rsp = await xl(s, sid, va, tag=2)
        check(rsp, OK, pa=pa)
        assert not rsp["walked"], rsp


@cocotb.test(skip=NO_BTM)
async def a_tlbi_by_va_reaches_shared_entries_only(dut):
    """TLBI VAE1IS and VALE1IS with the ASID: the ASET=0 context walks again and sees the new
    page; the ASET=1 context's entry, with its own ASID, stays; and a TLBI with its ASID leaves
    it too (ASET=1)."""
    s, ttb = await setup(dut)
    await cached(s, ttb, VA, OLD)
    await s.dvm.send([("VAE1IS", SHARED, VA, False), ("VAE1IS", PRIVATE, VA, False)])
    rsp = await xl(s, SHARED, VA)
    check(rsp, OK, pa=NEW)
    assert rsp["walked"], rsp
    rsp = await xl(s, PRIVATE, VA, tag=2)
    check(rsp, OK, pa=OLD)
    assert not rsp["walked"], rsp
    await cached(s, ttb, VA2, OLD + 0x1000)
    await s.dvm.send([("VALE1IS", SHARED, VA2, False)])
    check(await xl(s, SHARED, VA2), OK, pa=NEW + 0x1000)
    check(await xl(s, PRIVATE, VA2, tag=2), OK, pa=OLD + 0x1000)
    assert await s.events() == []


@cocotb.test(skip=NO_BTM)
async def asid_and_vmall_forms(dut):
    """TLBI ASIDE1IS reaches the shared context's entries of that ASID; TLBI VMALLE1IS reaches
    every entry, ASET=1 included."""
    s, ttb = await setup(dut)
    await cached(s, ttb, VA, OLD)
    await s.dvm.send([("ASIDE1IS", SHARED, 0, False)])
    check(await xl(s, SHARED, VA), OK, pa=NEW)
    check(await xl(s, PRIVATE, VA, tag=2), OK, pa=OLD)
    await s.dvm.send([("VMALLE1IS", 0, 0, False)])
    rsp = await xl(s, PRIVATE, VA, tag=3)
    check(rsp, OK, pa=NEW)
    assert rsp["walked"], rsp


@cocotb.test(skip=NO_BTM)
async def with_ptm_broadcasts_are_ignored(dut):
    """CR2.PTM=1: the broadcast and its sync are taken, and the cached entry stays."""
    s, ttb = await setup(dut, ptm=1)
    await cached(s, ttb, VA, OLD)
    await s.dvm.send([("VAE1IS", SHARED, VA, False), ("VMALLE1IS", 0, 0, False)])
    rsp = await xl(s, SHARED, VA)
    check(rsp, OK, pa=OLD)
    assert not rsp["walked"], rsp


@cocotb.test(skip=NO_BTM)
async def the_dvm_sync_waits_for_a_walk_in_flight(dut):
    """A walk that read its tables before the broadcast must complete before the DVM sync
    does: the leaf's read is held, the sync is not taken while it is, and it is taken after
    the translation's response."""
    s, ttb = await setup(dut)
    leaf = s.leaf_addr(ttb, VA)
    hold = s.bfm.target.hold(leaf, leaf + 8)
    order: list[str] = []

    async def translate() -> None:
        rsp = await xl(s, SHARED, VA)
        order.append(f"response {rsp['pa']:#x}")

    async def broadcast() -> None:
        await s.dvm.send([("VAE1IS", SHARED, VA, False)])
        order.append("sync")

    t = cocotb.start_soon(translate())
    await s.bfm.clocks(30)  # the walk is waiting for the leaf
    b = cocotb.start_soon(broadcast())
    await s.bfm.clocks(60)
    assert order == [], order
    hold.set()
    await t
    await b
    assert order == [f"response {OLD:#x}", "sync"], order
    assert s.dvm.sync_cycles[-1] > 30, s.dvm.sync_cycles
    assert await s.events() == []


@cocotb.test(skip=NO_BTM)
async def el2_forms_do_not_reach_el1_entries(dut):
    """A kernel at EL2 with VHE issues the EL2&0 forms: they match only EL2-E2H entries
    (STE.STRW), which an SMMU without IDR0.Hyp never makes (Hyp is RES0 without stage 2, SPEC
    §6.3.1). The NS-EL1 entry stays; the EL1 form then reaches it."""
    s, ttb = await setup(dut)
    await cached(s, ttb, VA, OLD)
    await s.dvm.send([("VAE1IS", SHARED, VA, True), ("ASIDE1IS", SHARED, 0, True),
                      ("VMALLE1IS", 0, 0, True)])
    rsp = await xl(s, SHARED, VA)
    check(rsp, OK, pa=OLD)
    assert not rsp["walked"], rsp
    await s.dvm.send([("VAE1IS", SHARED, VA, False)])
    check(await xl(s, SHARED, VA, tag=2), OK, pa=NEW)


@cocotb.test(skip=NO_BTM or bool(CFG.ASID16))
async def with_8_bit_asids_the_low_byte_matches(dut):
    """IDR0.ASID16=0: ASIDs are 8 bits, so a broadcast's ASID[15:8] does not take part in the
    match (as the command queue takes only the low byte of a command's ASID)."""
    s, ttb = await setup(dut)
    await cached(s, ttb, VA, OLD)
    await s.dvm.send([("VAE1IS", 0x100 | SHARED, VA, False)])
    rsp = await xl(s, SHARED, VA)
    check(rsp, OK, pa=NEW)
    assert rsp["walked"], rsp
