"""Stage-1 DMA domains (Linux struct arm_smmu_domain, ARM_SMMU_DOMAIN_S1).

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c (arm_smmu_domain_finalise, arm_smmu_attach_dev,
arm_smmu_map/unmap, arm_smmu_domain_free).

A domain owns an io-pgtable, a private ASID (ASET=1 CD) and a CD table shared by its
masters. Like Linux, the domain is finalised at its first attach (arm_smmu_domain_finalise):
only then is the SMMU known, and the CD table is sized by that master's ssid_bits, so every
later master must have the same ssid_bits. CD 0 carries the DMA context; the STEs select it
for SSID-less traffic (S1DSS=SSID0), and PASIDs 1.. hold shared (SVA) contexts.
"""

from __future__ import annotations

import dataclasses

from models.arch.geometry import GRANULE
from tb.sva.arm.arm_smmu_v3.asid import AsidOwner
from tb.sva.arm.arm_smmu_v3.cd import CdTable, ContextDesc
from tb.sva.arm.arm_smmu_v3.driver import ArmSmmuDriver, dev_to_smmu
from tb.sva.arm.arm_smmu_v3.master import Master
from tb.sva.arm.arm_smmu_v3.tlb import (
    arm_smmu_inv_tlb_then_atc,
    arm_smmu_tlb_inv_asid,
    atc_inv_cmds,
    tlbi_va_cmds,
)
from tb.sva.iopgtable import ArmLpaeS1Pgtable, IoPgtableCfg, IotlbGather
from tb.sva.pci import pci_disable_ats, pci_enable_ats

__all__ = ["ArmSmmuDomain", "DomainError"]


class DomainError(Exception):
    """Attach refused (Linux -EINVAL/-EBUSY/-ENXIO from arm_smmu_attach_dev)."""


