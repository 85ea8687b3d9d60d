"""A small signal-level driver of the ATC invalidation pins for the directed tests: requests
collected from ``ainv_*``, completions sent on ``acpl_*``. Taking the port over turns off the
testbench wrapper's auto-completer (``tb_atc_auto``, tb/hdl/smmu_tb.sv).

Like :class:`tb.bfm.xlate_port.XPort`: inputs change on the falling edge, and a handshake is
"valid and ready seen at a falling edge", completing at the following rising edge. The
collector alone drives ``ainv_ready``, so the handshake it records is the one the RTL sees.
"""

from __future__ import annotations

from cocotb.triggers import FallingEdge

from tb.bfm.edge_sink import EdgeSink


class AtcPort:
    def __init__(self, dut) -> None:
        self.dut = dut
        dut.tb_atc_auto.value = 0
        dut.acpl_valid.value = 0
        dut.acpl_itag.value = 0
        self._sink = EdgeSink(dut.clk, dut.ainv_valid, dut.ainv_ready, self._sample)

    def _sample(self) -> dict[str, int]:
        d = self.dut
        return {"itag": int(d.ainv_itag.value), "sid": int(d.ainv_sid.value),
                "ssv": int(d.ainv_ssv.value), "ssid": int(d.ainv_ssid.value),
                "glob": int(d.ainv_glob.value), "addr": int(d.ainv_addr.value) << 12,
                "size": int(d.ainv_size.value)}

    @property
    def requests(self) -> list[dict[str, int]]:
        return self._sink.taken

    async def hold_requests(self, hold: bool) -> None:
        """Stop (or resume) taking invalidation requests; returns once in effect."""
        await self._sink.hold(hold)

    async def complete(self, itag: int) -> None:
        """Send the completion of ``itag`` (a UR answer looks the same to the SMMU)."""
        d = self.dut
        await FallingEdge(d.clk)
        d.acpl_valid.value = 1
        d.acpl_itag.value = itag
        await FallingEdge(d.clk)
        d.acpl_valid.value = 0
