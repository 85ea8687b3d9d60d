"""The directed tests' harness: just enough of a driver to program the SMMU for one test.

It programs the SMMU through the register BFM and builds tables with the models/arch
encoders, without the software stack (tb/sva) on purpose: the stack, the agents and the
model-based scoreboard are checked by the directed tests' hand-derived expectations too, so a
bug shared by them cannot hide there.
"""

from __future__ import annotations

from models.arch import commands as C
from models.arch import registers as R
from models.arch.cd import CD
from models.arch.events import Event, decode_event
from models.arch.geometry import PAGE, desc_addr
from models.arch.pgtable import (
    L1BlockDescriptor,
    L2BlockDescriptor,
    PageDescriptor,
    TableDescriptor,
)
from models.arch.ste import STE, StreamConfig
from models.memory import PhysicalMemory
from models.smmu.port import Result
from tb.bfm.smmu_bfm import SmmuBfm
from tb.bfm.xlate_port import XPort

OK, BYPASS, ABORT, RAZWI = Result.OK_TRANSLATED, Result.OK_BYPASS, Result.ABORT, Result.RAZ_WI
MAIR = 0x0000_0000_0044_FF04  # attr0 Device-nGnRE, attr1 Normal WB, attr2 Normal NC

# Physical memory map of the tests
STRTAB = 0x0010_0000
CMDQ = 0x0020_0000
EVTQ = 0x0021_0000
CDTAB = 0x0030_0000
PT_POOL = 0x0100_0000


class Soft:
    """Just enough of a driver to program the SMMU for one test."""

    def __init__(self, dut, *, regport: str = "batch") -> None:
        """``regport``: the wrapper's batch register engine, which keeps cocotbext-axi's
        AxiLiteMaster's accesses and timing (tests/test_rtl.py checks the cycle counts) without
        waking Python on every edge, or "cocotbext" for the master itself."""
        self.dut = dut
        self.mem = PhysicalMemory(48)
        self.bfm = SmmuBfm(dut, self.mem, regport=regport)
        self.x = XPort(dut)
        self.pt_next = PT_POOL
        self.cmdq_log2 = 4
        self.evtq_log2 = 4
        self.cmd_prod = 0
        self.evt_cons = 0

    # -- registers ----------------------------------------------------------------------------
    async def w32(self, name: str, v: int) -> None:
        assert await self.bfm.write(R.OFFSETS[name], v.to_bytes(4, "little")) == 0

    async def w64(self, name: str, v: int) -> None:
        await self.w32(name, v & 0xFFFF_FFFF)
        assert await self.bfm.write(R.OFFSETS[name] + 4, (v >> 32).to_bytes(4, "little")) == 0

    async def r32(self, name: str) -> int:
        v, resp = await self.bfm.read32(R.OFFSETS[name])
        assert resp == 0
        return v

    async def poll(self, name: str, want: int, mask: int = 0xFFFF_FFFF, n: int = 200) -> int:
        for _ in range(n):
            v = await self.r32(name)
            if v & mask == want:
                return v
        raise AssertionError(f"{name} never reached {want:#x} (last {v:#x})")

    async def start(self, *, strtab_cfg: int | None = None, recinvsid: int = 1,
                    smmuen: int = 1, low_bits: tuple[int, int, int] = (0, 0, 0),
                    ptm: int = 0) -> None:
        """Program and enable the SMMU; ``low_bits`` are ORed into the ADDR fields of
        STRTAB_BASE, CMDQ_BASE and EVENTQ_BASE (below the alignment the SMMU applies)."""
        await self.bfm.reset()
        await self.w64("STRTAB_BASE", STRTAB | low_bits[0])
        if strtab_cfg is None:
            strtab_cfg = R.STRTAB_BASE_CFG(LOG2SIZE=6).to_int()
        await self.w32("STRTAB_BASE_CFG", strtab_cfg)
        await self.w64("CMDQ_BASE", CMDQ | low_bits[1] | self.cmdq_log2)
        await self.w64("EVENTQ_BASE", EVTQ | low_bits[2] | self.evtq_log2)
        await self.w32("CR2", R.CR2(RECINVSID=recinvsid, PTM=ptm).to_int())
        await self.w32("IRQ_CTRL", 0x5)
        cr0 = 0b1100 | smmuen
        await self.w32("CR0", cr0)
        await self.poll("CR0ACK", cr0)
        await self.poll("IRQ_CTRLACK", 0x5)

    # -- commands -------------------------------------------------------------------------------
    async def cmds(self, *cmds, wait: bool = True) -> None:
        n = 1 << self.cmdq_log2
        for c in cmds:
            idx = self.cmd_prod & (n - 1)
            self.mem.write(CMDQ + C.Command.SIZE * idx, c.to_bytes())
            self.cmd_prod = (self.cmd_prod + 1) & (2 * n - 1)
        await self.w32("CMDQ_PROD", self.cmd_prod)
        if wait:
            await self.poll("CMDQ_CONS", self.cmd_prod, mask=2 * n - 1)

    async def sync(self, *cmds) -> None:
        await self.cmds(*cmds, C.CmdSync())

    # -- events ---------------------------------------------------------------------------------
    async def events(self, expect: int = 0) -> list:
        """Every record the SMMU produced since the last call (and consume them).

        Records are written after the response that reports the fault, so wait (a bounded
        number of register reads) until `expect` records are visible.
        """
        n = 1 << self.evtq_log2
        for _ in range(50):
            prod = await self.r32("EVENTQ_PROD")
            if ((prod - self.evt_cons) & (2 * n - 1)) >= expect:
                break
        out = []
        while (self.evt_cons & (2 * n - 1)) != (prod & (2 * n - 1)):
            idx = self.evt_cons & (n - 1)
            out.append(decode_event(self.mem.read(EVTQ + Event.SIZE * idx, Event.SIZE)))
            self.evt_cons = (self.evt_cons + 1) & (2 * n - 1)
        await self.w32("EVENTQ_CONS", self.evt_cons | (prod & 0x8000_0000))
        return out

    # -- tables ---------------------------------------------------------------------------------
    def alloc(self, size: int = PAGE) -> int:
        pa = self.pt_next
        self.pt_next += max(size, PAGE)
        self.mem.write(pa, bytes(size))
        return pa

    def ste(self, sid: int, ste: STE, base: int = STRTAB) -> None:
        self.mem.write(base + STE.SIZE * sid, ste.to_bytes())

    def map(self, ttb: int, va: int, pa: int, *, level: int = 3, start: int = 0,
            **attrs) -> None:
        """Install a leaf for va at `level` (1: 1 GiB block, 2: 2 MiB block, 3: page)."""
        table = ttb
        for lvl in range(start, level):
            a = desc_addr(table, va, lvl)
            d = self.mem.read64(a)
            if not d & 1:
                nxt = self.alloc()
                d = TableDescriptor(Valid=1, NextTableAddr=nxt).to_int()
                self.mem.write64(a, d)
            table = TableDescriptor.from_int(d).NextTableAddr
        a = desc_addr(table, va, level)
        fields = {"Valid": 1, "AF": 1, "SH": 3, "AttrIndx": 1, "AP": 0b01, **attrs}
        cls = {1: L1BlockDescriptor, 2: L2BlockDescriptor, 3: PageDescriptor}[level]
        self.mem.write64(a, cls(OutputAddr=pa, **fields).to_int())

    def leaf_addr(self, ttb: int, va: int, level: int = 3, start: int = 0) -> int:
        table = ttb
        for lvl in range(start, level):
            d = self.mem.read64(desc_addr(table, va, lvl))
            table = TableDescriptor.from_int(d).NextTableAddr
        return desc_addr(table, va, level)


