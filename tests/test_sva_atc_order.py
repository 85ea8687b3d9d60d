"""ATC invalidation only after the SMMU's own invalidation has completed, on every path.

§4.5.1 (CMD_ATC_INV): "To invalidate a translation from an ATC, software must first invalidate
SMMU caches of the translation ... and then, after ensuring completion of the SMMU translation
invalidate, issue a CMD_ATC_INV to invalidate ATC translations", as in its example: TLBI,
CMD_SYNC, CMD_ATC_INV, CMD_SYNC. Otherwise an ATS request between the two could refill the
device's ATC from a TLB entry that is about to go.
"""

from __future__ import annotations

from models.arch.commands import CmdAtcInv, CmdTlbiNhAsid, CmdTlbiNhVa
from models.cpu.pgprot import PROT_READ, PROT_WRITE
from models.smmu.config import DEFAULT
from tb.sva.iommu_sva import sva_bind_device, sva_get_pasid, sva_unbind_device
from tb.sva.iopgtable import IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE
from tests.test_sva_domain import Rig

ATS = DEFAULT.replace(ATS=1)
PAGE = 0x1000


def _shape(cmds) -> list[str]:
    """The command stream as kinds: TLBI, ATC, SYNC (others left out)."""
    out = []
    for c in cmds:
        if c == "SYNC":
            out.append("SYNC")
        elif isinstance(c, CmdTlbiNhVa | CmdTlbiNhAsid):
            out.append("TLBI")
        elif isinstance(c, CmdAtcInv):
            out.append("ATC")
    # runs of the same kind count once
    return [k for i, k in enumerate(out) if i == 0 or out[i - 1] != k]


def _tlbi_sync_then_atc_sync(cmds) -> bool:
    return _shape(cmds) == ["TLBI", "SYNC", "ATC", "SYNC"]


def test_dma_domain_unmap():
    rig = Rig(ATS)
    m = rig.master("nic", [7], pasid_bits=4, ats=True)
    rw = IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE
    rig.run(m.domain.map(0x10_0000, 0x2_0000_0000, 0x2000, rw))
    rig.cmds.clear()
    rig.run(m.domain.unmap(0x10_0000, 0x2000))
    assert _tlbi_sync_then_atc_sync(rig.cmds), _shape(rig.cmds)


def _bound(rig: Rig):
    m = rig.master("acc", [0x10], sva=True, ats=True)
    mm = rig.sys.process("p")
    va = mm.mmap(None, 4 * PAGE, PROT_READ | PROT_WRITE)
    mm.write(va, bytes(4 * PAGE))
    h = rig.run(sva_bind_device(m, mm))
    return m, mm, va, h


def test_sva_munmap():
    rig = Rig(ATS)
    _m, mm, va, _h = _bound(rig)
    rig.cmds.clear()
    mm.munmap(va, 2 * PAGE)
    assert _tlbi_sync_then_atc_sync(rig.cmds), _shape(rig.cmds)


def test_sva_unbind():
    rig = Rig(ATS)
    _m, _mm, _va, h = _bound(rig)
    assert sva_get_pasid(h) == 1
    rig.cmds.clear()
    rig.run(sva_unbind_device(h))
    shape = _shape(rig.cmds)
    # the CD goes first (CFGI_CD + SYNC, left out here), then the TLB, then the ATC
    assert shape[shape.index("TLBI"):] == ["TLBI", "SYNC", "ATC", "SYNC"], shape


def test_sva_mm_exit():
    rig = Rig(ATS)
    _m, mm, _va, _h = _bound(rig)
    rig.cmds.clear()
    mm.exit()
    shape = _shape(rig.cmds)
    assert shape[shape.index("TLBI"):] == ["TLBI", "SYNC", "ATC", "SYNC"], shape
