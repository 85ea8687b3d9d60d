"""The driver's PCIe path on the functional model: ATS and PRI enabled at the function in the
v5 driver's order, page requests from the PRI queue handled by the IOPF core and answered
with CMD_PRI_RESP (reference smmuv3.md §7, §8.2; fault-paths.md §1.4, §1.5, §3.2). The page
requests are injected at the SMMU's PRI port here, standing in for an endpoint."""

from __future__ import annotations

import asyncio

from models.arch import commands as C
from models.arch.geometry import PAGE
from models.arch.priq import PriEntry, PriRespCode
from models.arch.ste import STE, ATSMode
from models.cpu.pgprot import PROT_READ, PROT_WRITE
from models.smmu.config import DEFAULT
from models.smmu.pri import PrgResponse
from tb.platform.model import ModelPlatform
from tb.sva.arm.arm_smmu_v3.pri import PRI_REQS, arm_smmu_priq_thread
from tb.sva.iommu_sva import sva_bind_device, sva_get_pasid, sva_unbind_device
from tb.sva.pci import PasidCap, PciDev, PriCap
from tb.sva.system import SvaSystem

PCIE = DEFAULT.replace(ATS=1, PRI=1, PRIQS=8, PPS=0)
RW = PROT_READ | PROT_WRITE
SID = 0x30


class Rig:
    """An SMMU with ATS and PRI, one PCIe function bound to a process; every command the
    driver issues is kept."""

    def __init__(self, *, priq_shift: int = 8, ppar: bool = True) -> None:
        self.plat = ModelPlatform(PCIE)
        self.sys = asyncio.run(SvaSystem.create(self.plat, priq_max_shift=priq_shift))
        self.drv = self.sys.drv
        self.cmds: list[C.Command] = []
        cmdq = self.drv.smmu.cmdq_drv
        orig = cmdq.issue

        async def issue(cmds: list[C.Command], *, sync: bool = True) -> None:
            self.cmds += cmds
            await orig(cmds, sync=sync)

        cmdq.issue = issue  # type: ignore[method-assign]
        self.pdev = PciDev("nic", SID, pri=PriCap(max_requests=32, prg_resp_pasid_required=ppar),
                           pasid=PasidCap(width=8))
        self.master = asyncio.run(self.sys.master("nic", [SID], sva=True, pdev=self.pdev))
        self.mm = self.sys.process("p")
        self.bond = asyncio.run(sva_bind_device(self.master, self.mm))
        self.pasid = sva_get_pasid(self.bond)

    def ppr(self, va: int, prgi: int, *, last: int = 1, write: bool = False,
            r: int | None = None) -> None:
        self.plat.model.page_request(PriEntry(
            StreamID=SID, SSV=1, SubstreamID=self.pasid, R=int(not write) if r is None else r,
            W=int(write), Last=last, PRGIndex=prgi, PageAddr=va))

    def service(self) -> list[PriEntry]:
        return asyncio.run(arm_smmu_priq_thread(self.drv))

    @property
    def responses(self) -> list[PrgResponse]:
        return self.plat.model.priq.responses


def test_the_function_is_set_up_in_the_drivers_order() -> None:
    """PASID at probe, the STE with EATS and PPAR at attach, then the ATC invalidated and ATS
    enabled at the function; PRI reset and enabled with SVA's IOPF (fault-paths.md §3.2)."""
    rig = Rig()
    p = rig.pdev
    assert p.pasid_enabled and p.ats_enabled and p.ats_stu == 12
    assert p.pri_enabled and p.pri_reqs_alloc == PRI_REQS and p.pri_resets == 1
    ste = STE.from_bytes(rig.plat.mem.read(rig.drv.smmu.ste_addr(SID), STE.SIZE))
    assert (ste.EATS, ste.PPAR) == (ATSMode.FULL, 1)
    assert rig.master.ssid_bits == 8
    # the ATC was invalidated (all of it: SSV=0, Size=52) before ATS was enabled
    assert any(isinstance(c, C.CmdAtcInv) and c.StreamID == SID and c.Size == 52
               and not c.SSV for c in rig.cmds)


def test_a_page_request_is_handled_and_answered_success_with_its_pasid() -> None:
    """A write request for a never-touched page of a writable VMA: the handler populates it,
    CMD_PRI_RESP Success goes to (StreamID, PRGIndex) with the PASID (PPAR)."""
    rig = Rig()
    va = rig.mm.mmap(None, PAGE, RW)
    assert rig.mm.translate(va) is None
    rig.ppr(va, prgi=5, write=True)
    assert rig.plat.irq_line("priq")
    rig.service()
    assert rig.mm.translate(va) is not None
    assert rig.responses == [PrgResponse(SID, 5, PriRespCode.SUCCESS, rig.pasid, auto=False)]
    assert not rig.plat.irq_line("priq")


