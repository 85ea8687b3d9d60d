"""The SMMUv3 driver's stall path: event records to I/O page faults, and page responses to
CMD_RESUME (reference fault-paths.md §1.2).

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c (arm_smmu_evtq_thread,
arm_smmu_handle_evt, arm_smmu_page_response) and arm-smmu-v3-sva.c (arm_smmu_master_enable_iopf,
arm_smmu_master_disable_iopf).

- ``arm_smmu_evtq_thread`` drains the event queue until it stays empty (a stalled transaction
  whose record waited for room records again once CONS moves), hands every record to
  ``arm_smmu_handle_evt``, then lets the IOPF worker run (Linux's workqueue runs once the
  IRQ thread has queued the groups; here it runs at the end of the thread).
- ``arm_smmu_handle_evt``: only F_TRANSLATION, F_ADDR_SIZE, F_ACCESS and F_PERMISSION with
  Stall=1 become faults: {LAST_PAGE, PASID_VALID if SSV, group ID = STAG, the access from
  RnW/InD/PnU (RnW=0 is a write), the input address}, reported for the master that owns the
  StreamID. A fault that nobody takes is answered at once with an abort ("Nobody cared").
  Every other record is counted and left to the caller.
- ``arm_smmu_page_response``: CMD_RESUME(StreamID, STAG = group ID), Retry on Success, Abort
  otherwise, with no CMD_SYNC after it (its consumption suffices, §4.7.1).
- IOPF is enabled with SVA on a stall-enabled master with exactly one StreamID (mainline:
  "We're not keeping track of SIDs in fault events"), and disabled with it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from models.arch.commands import CmdResume, ResumeAction
from models.arch.events import AnyEvent, EventID
from tb.sva.arm.arm_smmu_v3.driver import ArmSmmuDriver
from tb.sva.arm.arm_smmu_v3.master import Master, dev_to_master
from tb.sva.arm.arm_smmu_v3.pri import (
    arm_smmu_disable_pri,
    arm_smmu_enable_pri,
    arm_smmu_pri_response,
)
from tb.sva.io_pgfault import (
    IommuFault,
    IommuFaultPerm,
    IommuPageResponse,
    IopfError,
    PageReqFlags,
    PageResponseCode,
)
from tb.sva.iommu import Device
from tb.sva.iommu_sva import SvaError

__all__ = ["arm_smmu_evtq_thread", "arm_smmu_handle_evt", "arm_smmu_master_disable_iopf",
           "arm_smmu_master_enable_iopf", "arm_smmu_page_response"]

log = logging.getLogger("sva.smmu.fault")

_STALLABLE = {EventID.F_TRANSLATION, EventID.F_ADDR_SIZE, EventID.F_ACCESS,
              EventID.F_PERMISSION}


async def arm_smmu_evtq_thread(drv: ArmSmmuDriver, observe: Callable[[list[AnyEvent]], None]
                               | None = None) -> list[AnyEvent]:
    """Consume the event queue until it is empty; returns every record read. ``observe``
    sees each batch as read, before it is handled (a checker that must see a stall record
    before the CMD_RESUME answering it)."""
    out: list[AnyEvent] = []
    while True:
        records = await drv.evtq_consumer.drain()
        if not records:
            break
        for obs in (observe, drv.evtq_observe):
            if obs is not None:
                obs(records)
        out += records
        for ev in records:
            await arm_smmu_handle_evt(drv, ev)
    if drv.iopf is not None:
        await drv.iopf.run()
    return out


async def arm_smmu_handle_evt(drv: ArmSmmuDriver, ev: AnyEvent) -> str:
    """One record; returns what became of it (also counted in ``drv.fault_stats``)."""
    stats: Counter[str] = drv.fault_stats
    if ev.EventID not in _STALLABLE:
        stats["not_a_fault"] += 1
        return "not_a_fault"
    if ev.S2:
        stats["stage2"] += 1
        return "stage2"
    if not ev.Stall:
        stats["unrecoverable"] += 1  # -EOPNOTSUPP: printed, nothing to answer
        return "unrecoverable"
    master = drv.streams.find(ev.StreamID)
    perm = (IommuFaultPerm.READ if ev.RnW else IommuFaultPerm.WRITE)
    if ev.InD:
        perm |= IommuFaultPerm.EXEC
    if ev.PnU:
        perm |= IommuFaultPerm.PRIV
    flags = PageReqFlags.LAST_PAGE | (PageReqFlags.PASID_VALID if ev.SSV else 0)
    fault = IommuFault(PageReqFlags(flags), ev.SubstreamID if ev.SSV else 0, ev.STAG, perm,
                       ev.InputAddr)
    try:
        if master is None or drv.iopf is None:
            raise IopfError("-EINVAL: no master or no IOPF queue")
        drv.iopf.report(master, fault)
    except IopfError as e:
        # arm_smmu_handle_evt: "Nobody cared, abort the access".
        log.warning("stall fault on StreamID %#x not reported (%s): aborted", ev.StreamID, e)
        stats["aborted_unreported"] += 1
        await _resume(drv, ev.StreamID, ev.STAG, ResumeAction.ABORT)
        return "aborted_unreported"
    stats["reported"] += 1
    return "reported"


async def arm_smmu_page_response(drv: ArmSmmuDriver, dev: Device, fault: IommuFault,
                                 resp: IommuPageResponse) -> None:
    """The IOPF core's response: CMD_RESUME for a stall fault (no CMD_SYNC), CMD_PRI_RESP
    for a page request group (pri.py)."""
    master = dev_to_master(dev)
    if not drv.master_stall_enabled(master):
        if master.pri and drv.features.has("PRI"):
            await arm_smmu_pri_response(drv, master, fault, resp)
            return
        raise SvaError(f"{master.name}: page response for a master that can neither stall "
                       "nor use PRI")
    action = ResumeAction.RETRY if resp.code == PageResponseCode.SUCCESS \
        else ResumeAction.ABORT
    drv.fault_stats[f"resume_{action.name.lower()}"] += 1
    await _resume(drv, master.sids[0], resp.grpid, action)


async def _resume(drv: ArmSmmuDriver, sid: int, stag: int, action: ResumeAction) -> None:
    await drv.smmu.cmdq_drv.issue([CmdResume.make(sid, stag, action)], sync=False)


def arm_smmu_master_enable_iopf(drv: ArmSmmuDriver, master: Master) -> None:
    """Add a stall-enabled master, or a PRI master with PRI enabled at the function, to the
    SMMU's IOPF queue (its faults get reported)."""
    pri = not drv.master_stall_enabled(master)
    if pri and not (master.pri and drv.features.has("PRI")):
        return
    if drv.iopf is None:
        raise SvaError(f"{master.name}: the SMMU has no IOPF queue (-ENODEV)")
    if len(master.sids) != 1:
        raise SvaError(f"{master.name}: IOPF needs exactly one StreamID, not "
                       f"{len(master.sids)} (-EINVAL)")

    async def respond(dev: Device, fault: IommuFault, resp: IommuPageResponse) -> None:
        assert master.iommu is not None
        await master.iommu.ops.page_response(dev, fault, resp)

    assert master.iommu is not None
    if pri:
        arm_smmu_enable_pri(master)
    master.iommu.iopf_param = drv.iopf.add_device(master, respond, drv.sva.iopf_handler)


async def arm_smmu_master_disable_iopf(drv: ArmSmmuDriver, master: Master) -> None:
    """iopf_queue_remove_device: pending faults answered INVALID, the master removed; then
    PRI disabled at the function (after its last responses went out)."""
    if master.iommu is None or master.iommu.iopf_param is None:
        return
    assert drv.iopf is not None
    await drv.iopf.remove_device(master)
    master.iommu.iopf_param = None
    arm_smmu_disable_pri(master)
