"""The software stack's Platform on the functional model: plain Python, no simulator.

Time is a counter that only ``sleep_ns`` advances, so polling loops terminate.
"""

from __future__ import annotations

from models.memory import FrameAllocator, PhysicalMemory
from models.smmu.config import SmmuConfig
from models.smmu.regfile import RegisterFile

# Where the software stack allocates tables and queues; device buffers live elsewhere.
DMA_WINDOW = (0x4000_0000, 0x8000_0000)


class ModelPlatform:
    def __init__(self, cfg: SmmuConfig) -> None:
        self.cfg = cfg
        self.regs = RegisterFile(cfg)
        self.mem = PhysicalMemory(pa_bits=cfg.pa_bits)
        self.dma = FrameAllocator(self.mem, *DMA_WINDOW)
        self._now = 0.0
        self.mmio_log: list[tuple[str, int, int]] = []

    async def mmio_read32(self, offset: int) -> int:
        val = self.regs.expect(offset).value
        self.mmio_log.append(("r", offset, val))
        return val

    async def mmio_write32(self, offset: int, value: int) -> None:
        self.mmio_log.append(("w", offset, value))
        self.regs.write(offset, value)

    def now_ns(self) -> float:
        return self._now

    async def sleep_ns(self, ns: float) -> None:
        self._now += ns
