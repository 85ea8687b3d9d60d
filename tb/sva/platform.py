"""The only things the SVA software stack may touch: the platform interface.

Mirrors: nothing in Linux (model infrastructure: readl/writel, dma_alloc_coherent, delays).

The same stack runs against the RTL under cocotb and against the functional model in plain
Python; each backend implements :class:`Platform`. Nothing here imports cocotb or pyuvm.
"""

from __future__ import annotations

from typing import Protocol

from models.memory import FrameAllocator, PhysicalMemory


class SmmuTimeout(Exception):
    """The SMMU did not answer within the driver's polling budget."""


class Platform(Protocol):
    mem: PhysicalMemory       # coherent system memory, as the CPU sees it
    dma: FrameAllocator       # physically contiguous allocations for tables and queues

    async def mmio_read32(self, offset: int) -> int: ...
    async def mmio_write32(self, offset: int, value: int) -> None: ...
    def now_ns(self) -> float: ...
    async def sleep_ns(self, ns: float) -> None: ...
    def irq_line(self, name: str) -> bool: ...  # a wired interrupt's level: "eventq", "gerror"


async def mmio_write64(plat: Platform, offset: int, value: int) -> None:
    """A 64-bit register as two 32-bit accesses, low half first (permitted by the SMMU)."""
    await plat.mmio_write32(offset, value & 0xFFFF_FFFF)
    await plat.mmio_write32(offset + 4, value >> 32)


async def mmio_read64(plat: Platform, offset: int) -> int:
    lo = await plat.mmio_read32(offset)
    return lo | (await plat.mmio_read32(offset + 4)) << 32


async def poll32(plat: Platform, offset: int, want: int, mask: int = 0xFFFF_FFFF, *,
                 timeout_ns: float, interval_ns: float = 20.0, what: str = "") -> int:
    """Read until (value & mask) == want; raise SmmuTimeout with the last value otherwise."""
    deadline = plat.now_ns() + timeout_ns
    while True:
        val = await plat.mmio_read32(offset)
        if val & mask == want:
            return val
        if plat.now_ns() >= deadline:
            raise SmmuTimeout(
                f"{what or hex(offset)}: read {val:#010x}, waiting for {want:#010x} under mask "
                f"{mask:#010x}, gave up after {timeout_ns:g} ns")
        await plat.sleep_ns(interval_ns)
