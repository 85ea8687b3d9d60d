"""SVA bind/unbind on the functional model (reference §8.1-§8.8): the device walks the
process's own page tables, and every mm change reaches the SMMU before the CPU frees pages."""

from __future__ import annotations

import asyncio

import pytest

from models.arch.commands import CmdCfgiCd, CmdTlbiNhAsid, CmdTlbiNhVa
from models.arch.events import EventID
from models.cpu.features import CpuFeatures
from models.cpu.pgprot import PROT_READ, PROT_WRITE
from models.smmu.config import DEFAULT
from models.smmu.port import Result
from tb.sva.arm.arm_smmu_v3.master import Master
from tb.sva.iommu_sva import SvaError, sva_bind_device, sva_get_pasid, sva_unbind_device
from tb.sva.iopgtable import IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE
from tests.test_sva_domain import Rig

RW = PROT_READ | PROT_WRITE
PAGE = 0x1000


def bind(rig: Rig, m: Master, mm):
    return rig.run(sva_bind_device(m, mm))


def unbind(rig: Rig, h) -> None:
    rig.run(sva_unbind_device(h))


def test_bind_device_sees_the_process_memory():
    rig = Rig()
    m = rig.master("acc", [0x10], sva=True)
    mm = rig.sys.process("p")
    va = mm.mmap(None, 4 * PAGE, RW)
    mm.write(va + 0x1008, b"from the CPU")
    h = bind(rig, m, mm)
    pasid = sva_get_pasid(h)
    assert pasid == 1  # PASID 0 is reserved for SSID-less traffic (S1DSS=SSID0)
    cd = rig.cd(m.domain, pasid)
    assert (cd.V, cd.ASET, cd.ASID, cd.TTB0, cd.MAIR, cd.T0SZ, cd.EPD1, cd.R, cd.A) == (
        1, 0, mm.asid, mm.pgd, mm.mair, 16, 1, 1, 1)
    assert mm.context.pinned == 1

    r = rig.xlate(0x10, va + 0x1008, ssid=pasid)
    assert (r.result, r.pa) == (Result.OK_TRANSLATED, mm.translate(va + 0x1008))
    assert rig.plat.mem.read(r.pa, 12) == b"from the CPU"
    # A device write lands where the CPU reads.
    w = rig.xlate(0x10, va + 0x1100, ssid=pasid, write=True)
    assert w.result == Result.OK_TRANSLATED
    rig.plat.mem.write(w.pa, b"from the device")
    assert mm.read(va + 0x1100, 15) == b"from the device"
    # A page the process never touched is not mapped: the device faults (no IOPF yet).
    r = rig.xlate(0x10, va + 0x3000, ssid=pasid)
    assert (r.result, r.fault) == (Result.ABORT, EventID.F_TRANSLATION)
    assert rig.events() == [EventID.F_TRANSLATION]


def test_munmap_invalidates_before_pages_are_freed():
    rig = Rig()
    m = rig.master("acc", [0x10], sva=True)
    mm = rig.sys.process("p")
    va = mm.mmap(None, 8 * PAGE, RW)
    mm.write(va, bytes(8 * PAGE))
    h = bind(rig, m, mm)
    pasid = sva_get_pasid(h)
    pas = {}
    for off in range(0, 8 * PAGE, PAGE):  # prime the SMMU TLB
        r = rig.xlate(0x10, va + off, ssid=pasid)
        assert r.result == Result.OK_TRANSLATED
        pas[off] = r.pa
    rig.cmds.clear()
    freed_at_tlbi: list[bool] = []
    rig.on_cmd = lambda c: freed_at_tlbi.append(
        pas[c.Addr - va] not in rig.sys.frames.allocations) if isinstance(c, CmdTlbiNhVa) \
        else None
    mm.munmap(va + 2 * PAGE, 4 * PAGE)
    tlbis = rig.of(CmdTlbiNhVa)
    assert [(c.ASID, c.Addr, c.Leaf) for c in tlbis] == [
        (mm.asid, va + off, 0) for off in range(2 * PAGE, 6 * PAGE, PAGE)]
    assert rig.cmds[-1] == "SYNC" and rig.of(CmdTlbiNhAsid) == []
    assert freed_at_tlbi == [False] * 4  # the pages were still the process's
    for off in range(2 * PAGE, 6 * PAGE, PAGE):
        r = rig.xlate(0x10, va + off, ssid=pasid)
        assert (r.result, r.fault) == (Result.ABORT, EventID.F_TRANSLATION)
    for off in (0, PAGE, 6 * PAGE, 7 * PAGE):
        assert rig.xlate(0x10, va + off, ssid=pasid).pa == pas[off]


