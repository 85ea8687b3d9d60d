"""Broadcast TLB maintenance (BTM, issue 12 first slice) on the functional model.

With IDR0.BTM and CR2.PTM=0 the SMMU receives the CPU's inner-shareable TLBIs (§3.17,
reference smmuv3.md §8.6): they invalidate the TLB entries of shared contexts (CD.ASET=0)
and leave private ones (ASET=1) alone; with CR2.PTM=1 the SMMU ignores them. The driver then
sends no TLBI commands from its mmu notifier (v5 arm_smmu_mm_invalidate_range), and the CPU's
TLBI with its DSB is what makes a munmap safe for the device. Expected values follow those
rules, not the model's output.
"""

from __future__ import annotations

import asyncio

import pytest

from models.arch import registers as R
from models.arch.events import EventID
from models.arch.geometry import PAGE
from models.cpu.features import CpuFeatures
from models.cpu.tlbi import Tlbi, TlbiOp
from models.smmu.config import DEFAULT
from models.smmu.port import Result, TransReq
from tb.devices.dma import Descriptor as D
from tb.devices.dma import Status
from tb.platform.model import ModelPlatform
from tb.scenarios.harness import ModelBackend, SvaBench, expect_ok
from tests.test_smmu_model_helpers import ASID, Bench

BTM = DEFAULT.replace(BTM=1)
TLBI_CMDS = ("CmdTlbiNhVa", "CmdTlbiNhAsid", "CmdTlbiNhAll", "CmdTlbiNsnhAll")
SID = 4
VA = 0x40_0000_0000
PA = 0x5_0000_0000


# ---- the SMMU model's DVM input -------------------------------------------------------------
def cached_then_unmapped(aset: int, *, ptm: int = 0) -> tuple[Bench, TransReq]:
    """A translation cached in the TLB through a CD with ``aset``, then its PTE cleared (no
    command): the cached copy stays usable until something invalidates it."""
    b = Bench(BTM, enable=False)
    b.w32("CR2", R.CR2(RECINVSID=1, PTM=ptm).to_int())  # programmed with SMMUEN=0
    b.w32("CR0", R.CR0(CMDQEN=1, EVENTQEN=1, SMMUEN=1).to_int())
    pt = b.pt()
    b.s1_stream(SID, b.cd(pt, ASET=aset))
    addr = pt.map(VA, PA)
    req = TransReq(sid=SID, addr=VA)
    assert b.smmu.translate(req).result == Result.OK_TRANSLATED
    b.mem.write64(addr, 0)
    assert {o.resp.result for o in b.smmu.predict(req)} == {Result.OK_TRANSLATED, Result.ABORT}
    return b, req


@pytest.mark.parametrize("op", [TlbiOp.VAE1IS, TlbiOp.VALE1IS, TlbiOp.ASIDE1IS])
def test_a_broadcast_tlbi_removes_a_shared_contexts_entry(op) -> None:
    b, req = cached_then_unmapped(aset=0)
    assert b.smmu.dvm([Tlbi(op, ASID, VA, VA + PAGE)]) == 1
    assert {o.resp.fault for o in b.smmu.predict(req)} == {EventID.F_TRANSLATION}


def test_a_broadcast_tlbi_leaves_a_private_contexts_entry() -> None:
    """ASET=1: "not affected by broadcast invalidation" (§3.17): the stale copy stays legal."""
    b, req = cached_then_unmapped(aset=1)
    b.smmu.dvm([Tlbi(TlbiOp.VAE1IS, ASID, VA, VA + PAGE)])
    assert len({o.resp.result for o in b.smmu.predict(req)}) == 2


def test_with_ptm_the_smmu_ignores_broadcast_tlbis() -> None:
    """CR2.PTM=1 (private TLB maintenance): broadcast TLBIs are ignored."""
    b, req = cached_then_unmapped(aset=0, ptm=1)
    assert b.smmu.dvm([Tlbi(TlbiOp.ASIDE1IS, ASID, 0, 1 << 48)]) == 0
    assert b.smmu.dvm_ignored == 1
    assert len({o.resp.result for o in b.smmu.predict(req)}) == 2


