"""Masters (devices behind the SMMU) and the StreamID -> master map (reference §8.12).

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h (struct arm_smmu_master) and arm-smmu-v3.c
(arm_smmu_insert_master, arm_smmu_find_master).

A master owns one or more StreamIDs; event and PRI handlers find the device that caused a
record through this map, so a StreamID may belong to one master only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tb.sva.iommu import Device, DevIommu
from tb.sva.pci import PciDev

CTXDESC_LINEAR_MAX_BITS = 10  # without 2-level CD tables Linux caps substreams at 1024


@dataclass(eq=False)
class Master:
    name: str
    sids: list[int]
    pasid_bits: int = 0        # what the device supports (PCI PASID width / firmware)
    stall: bool = False        # platform device that may be stalled ("dma-can-stall")
    pri: bool = False          # PCI: set from the function's capabilities at probe
    ats: bool = False
    pdev: PciDev | None = None  # a PCIe function (Linux: dev_is_pci)
    prg_resp_needs_ssid: bool = False  # PRG responses must carry the PASID (STE.PPAR)
    ssid_bits: int = 0         # what the SMMU will use: set by StreamMap.add
    domain: Any = None
    sva_enabled: bool = False
    iommu: DevIommu | None = None  # dev->iommu: set by the driver's probe_device


def dev_to_master(dev: Device) -> Master:
    """The master a device handed to the driver's ops is (Linux: dev_iommu_priv_get(dev)):
    in this model the device and its arm_smmu_master are one object."""
    assert isinstance(dev, Master), f"{dev.name}: not an SMMUv3 master"
    return dev


class StreamMap:
    def __init__(self, sid_bits: int, ssid_bits: int, cd2l: bool) -> None:
        self.sid_bits = sid_bits
        self.ssid_bits = ssid_bits
        self.cd2l = cd2l
        self.by_sid: dict[int, Master] = {}

    def add(self, master: Master) -> None:
        """Linux arm_smmu_probe_device: check and record every StreamID of the master."""
        if not master.sids:
            raise ValueError(f"{master.name}: no StreamID")
        for sid in master.sids:
            if sid >> self.sid_bits:
                raise ValueError(f"{master.name}: StreamID {sid:#x} beyond "
                                 f"{self.sid_bits} bits")
            if sid in self.by_sid:
                raise ValueError(f"{master.name}: StreamID {sid:#x} already belongs to "
                                 f"{self.by_sid[sid].name} (-EINVAL)")
        bits = min(self.ssid_bits, master.pasid_bits)
        if not self.cd2l:
            bits = min(bits, CTXDESC_LINEAR_MAX_BITS)
        master.ssid_bits = bits
        for sid in master.sids:
            self.by_sid[sid] = master

    def remove(self, master: Master) -> None:
        for sid in master.sids:
            if self.by_sid.get(sid) is master:
                del self.by_sid[sid]

    def find(self, sid: int) -> Master | None:
        return self.by_sid.get(sid)