@pytest.mark.parametrize("pages, by_asid", [(511, False), (512, True)])
def test_large_ranges_become_one_tlbi_by_asid(pages, by_asid):
    rig = Rig()
    m = rig.master("acc", [0x10], sva=True)
    mm = rig.sys.process("p")
    va = mm.mmap(None, pages * PAGE, RW)
    h = bind(rig, m, mm)
    mm.write(va, b"x")
    assert rig.xlate(0x10, va, ssid=sva_get_pasid(h)).result == Result.OK_TRANSLATED
    rig.cmds.clear()
    mm.munmap(va, pages * PAGE)
    ops = rig.drv.smmu.cmdq_drv.stats.by_opcode
    assert len(rig.of(CmdTlbiNhVa)) == (0 if by_asid else pages)
    assert [c.ASID for c in rig.of(CmdTlbiNhAsid)] == ([mm.asid] if by_asid else [])
    assert rig.cmds.count("SYNC") == 1 and ops["CmdSync"] > 0
    assert rig.xlate(0x10, va, ssid=sva_get_pasid(h)).result == Result.ABORT


def test_mprotect_read_only_stops_device_writes():
    rig = Rig()
    m = rig.master("acc", [0x10], sva=True)
    mm = rig.sys.process("p")
    va = mm.mmap(None, PAGE, RW)
    mm.write(va, b"dirty")
    pasid = sva_get_pasid(bind(rig, m, mm))
    assert rig.xlate(0x10, va, ssid=pasid, write=True).result == Result.OK_TRANSLATED
    mm.mprotect(va, PAGE, PROT_READ)
    r = rig.xlate(0x10, va, ssid=pasid, write=True)
    assert (r.result, r.fault) == (Result.ABORT, EventID.F_PERMISSION)
    assert rig.xlate(0x10, va, ssid=pasid).result == Result.OK_TRANSLATED


def test_asid_collision_moves_the_private_domain():
    rig = Rig()
    m = rig.master("acc", [0x10], sva=True)
    d = m.domain
    assert d.asid == 1
    rig.run(d.map(0x8000, 0x2_0000_0000, PAGE, IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE))
    assert rig.xlate(0x10, 0x8000).pa == 0x2_0000_0000  # cached under ASID 1
    mm = rig.sys.process("p")
    assert mm.asid == 1  # the CPU allocator chose the same number
    va = mm.mmap(0x8000, PAGE, RW)  # even the same VA
    mm.write(va, b"cpu")
    rig.cmds.clear()
    pasid = sva_get_pasid(bind(rig, m, mm))
    assert d.asid == 2 and rig.cd(d, 0).ASID == 2 and rig.cd(m.domain, pasid).ASID == 1
    # CD 0 was rewritten (live ASID change) before ASID 1 was invalidated.
    first_cd0 = next(i for i, c in enumerate(rig.cmds)
                     if isinstance(c, CmdCfgiCd) and c.SubstreamID == 0)
    tlbi = [i for i, c in enumerate(rig.cmds) if isinstance(c, CmdTlbiNhAsid)]
    assert [rig.cmds[i].ASID for i in tlbi] == [1] and first_cd0 < tlbi[0]
    assert not [k for k in rig.plat.model.caches.tlb if k[0] == 1]
    # Both address spaces translate, each through its own context.
    assert rig.xlate(0x10, 0x8000).pa == 0x2_0000_0000
    assert rig.xlate(0x10, va, ssid=pasid).pa == mm.translate(va)
    assert rig.events() == []


def test_bind_twice_returns_the_same_handle():
    rig = Rig()
    m = rig.master("acc", [0x10], sva=True)
    mm = rig.sys.process("p")
    va = mm.mmap(None, PAGE, RW)
    mm.write(va, b"x")
    h1, h2 = bind(rig, m, mm), bind(rig, m, mm)
    assert h1 is h2 and h1.refs == 2 and m.iommu.sva_param.nr_bonds == 1
    assert len(mm.notifier_subscriptions) == 1 and h1.io_mm.users == 1
    unbind(rig, h1)
    assert rig.xlate(0x10, va, ssid=1).result == Result.OK_TRANSLATED
    unbind(rig, h2)
    assert rig.cd(m.domain, 1).V == 0
    assert rig.xlate(0x10, va, ssid=1).result == Result.ABORT
    assert rig.events() == [EventID.C_BAD_CD]
    with pytest.raises(SvaError, match="released"):
        unbind(rig, h2)