# ---- the stack: munmap under BTM ----------------------------------------------------------
def munmap_after_dma(cfg, cpu: CpuFeatures | None = None,
                     ) -> tuple[dict[str, int], Status, int, ModelPlatform]:
    """A device uses a page (its translation cached), the process unmaps it, the device tries
    again: (TLBI commands the driver sent for the munmap, the second access's status and
    fault, the platform)."""
    plat = ModelPlatform(cfg)
    b = asyncio.run(SvaBench.create(ModelBackend(plat), cpu, seed=1))
    assert (cpu is None or not cpu.vhe) or not b.drv.smmu.features.has("BTM"), \
        "a kernel at EL2 and an SMMU without Hyp: BTM must stay off"

    async def go() -> tuple[dict[str, int], Status, int]:
        eng = await b.device("dma0", 0x10)
        mm = b.process("p")
        bond = await b.bind(eng, mm)
        buf = b.buffer(mm, 2)
        expect_ok(await eng.run(D.fill(buf, 64, bond.pasid, b"\x11")))
        stats = b.drv.smmu.cmdq_drv.stats.by_opcode
        before = {k: stats.get(k, 0) for k in TLBI_CMDS}
        await b.munmap(mm, buf, PAGE)
        sent = {k: stats.get(k, 0) - before[k] for k in TLBI_CMDS}
        c = await eng.run(D.fill(buf, 64, bond.pasid, b"\x22"))
        await b.unbind(bond)
        return sent, c.status, c.fault

    sent, status, fault = asyncio.run(go())
    b.finish()
    assert b.checker.violations == []
    return sent, status, fault, plat


def test_with_btm_munmap_sends_no_tlbi_command_and_nothing_stale_is_used() -> None:
    sent, status, fault, plat = munmap_after_dma(BTM)
    assert sum(sent.values()) == 0, sent
    assert plat.model.dvm_applied > 0  # the CPU's TLBIs did it
    assert (status, fault) == (Status.FAULT, EventID.F_TRANSLATION)


def test_without_btm_the_notifier_sends_the_tlbi() -> None:
    sent, status, fault, plat = munmap_after_dma(DEFAULT)
    assert sent["CmdTlbiNhVa"] + sent["CmdTlbiNhAsid"] >= 1, sent
    assert plat.model.dvm_applied == 0
    assert (status, fault) == (Status.FAULT, EventID.F_TRANSLATION)


def test_vmalle1is_reaches_a_private_contexts_entry_too() -> None:
    """§5.4 CD.ASET: "TLBI VMALLE1IS must invalidate all TLB entries matching a given VMID,
    regardless of ASET"."""
    b, req = cached_then_unmapped(aset=1)

    class Vmall:
        op, asid, start = "VMALLE1IS", 0, 0

    assert b.smmu.dvm([Vmall()]) == 1
    assert {o.resp.fault for o in b.smmu.predict(req)} == {EventID.F_TRANSLATION}


def test_a_kernel_at_el2_keeps_the_tlbi_commands() -> None:
    """VHE without IDR0.Hyp (RES0 without stage 2): the CPU's TLBIs are EL2&0 forms, which
    match none of this SMMU's NS-EL1 entries, so the driver does not enable BTM (Linux's
    arm_smmu_device_hw_probe) and its notifier sends the TLBI; the SMMU ignores the broadcasts
    and the device's next access faults."""
    sent, status, fault, plat = munmap_after_dma(BTM, CpuFeatures(vhe=True))
    assert sent["CmdTlbiNhVa"] >= 1, sent
    assert plat.model.dvm_applied == 0 and plat.model.dvm_ignored > 0
    assert (status, fault) == (Status.FAULT, EventID.F_TRANSLATION)