def test_without_ppar_the_response_has_no_pasid() -> None:
    rig = Rig(ppar=False)
    va = rig.mm.mmap(None, PAGE, RW)
    rig.ppr(va, prgi=1)
    rig.service()
    assert rig.responses == [PrgResponse(SID, 1, PriRespCode.SUCCESS, None, auto=False)]


def test_a_group_is_answered_once_after_its_last_request() -> None:
    """§9 item 25: a PRG of several requests (L only on the last), interleaved with another
    group, gets one response, after its last request; the response uses its PRGI."""
    rig = Rig()
    va = rig.mm.mmap(None, 4 * PAGE, RW)
    rig.ppr(va, prgi=1, last=0)
    rig.ppr(va + 2 * PAGE, prgi=2)
    rig.ppr(va + PAGE, prgi=1)
    rig.service()
    assert [(r.prgi, r.code) for r in rig.responses] == \
        [(2, PriRespCode.SUCCESS), (1, PriRespCode.SUCCESS)]
    assert all(rig.mm.translate(v) is not None for v in (va, va + PAGE, va + 2 * PAGE))


def test_invalid_requests_and_stop_markers() -> None:
    """§9 item 26: a Stop marker is ignored (no response); a request outside every VMA, or a
    write to a read-only VMA, is answered Invalid Request."""
    rig = Rig()
    ro = rig.mm.mmap(None, PAGE, PROT_READ)
    hole = rig.mm.mmap(None, 2 * PAGE, RW)
    rig.mm.munmap(hole, 2 * PAGE)
    rig.ppr(0, prgi=9, r=0)  # R=W=0, L=1, with a PASID: a Stop marker
    rig.ppr(hole, prgi=3)
    rig.ppr(ro, prgi=4, write=True)
    rig.service()
    assert [(r.prgi, r.code) for r in rig.responses] == \
        [(3, PriRespCode.INVALID_REQUEST), (4, PriRespCode.INVALID_REQUEST)]
    assert rig.drv.fault_stats["ppr_stop_marker"] == 1
    assert rig.mm.translate(ro) is None


def test_overflow_discards_partial_groups_after_the_batch() -> None:
    """fault-paths.md §1.4 and v5 patch 25: with the queue overflowed, groups whose last
    request arrived are answered by software; a group whose last request the SMMU answered
    itself (automatic Success) is discarded from the partial list, never answered twice."""
    rig = Rig(priq_shift=1)  # two entries
    va = rig.mm.mmap(None, 4 * PAGE, RW)
    rig.ppr(va, prgi=1, last=0)
    rig.ppr(va + PAGE, prgi=2)
    rig.ppr(va + 2 * PAGE, prgi=1)  # queue full: overflow, automatic Success
    assert rig.responses == [PrgResponse(SID, 1, PriRespCode.SUCCESS, rig.pasid, auto=True)]
    rig.service()
    assert [(r.prgi, r.code, r.auto) for r in rig.responses[1:]] == \
        [(2, PriRespCode.SUCCESS, False)]
    assert rig.drv.priq_consumer is not None and rig.drv.priq_consumer.stats.overflows == 1
    iopf = rig.drv.iopf
    assert iopf is not None and iopf.stats["discarded_partial"] == 1
    rig.ppr(va + 3 * PAGE, prgi=6)  # writes resume after the acknowledgement
    rig.service()
    assert (rig.responses[-1].prgi, rig.responses[-1].auto) == (6, False)


def test_unbind_answers_outstanding_groups_and_disables_nothing_else() -> None:
    """Unbind with a group outstanding (its last request not yet handled): the CD goes, the
    fault queues are flushed (the request is handled, and answered), then the PASID is
    freed (fault-paths.md §1.5); PRI stays enabled until SVA is disabled for the
    function."""
    rig = Rig()
    va = rig.mm.mmap(None, PAGE, RW)
    rig.ppr(va, prgi=7)
    trace = rig.drv.sva.trace
    start = len(trace)
    asyncio.run(sva_unbind_device(rig.bond))
    steps = [s for s, p in trace[start:] if p == rig.pasid]
    assert steps == ["cd_cleared", "faults_flushed", "pasid_free"], steps
    (resp,) = rig.responses
    assert (resp.prgi, resp.auto) == (7, False)
    # The handler finds the mm by its PASID, still allocated during the flush, so the page is
    # populated and the answer is Success; the function's retry then meets no CD.
    assert resp.code == PriRespCode.SUCCESS
    assert rig.pdev.pri_enabled


def test_a_request_from_an_unknown_stream_is_answered_failure() -> None:
    """v5 arm_smmu_handle_ppr: a last request nobody takes gets Response Failure."""
    rig = Rig()
    rig.plat.model.page_request(PriEntry(StreamID=SID + 1, Last=1, R=1, PRGIndex=3,
                                         PageAddr=0x1000))
    rig.service()
    assert rig.responses == [PrgResponse(SID + 1, 3, PriRespCode.RESPONSE_FAILURE, None,
                                         auto=False)]
