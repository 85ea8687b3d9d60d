"""The software stack's Platform on the RTL: MMIO as register-agent sequence items.

Every access the driver makes therefore passes the register scoreboard.
"""

from __future__ import annotations

from cocotb.triggers import Timer
from pyuvm import uvm_sequence

from models.memory import FrameAllocator, PhysicalMemory
from tb.bfm import RESP_OKAY, SmmuBfm
from tb.reg_agent import RegItem


class MmioError(Exception):
    pass


class CocotbPlatform:
    def __init__(self, seq: uvm_sequence, bfm: SmmuBfm, mem: PhysicalMemory,
                 dma: FrameAllocator) -> None:
        self._seq = seq
        self._bfm = bfm
        self.mem = mem
        self.dma = dma
        self.mmio_count = 0

    async def _do(self, item: RegItem) -> RegItem:
        await self._seq.start_item(item)
        await self._seq.finish_item(item)
        self.mmio_count += 1
        if item.resp != RESP_OKAY:
            raise MmioError(f"MMIO {item} failed")
        return item

    async def mmio_read32(self, offset: int) -> int:
        return (await self._do(RegItem.rd(offset))).value

    async def mmio_write32(self, offset: int, value: int) -> None:
        await self._do(RegItem.wr32(offset, value))

    def now_ns(self) -> float:
        return self._bfm.now_ns()

    async def sleep_ns(self, ns: float) -> None:
        await Timer(max(1, round(ns)), unit="ns")
