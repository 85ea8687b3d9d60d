"""The SMMUv3 driver's per-SMMU state around the device (Linux struct arm_smmu_device):
the StreamID map of its masters, the ASID map, and the iommu_ops the core calls.

Linux keeps the ASID map global (arm_smmu_asid_xa); pass one :class:`AsidMap` to every
driver instance when modelling several SMMUs. ``cpu_asids`` is the CPU's ASID allocator,
which the SVA code pins ASIDs with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.cpu.asid import AsidAllocator
from models.cpu.features import CpuFeatures
from tb.sva.arm.arm_smmu_v3.asid import AsidMap
from tb.sva.arm.arm_smmu_v3.device import ArmSmmuV3, BringUpReport
from tb.sva.arm.arm_smmu_v3.domain import ArmSmmuDomain
from tb.sva.arm.arm_smmu_v3.master import Master, StreamMap
from tb.sva.arm.arm_smmu_v3.probe import SmmuFeatures
from tb.sva.platform import Platform

if TYPE_CHECKING:
    from tb.sva.iommu_sva import IommuSva

__all__ = ["ArmSmmuDriver"]


class ArmSmmuDriver:
    def __init__(self, smmu: ArmSmmuV3, cpu_asids: AsidAllocator, *,
                 asid_map: AsidMap | None = None, sva: IommuSva | None = None) -> None:
        from tb.sva.iommu_sva import IommuSva

        assert smmu.features is not None, "probe/device_reset the SMMU first"
        self.smmu = smmu
        self.plat: Platform = smmu.plat
        self.features: SmmuFeatures = smmu.features
        self.cpu_asids = cpu_asids
        self.asids = asid_map or AsidMap(self.features.asid_bits)
        self.streams = StreamMap(self.features.sid_bits, self.features.ssid_bits,
                                 self.features.has("2_LVL_CDTAB"))
        self.sva = sva or IommuSva()
        self.bringup: BringUpReport | None = None  # what probe's device_reset did

    @classmethod
    async def probe(cls, plat: Platform, cpu: CpuFeatures | None = None,
                    cpu_asids: AsidAllocator | None = None, **kw: object) -> ArmSmmuDriver:
        """arm_smmu_device_probe: probe and bring up the SMMU, then wrap it."""
        cpu = cpu or CpuFeatures()
        smmu = ArmSmmuV3(plat, cpu)
        report = await smmu.device_reset()
        drv = cls(smmu, cpu_asids or AsidAllocator(cpu), **kw)  # type: ignore[arg-type]
        drv.bringup = report
        return drv

    # ---- masters (arm_smmu_add_device / arm_smmu_remove_device, later probe/release) -----
    def add_device(self, master: Master) -> None:
        self.streams.add(master)
        master.data["smmu"] = self
        if self.smmu.l2_tables is not None:
            for sid in master.sids:
                self.smmu.init_l2(sid)

    async def remove_device(self, master: Master) -> None:
        if master.sva_enabled:
            raise RuntimeError(f"{master.name}: SVA still enabled")
        if master.domain is not None:
            await master.domain.detach_dev(master)
        self.streams.remove(master)
        master.data.pop("smmu", None)

    probe_device = add_device
    release_device = remove_device

    def domain_alloc(self) -> ArmSmmuDomain:
        return ArmSmmuDomain()

    # ---- per-master capabilities ---------------------------------------------------------
    def master_stall_enabled(self, master: Master) -> bool:
        """Stall-capable platform device on an SMMU that can stall, or forced stalls."""
        f = self.features
        return f.has("STALL_FORCE") or (f.has("STALLS") and master.stall)

    def master_ats_enabled(self, master: Master) -> bool:
        return master.ats and self.features.has("ATS")

    def master_iopf_capable(self, master: Master) -> bool:
        return self.master_stall_enabled(master) or (master.pri and self.features.has("PRI"))

    # ---- iommu_dev_{has,enable,disable}_feature(dev, IOMMU_DEV_FEAT_SVA) -----------------
    def dev_sva_blockers(self, master: Master, *, without_iopf: bool = False) -> list[str]:
        from tb.sva.arm.arm_smmu_v3.arm_smmu_v3_sva import arm_smmu_master_sva_blockers

        return arm_smmu_master_sva_blockers(self, master, without_iopf=without_iopf)

    def dev_has_feature_sva(self, master: Master, *, without_iopf: bool = False) -> bool:
        return not self.dev_sva_blockers(master, without_iopf=without_iopf)

    def dev_enable_sva(self, master: Master, *, without_iopf: bool = False) -> None:
        from tb.sva.arm.arm_smmu_v3.arm_smmu_v3_sva import arm_smmu_master_enable_sva

        arm_smmu_master_enable_sva(self, master, without_iopf=without_iopf)

    def dev_disable_sva(self, master: Master) -> None:
        from tb.sva.arm.arm_smmu_v3.arm_smmu_v3_sva import arm_smmu_master_disable_sva

        arm_smmu_master_disable_sva(self, master)