def cd(ttb: int, asid: int = 1, **kw) -> CD:
    fields = {"V": 1, "T0SZ": 16, "TG0": 0, "IR0": 1, "OR0": 1, "SH0": 3, "EPD1": 1,
              "IPS": 5, "AA64": 1, "R": 1, "A": 1, "ASID": asid, "TTB0": ttb, "MAIR": MAIR}
    fields.update(kw)
    return CD(**fields)


def s1_ste(ctx: int, **kw) -> STE:
    fields = {"V": 1, "Config": StreamConfig.S1_TRANS, "S1ContextPtr": ctx, "S1CIR": 1,
              "S1COR": 1, "S1CSH": 3}
    fields.update(kw)
    return STE(**fields)


async def basic(dut, **kw):
    """SMMU on, linear stream table, SID 1 with a single CD (ASID 1) over a 4-level table."""
    s = Soft(dut)
    ttb = s.alloc()
    s.mem.write(CDTAB, cd(ttb).to_bytes())
    s.ste(1, s1_ste(CDTAB))
    await s.start(**kw)
    return s, ttb


def check(rsp: dict, result: int, pa: int | None = None, fault: int = 0, **kw) -> None:
    assert rsp["result"] == result, rsp
    assert rsp["fault"] == fault, rsp
    if pa is not None:
        assert rsp["pa"] == pa, (hex(rsp["pa"]), hex(pa))
    for k, v in kw.items():
        assert rsp[k] == v, (k, rsp)


# ---------------------------------------------------------------------------------------------