def test_two_devices_share_the_pasid():
    rig = Rig()
    a = rig.master("a", [0x10], sva=True)
    b = rig.master("b", [0x20], sva=True)
    mm = rig.sys.process("p")
    va = mm.mmap(None, PAGE, RW)
    mm.write(va, b"x")
    ha, hb = bind(rig, a, mm), bind(rig, b, mm)
    assert ha is not hb and sva_get_pasid(ha) == sva_get_pasid(hb) == 1
    assert ha.io_mm is hb.io_mm and mm.context.pinned == 1
    for sid in (0x10, 0x20):
        assert rig.xlate(sid, va, ssid=1).pa == mm.translate(va)
    # One TLBI sequence per SMMU for both devices.
    rig.cmds.clear()
    mm.munmap(va, PAGE)
    assert len(rig.of(CmdTlbiNhVa)) == 1
    unbind(rig, ha)
    assert rig.cd(a.domain, 1).V == 0 and rig.cd(b.domain, 1).V == 1
    unbind(rig, hb)
    assert rig.drv.sva.pasids.used == {} and mm.context.pinned == 0


def test_devices_of_one_domain_share_its_cd():
    rig = Rig()
    a = rig.master("a", [0x10], pasid_bits=8)
    b = Master("b", [0x11], pasid_bits=8)
    rig.drv.add_device(b)
    rig.run(a.domain.attach_dev(b))
    for m in (a, b):
        rig.drv.dev_enable_sva(m, without_iopf=True)
    mm = rig.sys.process("p")
    rig.cmds.clear()
    ha = bind(rig, a, mm)
    n_cd = len(rig.of(CmdCfgiCd))
    hb = bind(rig, b, mm)
    assert len(rig.of(CmdCfgiCd)) == n_cd  # attach_domain=False: CD already there
    rig.cmds.clear()
    unbind(rig, ha)
    assert rig.cd(a.domain, 1).V == 1 and rig.of(CmdTlbiNhAsid) == []
    unbind(rig, hb)
    assert rig.cd(a.domain, 1).V == 0 and [c.ASID for c in rig.of(CmdTlbiNhAsid)] == [mm.asid]


def test_second_device_with_too_few_pasid_bits_is_refused():
    rig = Rig()
    a = rig.master("a", [0x10], sva=True)
    small = rig.master("small", [0x20], pasid_bits=1, sva=True)  # PASIDs [1, 1]
    mms = [rig.sys.process(f"p{i}", cpu=i % 2) for i in range(2)]
    bind(rig, a, mms[0])
    h = bind(rig, a, mms[1])
    assert sva_get_pasid(h) == 2
    with pytest.raises(SvaError, match="EOVERFLOW"):
        bind(rig, small, mms[1])
    assert h.io_mm.users == 1 and small.iommu.sva_param.nr_bonds == 0
    assert sva_get_pasid(bind(rig, small, mms[0])) == 1


def test_unbind_frees_the_pasid_last_and_it_is_reused():
    rig = Rig()
    m = rig.master("acc", [0x10], sva=True)
    mm1, mm2, mm3 = (rig.sys.process(f"p{i}", cpu=i % 2) for i in range(3))
    h1, h2 = bind(rig, m, mm1), bind(rig, m, mm2)
    assert (sva_get_pasid(h1), sva_get_pasid(h2)) == (1, 2)
    pasids = rig.drv.sva.pasids
    held: list[bool] = []
    rig.on_cmd = lambda c: held.append(1 in pasids.used) if not isinstance(c, str) else None
    unbind(rig, h1)
    assert held and all(held)  # CFGI_CD and TLBI went out while PASID 1 was still taken
    assert 1 not in pasids.used and mm1.asid not in rig.drv.asids.owners
    assert mm1.context.pinned == 0
    h3 = bind(rig, m, mm3)
    assert sva_get_pasid(h3) == 1
    assert rig.cd(m.domain, 1).ASID == mm3.asid


