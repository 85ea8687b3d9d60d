"""The iommu-sva core (v5 iommu-sva.c, reference §8.1, §8.3, §8.7, §8.8).

Mirrors: drivers/iommu/iommu-sva.c of the v5 SVA series (mainline: iommu-sva.c,
iommu-sva-lib.c before it), with iommu_sva_bind_device & co of iommu.c.

Objects and refcounts:
- :class:`IoMm`: one per mm, *is* the mm's mmu notifier (mmu_notifier_get with this core's
  ops); holds the PASID, the IOMMU driver's ops and shared context, and the bonds.
- :class:`IommuBond`: one per (device, mm); ``refs`` counts binds; ``cleared`` once the mm
  exited. The bond is the handle the device driver gets (struct iommu_sva).
- :class:`~tb.sva.iommu.IommuSvaParam`: per device (``dev.iommu.sva_param``), the PASID range
  and the number of bonds.

Bind: the first bond of an mm allocates its PASID in the *triggering* device's range and the
driver's shared context; a later device whose range does not contain that PASID is refused
with -EOVERFLOW (later mainline; v5 did not check). Unbind runs in the order of §8.8 and frees
the PASID last, so it can be reused only after the CD is gone and the TLB invalidated.

I/O page faults (io_pgfault.py): :meth:`IommuSva.iopf_handler` is the handler the IOPF queue
runs a device's fault groups through (iommu_sva_handle_iopf on the mm of the PASID, while a
bond of that device holds it). Unbind with faults pending follows the order whose violation
was CVE-2025-38594 (reference fault-paths.md §1.5), not v5's: (1) the CD is torn down and
synced, so no new fault can be raised; (2) the device's fault queues are flushed, every
pending fault answered; (3) only then is the bond dropped and the PASID freed. v5 flushed
before tearing the CD down, relying on the device driver having stopped DMA; a stalled
transaction is exactly DMA that has not stopped.
Locking: Linux holds iommu_sva_lock across bind/unbind; callers here must not run two binds
or unbinds concurrently (single-threaded use, as in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from models.cpu.mm import MM
from models.cpu.notifier import (
    MMUNotifier,
    MMUNotifierOps,
    mmu_notifier_get,
    mmu_notifier_put,
    mmu_notifier_synchronize,
)
from tb.sva.blocking import run_sync
from tb.sva.io_pgfault import IopfGroup, IopfHandler, PageResponseCode, iommu_sva_handle_iopf
from tb.sva.ioasid import IoasidSet
from tb.sva.iommu import Device, DevIommu, IommuError, IommuSvaParam

if TYPE_CHECKING:
    from tb.sva.platform import Platform

__all__ = [
    "IoMm", "IoMmOps", "IommuBond", "IommuSva", "IommuSvaParam", "SvaError",
    "iommu_sva_bind_device", "iommu_sva_get_pasid", "iommu_sva_unbind_device",
    "sva_bind_device", "sva_get_pasid", "sva_unbind_device",
]

IOMMU_PASID_INVALID = -1


class SvaError(IommuError):
    """Bind/unbind/enable refused; the message names the Linux errno."""


class IoMmOps(Protocol):
    """What the IOMMU driver provides (v5 struct io_mm_ops, shaped for this model: the
    triggering device is passed to ``alloc`` and invalidations get every bond at once so the
    driver can issue one TLBI sequence per SMMU)."""

    async def alloc(self, dev: Device, mm: MM) -> Any: ...
    def free(self, ctx: Any) -> None: ...
    async def attach(self, dev: Device, pasid: int, ctx: Any, attach_domain: bool) -> None: ...
    async def detach(self, dev: Device, pasid: int, ctx: Any, detach_domain: bool,
                     cleared: bool) -> None: ...
    async def invalidate(self, bonds: list[IommuBond], pasid: int, ctx: Any, start: int,
                         size: int) -> None: ...
    async def clear(self, dev: Device, pasid: int, ctx: Any) -> None: ...


@dataclass(eq=False)
class IommuBond:
    io_mm: IoMm
    master: Device
    refs: int = 1
    cleared: bool = False
    drvdata: Any = None

    @property
    def pasid(self) -> int:
        return self.io_mm.pasid


class IoMm(MMUNotifier):
    def __init__(self, core: IommuSva) -> None:
        super().__init__()
        self.core = core
        self.pasid = IOMMU_PASID_INVALID
        self.io_ops: IoMmOps | None = None
        self.ctx: Any = None
        self.plat: Platform | None = None
        self.bonds: list[IommuBond] = []
        self.invalidations: list[tuple[int, int]] = []  # (start, size) seen, for tests

    # Called by the CPU's MM with PTEs cleared/changed, before pages are freed.
    def invalidate_range(self, mm: MM, start: int, end: int) -> None:
        if not self.bonds or self.io_ops is None:
            return
        self.invalidations.append((start, end - start))
        run_sync(self.plat, self.io_ops.invalidate(list(self.bonds), self.pasid, self.ctx,
                                                   start, end - start))

    # exit_mmap's first step: the mm goes away before the devices unbind (§8.7).
    def release(self, mm: MM) -> None:
        if self.io_ops is None:
            return
        for bond in self.bonds:
            if not bond.cleared:
                run_sync(self.plat, self.io_ops.clear(bond.master, self.pasid, self.ctx))
                bond.cleared = True


class _IoMmNotifierOps(MMUNotifierOps):
    def __init__(self, core: IommuSva) -> None:
        self.core = core

    def alloc_notifier(self, mm: MM) -> MMUNotifier:
        return IoMm(self.core)

    def free_notifier(self, subscription: MMUNotifier) -> None:
        """io_mm free after the grace period: the driver's context, then the PASID."""
        assert isinstance(subscription, IoMm)
        io_mm = subscription
        if io_mm.ctx is not None and io_mm.io_ops is not None:
            io_mm.io_ops.free(io_mm.ctx)
            io_mm.ctx = None
        if io_mm.pasid != IOMMU_PASID_INVALID:
            self.core.io_mms.pop(io_mm.pasid, None)
            self.core.pasids.free(io_mm.pasid)
            self.core.trace.append(("pasid_free", io_mm.pasid))
            io_mm.pasid = IOMMU_PASID_INVALID