class ArmSmmuDomain:
    stage = "S1"

    def __init__(self) -> None:
        self.drv: ArmSmmuDriver | None = None
        self.masters: list[Master] = []
        self.pgtbl: ArmLpaeS1Pgtable | None = None
        self.cdtab: CdTable | None = None
        self.asid_owner: AsidOwner | None = None
        self.cd: ContextDesc | None = None
        self.stall_enabled = False
        self.s1cdmax = 0
        self.nr_ats_masters = 0  # masters with ATS enabled: none, no ATC invalidation at all

    # ---- identity ---------------------------------------------------------------------------
    @property
    def asid(self) -> int:
        assert self.asid_owner is not None, "domain not finalised (no master attached yet)"
        return self.asid_owner.asid

    def sids(self) -> list[int]:
        return [sid for m in self.masters for sid in m.sids]

    # ---- finalise (first attach) ---------------------------------------------------------
    async def _finalise(self, drv: ArmSmmuDriver, master: Master) -> None:
        f = drv.features
        self.drv = drv
        self.s1cdmax = master.ssid_bits
        self.stall_enabled = drv.master_stall_enabled(master)
        self.pgtbl = ArmLpaeS1Pgtable(drv.plat.mem, drv.plat.dma, IoPgtableCfg(
            ias=48, oas=f.oas_bits, coherent_walk=f.has("COHERENCY")))
        cfg = self.pgtbl.cfg
        self.asid_owner = drv.asids.alloc_private(rewrite=self._set_asid)
        self.cd = ContextDesc(asid=self.asid_owner.asid, ttbr=cfg.ttbr, tcr=cfg.tcr,
                              mair=cfg.mair, shared=False)
        self.cdtab = CdTable(drv.plat, drv.smmu.cmdq_drv, self.s1cdmax,
                             f.has("2_LVL_CDTAB"), self.sids, stall=self.stall_enabled)
        await self.cdtab.write(0, self.cd)

    async def _set_asid(self, new: int) -> None:
        """arm_smmu_share_asid moved us: CD 0 gets the new ASID live (CD case 3)."""
        assert self.cd is not None and self.cdtab is not None
        self.cd = dataclasses.replace(self.cd, asid=new)
        await self.cdtab.write(0, self.cd)

    # ---- attach / detach -----------------------------------------------------------------
    async def attach_dev(self, master: Master) -> None:
        """arm_smmu_attach_dev."""
        drv = dev_to_smmu(master)
        if drv is None:
            raise DomainError(f"{master.name}: not added to an SMMU (add_device first)")
        if master.sva_enabled:
            raise DomainError(f"{master.name}: cannot attach, SVA enabled (-EBUSY)")
        if master.domain is self:
            return
        if self.drv is not None and self.drv is not drv:
            raise DomainError(f"{master.name}: domain belongs to another SMMU (-ENXIO)")
        if self.drv is not None:
            if master.ssid_bits != self.s1cdmax:
                raise DomainError(f"{master.name}: cannot attach to incompatible domain "
                                  f"({master.ssid_bits} SSID bits != {self.s1cdmax}) (-EINVAL)")
            if drv.master_stall_enabled(master) != self.stall_enabled:
                raise DomainError(f"{master.name}: cannot attach to a stall-"
                                  f"{'enabled' if self.stall_enabled else 'disabled'} domain")
        if master.domain is not None:
            await master.domain.detach_dev(master)
        if self.drv is None:
            await self._finalise(drv, master)
        assert self.cdtab is not None
        self.masters.append(master)
        master.domain = self
        ste = drv.smmu.s1_ste(self.cdtab, stall_master=drv.master_stall_enabled(master),
                              ats=drv.master_ats_enabled(master),
                              ppar=master.prg_resp_needs_ssid)
        for sid in master.sids:
            await drv.smmu.write_ste(sid, ste)
        await self._enable_ats(master)

    async def _enable_ats(self, master: Master) -> None:
        """arm_smmu_enable_ats, after the STE with EATS is in place (fault-paths.md §3.2:
        EATS, CFGI_STE and SYNC, then ATS at the endpoint): count the master in (so that
        invalidations from now on reach its ATC), invalidate whatever its ATC may hold from
        before, then enable ATS at the function with the STU of the smallest granule."""
        assert self.drv is not None
        if not self.drv.master_ats_enabled(master):
            return
        self.nr_ats_masters += 1
        await self.drv.smmu.cmdq_drv.issue(atc_inv_cmds(self.ats_sids(), 0, 0, 0))
        if master.pdev is not None:
            pci_enable_ats(master.pdev, GRANULE.bit_length() - 1)

    async def _disable_ats(self, master: Master) -> None:
        """arm_smmu_disable_ats: ATS off at the function first, then its ATC invalidated
        (nothing can refill it now), then counted out."""
        assert self.drv is not None
        if not self.drv.master_ats_enabled(master):
            return
        if master.pdev is not None and master.pdev.ats_enabled:
            pci_disable_ats(master.pdev)
        await self.drv.smmu.cmdq_drv.issue(atc_inv_cmds(master.sids, 0, 0, 0))
        self.nr_ats_masters -= 1

    async def detach_dev(self, master: Master) -> None:
        """arm_smmu_detach_dev: the master's streams go back to abort (or bypass)."""
        if master.domain is not self:
            return
        assert self.drv is not None
        await self._disable_ats(master)
        self.masters.remove(master)
        master.domain = None
        for sid in master.sids:
            await self.drv.smmu.write_ste(sid, self.drv.smmu.unattached_ste())

    # ---- DMA API ---------------------------------------------------------------------------
    def _ready(self) -> tuple[ArmSmmuDriver, ArmLpaeS1Pgtable]:
        if self.drv is None or self.pgtbl is None:
            raise DomainError("domain not finalised: attach a master first")
        return self.drv, self.pgtbl

    async def map(self, iova: int, paddr: int, size: int, prot: int) -> None:
        """iommu_map: no invalidation is needed, invalid entries are never cached."""
        _, pgtbl = self._ready()
        pgtbl.map(iova, paddr, size, prot)

    async def unmap(self, iova: int, size: int) -> int:
        """iommu_unmap: clear PTEs, then (iotlb_sync) TLBI_NH_VA Leaf=1 per page + ATC_INV
        with SSID 0 for ATS masters, then CMD_SYNC. Returns the bytes unmapped."""
        _, pgtbl = self._ready()
        gather = IotlbGather()
        done = pgtbl.unmap(iova, size, gather)
        if not gather.empty:
            await self.tlb_inv_range(gather.start, gather.end - gather.start, leaf=True)
        return done

    def iova_to_phys(self, iova: int) -> int | None:
        return self._ready()[1].iova_to_phys(iova)

    async def tlb_inv_range(self, iova: int, size: int, *, leaf: bool) -> None:
        """arm_smmu_tlb_inv_range_domain for SSID 0."""
        drv, _ = self._ready()
        await arm_smmu_inv_tlb_then_atc(
            drv.smmu, tlbi_va_cmds(drv.smmu, self.asid, iova, size, GRANULE, leaf),
            atc_inv_cmds(self.ats_sids(), 0, iova, size))

    def ats_sids(self) -> list[int]:
        """The StreamIDs an ATC invalidation of this domain goes to (arm_smmu_atc_inv_domain:
        nothing while no master has ATS enabled)."""
        assert self.drv is not None
        if not self.nr_ats_masters:
            return []
        return [sid for m in self.masters if self.drv.master_ats_enabled(m) for sid in m.sids]

    async def free(self) -> None:
        """arm_smmu_domain_free: TLBI the ASID (tlb_flush_all), free tables, CDs and ASID."""
        if self.masters:
            raise DomainError("domain still has masters attached")
        if self.drv is None:
            return
        assert self.pgtbl is not None and self.cdtab is not None
        await arm_smmu_tlb_inv_asid(self.drv.smmu, self.asid)
        self.pgtbl.free()
        self.cdtab.free()
        self.drv.asids.erase(self.asid)
        self.drv = None
