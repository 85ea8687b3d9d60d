"""Signal level of the PCIe side for the software stack's endpoints (tb/devices/pcie_ep.py):
page requests out on ``pr_*``, PRG responses in from ``prg_*``, ATC invalidation requests in
from ``ainv_*`` and their completions out on ``acpl_*``.

Lean on purpose, like the batch ports: a watcher sleeps on its valid signal's value change
while the port is idle and only samples falling edges while the SMMU offers something, so
an idle port costs no Python per cycle. Handshakes follow tb/bfm/xlate_port.py (inputs change
on the falling edge; valid and ready seen there complete at the next rising edge). The
directed tests keep their own port drivers (tb/bfm/pri_port.py, atc_port.py): they control
ready themselves.

``prg_ready`` and ``ainv_ready`` are 1 unless :meth:`set_backpressure` asks for random
holds (each cycle an offered message is refused with probability ``p``): the endpoint's
completion policy, not the link, decides when an invalidation completes. Taking the ATC
port turns off the wrapper's auto-completer (``tb_atc_auto``).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable

import cocotb
from cocotb.triggers import Event, FallingEdge, Lock
from cocotb.utils import get_sim_time

from models.arch.priq import PriEntry, PriRespCode
from models.smmu.atc import AtcInvRequest
from models.smmu.pri import PrgResponse
from tb.bfm.smmu_bfm import CLK_PERIOD_NS


class PcieBfm:
    def __init__(self, dut, on_prg: Callable[[PrgResponse], None],
                 on_inv: Callable[[AtcInvRequest], None]) -> None:
        self.dut = dut
        self._on_prg = on_prg
        self._on_inv = on_inv
        dut.tb_atc_auto.value = 0
        dut.ainv_ready.value = 1
        dut.prg_ready.value = 1
        dut.acpl_valid.value = 0
        dut.pr_valid.value = 0
        self._cpl: deque[tuple[int, float]] = deque()  # (ITAG, time it was queued)
        self._cpl_wake = Event()
        self._pr_lock = Lock()
        self.page_requests = 0
        self.prg_responses = 0
        self.invalidations = 0
        self.completions = 0
        # cycles from a page request's handshake to its group's PRG response (automatic or
        # not), by the group's (StreamID, PRGI)
        self.serviced_cycles: list[int] = []
        self._pr_at: dict[tuple[int, int], int] = {}
        self.pr_offered_at: int | None = None  # the cycle the page request now offered was
        self._rng: random.Random | None = None
        self._p_hold = 0.0
        self.held_cycles = 0  # cycles a message was offered and refused
        cocotb.start_soon(self._watch(dut.prg_valid, dut.prg_ready, self._take_prg))
        cocotb.start_soon(self._watch(dut.ainv_valid, dut.ainv_ready, self._take_inv))
        cocotb.start_soon(self._send_completions())

    def set_backpressure(self, rng: random.Random | None, p: float = 0.0) -> None:
        """Refuse an offered PRG response or invalidation request in a cycle with
        probability ``p`` (``rng`` None: never)."""
        self._rng, self._p_hold = rng, p

    async def _watch(self, valid, ready, take: Callable[[], None]) -> None:
        # The ready driven at a falling edge is what the next rising edge samples.
        clk = self.dut.clk
        while True:
            await FallingEdge(clk)
            v = valid.value
            if v.is_resolvable and int(v):
                if self._rng is not None and self._rng.random() < self._p_hold:
                    ready.value = 0
                    self.held_cycles += 1
                    continue
                ready.value = 1
                take()  # this handshake completes at the next rising edge
            else:
                ready.value = 1
                await valid.value_change  # valid only changes at a rising edge

    def _take_prg(self) -> None:
        d = self.dut
        self.prg_responses += 1
        ssv = int(d.prg_ssv.value)
        start = self._pr_at.pop((int(d.prg_sid.value), int(d.prg_prgi.value)), None)
        if start is not None:
            self.serviced_cycles.append(self._cycle() - start)
        self._on_prg(PrgResponse(sid=int(d.prg_sid.value), prgi=int(d.prg_prgi.value),
                                 code=PriRespCode(int(d.prg_code.value)),
                                 pasid=int(d.prg_ssid.value) if ssv else None,
                                 auto=bool(int(d.prg_auto.value))))

    def _take_inv(self) -> None:
        d = self.dut
        self.invalidations += 1
        self._on_inv(AtcInvRequest(itag=int(d.ainv_itag.value), sid=int(d.ainv_sid.value),
                                   ssv=int(d.ainv_ssv.value), ssid=int(d.ainv_ssid.value),
                                   glob=int(d.ainv_glob.value),
                                   addr=int(d.ainv_addr.value) << 12,
                                   size=int(d.ainv_size.value)))

    def complete(self, itag: int, ur: bool = False) -> None:
        """An Invalidation Completion (a UR answer looks the same to the SMMU), sent on the
        next free cycle of acpl_*."""
        del ur
        self._cpl.append((itag, get_sim_time("ns")))
        self._cpl_wake.set()

    async def _send_completions(self) -> None:
        d = self.dut
        while True:
            if not self._cpl:
                self._cpl_wake.clear()
                await self._cpl_wake.wait()
            await FallingEdge(d.clk)
            # Never at the falling edge the request was taken at (its handshake is the next
            # rising edge): the completion would reach the SMMU with its own request.
            while self._cpl and self._cpl[0][1] < get_sim_time("ns"):
                d.acpl_itag.value = self._cpl.popleft()[0]
                d.acpl_valid.value = 1
                self.completions += 1
                await FallingEdge(d.clk)
            d.acpl_valid.value = 0

    async def page_request(self, ppr: PriEntry) -> None:
        """Send one Page Request; returns once the SMMU took it."""
        d = self.dut
        async with self._pr_lock:
            await FallingEdge(d.clk)
            for name, v in (("pr_sid", ppr.StreamID), ("pr_ssv", ppr.SSV),
                            ("pr_ssid", ppr.SubstreamID if ppr.SSV else 0),
                            ("pr_last", ppr.Last), ("pr_r", ppr.R), ("pr_w", ppr.W),
                            ("pr_x", ppr.X), ("pr_priv", ppr.Priv), ("pr_prgi", ppr.PRGIndex),
                            ("pr_page", ppr.PageAddr >> 12)):
                getattr(d, name).value = v
            d.pr_valid.value = 1
            self.pr_offered_at = self._cycle()
            while not int(d.pr_ready.value):
                await FallingEdge(d.clk)
            if ppr.Last:  # taken at the next rising edge
                self._pr_at[ppr.StreamID, ppr.PRGIndex] = self._cycle() + 1
            await FallingEdge(d.clk)  # the handshake completed at the rising edge between
            d.pr_valid.value = 0
            self.pr_offered_at = None
            self.page_requests += 1

    @property
    def awaiting_response(self) -> dict[tuple[int, int], int]:
        """Page request groups whose last request was taken and whose PRG response has not
        come: (StreamID, PRGI) -> the cycle of the last request's handshake."""
        return self._pr_at

    def _cycle(self) -> int:
        return int(get_sim_time("ns") // CLK_PERIOD_NS)