class IommuSva:
    """The system-wide core: the PASID space and the io_mm notifier kind."""

    def __init__(self, pasids: IoasidSet | None = None) -> None:
        self.pasids = pasids or IoasidSet()
        self.notifier_ops = _IoMmNotifierOps(self)
        self.io_mms: dict[int, IoMm] = {}  # by PASID, while it is allocated
        # (step, PASID) of every unbind step and PASID release, in order: tests check the
        # unbind ordering against it.
        self.trace: list[tuple[str, int]] = []

    # ---- per device ----------------------------------------------------------------------
    @staticmethod
    def enable(master: Device, min_pasid: int, max_pasid: int) -> IommuSvaParam:
        """iommu_sva_enable."""
        iommu = _dev_iommu(master)
        if iommu.sva_param is not None:
            raise SvaError(f"{master.name}: SVA already enabled (-EEXIST)")
        if not 0 < min_pasid <= max_pasid:
            raise SvaError(f"{master.name}: bad PASID range [{min_pasid}, {max_pasid}]")
        param = IommuSvaParam(min_pasid, max_pasid)
        iommu.sva_param = param
        return param

    @staticmethod
    def disable(master: Device) -> None:
        """iommu_sva_disable: refused while bonds exist."""
        param = _sva_param(master)
        if param is None:
            return
        if param.nr_bonds:
            raise SvaError(f"{master.name}: {param.nr_bonds} bond(s) left (-EBUSY)")
        _dev_iommu(master).sva_param = None

    # ---- bind / unbind ---------------------------------------------------------------------
    async def bind_generic(self, master: Device, mm: MM, ops: IoMmOps, plat: Platform,
                           drvdata: Any = None) -> IommuBond:
        """iommu_sva_bind_generic: io_mm_get then io_mm_attach."""
        param = _sva_param(master)
        if param is None:
            raise SvaError(f"{master.name}: SVA not enabled (-EINVAL)")
        try:
            sub = mmu_notifier_get(self.notifier_ops, mm)
        except ValueError as e:
            raise SvaError(f"{mm.name}: {e} (-EINVAL)") from e
        assert isinstance(sub, IoMm)
        io_mm = sub
        if io_mm.io_ops is None:  # fresh: io_mm_alloc
            try:
                io_mm.pasid = self.pasids.alloc(param.min_pasid, param.max_pasid, mm)
                self.io_mms[io_mm.pasid] = io_mm
                io_mm.io_ops, io_mm.plat = ops, plat
                io_mm.ctx = await ops.alloc(master, mm)
            except Exception:
                self._put(io_mm)
                raise
        elif io_mm.io_ops is not ops:
            self._put(io_mm)
            raise SvaError(f"{mm.name} is bound through another IOMMU driver (-EINVAL)")
        elif not param.min_pasid <= io_mm.pasid <= param.max_pasid:
            self._put(io_mm)
            raise SvaError(f"{master.name}: {mm.name}'s PASID {io_mm.pasid} outside "
                           f"[{param.min_pasid}, {param.max_pasid}] (-EOVERFLOW)")

        for bond in io_mm.bonds:  # io_mm_attach
            if bond.master is master:
                bond.refs += 1
                self._put(io_mm)  # the bond already holds a reference
                return bond
        attach_domain = not any(b.master.domain is master.domain for b in io_mm.bonds)
        bond = IommuBond(io_mm, master, drvdata=drvdata)
        io_mm.bonds.append(bond)
        try:
            await ops.attach(master, io_mm.pasid, io_mm.ctx, attach_domain)
        except Exception:
            io_mm.bonds.remove(bond)
            self._put(io_mm)
            raise
        param.nr_bonds += 1
        return bond

    async def unbind_generic(self, bond: IommuBond) -> None:
        """iommu_sva_unbind_generic, in the order of reference §8.8."""
        if bond.refs <= 0:
            raise SvaError("unbind of a released handle")
        bond.refs -= 1
        if bond.refs:
            return
        io_mm, master = bond.io_mm, bond.master
        assert io_mm.io_ops is not None
        pasid = io_mm.pasid
        # 1. io_mm_detach: the CD is torn down and synced, so no new fault can be raised
        detach_domain = not any(b is not bond and b.master.domain is master.domain
                                for b in io_mm.bonds)
        await io_mm.io_ops.detach(master, pasid, io_mm.ctx, detach_domain, bond.cleared)
        self.trace.append(("cd_cleared", pasid))
        # 2. flush the device's fault queues: every fault raised so far is answered
        await self.iopf_queue_flush_dev(master, pasid)
        self.trace.append(("faults_flushed", pasid))
        # 3. remove the bond, drop the io_mm: context and PASID are freed last
        io_mm.bonds.remove(bond)
        param = _sva_param(master)
        assert param is not None, "SVA disabled under a bond"
        param.nr_bonds -= 1
        self._put(io_mm)

    async def iopf_queue_flush_dev(self, master: Device, pasid: int) -> None:
        """iopf_queue_flush_dev (v5: with the driver's low-level queue flushed first): every
        fault of ``master`` reported or still in the hardware queue is handled and answered.
        ``pasid`` is kept for the trace: the queue flushes the whole device, as Linux does."""
        del pasid
        param = master.iommu.iopf_param if master.iommu is not None else None
        if param is not None:
            await param.queue.flush_dev(master)

    def iopf_handler(self, dev: Device, pasid: int) -> IopfHandler | None:
        """The handler of the domain attached to (``dev``, ``pasid``): the SVA handler while
        a bond of ``dev`` holds the PASID, else None (the group is answered INVALID)."""
        io_mm = self.io_mms.get(pasid)
        if io_mm is None or not any(b.master is dev for b in io_mm.bonds):
            return None

        def handle(group: IopfGroup) -> PageResponseCode:
            return iommu_sva_handle_iopf(group, self.find)
        return handle

    @staticmethod
    def _put(io_mm: IoMm) -> None:
        mmu_notifier_put(io_mm)
        mmu_notifier_synchronize()  # end the SRCU grace period now: frees ctx, then PASID

    @staticmethod
    def get_pasid(bond: IommuBond) -> int:
        return bond.io_mm.pasid

    def find(self, pasid: int) -> MM | None:
        """iommu_sva_find: the mm of a PASID with a user reference, or None once it exited."""
        mm = self.pasids.find(pasid)
        return mm if mm is not None and mm.mmget_not_zero() else None


