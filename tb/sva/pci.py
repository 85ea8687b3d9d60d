"""A PCIe function's ATS, PRI and PASID capabilities, and the kernel calls that drive them.

Mirrors: drivers/pci/ats.c (pci_enable_ats, pci_disable_ats, pci_enable_pri,
pci_disable_pri, pci_reset_pri, pci_prg_resp_pasid_required, pci_enable_pasid,
pci_disable_pasid, pci_max_pasids), in the shape the v5 SMMUv3 driver uses them.

:class:`PciDev` is both sides of the configuration space: what the function advertises (its
capabilities, fixed) and what the OS programmed (the control bits, which the endpoint model
in tb/devices/pcie_ep.py obeys: no Translation Request before ATS is enabled, at most
``pri_reqs_alloc`` page requests outstanding, no PASID prefix before PASID is enabled).
Errors carry the errno Linux returns.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PCI_ATS_MIN_STU", "PasidCap", "PciDev", "PciError", "PriCap", "pci_ats_supported",
           "pci_disable_ats", "pci_disable_pasid", "pci_disable_pri", "pci_enable_ats",
           "pci_enable_pasid", "pci_enable_pri", "pci_max_pasids", "pci_prg_resp_pasid_required",
           "pci_pri_supported", "pci_reset_pri"]

PCI_ATS_MIN_STU = 12  # log2 of the smallest STU the ATS capability can encode (4 KiB)


class PciError(Exception):
    """A refused capability operation; the message names the errno."""


@dataclass(frozen=True)
class PriCap:
    """The Page Request capability: Outstanding Page Request Capacity and whether PRG
    Responses must carry the PASID of their request ("PRG Response PASID Required")."""

    max_requests: int = 16
    prg_resp_pasid_required: bool = True


@dataclass(frozen=True)
class PasidCap:
    width: int = 20  # Max PASID Width
    exec: bool = False
    priv: bool = False


@dataclass(eq=False)
class PciDev:
    """One function: its Requester ID (= StreamID) and capabilities, and the control state."""

    name: str
    rid: int
    ats: bool = True
    pri: PriCap | None = None
    pasid: PasidCap | None = None
    # control state, as the OS programmed it
    ats_enabled: bool = False
    ats_stu: int = 0  # log2 bytes
    pri_enabled: bool = False
    pri_reqs_alloc: int = 0
    pasid_enabled: bool = False
    pasid_features: int = 0
    pri_resets: int = 0


def pci_ats_supported(pdev: PciDev) -> bool:
    return pdev.ats


def pci_enable_ats(pdev: PciDev, ps: int) -> None:
    """Enable ATS with the Smallest Translation Unit 2^ps bytes."""
    if not pdev.ats:
        raise PciError(f"{pdev.name}: no ATS capability (-EINVAL)")
    if pdev.ats_enabled:
        raise PciError(f"{pdev.name}: ATS already enabled (-EBUSY)")
    if ps < PCI_ATS_MIN_STU:
        raise PciError(f"{pdev.name}: STU 2^{ps} below the minimum 2^{PCI_ATS_MIN_STU} "
                       "(-EINVAL)")
    pdev.ats_stu = ps
    pdev.ats_enabled = True


def pci_disable_ats(pdev: PciDev) -> None:
    if not pdev.ats_enabled:
        raise PciError(f"{pdev.name}: ATS not enabled (WARN_ON)")
    pdev.ats_enabled = False


def pci_pri_supported(pdev: PciDev) -> bool:
    return pdev.pri is not None


def pci_enable_pri(pdev: PciDev, reqs: int) -> None:
    """Enable PRI with ``reqs`` outstanding page requests allocated (at most the capacity)."""
    if pdev.pri is None:
        raise PciError(f"{pdev.name}: no PRI capability (-EINVAL)")
    if pdev.pri_enabled:
        raise PciError(f"{pdev.name}: PRI already enabled (-EBUSY)")
    pdev.pri_reqs_alloc = min(reqs, pdev.pri.max_requests)
    pdev.pri_enabled = True


def pci_disable_pri(pdev: PciDev) -> None:
    if not pdev.pri_enabled:
        raise PciError(f"{pdev.name}: PRI not enabled (WARN_ON)")
    pdev.pri_enabled = False


def pci_reset_pri(pdev: PciDev) -> None:
    """Reset the function's page request state, only while PRI is disabled (counted here: the
    endpoint model keeps its own request state, tb/devices/pcie_ep.py)."""
    if pdev.pri is None:
        raise PciError(f"{pdev.name}: no PRI capability (-EINVAL)")
    if pdev.pri_enabled:
        raise PciError(f"{pdev.name}: PRI enabled, cannot reset (-EBUSY)")
    pdev.pri_resets += 1


def pci_prg_resp_pasid_required(pdev: PciDev) -> bool:
    return pdev.pri is not None and pdev.pri.prg_resp_pasid_required


def pci_enable_pasid(pdev: PciDev, features: int = 0) -> None:
    """Enable PASID prefixes; PCIe requires it before ATS is enabled."""
    if pdev.pasid is None:
        raise PciError(f"{pdev.name}: no PASID capability (-EINVAL)")
    if pdev.pasid_enabled:
        raise PciError(f"{pdev.name}: PASID already enabled (-EBUSY)")
    if pdev.ats_enabled:
        raise PciError(f"{pdev.name}: PASID must be enabled before ATS (-EBUSY)")
    pdev.pasid_enabled = True
    pdev.pasid_features = features


def pci_disable_pasid(pdev: PciDev) -> None:
    if not pdev.pasid_enabled:
        raise PciError(f"{pdev.name}: PASID not enabled (WARN_ON)")
    if pdev.ats_enabled:
        raise PciError(f"{pdev.name}: disable ATS before PASID (WARN_ON)")
    pdev.pasid_enabled = False


def pci_max_pasids(pdev: PciDev) -> int:
    """The number of PASIDs the function supports (0 without the capability)."""
    return 0 if pdev.pasid is None else 1 << pdev.pasid.width
