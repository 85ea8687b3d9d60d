"""The memory port's bus model: cocotbext-axi's AXI slave, with reads served out of order.

cocotbext-axi's AxiSlaveRead serves one read burst at a time, in arrival order, so a read the
memory holds back (``MemoryTarget.hold``) would stall every later read, a command fetch
included. The SMMU gives each requester its own read ID and accepts read data of different
IDs in any order (docs/port-contract.md), so here every burst is served by its own coroutine:
its beats are read from the target (where a hold waits), then sent back to back under a lock,
so bursts never interleave. Without holds the order of arrival is kept, as before.
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import Lock
from cocotbext.axi import AxiResp
from cocotbext.axi.axi_slave import AxiSlaveRead, AxiSlaveWrite


class ReorderingAxiSlaveRead(AxiSlaveRead):
    def __init__(self, *args, **kwargs) -> None:
        self._r_lock = Lock()
        super().__init__(*args, **kwargs)

    async def _process_read(self) -> None:
        while True:
            ar = await self.ar_channel.recv()
            cocotb.start_soon(self._serve(ar))

    async def _serve(self, ar) -> None:
        arid = int(getattr(ar, "arid", 0))
        num_bytes = 2 ** int(getattr(ar, "arsize", self.max_burst_size))
        addr = (int(ar.araddr) // num_bytes) * num_bytes  # INCR bursts only (the SMMU's)
        beats = []
        for _ in range(int(getattr(ar, "arlen", 0)) + 1):
            word = (addr // self.byte_lanes) * self.byte_lanes
            try:
                data, resp = await self._read(word, self.byte_lanes), AxiResp.OKAY
            except Exception:
                data, resp = bytes(self.byte_lanes), AxiResp.SLVERR
            beats.append((data, resp))
            addr += num_bytes
        async with self._r_lock:
            for n, (data, resp) in enumerate(beats):
                r = self.r_channel._transaction_obj()
                r.rid = arid
                r.rlast = n == len(beats) - 1
                r.rresp = resp
                r.rdata = int.from_bytes(data, "little")
                await self.r_channel.send(r)


class AxiMemory:
    """The SMMU's memory port: writes as cocotbext-axi serves them, reads out of order."""

    def __init__(self, bus, clock, reset, target, reset_active_level: bool) -> None:
        self.write_if = AxiSlaveWrite(bus.write, clock, reset, target, reset_active_level)
        self.read_if = ReorderingAxiSlaveRead(bus.read, clock, reset, target,
                                              reset_active_level)
