"""A small signal-level driver of the ATC invalidation pins for the directed tests: requests
collected from ``ainv_*``, completions sent on ``acpl_*``. Taking the port over turns off the
testbench wrapper's auto-completer (``tb_atc_auto``, tb/hdl/smmu_tb.sv).

Like :class:`tb.bfm.xlate_port.XPort`: inputs change on the falling edge, and a handshake is
"valid and ready seen at a falling edge", completing at the following rising edge. The
collector alone drives ``ainv_ready``, so the handshake it records is the one the RTL sees.
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge


class AtcPort:
    def __init__(self, dut) -> None:
        self.dut = dut
        dut.tb_atc_auto.value = 0
        dut.ainv_ready.value = 1
        dut.acpl_valid.value = 0
        dut.acpl_itag.value = 0
        self._ready = self._want_ready = True
        self.requests: list[dict[str, int]] = []
        cocotb.start_soon(self._collect())

    async def _collect(self) -> None:
        d = self.dut
        while True:
            await FallingEdge(d.clk)
            if self._want_ready != self._ready:
                self._ready = self._want_ready
                d.ainv_ready.value = int(self._ready)
            if self._ready and int(d.ainv_valid.value):
                self.requests.append({
                    "itag": int(d.ainv_itag.value), "sid": int(d.ainv_sid.value),
                    "ssv": int(d.ainv_ssv.value), "ssid": int(d.ainv_ssid.value),
                    "glob": int(d.ainv_glob.value), "addr": int(d.ainv_addr.value) << 12,
                    "size": int(d.ainv_size.value)})

    async def hold_requests(self, hold: bool) -> None:
        """Stop (or resume) taking invalidation requests; returns once in effect."""
        self._want_ready = not hold
        while self._ready != self._want_ready:
            await FallingEdge(self.dut.clk)

    async def complete(self, itag: int) -> None:
        """Send the completion of ``itag`` (a UR answer looks the same to the SMMU)."""
        d = self.dut
        await FallingEdge(d.clk)
        d.acpl_valid.value = 1
        d.acpl_itag.value = itag
        await FallingEdge(d.clk)
        d.acpl_valid.value = 0