def _dev_iommu(dev: Device) -> DevIommu:
    if dev.iommu is None:
        raise SvaError(f"{dev.name}: not behind an IOMMU (-ENODEV)")
    return dev.iommu


def _sva_param(dev: Device) -> IommuSvaParam | None:
    return dev.iommu.sva_param if dev.iommu is not None else None


# ---- the device driver's API (iommu_sva_bind_device & co) -----------------------------------
# Linux has these three in iommu.c; they sit here with the bond they hand out. Bind and unbind
# reach the IOMMU driver through the device's ops (iommu_ops.sva_bind / sva_unbind).
async def iommu_sva_bind_device(master: Device, mm: MM, drvdata: Any = None) -> IommuBond:
    """Bind ``mm`` to ``master``; returns the handle (the same one for a repeated bind)."""
    handle = await _dev_iommu(master).ops.sva_bind(master, mm, drvdata)
    assert isinstance(handle, IommuBond)
    return handle


async def iommu_sva_unbind_device(handle: IommuBond) -> None:
    """Drop one bind; the last one tears the bond down (DMA must have stopped)."""
    await _dev_iommu(handle.master).ops.sva_unbind(handle)


def iommu_sva_get_pasid(handle: IommuBond) -> int:
    return IommuSva.get_pasid(handle)


sva_bind_device = iommu_sva_bind_device
sva_unbind_device = iommu_sva_unbind_device
sva_get_pasid = iommu_sva_get_pasid
