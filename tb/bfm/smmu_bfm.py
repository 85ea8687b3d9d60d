"""Signal-level side of the testbench: clock, reset, and the bus models on the DUT's ports.

Nothing above this module touches a DUT signal. The register port is driven by
cocotbext-axi's AxiLiteMaster; the memory port is served over the project's PhysicalMemory
by the wrapper's batch memory engine (tb/bfm/mem_bfm.py), or by cocotbext-axi's AxiSlave with
SMMU_MEMPORT=cocotbext, so the software stack and the RTL share one physical memory.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator

import cocotb
from cocotb import simtime, simulator
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.task import Task
from cocotb.triggers import ClockCycles, Event, RisingEdge, Timer
from cocotbext.axi import AxiBus, AxiLiteBus, AxiLiteMaster, AxiResp

from models.memory import ExternalAbort, PhysicalMemory
from tb.bfm.axi_mem import AxiMemory
from tb.bfm.dvm_bfm import DvmBfm
from tb.bfm.mem_bfm import PAUSE_BIT, BatchAxiMemory
from tb.bfm.reg_bfm import PAUSE_BIT as REG_PAUSE_BIT
from tb.bfm.reg_bfm import BatchAxiLiteMaster

CLK_PERIOD_NS = 10


async def start_as_at_time_zero(dut) -> None:
    """Before a test that follows another in the same simulation builds its BFM: wait for the
    clock's grid (a multiple of the period; the previous test's clock stopped with it), and
    set the wrapper's cycle counter to the cycles that grid has counted. A test run alone
    starts at time zero with tb_cycle 0, and ``SmmuBfm`` counts cycles from the simulation
    time while the wrapper stamps them with tb_cycle (responses, due cycles of the memory
    latency model): the two agree only on the grid, and the stopped clock's last edges and
    cocotb's step between tests put the next test off it. From here the test runs as it
    would alone, ``tests/test_rtl.py`` compares."""
    period = CLK_PERIOD_NS * 1000
    now = int(get_sim_time("ps"))
    if now == 0:
        return
    if now % period:
        await Timer(period - now % period, unit="ps")
        now += period - now % period
    dut.tb_cycle.value = now // period


class MemoryTarget:
    """cocotbext-axi target over PhysicalMemory; an injected fault becomes SLVERR.

    ``hold(lo, hi)`` stalls every access that starts in [lo, hi) until the returned event is
    set: the burst's response (R data, or B after the write) waits, so a test can keep an
    engine's memory access in flight for as long as it likes.
    """

    def __init__(self, mem: PhysicalMemory, source: str = "smmu-rtl") -> None:
        self.mem = mem
        self.source = source
        self.holds: list[tuple[int, int, Event]] = []

    def hold(self, lo: int, hi: int) -> Event:
        ev = Event()
        self.holds.append((lo, hi, ev))
        return ev

    async def _gate(self, address: int) -> None:
        for lo, hi, ev in list(self.holds):
            if lo <= address < hi and not ev.is_set():
                await ev.wait()
        self.holds = [h for h in self.holds if not h[2].is_set()]

    # Called per beat: without holds (every random run) no coroutine is made for the gate.
    async def read(self, address: int, length: int) -> bytes:
        if self.holds:
            await self._gate(address)
        return self.mem.read(address, length, source=self.source)

    async def write(self, address: int, data: bytes) -> None:
        if self.holds:
            await self._gate(address)
        self.mem.write(address, bytes(data), source=self.source)


def _sim_time(scale: int) -> float:
    """The simulation time in units of 10**scale s: get_sim_time's arithmetic (the same float)
    without its unit lookups and checks, which cost more than the rest of a cycle() call (the
    agents and the stack ask several times per translation)."""
    hi, lo = simulator.get_sim_time()
    exp = simtime.time_precision - scale
    return (hi << 32 | lo) * 10**exp if exp > 0 else (hi << 32 | lo) / 10**-exp


class SmmuBfm:
    """Owns the DUT's pins. One per test; a simulation may run several tests one after the
    other (tb.cli.runner ``run_group``), each building its own."""

    def __init__(self, dut, mem: PhysicalMemory, *, regport: str = "cocotbext") -> None:
        """``regport``: "cocotbext" (cocotbext-axi's AxiLiteMaster on the pins, whose channel
        pauses the directed stall tests use) or "batch" (the wrapper's register engine,
        tb/bfm/reg_bfm.py: the same accesses and timing at a fraction of the cost)."""
        self.dut = dut
        self.rtl = dut.u_smmu  # smmu_top inside the testbench wrapper (tb/hdl/smmu_tb.sv)
        # A simulation may run several tests one after the other (tb/env/pyuvm_test.py): each
        # builds its BFM, and starts its clock (below), when it starts.
        self.start_ns = self.now_ns()
        # (X before the wrapper's initial blocks ran, at time zero on some simulators)
        self._held_at_start = self._held_back() if self.start_ns else {}
        self._pauses: dict[str, Task] = {}
        self.mem = mem
        # Plain assignments: Icarus 11 drops Immediate writes to inputs at time zero.
        for sig in (dut.s_axil_awvalid, dut.s_axil_wvalid, dut.s_axil_arvalid, dut.tbm_epoch,
                    dut.m_axi_arready, dut.m_axi_awready, dut.m_axi_wready, dut.m_axi_rvalid,
                    dut.m_axi_bvalid, dut.pr_valid, dut.pr_sid, dut.pr_ssv, dut.pr_ssid,
                    dut.pr_last, dut.pr_r, dut.pr_w, dut.pr_x, dut.pr_priv, dut.pr_prgi,
                    dut.pr_page, dut.ainv_ready, dut.acpl_valid, dut.acpl_itag,
                    dut.dvm_valid, dut.dvm_op, dut.dvm_asid, dut.dvm_va, dut.dvm_e2h,
                    dut.tbm_lat_en):
            sig.value = 0
        # ATC invalidations are completed by the wrapper unless a test takes the port over
        # (tb/bfm/atc_port.py): a SYNC after a CMD_ATC_INV would otherwise time out.
        dut.tb_atc_auto.value = 1
        # PRG responses are taken as they come unless a test watches them (tb/bfm/pri.py):
        # a port nobody drains would stop CMD_PRI_RESP in the command queue.
        dut.prg_ready.value = 1
        self.dvm = DvmBfm(dut)  # the CPU's broadcast TLBIs (BTM builds)
        dut.rst_n.value = 0
        # cocotbext-axi logs every burst at INFO and uses APIs cocotb 2 deprecates.
        for lg in (f"cocotb.{dut._name}.s_axil", f"cocotb.{dut._name}.m_axi"):
            logging.getLogger(lg).setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"cocotbext\..*")
        # The clock toggles in cocotb's C++ layer on every simulator: left to choose, cocotb
        # drives it from a Python task on Icarus (two wakes per cycle). `make bench`'s cycle
        # counts are the same either way.
        self.clock = Clock(dut.clk, CLK_PERIOD_NS, unit="ns", impl="gpi")
        self.clock.start(start_high=False)
        self.target = MemoryTarget(mem)
        self.regs: AxiLiteMaster | BatchAxiLiteMaster
        if regport == "batch":
            self.regs = BatchAxiLiteMaster(dut)
        elif regport == "cocotbext":
            dut.tbr_en.value = 0
            self.regs = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk,
                                      dut.rst_n, reset_active_level=False)
        else:
            raise ValueError(f"register port model {regport!r}: batch or cocotbext")
        # The memory port: the wrapper's batch engine, or (SMMU_MEMPORT=cocotbext)
        # cocotbext-axi's slave on the pins, the same contract and timing (tests/test_rtl.py
        # compares `make bench`'s cycle counts under both).
        self.memport: BatchAxiMemory | AxiMemory
        if os.environ.get("SMMU_MEMPORT", "batch") == "cocotbext":
            dut.tbm_en.value = 0
            self.memport = AxiMemory(AxiBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst_n,
                                     self.target, reset_active_level=False)
            # cocotbext-axi queues only 2 read addresses by default, which would cap the
            # walks in flight at the memory model rather than in the RTL.
            self.memport.read_if.ar_channel.queue_occupancy_limit = 32
            self.memport.read_if.r_channel.queue_occupancy_limit = 32
        else:
            self.memport = BatchAxiMemory(dut, self.target, self.next_edge_cycle)

    def stall(self, channel: str, pattern: Iterator[bool] | None) -> None:
        """Pause one AXI channel in the cycles where ``pattern`` yields True (None: never).

        On the memory port the bus model is the slave: ``mem.ar``, ``mem.aw`` and ``mem.w``
        drop the ready the SMMU waits for, ``mem.r`` and ``mem.b`` hold back read data and
        write responses. On the register port it is the master: ``regs.aw`` and ``regs.w``
        hold back a write's address or its data, which then reach the SMMU in different
        cycles (``regs.ar``: a read's address)."""
        channels = {}
        rp = self.regs
        if isinstance(rp, AxiLiteMaster):
            channels.update({
                "regs.aw": rp.write_if.aw_channel, "regs.w": rp.write_if.w_channel,
                "regs.ar": rp.read_if.ar_channel})
        mp = self.memport
        if isinstance(mp, AxiMemory):
            channels.update({
                "mem.ar": mp.read_if.ar_channel, "mem.r": mp.read_if.r_channel,
                "mem.aw": mp.write_if.aw_channel, "mem.w": mp.write_if.w_channel,
                "mem.b": mp.write_if.b_channel})
        if channel in channels:
            ch = channels[channel]

            def setter(on: bool) -> None:
                ch.pause = on
        elif channel in PAUSE_BIT and isinstance(mp, BatchAxiMemory):
            def setter(on: bool) -> None:
                mp.set_pause(channel, on)
        elif channel in REG_PAUSE_BIT and isinstance(rp, BatchAxiLiteMaster):
            def setter(on: bool) -> None:
                rp.set_pause(channel, on)
        else:
            raise KeyError(f"no channel {channel!r}")
        old = self._pauses.pop(channel, None)
        if old is not None:
            old.cancel()
        setter(False)
        if pattern is not None:
            self._pauses[channel] = cocotb.start_soon(self._run_pause(setter, pattern))

    async def _run_pause(self, setter, pattern: Iterator[bool]) -> None:
        """cocotbext-axi's pause generators wake on every clock edge; this one sleeps through
        each run of equal values. Changes land mid-cycle (on the falling edge's time), where no
        bus model samples, so every channel sees them at its next rising edge."""
        await RisingEdge(self.dut.clk)
        await Timer(CLK_PERIOD_NS // 2, unit="ns")
        it = iter(pattern)
        val = next(it, None)
        while val is not None:
            run = 1
            nxt = next(it, None)
            while nxt == val and run < 4096:
                run += 1
                nxt = next(it, None)
            setter(bool(val))
            await Timer(run * CLK_PERIOD_NS, unit="ns")
            val = nxt
        setter(False)

    async def reset(self, cycles: int = 5) -> None:
        self.dut.rst_n.value = 0
        await ClockCycles(self.dut.clk, cycles)
        self.dut.rst_n.value = 1
        await RisingEdge(self.dut.clk)

    @staticmethod
    def now_ns() -> float:
        return _sim_time(-9)

    def cycle(self) -> int:
        """Simulated clock cycles since time zero."""
        return int(self.now_ns() // CLK_PERIOD_NS)

    def test_cycles(self) -> int:
        """Simulated clock cycles since this test began (its BFM was built and its clock
        started), as ``cycle()`` counts them in a simulation that runs the test alone."""
        return int((self.now_ns() - self.start_ns) // CLK_PERIOD_NS)

    @staticmethod
    def next_edge_cycle() -> int:
        """The wrapper's tb_cycle as the next rising edge after this time step sees it (rising
        edge k, half a period into cycle k, sees k): from the simulation time, since tb_cycle
        itself may not yet show this time step's update where a callback reads it."""
        period = CLK_PERIOD_NS * 1000
        return int((_sim_time(-12) + period // 2) // period)

    async def clocks(self, n: int) -> None:
        await ClockCycles(self.dut.clk, n)

    async def edge(self) -> None:
        await RisingEdge(self.dut.clk)

    def restart_read_count(self) -> None:
        """Restart the wrapper's maximum of memory reads outstanding (tb/hdl/smmu_tb.sv)."""
        self.dut.tbm_epoch.value = 1 - int(self.dut.tbm_epoch.value)

    def reads_outstanding_max(self) -> int:
        """Most memory reads outstanding at once (AR accepted, last R beat not yet) since
        ``restart_read_count``; the wrapper counts them, so no Python wakes per cycle."""
        return int(self.dut.tbm_rd_out_max.value)

    def held_back(self) -> dict[str, int]:
        """Cycles the testbench has held each port back since this test began (the wrapper
        counts them from time zero): memory-port channels paused with something to pass
        (batch memory port only) and translation responses not taken."""
        return {ch: n - self._held_at_start.get(ch, 0) for ch, n in self._held_back().items()}

    def _held_back(self) -> dict[str, int]:
        stalls = int(self.dut.tbm_stalls.value)
        out = {ch: stalls >> (32 * bit) & 0xFFFF_FFFF for ch, bit in PAUSE_BIT.items()}
        out["xlate.rsp"] = int(self.dut.tbq_rsp_stalls.value)
        return out

    def irq(self, name: str) -> int:
        """Level of the wired interrupt output irq_<name>."""
        return int(getattr(self.dut, f"irq_{name}").value)

    def peek(self, path: str) -> int:
        """An internal RTL signal by hierarchical path below smmu_top (e.g. u_regs.cmdq_cons),
        for measurements that need state no port shows."""
        h = self.rtl
        for part in path.split("."):
            h = getattr(h, part)
        return int(h.value)

    async def read32(self, addr: int) -> tuple[int, int]:
        r = await self.regs.read(addr, 4)
        return int.from_bytes(r.data, "little"), int(r.resp)

    async def write(self, addr: int, data: bytes) -> int:
        r = await self.regs.write(addr, data)
        return int(r.resp)

    async def read(self, addr: int, length: int) -> tuple[bytes, int]:
        r = await self.regs.read(addr, length)
        return bytes(r.data), int(r.resp)


RESP_OKAY = int(AxiResp.OKAY)
RESP_SLVERR = int(AxiResp.SLVERR)
__all__ = ["RESP_OKAY", "RESP_SLVERR", "ExternalAbort", "MemoryTarget", "SmmuBfm"]
