"""Private (non-SVA) stage-1 DMA domains on the functional model: io-pgtable, CD 0, STEs,
attach/detach, unmap invalidation (reference §2.5, §3.4, §8.12)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from models.arch.cd import CD
from models.arch.commands import CmdCfgiCd, CmdTlbiNhAsid, CmdTlbiNhVa, Command
from models.arch.events import EventID
from models.arch.pgtable import PTE_NG
from models.arch.ste import STE, S1DefaultSubstream, S1Format, StreamConfig
from models.cpu.features import CpuFeatures
from models.smmu.config import DEFAULT
from models.smmu.port import Result, TransReq, TransResp
from tb.platform.model import ModelPlatform
from tb.sva.arm.arm_smmu_v3.domain import DomainError
from tb.sva.arm.arm_smmu_v3.evtq import EventQueue
from tb.sva.arm.arm_smmu_v3.master import Master
from tb.sva.iopgtable import (
    ARM_LPAE_MAIR,
    IOMMU_CACHE,
    IOMMU_NOEXEC,
    IOMMU_READ,
    IOMMU_WRITE,
)
from tb.sva.system import SvaSystem

RW = IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE
IOVA, BUF = 0x10_0000, 0x2_0000_0000


class Rig:
    def __init__(self, cfg=DEFAULT, cpu: CpuFeatures | None = None) -> None:
        self.plat = ModelPlatform(cfg)
        self.sys = asyncio.run(SvaSystem.create(self.plat, cpu))
        self.drv = self.sys.drv
        self.cmds: list[Command | str] = []  # "SYNC" where the queue appended a CMD_SYNC
        self.on_cmd: Callable[[Command | str], None] | None = None
        cmdq = self.drv.smmu.cmdq_drv
        orig = cmdq.issue

        async def issue(cmds: list[Command], *, sync: bool = True) -> None:
            for c in cmds:
                self.cmds.append(c)
                if self.on_cmd is not None:
                    self.on_cmd(c)
            if sync:
                self.cmds.append("SYNC")
            await orig(cmds, sync=sync)

        cmdq.issue = issue  # type: ignore[method-assign]
        self.evtq = EventQueue(self.plat, self.drv.smmu.evtq.base, self.drv.smmu.evtq.shift)

    def run(self, coro: Any) -> Any:
        return asyncio.run(coro)

    def master(self, name: str, sids: list[int], **kw: Any) -> Master:
        return self.run(self.sys.master(name, sids, **kw))

    def xlate(self, sid: int, addr: int, *, ssid: int | None = None,
              write: bool = False) -> TransResp:
        return self.plat.model.translate(TransReq(sid=sid, ssv=int(ssid is not None),
                                                  ssid=ssid or 0, addr=addr, rnw=int(not write)))

    def events(self) -> list[int]:
        return [e.EventID for e in self.run(self.evtq.drain())]

    def ste(self, sid: int) -> STE:
        return STE.from_bytes(self.plat.mem.read(self.drv.smmu.ste_addr(sid), 64))

    def cd(self, domain, ssid: int) -> CD:
        return CD.from_bytes(self.plat.mem.read(self.run(domain.cdtab.cd_addr(ssid)), 64))

    def of(self, cls: type) -> list[Any]:
        return [c for c in self.cmds if isinstance(c, cls)]


def test_attach_installs_ste_and_cd0_and_dma_translates():
    rig = Rig()
    m = rig.master("dma0", [0x42], pasid_bits=12)
    d = m.domain
    assert rig.drv.streams.find(0x42) is m and m.ssid_bits == 12
    ste = rig.ste(0x42)
    assert (ste.V, ste.Config, ste.S1DSS, ste.S1CDMax, ste.S1ContextPtr, ste.S1Fmt) == (
        1, StreamConfig.S1_TRANS, S1DefaultSubstream.SSID0, 12, d.cdtab.base,
        S1Format.TWO_LEVEL_64K)
    cd0 = rig.cd(d, 0)
    assert (cd0.V, cd0.ASET, cd0.ASID, cd0.TTB0, cd0.MAIR, cd0.T0SZ, cd0.EPD1, cd0.AA64) == (
        1, 1, d.asid, d.pgtbl.pgd, ARM_LPAE_MAIR, 16, 1, 1)

    rig.run(d.map(IOVA, BUF, 0x3000, RW))
    assert d.iova_to_phys(IOVA + 0x1234) == BUF + 0x1234
    r = rig.xlate(0x42, IOVA + 0x2010, write=True)  # SSID-less traffic uses CD 0
    assert (r.result, r.pa, r.attr) == (Result.OK_TRANSLATED, BUF + 0x2010, 0xFF)
    pte = rig.plat.mem.read64(_ptep(rig, d, IOVA))
    assert pte & PTE_NG  # tagged with the domain's ASID
    assert rig.events() == []


def _ptep(rig: Rig, d, iova: int) -> int:
    ptep = d.pgtbl._ptep(iova, alloc=False)
    assert ptep is not None
    return ptep


def test_unmap_issues_leaf_tlbi_per_page_then_faults():
    rig = Rig()
    m = rig.master("dma0", [7], pasid_bits=4)
    d = m.domain
    rig.run(d.map(IOVA, BUF, 0x4000, RW))
    for off in range(0, 0x4000, 0x1000):  # prime the TLB
        assert rig.xlate(7, IOVA + off).result == Result.OK_TRANSLATED
    rig.cmds.clear()
    assert rig.run(d.unmap(IOVA + 0x1000, 0x2000)) == 0x2000
    tlbis = rig.of(CmdTlbiNhVa)
    assert [(c.ASID, c.Addr, c.Leaf) for c in tlbis] == [
        (d.asid, IOVA + 0x1000, 1), (d.asid, IOVA + 0x2000, 1)]
    assert rig.cmds[-1] == "SYNC" and rig.cmds.count("SYNC") == 1
    r = rig.xlate(7, IOVA + 0x1000)
    assert (r.result, r.fault) == (Result.ABORT, EventID.F_TRANSLATION)
    assert rig.xlate(7, IOVA).result == Result.OK_TRANSLATED  # neighbours stay
    assert rig.xlate(7, IOVA + 0x3000).result == Result.OK_TRANSLATED
    # Unmapping stops at the first hole, like iommu_unmap; nothing unmapped, nothing sent.
    rig.cmds.clear()
    assert rig.run(d.unmap(IOVA + 0x1000, 0x1000)) == 0
    assert rig.cmds == []


def test_permissions_from_prot():
    rig = Rig()
    m = rig.master("dma0", [7], pasid_bits=4)
    d = m.domain
    rig.run(d.map(IOVA, BUF, 0x1000, IOMMU_READ | IOMMU_NOEXEC))
    assert rig.xlate(7, IOVA).result == Result.OK_TRANSLATED
    r = rig.xlate(7, IOVA, write=True)
    assert (r.result, r.fault) == (Result.ABORT, EventID.F_PERMISSION)
    with pytest.raises(FileExistsError):
        rig.run(d.map(IOVA, BUF, 0x1000, RW))


def test_domain_sharing_requires_equal_ssid_bits_and_detach_aborts():
    rig = Rig()
    a = rig.master("a", [1], pasid_bits=8)
    b = Master("b", [2], pasid_bits=8)
    c = Master("c", [3], pasid_bits=4)
    rig.drv.add_device(b)
    rig.drv.add_device(c)
    d = a.domain
    rig.run(d.attach_dev(b))
    assert d.masters == [a, b] and rig.ste(2).S1ContextPtr == d.cdtab.base
    with pytest.raises(DomainError, match="incompatible"):
        rig.run(d.attach_dev(c))
    rig.run(d.map(IOVA, BUF, 0x1000, RW))
    assert rig.xlate(2, IOVA).pa == BUF
    # CD updates now reach both masters' streams.
    rig.cmds.clear()
    rig.run(d.cdtab.write(0, d.cd))
    assert sorted(c.StreamID for c in rig.of(CmdCfgiCd)) == [1, 2]

    rig.run(d.detach_dev(b))
    assert rig.ste(2).Config == StreamConfig.ABORT
    assert rig.xlate(2, IOVA).result == Result.ABORT
    assert rig.events() == []  # an aborting STE is silent
    rig.run(rig.drv.remove_device(b))
    assert rig.drv.streams.find(2) is None
    with pytest.raises(ValueError, match="already belongs"):
        rig.drv.add_device(Master("dup", [1]))


def test_domain_free_invalidates_and_releases_asid():
    rig = Rig()
    m = rig.master("dma0", [9], pasid_bits=4)
    d = m.domain
    asid = d.asid
    with pytest.raises(DomainError, match="masters attached"):
        rig.run(d.free())
    rig.run(d.detach_dev(m))
    rig.cmds.clear()
    used = rig.plat.dma.used
    rig.run(d.free())
    assert [c.ASID for c in rig.of(CmdTlbiNhAsid)] == [asid]
    assert asid not in rig.drv.asids.owners
    assert rig.plat.dma.used < used


def test_attach_refused_while_sva_enabled():
    rig = Rig()
    m = rig.master("dma0", [9], pasid_bits=4, sva=True)
    other = rig.drv.domain_alloc()
    with pytest.raises(DomainError, match="SVA enabled"):
        rig.run(other.attach_dev(m))
