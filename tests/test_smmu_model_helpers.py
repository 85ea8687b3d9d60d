"""A bench for the reference SMMU model: tables built in memory with the models.arch encoders.

Not a test module itself (no tests); the ``test_smmu_model_*`` modules import it. Expected
values in the tests are written by hand from the reference, never taken from the model.
"""

from __future__ import annotations

from typing import Any

from models.arch import commands as C
from models.arch import registers as R
from models.arch.cd import CD, L1CD
from models.arch.events import Event, decode_event
from models.arch.pgtable import (
    AccessPerm,
    L1BlockDescriptor,
    L2BlockDescriptor,
    PageDescriptor,
    Shareability,
    TableDescriptor,
)
from models.arch.ste import L1STD, STE, S1DefaultSubstream, StreamConfig
from models.memory import FrameAllocator, PhysicalMemory
from models.smmu.config import DEFAULT, SmmuConfig
from models.smmu.port import TransReq, TransResp
from models.smmu.smmu import SmmuModel

OFF = R.OFFSETS
MAIR = 0x0000_00FF_4404_00FF  # Attr0 0xFF, Attr1 0x00, Attr2 0x04, Attr3 0x44, Attr4 0xFF
ASID = 5


class PageTable:
    """AArch64 4 KiB-granule stage-1 tables; tables are allocated on demand."""

    def __init__(self, mem: PhysicalMemory, alloc: FrameAllocator, t0sz: int = 16) -> None:
        self.mem = mem
        self.alloc = alloc
        self.ia = 64 - t0sz
        self.start = 4 - (self.ia - 12 + 8) // 9
        self.root = alloc.alloc(4096)

    def _index(self, va: int, level: int) -> int:
        shift = 12 + 9 * (3 - level)
        bits = self.ia - shift if level == self.start else 9
        return (va >> shift) & ((1 << bits) - 1)

    def desc_addr(self, va: int, level: int) -> int:
        """Address of the descriptor for ``va`` at ``level``, creating tables above it."""
        table = self.root
        for lvl in range(self.start, level):
            addr = table + self._index(va, lvl) * 8
            raw = self.mem.read64(addr)
            if raw & 0b11 == 0b11:
                table = TableDescriptor.from_int(raw).NextTableAddr
            else:
                table = self.alloc.alloc(4096)
                self.mem.write64(addr, TableDescriptor(Valid=1, NextTableAddr=table).to_int())
        return table + self._index(va, level) * 8

    def map(self, va: int, pa: int, level: int = 3, **fields: int) -> int:
        cls: Any = {1: L1BlockDescriptor, 2: L2BlockDescriptor, 3: PageDescriptor}[level]
        f = {"Valid": 1, "AF": 1, "AP": AccessPerm.RW_ALL, "SH": Shareability.ISH, "nG": 1,
             **fields}
        if level == 3:
            f.setdefault("Type", 1)
        addr = self.desc_addr(va, level)
        self.mem.write64(addr, cls(OutputAddr=pa, **f).to_int())
        return addr

    def set_raw(self, va: int, level: int, raw: int) -> int:
        addr = self.desc_addr(va, level)
        self.mem.write64(addr, raw)
        return addr

    def table_attrs(self, va: int, level: int, **fields: int) -> None:
        """Rewrite the table descriptor read at ``level`` for ``va`` with extra fields."""
        addr = self.desc_addr(va, level)
        desc = TableDescriptor.from_int(self.mem.read64(addr))
        for k, v in fields.items():
            setattr(desc, k, v)
        self.mem.write64(addr, desc.to_int())


