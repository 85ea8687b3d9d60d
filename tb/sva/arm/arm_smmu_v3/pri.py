"""The SMMUv3 driver's PRI path: page requests to I/O page faults, and page responses to
CMD_PRI_RESP (reference smmuv3.md §7.4, fault-paths.md §1.4).

Mirrors the v5 series' arm-smmu-v3.c (arm_smmu_priq_thread, arm_smmu_handle_ppr,
arm_smmu_page_response for PRI masters, arm_smmu_enable_pri, arm_smmu_disable_pri).

- ``arm_smmu_priq_thread`` drains the PRI queue until it stays empty and hands every entry to
  ``arm_smmu_handle_ppr``. After an overflow (CONS acknowledged with the same store) the
  groups of the batch are reported first, then every partial group still waiting for its
  last request is discarded (iopf_queue_discard_partial): its L=1 request was answered by
  the SMMU itself. Then the IOPF worker runs.
- ``arm_smmu_handle_ppr``: a Stop marker is ignored (the unbind flush covers what it
  delimits); any other request becomes a fault {LAST_PAGE if L, PASID_VALID if SSV,
  NEEDS_PASID where the function wants PASIDs in responses, group ID = PRGIndex, R/W/X/Priv,
  the page address}, reported for the master that owns the StreamID. A last request nobody
  takes is answered Response Failure at once.
- The page response: CMD_PRI_RESP(StreamID, PRGIndex, Resp), with SSV (and the PASID) iff
  the request had one and STE.PPAR asks for it; no CMD_SYNC (nothing to wait for, §4.5.2).
- PRI is reset and enabled at the function (16 outstanding requests) when IOPF is enabled
  for a PRI master, and disabled after its pending faults were answered.
"""

from __future__ import annotations

import logging

from models.arch.commands import CmdPriResp
from models.arch.priq import LINUX_PAGE_RESP, PriEntry, PriRespCode
from tb.sva.arm.arm_smmu_v3.driver import ArmSmmuDriver
from tb.sva.arm.arm_smmu_v3.master import Master
from tb.sva.io_pgfault import (
    IommuFault,
    IommuFaultPerm,
    IommuPageResponse,
    IopfError,
    PageReqFlags,
)
from tb.sva.pci import pci_disable_pri, pci_enable_pri, pci_reset_pri

__all__ = ["PRI_REQS", "arm_smmu_disable_pri", "arm_smmu_enable_pri", "arm_smmu_handle_ppr",
           "arm_smmu_pri_response", "arm_smmu_priq_thread"]

log = logging.getLogger("sva.smmu.pri")

PRI_REQS = 16  # outstanding page requests allocated to each function

_RESP = {code: resp for resp, code in LINUX_PAGE_RESP.items()}  # Linux code -> CMD_PRI_RESP


async def arm_smmu_priq_thread(drv: ArmSmmuDriver) -> list[PriEntry]:
    """Consume the PRI queue until it is empty; returns every entry read."""
    assert drv.priq_consumer is not None, "the SMMU has no PRI queue"
    out: list[PriEntry] = []
    while True:
        entries, overflow = await drv.priq_consumer.drain()
        out += entries
        for e in entries:
            await arm_smmu_handle_ppr(drv, e)
        if overflow and drv.iopf is not None:
            drv.iopf.discard_partial()
        if not entries and not overflow:
            break
    if drv.iopf is not None:
        await drv.iopf.run()
    return out


async def arm_smmu_handle_ppr(drv: ArmSmmuDriver, e: PriEntry) -> str:
    """One PRI queue entry; returns what became of it (also counted in drv.fault_stats)."""
    stats = drv.fault_stats
    if e.is_stop_marker:
        stats["ppr_stop_marker"] += 1
        return "stop_marker"
    master = drv.streams.find(e.StreamID)
    perm = IommuFaultPerm(0)
    for bit, p in ((e.R, IommuFaultPerm.READ), (e.W, IommuFaultPerm.WRITE),
                   (e.X, IommuFaultPerm.EXEC), (e.Priv, IommuFaultPerm.PRIV)):
        if bit:
            perm |= p
    flags = PageReqFlags(0)
    if e.Last:
        flags |= PageReqFlags.LAST_PAGE
    if e.SSV:
        flags |= PageReqFlags.PASID_VALID
        if master is not None and master.prg_resp_needs_ssid:
            flags |= PageReqFlags.NEEDS_PASID
    fault = IommuFault(flags, e.SubstreamID if e.SSV else 0, e.PRGIndex, perm, e.PageAddr)
    try:
        if master is None or drv.iopf is None:
            raise IopfError("-EINVAL: no master or no IOPF queue")
        drv.iopf.report(master, fault)
    except IopfError as err:
        log.warning("page request from StreamID %#x not reported (%s)", e.StreamID, err)
        stats["ppr_unreported"] += 1
        if e.Last:
            ssv = bool(e.SSV and master is not None and master.prg_resp_needs_ssid)
            await _pri_resp(drv, e.StreamID, ssv, e.SubstreamID, e.PRGIndex,
                            PriRespCode.RESPONSE_FAILURE)
        return "unreported"
    stats["ppr_reported"] += 1
    return "reported"


async def arm_smmu_pri_response(drv: ArmSmmuDriver, master: Master, fault: IommuFault,
                                resp: IommuPageResponse) -> None:
    """The IOPF core's response to a page request group: CMD_PRI_RESP, no CMD_SYNC."""
    ssv = bool(fault.flags & PageReqFlags.PASID_VALID) and master.prg_resp_needs_ssid
    code = _RESP[int(resp.code)]
    drv.fault_stats[f"pri_resp_{code.name.lower()}"] += 1
    await _pri_resp(drv, master.sids[0], ssv, fault.pasid, fault.grpid, code)


async def _pri_resp(drv: ArmSmmuDriver, sid: int, ssv: bool, ssid: int, prgi: int,
                    code: PriRespCode) -> None:
    cmd = CmdPriResp(SSV=int(ssv), SubstreamID=ssid if ssv else 0, StreamID=sid,
                     PRGIndex=prgi, Resp=code)
    await drv.smmu.cmdq_drv.issue([cmd], sync=False)


def arm_smmu_enable_pri(master: Master) -> None:
    """pci_reset_pri, then pci_enable_pri with PRI_REQS requests."""
    assert master.pdev is not None
    pci_reset_pri(master.pdev)
    pci_enable_pri(master.pdev, PRI_REQS)


def arm_smmu_disable_pri(master: Master) -> None:
    if master.pdev is not None and master.pdev.pri_enabled:
        pci_disable_pri(master.pdev)
