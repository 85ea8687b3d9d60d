"""The SMMUv3 driver's SVA ops (v5 arm-smmu-v3-sva, with later mainline's invalidation).

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-sva.c.

- Feature check and per-master enable (reference §8.2, §8.9). A master needs PASIDs
  (ssid_bits > 0) and IOPF capability (stall, or PRI on a PCIe function: fault.py, pri.py).
  ``without_iopf=True`` lets tests enable SVA on a master that can do neither; its DMA then
  only works on pages the CPU has already populated with the needed permission.
- The shared context of an mm (arm_smmu_alloc_shared_cd, §8.4/§8.5): the CPU ASID pinned
  with mm_context_get, shared through the SMMU ASID map (seizing it from a private domain if
  needed), TTB0 = mm.pgd, TCR from the mm, MAIR_EL1, ASET=0. HA/HD are requested only when
  the SMMU has them (v5 clears them at CD write time otherwise: same CD).
- Invalidation: with BTM (the SMMU snoops the CPU's broadcast TLBIs, CR2.PTM=0) the notifier
  sends no TLBI, as v5's arm_smmu_mm_invalidate_range skips arm_smmu_tlb_inv_range_asid;
  otherwise every notifier range becomes TLBI_NH_VA(ASID, Leaf=0)
  per page, or one TLBI_NH_ASID once the range reaches CMDQ_MAX_TLBI_OPS pages; plus ATC_INV
  for ATS masters, then CMD_SYNC - once per SMMU, however many of its masters are bound
  (mainline, with one notifier per domain, repeats it per domain). Range TLBIs (RIL) are not
  generated, so the threshold applies even when RIL exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.arch.commands import Command
from models.cpu.mm import MM
from models.memory import PAGE_SIZE
from tb.sva.arm.arm_smmu_v3.asid import AsidError, AsidOwner
from tb.sva.arm.arm_smmu_v3.cd import QUIET, CdTable, ContextDesc
from tb.sva.arm.arm_smmu_v3.domain import ArmSmmuDomain
from tb.sva.arm.arm_smmu_v3.driver import ArmSmmuDriver, dev_to_smmu
from tb.sva.arm.arm_smmu_v3.master import Master, dev_to_master
from tb.sva.arm.arm_smmu_v3.tlb import (
    CMDQ_MAX_TLBI_OPS,
    arm_smmu_inv_tlb_then_atc,
    arm_smmu_tlb_inv_asid,
    atc_inv_cmds,
    tlbi_asid_cmd,
    tlbi_va_cmds,
)
from tb.sva.iommu import Device
from tb.sva.iommu_sva import IommuBond, SvaError

__all__ = [
    "ARM_SMMU_MM_OPS", "ArmSmmuMmOps", "ArmSmmuSharedCd",
    "arm_smmu_alloc_shared_cd", "arm_smmu_free_shared_cd",
    "arm_smmu_master_disable_sva", "arm_smmu_master_enable_sva",
    "arm_smmu_master_sva_blockers", "arm_smmu_sva_bind", "arm_smmu_sva_unbind",
]

MAX_PASID = (1 << 20) - 1


# ---- enabling SVA on a master ----------------------------------------------------------------
def arm_smmu_master_sva_blockers(drv: ArmSmmuDriver, master: Master, *,
                                 without_iopf: bool = False) -> list[str]:
    out = drv.smmu.sva_blockers()
    if master.ssid_bits == 0:
        out.append(f"{master.name}: no substreams (ssid_bits=0)")
    if not without_iopf and not drv.master_iopf_capable(master):
        out.append(f"{master.name}: cannot take I/O page faults (no stall, no PRI)")
    return out


def arm_smmu_master_enable_sva(drv: ArmSmmuDriver, master: Master, *,
                               without_iopf: bool = False) -> None:
    """iommu_dev_enable_feature(dev, IOMMU_DEV_FEAT_SVA)."""
    if dev_to_smmu(master) is not drv:
        raise SvaError(f"{master.name}: not a master of this SMMU (-ENODEV)")
    blockers = arm_smmu_master_sva_blockers(drv, master, without_iopf=without_iopf)
    if blockers:
        raise SvaError("SVA unsupported (-ENODEV): " + "; ".join(blockers))
    if master.sva_enabled:
        raise SvaError(f"{master.name}: SVA already enabled (-EBUSY)")
    drv.sva.enable(master, 1, min(MAX_PASID, (1 << master.ssid_bits) - 1))
    master.sva_enabled = True
    assert master.iommu is not None
    master.iommu.sva_without_iopf = without_iopf


def arm_smmu_master_disable_sva(drv: ArmSmmuDriver, master: Master) -> None:
    drv.sva.disable(master)
    master.sva_enabled = False


# ---- the shared context of an mm -------------------------------------------------------------
@dataclass(eq=False, kw_only=True)
class ArmSmmuSharedCd(AsidOwner):
    """The ASID map's entry for an mm (Linux: the arm_smmu_ctx_desc arm_smmu_alloc_shared_cd
    returns): the CD every bound domain installs, and the driver whose maps hold the ASID."""

    cd: ContextDesc
    drv: ArmSmmuDriver


async def arm_smmu_alloc_shared_cd(drv: ArmSmmuDriver, mm: MM) -> ArmSmmuSharedCd:
    """Pin the mm's CPU ASID and make it this mm's ASID in the SMMU too."""
    asid = drv.cpu_asids.mm_context_get(mm)
    if not asid:
        raise SvaError(f"{mm.name}: too many pinned ASIDs (-ESRCH)")
    try:
        existing = await drv.asids.share(asid, mm,
                                         lambda old: arm_smmu_tlb_inv_asid(drv.smmu, old))
    except AsidError as e:
        drv.cpu_asids.mm_context_put(mm)
        raise SvaError(f"{mm.name}: {e} (-EBUSY)") from e
    if existing is not None:  # same mm already has a shared context: its pin suffices
        drv.cpu_asids.mm_context_put(mm)
        assert isinstance(existing, ArmSmmuSharedCd)
        return existing
    assert mm.pgd is not None
    tcr = {k: v for k, v in mm.tcr_fields().items() if k != "AA64"}  # CdTable sets AA64
    for bit in ("HA", "HD"):
        if drv.features.has(bit):
            tcr[bit] = 1
    cd = ContextDesc(asid=asid, ttbr=mm.pgd, tcr=tcr, mair=mm.mair, shared=True)
    owner = ArmSmmuSharedCd(asid=asid, mm=mm, cd=cd, drv=drv)
    drv.asids.insert(owner)
    return owner


def arm_smmu_free_shared_cd(ctx: ArmSmmuSharedCd) -> None:
    """Drop a reference; the last one erases the ASID and unpins it on the CPU."""
    ctx.refs -= 1
    if ctx.refs:
        return
    drv = ctx.drv
    drv.asids.erase(ctx.asid)
    drv.cpu_asids.mm_context_put(ctx.mm)


# ---- io_mm ops ------------------------------------------------------------------------------
def _drv(dev: Device) -> ArmSmmuDriver:
    drv = dev_to_smmu(dev)
    if drv is None:
        raise SvaError(f"{dev.name}: not behind an SMMU (-ENODEV)")
    return drv


def _cdtab(dev: Device) -> CdTable:
    domain = dev.domain
    assert isinstance(domain, ArmSmmuDomain) and domain.cdtab is not None
    return domain.cdtab


class ArmSmmuMmOps:
    """The driver's io_mm ops (iommu_sva.IoMmOps); ``ctx`` is the mm's ArmSmmuSharedCd."""

    async def alloc(self, dev: Device, mm: MM) -> ArmSmmuSharedCd:
        return await arm_smmu_alloc_shared_cd(_drv(dev), mm)

    def free(self, ctx: Any) -> None:
        arm_smmu_free_shared_cd(ctx)

    async def attach(self, dev: Device, pasid: int, ctx: Any, attach_domain: bool) -> None:
        """CD tables are per domain: only the domain's first bond for the mm writes it."""
        if attach_domain:
            await _cdtab(dev).write(pasid, ctx.cd)

    async def detach(self, dev: Device, pasid: int, ctx: Any, detach_domain: bool,
                     cleared: bool) -> None:
        master = dev_to_master(dev)
        drv = _drv(master)
        domain = master.domain
        assert isinstance(domain, ArmSmmuDomain)
        if detach_domain:
            await _cdtab(master).write(pasid, None)  # case 5: V=0, CFGI_CD + SYNC
        if cleared:
            return  # release already invalidated everything
        if detach_domain:
            await arm_smmu_inv_tlb_then_atc(drv.smmu, [tlbi_asid_cmd(drv.smmu, ctx.asid)],
                                            atc_inv_cmds(domain.ats_sids(), pasid, 0, 0))
            return
        cmds = atc_inv_cmds(master.sids if drv.master_ats_enabled(master) else [], pasid, 0, 0)
        if cmds:
            await drv.smmu.cmdq_drv.issue(cmds)

    async def invalidate(self, bonds: list[IommuBond], pasid: int, ctx: Any, start: int,
                         size: int) -> None:
        """The notifier's invalidate_range: PTEs changed, pages not yet freed."""
        if size >= CMDQ_MAX_TLBI_OPS * PAGE_SIZE:
            size = 0  # the whole ASID
        groups: dict[int, tuple[ArmSmmuDriver, list[Master]]] = {}
        for bond in bonds:
            drv = _drv(bond.master)
            groups.setdefault(id(drv), (drv, []))[1].append(dev_to_master(bond.master))
        for drv, masters in groups.values():
            if drv.features.has("BTM"):
                tlbi: list[Command] = []  # the CPU's TLBIs already reached this SMMU
            elif size:
                tlbi = tlbi_va_cmds(drv.smmu, ctx.asid, start, size, PAGE_SIZE, leaf=False)
            else:
                tlbi = [tlbi_asid_cmd(drv.smmu, ctx.asid)]
            atc: list[Command] = []
            for m in masters:
                if drv.master_ats_enabled(m):
                    atc += atc_inv_cmds(m.sids, pasid, start, size)
            await arm_smmu_inv_tlb_then_atc(drv.smmu, tlbi, atc)

    async def clear(self, dev: Device, pasid: int, ctx: Any) -> None:
        """The mm exited with the bond live: quiet CD, then drop every cached translation."""
        master = dev_to_master(dev)
        drv = _drv(master)
        await _cdtab(master).write(pasid, QUIET)  # case 4: V=1, EPD0=1, R=0, S=0
        atc = atc_inv_cmds(master.sids, pasid, 0, 0) if drv.master_ats_enabled(master) else []
        await arm_smmu_inv_tlb_then_atc(drv.smmu, [tlbi_asid_cmd(drv.smmu, ctx.asid)], atc)


ARM_SMMU_MM_OPS = ArmSmmuMmOps()


# ---- iommu_ops sva_bind / sva_unbind ------------------------------------------------------------
async def arm_smmu_sva_bind(master: Master, mm: MM, drvdata: Any = None) -> IommuBond:
    drv = _drv(master)
    domain = master.domain
    if not isinstance(domain, ArmSmmuDomain) or domain.stage != "S1" or domain.cdtab is None:
        raise SvaError(f"{master.name}: not attached to a stage-1 domain (-EINVAL)")
    if not master.sva_enabled:
        raise SvaError(f"{master.name}: SVA not enabled (-EINVAL)")
    return await drv.sva.bind_generic(master, mm, ARM_SMMU_MM_OPS, drv.plat, drvdata)


async def arm_smmu_sva_unbind(handle: IommuBond) -> None:
    await _drv(handle.master).sva.unbind_generic(handle)