class Bench:
    """An enabled SMMU model with a stream table, command and event queues."""

    def __init__(self, cfg: SmmuConfig = DEFAULT, *, two_level: bool = False, split: int = 8,
                 log2size: int | None = None, recinvsid: int = 1, cmdq_log2: int = 4,
                 evtq_log2: int = 4, policy: str = "cached", enable: bool = True,
                 split_reg: int | None = None) -> None:
        """``split`` lays out the tables; ``split_reg`` (default: the same) is what
        STRTAB_BASE_CFG.SPLIT is programmed with."""
        self.cfg = cfg
        self.mem = PhysicalMemory(48)
        self.alloc = FrameAllocator(self.mem, 0x1000_0000, 0x4000_0000)
        self.smmu = SmmuModel(cfg, self.mem, policy=policy)  # type: ignore[arg-type]
        self.two_level = two_level
        self.split = split
        self.log2size = cfg.SIDSIZE if log2size is None else log2size
        if two_level:
            self.strtab = self.alloc.alloc(max(64, 8 << max(self.log2size - split, 0)))
        else:
            self.strtab = self.alloc.alloc(64 << self.log2size)
        self.l2: dict[int, int] = {}
        self.cmdq_log2, self.evtq_log2 = cmdq_log2, evtq_log2
        self.cmdq = self.alloc.alloc(16 << cmdq_log2)
        self.evtq = self.alloc.alloc(32 << evtq_log2)
        self.w64("STRTAB_BASE", R.STRTAB_BASE(ADDR=self.strtab, RA=1).to_int())
        self.w32("STRTAB_BASE_CFG", R.STRTAB_BASE_CFG(
            LOG2SIZE=self.log2size,
            SPLIT=(split if split_reg is None else split_reg) if two_level else 0,
            FMT=R.StrtabFmt.TWO_LEVEL if two_level else R.StrtabFmt.LINEAR).to_int())
        self.w64("CMDQ_BASE", R.CMDQ_BASE(ADDR=self.cmdq, LOG2SIZE=cmdq_log2).to_int())
        self.w64("EVENTQ_BASE", R.EVENTQ_BASE(ADDR=self.evtq, LOG2SIZE=evtq_log2).to_int())
        self.w32("CR2", R.CR2(RECINVSID=recinvsid).to_int())
        self.w32("IRQ_CTRL", R.IRQ_CTRL(GERROR_IRQEN=1, EVENTQ_IRQEN=1).to_int())
        self.w32("CR0", R.CR0(CMDQEN=1, EVENTQEN=1, SMMUEN=int(enable)).to_int())

    # -- registers --
    def w32(self, name: str, value: int) -> None:
        self.smmu.mmio_write32(OFF[name], value)

    def r32(self, name: str) -> int:
        return self.smmu.mmio_read32(OFF[name])

    def w64(self, name: str, value: int) -> None:
        self.w32(name, value & 0xFFFF_FFFF)
        self.smmu.mmio_write32(OFF[name] + 4, value >> 32)

    # -- stream table --
    def ste_addr(self, sid: int) -> int:
        if not self.two_level:
            return self.strtab + 64 * sid
        l1 = sid >> self.split
        if l1 not in self.l2:
            self.l2[l1] = self.alloc.alloc(64 << self.split)
            self.mem.write64(self.strtab + 8 * l1,
                             L1STD(Span=self.split + 1, L2Ptr=self.l2[l1]).to_int())
        return self.l2[l1] + 64 * (sid & ((1 << self.split) - 1))

    def write_ste(self, sid: int, ste: STE) -> int:
        addr = self.ste_addr(sid)
        self.mem.write(addr, ste.to_bytes())
        return addr

    def s1_stream(self, sid: int, cd: CD | None = None, **ste_fields: int) -> int:
        """A stage-1 STE with a single CD (or a CD table when S1CDMax is given); returns CD PA."""
        cdmax = ste_fields.get("S1CDMax", 0)
        ctx = self.alloc.alloc(max(64, 64 << cdmax))
        f = {"V": 1, "Config": StreamConfig.S1_TRANS, "S1ContextPtr": ctx,
             "S1DSS": S1DefaultSubstream.SSID0, **ste_fields}
        self.write_ste(sid, STE(**f))
        if cd is not None:
            self.mem.write(ctx, cd.to_bytes())
        return ctx

    # -- context descriptors and page tables --
    def cd(self, pt: PageTable | None = None, **fields: int) -> CD:
        f = {"V": 1, "AA64": 1, "T0SZ": 16, "TG0": 0, "EPD1": 1, "IPS": R.OAS.PA48, "R": 1,
             "A": 1, "ASID": ASID, "MAIR": MAIR, "SH0": 3, "IR0": 1, "OR0": 1,
             "TTB0": pt.root if pt is not None else 0, **fields}
        return CD(**f)

    def pt(self, t0sz: int = 16) -> PageTable:
        return PageTable(self.mem, self.alloc, t0sz)

    # -- queues --
    def cmd(self, *cmds: Any) -> None:
        """Append commands (objects or raw 16 bytes) at CMDQ_PROD and publish them."""
        prod = self.r32("CMDQ_PROD")
        for c in cmds:
            idx = R.q_index(prod, self.cmdq_log2)
            raw = c if isinstance(c, bytes) else c.to_bytes()
            self.mem.write(self.cmdq + 16 * idx, raw)
            prod = R.q_inc(prod, self.cmdq_log2)
        self.w32("CMDQ_PROD", prod)

    def sync(self) -> None:
        self.cmd(C.CmdSync())

    def events(self) -> list[Event]:
        """Drain the event queue (records between CONS and PROD), acknowledging overflow."""
        prod = self.smmu.mmio_read32(OFF["EVENTQ_PROD"])
        cons = self.smmu.mmio_read32(OFF["EVENTQ_CONS"])
        out = []
        while not R.q_empty(prod, cons, self.evtq_log2):
            idx = R.q_index(cons, self.evtq_log2)
            out.append(decode_event(self.mem.read(self.evtq + 32 * idx, 32)))
            cons = R.q_inc(cons, self.evtq_log2) & ((2 << self.evtq_log2) - 1)
        ovf = R.EVENTQ_PROD.from_int(prod).OVFLG
        self.smmu.mmio_write32(OFF["EVENTQ_CONS"], R.EVENTQ_CONS(RD=cons, OVACKFLG=ovf).to_int())
        return out  # type: ignore[return-value]

    def xlate(self, sid: int, addr: int = 0, *, ssv: int = 0, ssid: int = 0, rnw: int = 1,
              ind: int = 0, pnu: int = 0) -> TransResp:
        return self.smmu.translate(TransReq(sid=sid, ssv=ssv, ssid=ssid, addr=addr, rnw=rnw,
                                            ind=ind, pnu=pnu))


def l1cd(ptr: int) -> L1CD:
    return L1CD(V=1, L2Ptr=ptr)
