"""The IOMMU core (Linux drivers/iommu/iommu.c and include/linux/iommu.h): the operations an
IOMMU driver provides, the per-device IOMMU state, and the device-facing calls that dispatch
to the driver.

Mirrors: drivers/iommu/iommu.c and include/linux/iommu.h.

The core imports no driver. A driver registers its :class:`IommuOps` in a device's
:class:`DevIommu` when it probes the device (Linux: arm_smmu_probe_device, with dev->iommu set
up by the core); every later call reaches the driver through ``dev.iommu.ops``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol

from models.cpu.mm import MM

__all__ = [
    "IOMMU_DEV_FEAT_SVA", "DevIommu", "Device", "IommuDevFeature", "IommuError", "IommuOps",
    "IommuSvaHandle", "IommuSvaParam",
    "dev_iommu_ops", "dev_iommu_priv_get", "iommu_dev_disable_feature",
    "iommu_dev_enable_feature", "iommu_dev_has_feature", "iommu_probe_device",
    "iommu_release_device",
]


class IommuError(Exception):
    """An IOMMU call refused; the message names the Linux errno."""


class IommuDevFeature(enum.Enum):
    """enum iommu_dev_features (only what the model uses)."""

    SVA = "SVA"


IOMMU_DEV_FEAT_SVA = IommuDevFeature.SVA


class Device(Protocol):
    """struct device as the IOMMU layer sees it."""

    name: str
    domain: Any               # the attached domain (Linux: the iommu_group's domain)
    iommu: DevIommu | None    # dev->iommu: set while an IOMMU driver has probed the device


class IommuSvaHandle(Protocol):
    """struct iommu_sva: what ``sva_bind`` returns (iommu_sva.IommuBond)."""

    @property
    def pasid(self) -> int: ...


class IommuOps(Protocol):
    """The driver operations the core calls (struct iommu_ops). Deviations from Linux:

    - ``probe_device`` registers the ops itself (sets ``dev.iommu``) and returns nothing:
      there is no fwspec to find the IOMMU by, so the ops are those of the one IOMMU that
      probes the device (the core reaches them through ``dev.iommu`` afterwards).
    - ``release_device`` is a coroutine: detaching the device rewrites its STEs through the
      command queue, which awaits the platform.
    - ``domain_alloc`` takes no type: only DMA (stage-1, unmanaged) domains exist.
    - Refusals raise (:class:`IommuError` and its subclasses) instead of returning an errno.
    - The feature calls take ``without_iopf``: it lets SVA be enabled on a device that can
      neither stall nor issue PRI requests (its DMA then only reaches pages the CPU already
      populated).
    - ``dev_disable_feat`` is a coroutine: removing the device from its IOPF queue answers
      its pending faults, through the command queue.
    - ``page_response`` takes the fault it answers (Linux passes the iommu_fault_event).
    - ``dev_feat_blockers`` has no Linux counterpart: why ``dev_has_feat`` says no.
    - There is no ``sva_get_pasid``: the bond knows its PASID (iommu_sva_get_pasid).
    """

    def probe_device(self, dev: Device) -> None: ...
    async def release_device(self, dev: Device) -> None: ...
    def domain_alloc(self) -> Any: ...
    def dev_feat_blockers(self, dev: Device, feat: IommuDevFeature, *,
                          without_iopf: bool = False) -> list[str]: ...
    def dev_has_feat(self, dev: Device, feat: IommuDevFeature, *,
                     without_iopf: bool = False) -> bool: ...
    def dev_enable_feat(self, dev: Device, feat: IommuDevFeature, *,
                        without_iopf: bool = False) -> None: ...
    async def dev_disable_feat(self, dev: Device, feat: IommuDevFeature) -> None: ...
    async def sva_bind(self, dev: Device, mm: MM, drvdata: Any) -> IommuSvaHandle: ...
    async def sva_unbind(self, handle: IommuSvaHandle) -> None: ...
    async def page_response(self, dev: Device, fault: Any, resp: Any) -> None: ...


@dataclass(eq=False)
class IommuSvaParam:
    """struct iommu_sva_param: a device's PASID range and how many bonds it has."""

    min_pasid: int
    max_pasid: int
    nr_bonds: int = 0


@dataclass(eq=False)
class DevIommu:
    """struct dev_iommu: the IOMMU layer's state of one device (dev->iommu).

    ``priv`` is the driver's private data (dev_iommu_priv_get): for the SMMUv3 driver, the
    driver instance that probed the device. ``iopf_param`` is the device's state in its IOPF
    queue (Linux dev->iommu->fault_param; io_pgfault.IopfDeviceParam) while it takes I/O
    page faults.
    """

    ops: IommuOps
    priv: Any = None
    sva_param: IommuSvaParam | None = None  # iommu_sva_enable .. iommu_sva_disable
    sva_without_iopf: bool = False          # SVA enabled on a device that cannot fault
    iopf_param: Any = None                  # io_pgfault.IopfDeviceParam


def dev_iommu_ops(dev: Device) -> IommuOps:
    if dev.iommu is None:
        raise IommuError(f"{dev.name}: no IOMMU (-ENODEV)")
    return dev.iommu.ops


def dev_iommu_priv_get(dev: Device) -> Any:
    return dev.iommu.priv if dev.iommu is not None else None


# ---- probe / release (Linux iommu_probe_device, iommu_release_device) ------------------------
def iommu_probe_device(dev: Device, ops: IommuOps) -> None:
    """Ask the IOMMU behind ``dev`` to probe it; its driver sets ``dev.iommu``."""
    ops.probe_device(dev)


async def iommu_release_device(dev: Device) -> None:
    if dev.iommu is not None:
        await dev.iommu.ops.release_device(dev)


# ---- features (Linux iommu_dev_{has,enable,disable}_feature) ---------------------------------
def iommu_dev_has_feature(dev: Device, feat: IommuDevFeature, *,
                          without_iopf: bool = False) -> bool:
    if dev.iommu is None:
        return False
    return dev.iommu.ops.dev_has_feat(dev, feat, without_iopf=without_iopf)


def iommu_dev_enable_feature(dev: Device, feat: IommuDevFeature, *,
                             without_iopf: bool = False) -> None:
    dev_iommu_ops(dev).dev_enable_feat(dev, feat, without_iopf=without_iopf)


async def iommu_dev_disable_feature(dev: Device, feat: IommuDevFeature) -> None:
    await dev_iommu_ops(dev).dev_disable_feat(dev, feat)
