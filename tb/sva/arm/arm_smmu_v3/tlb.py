"""TLB and ATC invalidation as the driver issues it (Linux arm_smmu_tlb_inv_*, atc_inv_*).

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c (arm_smmu_tlb_inv_*, arm_smmu_atc_inv_*).

Without range invalidation (IDR3.RIL=0) a range becomes one TLBI_NH_VA per granule; callers
that know better (the SVA notifier above CMDQ_MAX_TLBI_OPS pages) use TLBI_NH_ASID. With
FEAT_E2H the EL2 forms are used. Every helper ends with CMD_SYNC unless told otherwise.
Range-form TLBIs (RIL) are not generated: per-granule commands are correct on any SMMU.
"""

from __future__ import annotations

from collections.abc import Iterable

from models.arch.commands import (
    CmdAtcInv,
    CmdTlbiEl2Asid,
    CmdTlbiEl2Va,
    CmdTlbiNhAsid,
    CmdTlbiNhVa,
    Command,
)
from models.arch.geometry import ENTRIES
from tb.sva.arm.arm_smmu_v3.device import ArmSmmuV3

__all__ = ["CMDQ_MAX_TLBI_OPS", "ATC_INV_SIZE_ALL", "tlbi_asid_cmd", "tlbi_va_cmds",
           "arm_smmu_tlb_inv_asid", "arm_smmu_tlb_inv_range_asid", "atc_inv_cmd",
           "atc_inv_cmds", "arm_smmu_inv_tlb_then_atc"]

CMDQ_MAX_TLBI_OPS = ENTRIES  # 1 << (PAGE_SHIFT - 3): 512 for 4 KiB pages
ATC_INV_SIZE_ALL = 52


def tlbi_asid_cmd(smmu: ArmSmmuV3, asid: int) -> Command:
    e2h = smmu.features is not None and smmu.features.has("E2H")
    return CmdTlbiEl2Asid(ASID=asid) if e2h else CmdTlbiNhAsid(ASID=asid)


def tlbi_va_cmds(smmu: ArmSmmuV3, asid: int, iova: int, size: int, granule: int,
                 leaf: bool) -> list[Command]:
    e2h = smmu.features is not None and smmu.features.has("E2H")
    cls = CmdTlbiEl2Va if e2h else CmdTlbiNhVa
    start = iova - iova % granule
    return [cls(ASID=asid, Addr=va, Leaf=int(leaf))
            for va in range(start, iova + size, granule)]


async def arm_smmu_tlb_inv_asid(smmu: ArmSmmuV3, asid: int) -> None:
    """TLBI_NH_ASID + CMD_SYNC."""
    await smmu.cmdq_drv.issue([tlbi_asid_cmd(smmu, asid)])


async def arm_smmu_tlb_inv_range_asid(smmu: ArmSmmuV3, iova: int, size: int, asid: int,
                                      granule: int, leaf: bool) -> None:
    """One TLBI_NH_VA per granule of [iova, iova+size), then CMD_SYNC."""
    await smmu.cmdq_drv.issue(tlbi_va_cmds(smmu, asid, iova, size, granule, leaf))


def atc_inv_cmd(sid: int, ssid: int, iova: int, size: int) -> CmdAtcInv:
    """arm_smmu_atc_inv_to_cmd: size 0 means everything; otherwise the smallest naturally
    aligned power-of-two span of pages covering the range."""
    ssv = int(ssid != 0)
    if size == 0:
        return CmdAtcInv(StreamID=sid, SSV=ssv, SubstreamID=ssid, Size=ATC_INV_SIZE_ALL, Addr=0)
    first, last = iova >> 12, (iova + size - 1) >> 12
    log2_span = (first ^ last).bit_length()
    first &= ~((1 << log2_span) - 1)
    return CmdAtcInv(StreamID=sid, SSV=ssv, SubstreamID=ssid, Size=log2_span,
                     Addr=first << 12)


def atc_inv_cmds(sids: Iterable[int], ssid: int, iova: int, size: int) -> list[Command]:
    return [atc_inv_cmd(sid, ssid, iova, size) for sid in sids]


async def arm_smmu_inv_tlb_then_atc(smmu: ArmSmmuV3, tlbi: list[Command],
                                    atc: list[Command]) -> None:
    """The SMMU's TLB first, then the endpoints' ATCs, each batch completed by its own
    CMD_SYNC (§4.5.1: "after ensuring completion of the SMMU translation invalidate, issue a
    CMD_ATC_INV"; Linux: arm_smmu_tlb_inv_range_domain submits the TLBIs with a SYNC, then
    arm_smmu_atc_inv_domain). In one batch, an ATS request between the two could refill an
    ATC from a TLB entry that is about to go."""
    if tlbi:
        await smmu.cmdq_drv.issue(tlbi)
    if atc:
        await smmu.cmdq_drv.issue(atc)
