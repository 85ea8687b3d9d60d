"""SVA scenarios on the RTL as pyuvm virtual sequences.

:class:`RtlBackend` gives the backend-agnostic scenarios of tb/scenarios/scenarios.py the RTL:
every DMA translation is a sequence item on the translation agent (so the scoreboard checks
each response against the model), CPU operations that call mmu notifiers run in a bridged
thread (``cpu_call``) whose notifier blocks on the driver's commands
(``CocotbPlatform.block_on``), and drained event records go to the scoreboard.
:class:`SvaScenarioSeq` is the virtual sequence: it opens the software stack's MMIO session on
the register agent, builds the system and runs one scenario.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import cocotb
from pyuvm import uvm_sequence

from models.arch.priq import PriEntry
from models.cpu.features import CpuFeatures
from models.smmu.ats import AtsCompletion, AtsReq, completion_from_port
from models.smmu.port import Result
from tb.agents.xlate_agent import TransItem
from tb.bfm.pcie_bfm import PcieBfm
from tb.devices.pcie_ep import PcieRouter
from tb.env.config import env_cfg
from tb.env.seq_lib.port_stress import stress_memory_port, stress_translation_port
from tb.env.seq_lib.xlate_sequences import RegSeqHolder, XlateBurstSeq
from tb.platform.rtl import CocotbPlatform, cpu_call
from tb.scenarios.harness import SvaBench
from tb.scenarios.scenarios import Scenario
from tb.sva.arm.arm_smmu_v3.device import CMDQ_MAX_SHIFT, EVTQ_MAX_SHIFT, PRIQ_MAX_SHIFT


class RtlBackend:
    name = "rtl"

    def __init__(self, plat: CocotbPlatform, *, stress: bool = True) -> None:
        self.plat = plat
        self.stress = stress
        self.xseqr = env_cfg().xlate_seqr
        self.sb = env_cfg().xlate_sb
        self.bfm = env_cfg().bfm
        self.latency: Counter[int] = Counter()
        # Successful translations by where they came from: the IOTLB (hit path) or a walk.
        self.served: Counter[str] = Counter()
        # (StreamID, SSV, SubstreamID, page) of every successful translation: each one's
        # first translation is a miss in any IOTLB (streams sharing an ASID share entries)
        self.pages: set[tuple[int, int, int, int]] = set()
        self.pcie: PcieBfm | None = None  # the pins, taken over at the first endpoint
        self.router: PcieRouter | None = None
        # The DMA engines use each translation the moment it comes (tb/devices/dma.py), as a
        # TBU forwards its transaction: a CMD_SYNC that completes later covers the access.
        # A response left for the driver's batched wake (up to WAKE_WAIT cycles, while
        # another engine's request is outstanding) would reach its engine after such a SYNC
        # was seen complete. Every response wakes Python in the time step of its handshake.
        env_cfg().xbfm.set_wake(1, 1)

    async def translate(self, sid: int, ssv: int, ssid: int, va: int, rnw: int, ind: int,
                        pnu: int) -> dict[str, int]:
        item = TransItem(sid=sid, ssv=ssv, ssid=ssid, addr=va, rnw=rnw, ind=ind, pnu=pnu)
        seq = XlateBurstSeq("dma", [item])
        await seq.start(self.xseqr)
        it = seq.items[0]
        assert it.rsp is not None
        self.latency[it.latency] += 1
        if it.rsp["result"] == Result.OK_TRANSLATED:
            self.served["walk" if it.rsp["walked"] else "iotlb"] += 1
            self.pages.add((sid, ssv, ssid, va >> 12))
        return it.rsp

    async def cpu(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await cpu_call(fn, *args)

    async def ats_translate(self, req: AtsReq) -> AtsCompletion:
        """A Translation Request on the translation port (``t_req_ats``): an item like any
        translation's, so the scoreboard checks its completion against the model."""
        item = TransItem(sid=req.sid, ssv=req.ssv, ssid=req.ssid, addr=req.addr, rnw=1,
                         ind=req.exe, pnu=req.priv, ats=1, nw=req.nw)
        seq = XlateBurstSeq("ats", [item])
        await seq.start(self.xseqr)
        it = seq.items[0]
        assert it.rsp is not None
        self.latency[it.latency] += 1
        return completion_from_port(it.rsp, req.priv)

    async def translated(self, sid: int, addr: int, rnw: int) -> dict[str, int]:
        """An ATS-Translated transaction (``t_req_at``), checked by the scoreboard like any
        translation."""
        item = TransItem(sid=sid, addr=addr, rnw=rnw, at=1)
        seq = XlateBurstSeq("translated", [item])
        await seq.start(self.xseqr)
        it = seq.items[0]
        assert it.rsp is not None
        return it.rsp

    async def page_request(self, ppr: PriEntry) -> None:
        await self._pcie().page_request(ppr)

    def attach_endpoint(self, sid: int, ep: Any) -> None:
        """Connect a PCIe endpoint at Requester ID ``sid``: PRG responses and ATC
        invalidations for it come from the pins (tb/devices/pcie_ep.py PcieRouter)."""
        self._pcie()
        assert self.router is not None
        self.router.attach(sid, ep)

    def _pcie(self) -> PcieBfm:
        if self.pcie is None:
            self.router = router = PcieRouter(lambda itag, ur: pcie.complete(itag, ur))
            self.pcie = pcie = PcieBfm(self.bfm.dut, router.prg_response, router.invalidation)
            if env_cfg().watchdog is not None:
                env_cfg().watchdog.pcie = pcie  # page requests taken, groups answered
            if self.stress:
                # PRG responses and invalidation requests refused in a quarter of the cycles
                self.pcie.set_backpressure(random.Random(f"pcie/{env_cfg().seed}"), 0.25)
        return self.pcie

    async def gather(self, *coros: Coroutine[Any, Any, Any]) -> list[Any]:
        tasks = [cocotb.start_soon(c) for c in coros]
        return [await t for t in tasks]

    async def pause(self, cycles: int = 1) -> None:
        await self.bfm.clocks(cycles)

    def check_events(self, records: list[Any], *, final: bool = True,
                     lossy: bool = False) -> None:
        self.sb.check_events(records, final=final, lossy=lossy)

    def cycles(self) -> int | None:
        return int(self.bfm.test_cycles())


