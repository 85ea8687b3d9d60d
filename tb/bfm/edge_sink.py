"""The receiving side of a valid/ready output port for the directed tests' port drivers
(tb/bfm/pri_port.py, atc_port.py): every message offered while ready is taken, and a test may
hold ready low.

Like :class:`tb.bfm.xlate_port.XPort`: a handshake is "valid and ready seen at a falling edge"
(valid comes from registered state, so it is stable there), completing at the following rising
edge. Ready is driven by the collector alone, which decides each falling edge's handshake with
the value it drives from that edge on: a change made by another coroutine at the same edge
could otherwise be seen by the RTL but not here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cocotb
from cocotb.triggers import FallingEdge


class EdgeSink:
    """Takes every message ``valid`` offers while ready, as ``sample()`` reads it, into
    ``taken``."""

    def __init__(self, clk: Any, valid: Any, ready: Any, sample: Callable[[], Any]) -> None:
        self.clk, self.valid, self.ready, self.sample = clk, valid, ready, sample
        ready.value = 1
        self._ready = self._want_ready = True
        self.taken: list[Any] = []
        cocotb.start_soon(self._collect())

    async def _collect(self) -> None:
        while True:
            await FallingEdge(self.clk)
            if self._want_ready != self._ready:
                self._ready = self._want_ready
                self.ready.value = int(self._ready)
            if self._ready and int(self.valid.value):
                self.taken.append(self.sample())

    async def hold(self, hold: bool) -> None:
        """Stop (or resume) taking messages; returns once in effect."""
        self._want_ready = not hold
        while self._ready != self._want_ready:
            await FallingEdge(self.clk)
