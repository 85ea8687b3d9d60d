"""A small signal-level driver of the translation port for the directed tests.

Not cocotbext-axi on purpose: the directed tests measure latencies in edges and must not
depend on the agents, the stack or the scoreboard they are there to check.
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import Event, FallingEdge, First, RisingEdge, Timer
from cocotb.utils import get_sim_time

from models.smmu.port import RESP_FIELDS
from tb.bfm.smmu_bfm import CLK_PERIOD_NS

_PERIOD_PS = CLK_PERIOD_NS * 1000


class XPort:
    """Drives the translation request port and collects responses by tag.

    Inputs change on the falling edge; a handshake is "valid and ready seen at a falling
    edge" (t_req_ready and t_rsp_valid are functions of registered state only, so they are
    stable there) and completes at the following rising edge.

    Edges are counted from the simulation time (one falling edge per period; the tests use
    differences of edges only), and the monitor samples only while a response is presented:
    an idle port wakes no Python, so a directed test's length is not paid for cycle by cycle.
    """

    def __init__(self, dut) -> None:
        self.dut = dut
        dut.tbq_en.value = 0  # the pins, not the wrapper's batch engine (tb/hdl/smmu_tb.sv)
        for name in ("t_req_valid", "t_req_tag", "t_req_sid", "t_req_ssv", "t_req_ssid",
                     "t_req_addr", "t_req_rnw", "t_req_ind", "t_req_pnu", "t_req_ats", "t_req_nw",
                     "t_req_at"):
            getattr(dut, name).value = 0
        dut.t_rsp_ready.value = 1
        self.rsps: dict[int, dict] = {}
        self.order: list[int] = []
        self.accepted: dict[int, int] = {}
        self._got = Event()
        cocotb.start_soon(self._monitor())

    @property
    def edge(self) -> int:
        """Falling edges of the clock so far."""
        return int(get_sim_time(unit="ps")) // _PERIOD_PS

    async def _monitor(self) -> None:
        dut = self.dut
        while True:
            v = dut.t_rsp_valid.value
            if not (v.is_resolvable and int(v)):  # (not resolvable before reset on Icarus)
                await RisingEdge(dut.t_rsp_valid)
            # t_rsp_valid comes from a register: it is stable from here to the falling edge
            await FallingEdge(dut.clk)
            if int(dut.t_rsp_valid.value) and int(dut.t_rsp_ready.value):
                tag = int(dut.t_rsp_tag.value)
                self.rsps[tag] = {k: int(getattr(dut, f"t_rsp_{k}").value) for k in RESP_FIELDS}
                self.rsps[tag]["edge"] = self.edge
                self.rsps[tag]["walked"] = int(dut.t_rsp_walked.value)
                self.order.append(tag)
                self._got.set()

    def hold_responses(self, hold: bool) -> None:
        """Back-pressure: t_rsp_ready low while ``hold``; responses wait inside the SMMU."""
        self.dut.t_rsp_ready.value = int(not hold)

    async def send(self, reqs: list[dict]) -> None:
        """Issue requests back to back (one per cycle when the SMMU is ready)."""
        dut = self.dut
        await FallingEdge(dut.clk)
        for r in reqs:
            dut.t_req_valid.value = 1
            dut.t_req_tag.value = r["tag"]
            dut.t_req_sid.value = r.get("sid", 0)
            dut.t_req_ssv.value = r.get("ssv", int("ssid" in r))
            dut.t_req_ssid.value = r.get("ssid", 0)
            dut.t_req_addr.value = r["addr"]
            dut.t_req_rnw.value = int(r.get("rnw", 1))
            dut.t_req_ind.value = int(r.get("ind", 0))
            dut.t_req_pnu.value = int(r.get("pnu", 0))
            dut.t_req_ats.value = int(r.get("ats", 0))
            dut.t_req_nw.value = int(r.get("nw", 0))
            dut.t_req_at.value = int(r.get("at", 0))
            self.rsps.pop(r["tag"], None)
            while True:
                ready = int(dut.t_req_ready.value)
                # the monitor counts this falling edge too (it runs first or after: same edge)
                edge = self.edge
                await FallingEdge(dut.clk)
                if ready:
                    self.accepted[r["tag"]] = edge
                    break
        dut.t_req_valid.value = 0

    async def wait(self, tags, timeout: int = 2000) -> None:
        """Until every tag has its response, for at most ``timeout`` cycles."""
        end = self.edge + timeout
        while not all(t in self.rsps for t in tags):
            left = end - self.edge
            if left <= 0:
                break
            self._got.clear()
            await First(self._got.wait(), Timer(left * CLK_PERIOD_NS, unit="ns"))
            # (the monitor files at a falling edge; the caller resumes at a rising one)
            await RisingEdge(self.dut.clk)
        else:
            return
        missing = [t for t in tags if t not in self.rsps]
        raise AssertionError(f"no response for tags {missing}")

    async def xlate(self, tag: int = 1, **req) -> dict:
        await self.send([{"tag": tag, **req}])
        await self.wait([tag])
        return self.rsps[tag]
