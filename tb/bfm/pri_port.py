"""A small signal-level driver of the PCIe PRI pins for the directed tests: page requests out
on ``pr_*``, PRG responses collected from ``prg_*``.

Like :class:`tb.bfm.xlate_port.XPort`: inputs change on the falling edge, and a handshake is
"valid and ready seen at a falling edge" (``pr_ready`` and ``prg_valid`` come from registered
state only, so they are stable there), completing at the following rising edge.
"""

from __future__ import annotations

from cocotb.triggers import FallingEdge, RisingEdge

from tb.bfm.edge_sink import EdgeSink

# A collected PRG response: (StreamID, SSV, SubstreamID, PRGIndex, Resp code, automatic)
PrgTuple = tuple[int, int, int, int, int, int]

_INPUTS = ("pr_valid", "pr_sid", "pr_ssv", "pr_ssid", "pr_last", "pr_r", "pr_w", "pr_x",
           "pr_priv", "pr_prgi", "pr_page")


class PriPort:
    def __init__(self, dut) -> None:
        self.dut = dut
        for name in _INPUTS:
            getattr(dut, name).value = 0
        self._sink = EdgeSink(dut.clk, dut.prg_valid, dut.prg_ready, self._sample)

    def _sample(self) -> PrgTuple:
        d = self.dut
        return (int(d.prg_sid.value), int(d.prg_ssv.value), int(d.prg_ssid.value),
                int(d.prg_prgi.value), int(d.prg_code.value), int(d.prg_auto.value))

    @property
    def responses(self) -> list[PrgTuple]:
        return self._sink.taken

    async def hold_responses(self, hold: bool) -> None:
        """Stop (or resume) taking PRG responses; returns once in effect."""
        await self._sink.hold(hold)

    async def request(self, *, sid: int, prgi: int, last: int, page: int, ssv: int = 0,
                      ssid: int = 0, r: int = 0, w: int = 0, x: int = 0, priv: int = 0) -> None:
        """Send one page request (``page``: the page's address) and return once taken."""
        d = self.dut
        await FallingEdge(d.clk)
        for name, v in (("pr_sid", sid), ("pr_ssv", ssv), ("pr_ssid", ssid), ("pr_last", last),
                        ("pr_r", r), ("pr_w", w), ("pr_x", x), ("pr_priv", priv),
                        ("pr_prgi", prgi), ("pr_page", page >> 12)):
            getattr(d, name).value = v
        d.pr_valid.value = 1
        while not int(d.pr_ready.value):
            await FallingEdge(d.clk)
        await RisingEdge(d.clk)
        await FallingEdge(d.clk)
        d.pr_valid.value = 0
