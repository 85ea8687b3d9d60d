"""A whole system for SVA scenarios: one SMMU with its driver, CPUs with their ASID allocator,
and processes whose pages live in the same physical memory the SMMU walks.

Mirrors: nothing in Linux (model infrastructure: the machine the kernel runs on).
"""

from __future__ import annotations

from typing import Any

from models.cpu.asid import AsidAllocator
from models.cpu.features import CpuFeatures
from models.cpu.mm import MM
from models.memory import FrameAllocator
from tb.sva.arm.arm_smmu_v3.arm_smmu_v3 import arm_smmu_device_probe
from tb.sva.arm.arm_smmu_v3.device import CMDQ_MAX_SHIFT, EVTQ_MAX_SHIFT, PRIQ_MAX_SHIFT
from tb.sva.arm.arm_smmu_v3.driver import ArmSmmuDriver
from tb.sva.arm.arm_smmu_v3.master import Master
from tb.sva.iommu import IOMMU_DEV_FEAT_SVA, iommu_dev_enable_feature, iommu_probe_device
from tb.sva.platform import Platform

__all__ = ["PROCESS_WINDOW", "SvaSystem"]

# Process page tables and pages: outside the platform's DMA window.
PROCESS_WINDOW = (0x1_0000_0000, 0x1_4000_0000)


class SvaSystem:
    def __init__(self, drv: ArmSmmuDriver, cpu: CpuFeatures,
                 window: tuple[int, int] = PROCESS_WINDOW) -> None:
        self.drv = drv
        self.plat: Platform = drv.plat
        self.cpu = cpu
        self.cpu_asids: AsidAllocator = drv.cpu_asids
        self.frames = FrameAllocator(self.plat.mem, *window)
        self.mms: list[MM] = []  # every process made, in order

    @classmethod
    async def create(cls, plat: Platform, cpu: CpuFeatures | None = None, *,
                     evtq_max_shift: int = EVTQ_MAX_SHIFT,
                     priq_max_shift: int = PRIQ_MAX_SHIFT,
                     cmdq_max_shift: int = CMDQ_MAX_SHIFT) -> SvaSystem:
        cpu = cpu or CpuFeatures()
        drv = await arm_smmu_device_probe(plat, cpu, AsidAllocator(cpu),
                                          evtq_max_shift=evtq_max_shift,
                                          priq_max_shift=priq_max_shift,
                                          cmdq_max_shift=cmdq_max_shift)
        return cls(drv, cpu)

    def process(self, name: str = "mm", cpu: int | None = 0) -> MM:
        """A new process; ``cpu`` runs it once (so it has an ASID), None leaves it unscheduled."""
        mm = MM(self.plat.mem, self.frames, features=self.cpu, name=name)
        dvm = getattr(self.plat, "dvm_tlbi", None)  # a platform whose SMMU is on the DVM bus
        if dvm is not None:
            mm.dvm.append(dvm)
        if cpu is not None:
            self.cpu_asids.switch_mm(cpu, mm)
        self.mms.append(mm)
        return mm

    async def master(self, name: str, sids: list[int], pasid_bits: int = 20, *,
                     sva: bool = False, **kw: Any) -> Master:
        """A master added to the SMMU, attached to a fresh DMA domain (as the DMA API's default
        domain would be), with SVA enabled if asked: with I/O page faults where the master
        can be stalled (``stall=True``, the firmware's "dma-can-stall", on an SMMU that can
        stall, or a PCIe function with PRI: ``pdev``), else without (its DMA reaches only
        pages the CPU populated)."""
        m = Master(name, sids, pasid_bits=pasid_bits, **kw)
        iommu_probe_device(m, self.drv.ops)
        await self.drv.domain_alloc().attach_dev(m)
        if sva:
            iommu_dev_enable_feature(m, IOMMU_DEV_FEAT_SVA,
                                     without_iopf=not self.drv.master_iopf_capable(m))
        return m