class SvaScenarioSeq(uvm_sequence):
    """Virtual sequence: bring the SMMU up with the software stack, run ``scenario`` with
    DMA engines on the translation agent; ``result`` and ``bench`` are kept for the test."""

    def __init__(self, name: str, scenario: Scenario, cpu: CpuFeatures | None = None,
                 *, stress: bool = True, evtq_max_shift: int = EVTQ_MAX_SHIFT,
                 priq_max_shift: int = PRIQ_MAX_SHIFT,
                 cmdq_max_shift: int = CMDQ_MAX_SHIFT) -> None:
        super().__init__(name)
        self.scenario = scenario
        self.cpu = cpu
        self.stress = stress
        self.evtq_max_shift = evtq_max_shift
        self.priq_max_shift = priq_max_shift
        self.cmdq_max_shift = cmdq_max_shift
        self.bench: SvaBench | None = None
        self.backend: RtlBackend | None = None
        self.result: dict[str, Any] = {}

    async def body(self) -> None:
        if self.stress:
            stress_translation_port(env_cfg().xbfm, env_cfg().seed)
            stress_memory_port(env_cfg().bfm, env_cfg().seed)
        holder = RegSeqHolder("sw")
        await holder.start_session(env_cfg().reg_seqr)
        self.backend = RtlBackend(holder.session.plat, stress=self.stress)
        self.bench = await SvaBench.create(self.backend, self.cpu, seed=env_cfg().seed,
                                           evtq_max_shift=self.evtq_max_shift,
                                           priq_max_shift=self.priq_max_shift,
                                           cmdq_max_shift=self.cmdq_max_shift)
        self.result = await self.scenario(self.bench)
        self.bench.finish()
        holder.release()