def test_mm_exit_before_unbind_quiets_the_cd():
    rig = Rig()
    m = rig.master("acc", [0x10], sva=True)
    mm = rig.sys.process("p")
    va = mm.mmap(None, PAGE, RW)
    mm.write(va, b"x")
    h = bind(rig, m, mm)
    asid, pasid = mm.asid, sva_get_pasid(h)
    assert rig.xlate(0x10, va, ssid=pasid).result == Result.OK_TRANSLATED
    rig.cmds.clear()
    mm.exit()
    assert h.cleared and [c.ASID for c in rig.of(CmdTlbiNhAsid)] == [asid]
    cd = rig.cd(m.domain, pasid)
    assert (cd.V, cd.EPD0, cd.R, cd.A) == (1, 1, 0, 1)
    r = rig.xlate(0x10, va, ssid=pasid)  # late DMA: aborted, silently
    assert (r.result, r.fault) == (Result.ABORT, EventID.F_TRANSLATION)
    assert rig.events() == []
    assert pasid in rig.drv.sva.pasids.used and mm.pgd is not None
    with pytest.raises(SvaError):
        bind(rig, rig.master("late", [0x30], sva=True), mm)
    rig.cmds.clear()
    unbind(rig, h)
    assert rig.cd(m.domain, pasid).V == 0 and rig.of(CmdTlbiNhAsid) == []
    assert rig.xlate(0x10, va, ssid=pasid).result == Result.ABORT
    assert rig.events() == [EventID.C_BAD_CD]
    assert rig.drv.sva.pasids.used == {} and mm.pgd is None  # last mm_count went with io_mm


def test_pinned_asid_survives_rollover():
    # CPUs with 8-bit ASIDs: a rollover every ~250 new processes.
    rig = Rig(cpu=CpuFeatures(asid_bits=8, nr_cpus=2))
    m = rig.master("acc", [0x10], sva=True)
    mm = rig.sys.process("p")
    va = mm.mmap(None, 2 * PAGE, RW)
    mm.write(va, b"before")
    h = bind(rig, m, mm)
    asid = rig.cd(m.domain, sva_get_pasid(h)).ASID
    alloc = rig.sys.cpu_asids
    others = []
    for i in range(600):
        o = rig.sys.process(f"o{i}", cpu=i % 2)
        others.append(o)
        assert o.asid != asid
    assert alloc.rollovers >= 2
    assert mm.asid == asid and mm.context.pinned == 1
    rig.sys.cpu_asids.switch_mm(0, mm)  # runs again in a new generation: same ASID
    assert mm.asid == asid
    mm.write(va + PAGE, b"after")
    for off, data in ((0, b"before"), (PAGE, b"after")):
        r = rig.xlate(0x10, va + off, ssid=sva_get_pasid(h))
        assert r.result == Result.OK_TRANSLATED
        assert rig.plat.mem.read(r.pa, len(data)) == data
    unbind(rig, h)
    assert mm.context.pinned == 0 and idx_free(alloc, asid)


def idx_free(alloc, asid: int) -> bool:
    return alloc.asid2idx(asid) not in alloc.pinned_asid_map


def test_enable_sva_requirements():
    rig = Rig()
    no_pasid = rig.master("np", [1], pasid_bits=0)
    with pytest.raises(SvaError, match="no substreams"):
        rig.drv.dev_enable_sva(no_pasid, without_iopf=True)
    plain = rig.master("plain", [2])
    assert "cannot take I/O page faults" in " ".join(rig.drv.dev_sva_blockers(plain))
    with pytest.raises(SvaError, match="I/O page faults"):
        rig.drv.dev_enable_sva(plain)
    mm = rig.sys.process("p")
    with pytest.raises(SvaError, match="not enabled"):
        bind(rig, plain, mm)
    rig.drv.dev_enable_sva(plain, without_iopf=True)
    assert plain.iommu.sva_param.max_pasid == (1 << 16) - 1  # min(SSIDSIZE, PASID bits)
    h = bind(rig, plain, mm)
    with pytest.raises(SvaError, match="EBUSY"):
        asyncio.run(rig.drv.dev_disable_sva(plain))
    unbind(rig, h)
    asyncio.run(rig.drv.dev_disable_sva(plain))
    assert not plain.sva_enabled


def test_smmu_without_coherent_walks_cannot_do_sva():
    rig = Rig(DEFAULT.replace(COHACC=0))
    m = rig.master("acc", [1])
    assert any("COHACC" in b for b in rig.drv.dev_sva_blockers(m, without_iopf=True))
