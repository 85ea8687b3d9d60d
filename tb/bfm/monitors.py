"""Passive monitors: they sample handshakes on the DUT's pins and never drive anything.

The port monitors sample at the rising edge, where a valid/ready handshake completes, the same
way on Verilator and Icarus; the register monitors are called on each change. They exist so
that measurement sequences (`make bench`), the scoreboard and directed tests observe the DUT
without touching pins themselves.
"""

from __future__ import annotations

import cocotb
from cocotb.task import Task
from cocotb.triggers import RisingEdge

from tb.bfm.raw import RawVector
from tb.bfm.wake import SimWake


class _Monitor:
    def __init__(self, dut) -> None:
        self.dut = dut
        self._task: Task | None = cocotb.start_soon(self._run())

    async def _run(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None


class MemReadMonitor(_Monitor):
    """The memory port's reads: every AR address, and reads outstanding (AR to last R beat)."""

    def __init__(self, dut) -> None:
        self.addrs: list[int] = []
        self.outstanding = 0
        self.max_outstanding = 0
        super().__init__(dut)

    @property
    def n(self) -> int:
        return len(self.addrs)

    async def _run(self) -> None:
        dut = self.dut.u_smmu  # the DUT's own pins: the wrapper may serve them (tbm_en)
        while True:
            await RisingEdge(dut.clk)
            if dut.m_axi_arvalid.value and dut.m_axi_arready.value:
                self.addrs.append(int(dut.m_axi_araddr.value))
                self.outstanding += 1
            if dut.m_axi_rvalid.value and dut.m_axi_rready.value and dut.m_axi_rlast.value:
                self.outstanding -= 1
            self.max_outstanding = max(self.max_outstanding, self.outstanding)


class IrqPulseMonitor(_Monitor):
    """Cycles at which a wired interrupt output (irq_<name>) was high."""

    def __init__(self, dut, name: str, cycle) -> None:
        self.sig = getattr(dut, f"irq_{name}")
        self.cycle = cycle
        self.cycles: list[int] = []
        super().__init__(dut)

    async def _run(self) -> None:
        while True:
            await RisingEdge(self.dut.clk)
            v = self.sig.value
            if v.is_resolvable and int(v):
                self.cycles.append(self.cycle())


class _RegisterMonitor:
    """One of the register file's hardware-updated registers, each time it changes (white-box:
    software would only see the value through a register read some cycles later). It is
    called on changes only, not every cycle, and hands (cycle, value) to ``callback``, from
    the simulator's value-change callback (SimWake) rather than a task awaiting each change:
    the same time step, without a task resumption per change."""

    REG = ""

    def __init__(self, dut, cycle, callback) -> None:
        self.sig = getattr(dut.u_smmu.u_regs, self.REG)
        # read raw: building a LogicArray to ask is_resolvable cost more than the callback
        self._raw = RawVector(self.sig)
        self.cycle = cycle
        self.callback = callback
        self._wake = SimWake(self.sig, self._changed)

    def _changed(self) -> None:
        v = self._raw.read_resolved()
        if v is not None:
            self.callback(self.cycle(), v)


class CmdqConsMonitor(_RegisterMonitor):
    """CMDQ_CONS (u_smmu.u_regs.cmdq_cons): when the SMMU has consumed commands, a CMD_SYNC's
    completion included (§4.7.3); a register read would come too late to bound what the SMMU
    may still deliver from invalidated entries."""

    REG = "cmdq_cons"


class EvtqProdMonitor(_RegisterMonitor):
    """EVENTQ_PROD (u_smmu.u_regs.eventq_prod): a record became visible. The scoreboard
    checks a stall record at that moment, against the model as it stood then: by the time
    software drains the record, the configuration it was raised under may be gone (an mm
    exit)."""

    REG = "eventq_prod"
