"""The SMMUv3 driver's per-SMMU state around the device (Linux struct arm_smmu_device, in
arm-smmu-v3.h): the StreamID map of its masters, the ASID map, the iommu-sva core it binds
through, and its iommu_ops; with arm_smmu_probe_device/release_device from arm-smmu-v3.c.

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h (struct arm_smmu_device) and arm-smmu-v3.c
(arm_smmu_probe_device, arm_smmu_release_device).

Probing a master registers the driver in the master's ``iommu`` (struct dev_iommu): its ops,
and this driver as the private data. The ops table is built by
:mod:`~tb.sva.arm.arm_smmu_v3.arm_smmu_v3` and handed to the constructor: it reaches the SVA
file and the domains, which import this module, so this module imports neither of them and
reaches them through the table.

Linux keeps the ASID map global (arm_smmu_asid_xa); pass one :class:`AsidMap` to every
driver instance when modelling several SMMUs. ``cpu_asids`` is the CPU's ASID allocator,
which the SVA code pins ASIDs with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from models.cpu.asid import AsidAllocator
from tb.sva.arm.arm_smmu_v3.asid import AsidMap
from tb.sva.arm.arm_smmu_v3.device import ArmSmmuV3, BringUpReport
from tb.sva.arm.arm_smmu_v3.evtq import EventQueue
from tb.sva.arm.arm_smmu_v3.master import Master, StreamMap
from tb.sva.arm.arm_smmu_v3.priq_consumer import PriQueue
from tb.sva.arm.arm_smmu_v3.probe import SmmuFeatures
from tb.sva.io_pgfault import IopfQueue
from tb.sva.iommu import IOMMU_DEV_FEAT_SVA, Device, DevIommu, IommuOps, dev_iommu_priv_get
from tb.sva.iommu_sva import IommuSva
from tb.sva.pci import (
    pci_ats_supported,
    pci_disable_pasid,
    pci_enable_pasid,
    pci_max_pasids,
    pci_prg_resp_pasid_required,
    pci_pri_supported,
)
from tb.sva.platform import Platform

__all__ = ["ArmSmmuDriver", "dev_to_smmu"]


class ArmSmmuDriver:
    def __init__(self, smmu: ArmSmmuV3, cpu_asids: AsidAllocator,
                 ops: Callable[[ArmSmmuDriver], IommuOps], *,
                 asid_map: AsidMap | None = None, sva: IommuSva | None = None) -> None:
        assert smmu.features is not None, "probe/device_reset the SMMU first"
        self.smmu = smmu
        self.plat: Platform = smmu.plat
        self.features: SmmuFeatures = smmu.features
        self.cpu_asids = cpu_asids
        self.asids = asid_map or AsidMap(self.features.asid_bits)
        self.streams = StreamMap(self.features.sid_bits, self.features.ssid_bits,
                                 self.features.has("2_LVL_CDTAB"))
        self.sva = sva or IommuSva()
        self.ops: IommuOps = ops(self)  # arm_smmu_ops, bound to this SMMU
        self.bringup: BringUpReport | None = None  # what probe's device_reset did
        # The event queue's consumer (arm_smmu_evtq_thread, in fault.py) and, on an SMMU that
        # can stall, the IOPF queue its stall faults go to (Linux: smmu->evtq.iopf).
        self.evtq_consumer = EventQueue(self.plat, smmu.evtq.base, smmu.evtq.shift)
        # The PRI queue's consumer (arm_smmu_priq_thread, in priq.py), with PRI.
        self.priq_consumer = PriQueue(self.plat, smmu.priq.base, smmu.priq.shift) \
            if self.features.has("PRI") else None
        self.iopf: IopfQueue | None = IopfQueue("smmu") \
            if self.features.has("STALLS") or self.features.has("PRI") else None
        self.fault_stats: Counter[str] = Counter()
        # A checker of every record the event thread reads, before it is handled (model
        # infrastructure: the scenarios' scoreboard hook; Linux has none).
        self.evtq_observe: Callable[[list[Any]], None] | None = None

    # ---- masters (arm_smmu_add_device / arm_smmu_remove_device, later probe/release) -----
    def add_device(self, master: Master) -> None:
        """arm_smmu_probe_device: for a PCIe function, its ATS and PRI capabilities, and
        PASIDs enabled before anything else (arm_smmu_enable_pasid: the width caps the
        master's SSIDs). Deviation: whether PRG responses need the PASID is read here rather
        than when PRI is enabled, so that the STE written at attach already has PPAR."""
        if master.pdev is not None:
            pdev = master.pdev
            master.ats = pci_ats_supported(pdev)
            master.pri = pci_pri_supported(pdev)
            master.prg_resp_needs_ssid = pci_prg_resp_pasid_required(pdev)
            if pdev.pasid is not None and self.features.ssid_bits:
                pci_enable_pasid(pdev)
                master.pasid_bits = min(master.pasid_bits or pdev.pasid.width,
                                        pci_max_pasids(pdev).bit_length() - 1)
        self.streams.add(master)
        master.iommu = DevIommu(ops=self.ops, priv=self)
        if self.smmu.l2_tables is not None:
            for sid in master.sids:
                self.smmu.init_l2(sid)

    async def remove_device(self, master: Master) -> None:
        if master.sva_enabled:
            raise RuntimeError(f"{master.name}: SVA still enabled")
        if master.domain is not None:
            await master.domain.detach_dev(master)
        self.streams.remove(master)
        if master.pdev is not None and master.pdev.pasid_enabled:
            pci_disable_pasid(master.pdev)
        master.iommu = None

    probe_device = add_device
    release_device = remove_device

    def domain_alloc(self) -> Any:
        """An ArmSmmuDomain (arm_smmu_domain_alloc, through the ops)."""
        return self.ops.domain_alloc()

    # ---- per-master capabilities ---------------------------------------------------------
    def master_stall_enabled(self, master: Master) -> bool:
        """Stall-capable platform device on an SMMU that can stall, or forced stalls."""
        f = self.features
        return f.has("STALL_FORCE") or (f.has("STALLS") and master.stall)

    def master_ats_enabled(self, master: Master) -> bool:
        return master.ats and self.features.has("ATS")

    def master_iopf_capable(self, master: Master) -> bool:
        return self.master_stall_enabled(master) or (master.pri and self.features.has("PRI"))

    # ---- iommu_dev_{has,enable,disable}_feature(dev, IOMMU_DEV_FEAT_SVA), through the ops -
    def dev_sva_blockers(self, master: Master, *, without_iopf: bool = False) -> list[str]:
        return self.ops.dev_feat_blockers(master, IOMMU_DEV_FEAT_SVA, without_iopf=without_iopf)

    def dev_has_feature_sva(self, master: Master, *, without_iopf: bool = False) -> bool:
        return self.ops.dev_has_feat(master, IOMMU_DEV_FEAT_SVA, without_iopf=without_iopf)

    def dev_enable_sva(self, master: Master, *, without_iopf: bool = False) -> None:
        self.ops.dev_enable_feat(master, IOMMU_DEV_FEAT_SVA, without_iopf=without_iopf)

    async def dev_disable_sva(self, master: Master) -> None:
        await self.ops.dev_disable_feat(master, IOMMU_DEV_FEAT_SVA)


def dev_to_smmu(dev: Device) -> ArmSmmuDriver | None:
    """The driver that probed ``dev`` (Linux: dev_iommu_priv_get(dev)->smmu), or None."""
    drv = dev_iommu_priv_get(dev)
    assert drv is None or isinstance(drv, ArmSmmuDriver)
    return drv
