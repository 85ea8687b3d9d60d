"""The SMMUv3 driver's entry points (Linux arm-smmu-v3.c): ``arm_smmu_ops``, the iommu_ops
the core calls, and arm_smmu_device_probe.

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c (arm_smmu_ops, arm_smmu_dev_*_feature,
arm_smmu_device_probe).

This module sits on top of the package: the ops table reaches the SVA file
(:mod:`.arm_smmu_v3_sva`, Linux arm-smmu-v3-sva.c) and the domains (:mod:`.domain`), which
both import the per-SMMU state (:mod:`.driver`); the state reaches them only through this
table, which :func:`arm_smmu_device_probe` hands to it.
"""

from __future__ import annotations

from typing import Any

from models.cpu.asid import AsidAllocator
from models.cpu.features import CpuFeatures
from models.cpu.mm import MM
from tb.sva.arm.arm_smmu_v3.arm_smmu_v3_sva import (
    arm_smmu_master_disable_sva,
    arm_smmu_master_enable_sva,
    arm_smmu_master_sva_blockers,
    arm_smmu_sva_bind,
    arm_smmu_sva_unbind,
)
from tb.sva.arm.arm_smmu_v3.asid import AsidMap
from tb.sva.arm.arm_smmu_v3.device import (
    CMDQ_MAX_SHIFT,
    EVTQ_MAX_SHIFT,
    PRIQ_MAX_SHIFT,
    ArmSmmuV3,
)
from tb.sva.arm.arm_smmu_v3.domain import ArmSmmuDomain
from tb.sva.arm.arm_smmu_v3.driver import ArmSmmuDriver
from tb.sva.arm.arm_smmu_v3.fault import (
    arm_smmu_evtq_thread,
    arm_smmu_master_disable_iopf,
    arm_smmu_master_enable_iopf,
    arm_smmu_page_response,
)
from tb.sva.arm.arm_smmu_v3.master import dev_to_master
from tb.sva.arm.arm_smmu_v3.pri import arm_smmu_priq_thread
from tb.sva.io_pgfault import IommuFault, IommuPageResponse
from tb.sva.iommu import IOMMU_DEV_FEAT_SVA, Device, IommuDevFeature, IommuError, IommuSvaHandle
from tb.sva.iommu_sva import IommuBond, IommuSva
from tb.sva.platform import Platform

__all__ = ["ArmSmmuOps", "arm_smmu_device_probe"]


def _sva_only(dev: Device, feat: IommuDevFeature) -> None:
    if feat is not IOMMU_DEV_FEAT_SVA:
        raise IommuError(f"{dev.name}: feature {feat.name} not supported (-EINVAL)")


class ArmSmmuOps:
    """arm_smmu_ops, bound to the SMMU that registers it. Linux finds the SMMU of a device
    through the iommu_device it registered with these ops (or the device's fwspec); here the
    table holds its driver, and probing a master puts the table in the master's dev_iommu."""

    def __init__(self, drv: ArmSmmuDriver) -> None:
        self.drv = drv

    # ---- per device ------------------------------------------------------------------------
    def probe_device(self, dev: Device) -> None:
        self.drv.add_device(dev_to_master(dev))

    async def release_device(self, dev: Device) -> None:
        await self.drv.remove_device(dev_to_master(dev))

    def domain_alloc(self) -> ArmSmmuDomain:
        return ArmSmmuDomain()

    # ---- features: arm_smmu_dev_{has,enable,disable}_feature ---------------------------------
    def dev_feat_blockers(self, dev: Device, feat: IommuDevFeature, *,
                          without_iopf: bool = False) -> list[str]:
        _sva_only(dev, feat)
        return arm_smmu_master_sva_blockers(self.drv, dev_to_master(dev),
                                            without_iopf=without_iopf)

    def dev_has_feat(self, dev: Device, feat: IommuDevFeature, *,
                     without_iopf: bool = False) -> bool:
        return feat is IOMMU_DEV_FEAT_SVA and not self.dev_feat_blockers(
            dev, feat, without_iopf=without_iopf)

    def dev_enable_feat(self, dev: Device, feat: IommuDevFeature, *,
                        without_iopf: bool = False) -> None:
        _sva_only(dev, feat)
        master = dev_to_master(dev)
        arm_smmu_master_enable_sva(self.drv, master, without_iopf=without_iopf)
        if not without_iopf:
            try:
                arm_smmu_master_enable_iopf(self.drv, master)
            except Exception:
                arm_smmu_master_disable_sva(self.drv, master)
                raise

    async def dev_disable_feat(self, dev: Device, feat: IommuDevFeature) -> None:
        _sva_only(dev, feat)
        master = dev_to_master(dev)
        await arm_smmu_master_disable_iopf(self.drv, master)
        arm_smmu_master_disable_sva(self.drv, master)

    async def page_response(self, dev: Device, fault: IommuFault,
                            resp: IommuPageResponse) -> None:
        await arm_smmu_page_response(self.drv, dev, fault, resp)

    # ---- SVA -------------------------------------------------------------------------------
    async def sva_bind(self, dev: Device, mm: MM, drvdata: Any) -> IommuBond:
        return await arm_smmu_sva_bind(dev_to_master(dev), mm, drvdata)

    async def sva_unbind(self, handle: IommuSvaHandle) -> None:
        assert isinstance(handle, IommuBond)
        await arm_smmu_sva_unbind(handle)


async def arm_smmu_device_probe(plat: Platform, cpu: CpuFeatures | None = None,
                                cpu_asids: AsidAllocator | None = None, *,
                                asid_map: AsidMap | None = None,
                                sva: IommuSva | None = None,
                                evtq_max_shift: int = EVTQ_MAX_SHIFT,
                                priq_max_shift: int = PRIQ_MAX_SHIFT,
                                cmdq_max_shift: int = CMDQ_MAX_SHIFT) -> ArmSmmuDriver:
    """arm_smmu_device_probe: probe and bring up the SMMU, then wrap it with its ops."""
    cpu = cpu or CpuFeatures()
    smmu = ArmSmmuV3(plat, cpu, evtq_max_shift=evtq_max_shift, priq_max_shift=priq_max_shift,
                     cmdq_max_shift=cmdq_max_shift)
    report = await smmu.device_reset()
    drv = ArmSmmuDriver(smmu, cpu_asids or AsidAllocator(cpu), ArmSmmuOps,
                        asid_map=asid_map, sva=sva)
    drv.bringup = report
    if drv.iopf is not None:
        async def flush_fault_queues() -> None:
            """The low-level flush of iopf_queue_flush_dev: both hardware fault queues."""
            await arm_smmu_evtq_thread(drv)
            if drv.priq_consumer is not None:
                await arm_smmu_priq_thread(drv)
        drv.iopf.flush_hw = flush_fault_queues
    return drv
