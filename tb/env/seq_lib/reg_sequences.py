"""Register-port sequences: reset values, constrained-random access, and the Linux bring-up.

Sequences produce stimulus only; checking is the register scoreboard's job.
"""

from __future__ import annotations

import random

from pyuvm import uvm_sequence

from models.arch import registers as R
from tb.agents.reg_agent import RegItem
from tb.env.config import env_cfg
from tb.platform.rtl import CocotbPlatform
from tb.sva.arm.arm_smmu_v3.device import ArmSmmuV3, BringUpReport

# Offsets that must read as zero and ignore writes: holes in page 0 and page 1, the page-0
# offsets of the page-1-only queue pointers, and the last word of each page.
UNMAPPED = (0x030, 0x03C, 0x04C, 0x058, 0x0A8, 0x0AC, 0x0C8, 0x0CC, 0x0E0, 0x0FC, 0x100,
            0x400, 0x0FFC, 0x8000, 0xFFFC, 0x10000, 0x10098, 0x1009C, 0x100A0, 0x100B0,
            0x1FFFC)
# Registers RAZ in this implementation but architecturally present.
ZERO_REGS = (0x008, 0x010, 0x040, 0x048)


def all_offsets() -> list[int]:
    offs = []
    for r in R.REGISTERS.values():
        offs.append(r.offset)
        if r.width == 64:
            offs.append(r.offset + 4)
    return sorted(set(offs) | set(ZERO_REGS))


class RegSeqBase(uvm_sequence):
    async def rd(self, addr: int) -> RegItem:
        it = RegItem.rd(addr)
        await self.start_item(it)
        await self.finish_item(it)
        return it

    async def wr(self, addr: int, value: int) -> RegItem:
        it = RegItem.wr32(addr, value)
        await self.start_item(it)
        await self.finish_item(it)
        return it

    async def raw_write(self, addr: int, data: bytes) -> RegItem:
        it = RegItem("wr", write=True, addr=addr, data=data)
        await self.start_item(it)
        await self.finish_item(it)
        return it

    async def poll(self, addr: int, want: int, mask: int = 0xFFFF_FFFF,
                   limit: int = 200) -> int:
        for _ in range(limit):
            v = (await self.rd(addr)).value
            if v & mask == want:
                return v
        raise AssertionError(f"register {addr:#x} never reached {want:#x} (mask {mask:#x})")


class RegResetSeq(RegSeqBase):
    """Read every register, the RAZ ones and a set of holes, straight out of reset."""

    async def body(self) -> None:
        for off in all_offsets() + list(UNMAPPED):
            await self.rd(off)


class RegRandomSeq(RegSeqBase):
    """Constrained-random register traffic: writes of every kind to every offset (read-only,
    guarded, unmapped), enable changes with ACK polling, GBPA updates with and without the
    Update bit, and malformed accesses."""

    def __init__(self, name: str = "reg_random", ops: int = 1500) -> None:
        super().__init__(name)
        self.ops = ops

    def _value(self, rng: random.Random) -> int:
        kind = rng.randrange(5)
        if kind == 0:
            return 0
        if kind == 1:
            return 0xFFFF_FFFF
        if kind == 2:
            return 1 << rng.randrange(32)
        return rng.getrandbits(32)

    async def body(self) -> None:
        rng = random.Random(env_cfg().seed)
        offs = all_offsets()
        cr0, ack = R.OFFSETS["CR0"], R.OFFSETS["CR0ACK"]
        irq, irqack = R.OFFSETS["IRQ_CTRL"], R.OFFSETS["IRQ_CTRLACK"]
        gbpa = R.OFFSETS["GBPA"]
        upd = R.GBPA.field("Update").mask
        for _ in range(self.ops):
            op = rng.choices(range(8), weights=(30, 15, 12, 6, 8, 8, 5, 5))[0]
            if op == 0:      # write anything anywhere in the map, then read it back
                off = rng.choice(offs)
                await self.wr(off, self._value(rng))
                await self.rd(off)
            elif op == 1:
                await self.rd(rng.choice(offs))
            elif op == 2:    # an enable change, acknowledged before going on (as Linux does)
                await self.wr(cr0, rng.getrandbits(5) | rng.getrandbits(32) & ~0x1F)
                want = (await self.rd(cr0)).value
                await self.poll(ack, want)
            elif op == 3:
                await self.wr(irq, rng.getrandbits(32))
                await self.poll(irqack, (await self.rd(irq)).value)
            elif op == 4:    # GBPA: proper update, write without Update, or write while busy
                v = self._value(rng)
                await self.wr(gbpa, v | upd if rng.random() < 0.7 else v & ~upd)
                if rng.random() < 0.3:
                    await self.wr(gbpa, self._value(rng) | upd)
                await self.poll(gbpa, 0, upd)
            elif op == 5:    # unmapped offset anywhere in the two pages
                off = rng.choice(UNMAPPED) if rng.random() < 0.5 else rng.randrange(0, 0x20000, 4)
                await self.wr(off, self._value(rng))
                await self.rd(off)
            elif op == 6:    # malformed: misaligned or partial-strobe writes
                off = rng.choice(offs)
                if rng.random() < 0.5:
                    await self.raw_write(off + rng.choice((1, 2)), self._value(rng).to_bytes(
                        4, "little")[:2])
                else:
                    await self.raw_write(off, self._value(rng).to_bytes(4, "little")[
                        :rng.choice((1, 2, 3))])
                await self.rd(off)
            else:            # misaligned read
                it = RegItem.rd(rng.choice(offs) + rng.choice((1, 2, 3)), length=1)
                await self.start_item(it)
                await self.finish_item(it)


class BringUpSeq(RegSeqBase):
    """The driver's probe and Linux device reset, running on the RTL through this sequence."""

    def __init__(self, name: str = "bringup", bypass: bool = False) -> None:
        super().__init__(name)
        self.bypass = bypass
        self.report: BringUpReport | None = None
        self.smmu: ArmSmmuV3 | None = None
        self.platform: CocotbPlatform | None = None

    async def body(self) -> None:
        plat = CocotbPlatform(self, env_cfg().bfm, env_cfg().mem, env_cfg().dma,
                              btm=bool(env_cfg().smmu.BTM))
        self.platform = plat
        self.smmu = ArmSmmuV3(plat)
        await self.smmu.probe()
        self.report = await self.smmu.device_reset(bypass=self.bypass)
