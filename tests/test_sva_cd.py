"""The driver's STE and CD update protocols against the functional model."""

from __future__ import annotations

import asyncio

from models.arch.cd import CD
from models.arch.commands import CmdCfgiCd, CmdCfgiSte, CmdPrefetchConfig
from models.arch.events import EventID
from models.arch.ste import S1Format
from models.smmu.config import DEFAULT
from models.smmu.port import Result, TransReq
from tb.platform.model import ModelPlatform
from tb.stimgen.pagetable import PageTable, leaf_descriptor
from tb.sva.arm.arm_smmu_v3.cd import QUIET, CdTable, ContextDesc
from tb.sva.arm.arm_smmu_v3.device import ArmSmmuV3
from tb.sva.arm.arm_smmu_v3.evtq import EventQueue

SID = 0x1234
VA, PA = 0x7F00_0000_1000, 0x8_1234_5000
TCR = {"T0SZ": 16, "TG0": 0, "IR0": 1, "OR0": 1, "SH0": 3, "EPD1": 1, "IPS": 5}
MAIR = 0x0000_BBFF_440C_0400


class Rig:
    def __init__(self, s1cdmax: int) -> None:
        self.plat = ModelPlatform(DEFAULT)
        self.smmu = ArmSmmuV3(self.plat)
        asyncio.run(self.smmu.device_reset())
        self.cdt = CdTable(self.plat, self.smmu.cmdq_drv, s1cdmax, cd2l=True, sids=lambda: [SID])
        self.pt = PageTable(self.plat.mem, self.plat.dma, 16)
        self.pt.map(VA, 3, leaf_descriptor(3, PA, AP=0b01, AttrIndx=4))
        asyncio.run(self.smmu.write_ste(SID, self.smmu.s1_ste(self.cdt)))
        self.evtq = EventQueue(self.plat, self.smmu.evtq.base, self.smmu.evtq.shift)

    def ctx(self, asid: int) -> ContextDesc:
        return ContextDesc(asid=asid, ttbr=self.pt.root, tcr=TCR, mair=MAIR, shared=True)

    def xlate(self, ssid: int, va: int = VA):
        return self.plat.model.translate(TransReq(sid=SID, ssv=1, ssid=ssid, addr=va))

    def events(self):
        return [e.EventID for e in asyncio.run(self.evtq.drain())]

    def commands(self) -> list:
        return self.smmu.cmdq_drv.stats.by_opcode


def test_two_level_cd_table_with_lazy_leaves():
    rig = Rig(s1cdmax=16)
    assert rig.cdt.s1fmt == S1Format.TWO_LEVEL_64K and rig.cdt.n_l1 == 64
    assert rig.xlate(0x2345).result == Result.ABORT  # no leaf: L1CD.V=0
    assert rig.events() == [EventID.C_BAD_SUBSTREAMID]
    asyncio.run(rig.cdt.write(0x2345, rig.ctx(7)))
    r = rig.xlate(0x2345)
    assert (r.result, r.pa, r.attr) == (Result.OK_TRANSLATED, PA, 0xFF)
    cd = CD.from_bytes(rig.plat.mem.read(asyncio.run(rig.cdt.cd_addr(0x2345)), 64))
    assert (cd.V, cd.ASID, cd.ASET, cd.R, cd.A, cd.TTB0, cd.MAIR) == (1, 7, 0, 1, 1,
                                                                      rig.pt.root, MAIR)
    assert len(rig.cdt.leaves) == 1


def test_cd_cases_asid_change_quiet_and_remove():
    rig = Rig(s1cdmax=4)
    assert rig.cdt.s1fmt == S1Format.LINEAR
    asyncio.run(rig.cdt.write(3, rig.ctx(7)))
    assert rig.xlate(3).result == Result.OK_TRANSLATED
    asyncio.run(rig.cdt.write(3, rig.ctx(9)))           # (3) live: only the ASID changes
    cd = CD.from_bytes(rig.plat.mem.read(asyncio.run(rig.cdt.cd_addr(3)), 64))
    assert (cd.V, cd.ASID, cd.TTB0) == (1, 9, rig.pt.root)
    asyncio.run(rig.cdt.write(3, QUIET))                 # (4) quiet: silent aborts
    rig.events()
    r = rig.xlate(3, VA + 0x5000)
    assert (r.result, r.fault) == (Result.ABORT, EventID.F_TRANSLATION)
    assert rig.events() == []                             # R=0: nothing recorded
    asyncio.run(rig.cdt.write(3, None))                  # (5) remove
    assert rig.xlate(3).result == Result.ABORT
    assert rig.events() == [EventID.C_BAD_CD]


def test_ste_update_protocol_commands():
    rig = Rig(s1cdmax=2)
    ops = rig.commands()
    # write_ste: CFGI_STE + SYNC twice, then an unsynchronised PREFETCH_CONFIG.
    assert ops[CmdCfgiSte.__name__] == 2 and ops[CmdPrefetchConfig.__name__] == 1
    before = ops.get(CmdCfgiCd.__name__, 0)
    asyncio.run(rig.cdt.write(1, rig.ctx(5)))
    assert ops[CmdCfgiCd.__name__] - before == 2  # dw1..3 then dw0, each invalidated


def test_detach_writes_ste_dw0_first():
    """An abort/bypass STE (detach) goes dw0 first, then dw1..7, then one CFGI_STE + SYNC, as
    Linux v5's arm_smmu_write_strtab_ent writes its bypass/fault STE; a translating STE goes
    dw1..7 first (the other order)."""
    rig = Rig(s1cdmax=2)
    addr = rig.smmu.ste_addr(SID)
    order: list[int] = []
    write64 = rig.plat.mem.write64

    def spy(a: int, v: int, **kw) -> None:
        if addr <= a < addr + 64:
            order.append((a - addr) // 8)
        write64(a, v, **kw)

    rig.plat.mem.write64 = spy  # type: ignore[method-assign]
    ops = rig.commands()
    before = ops[CmdCfgiSte.__name__]
    asyncio.run(rig.smmu.write_ste(SID, rig.smmu.unattached_ste()))
    assert order == list(range(8)) and ops[CmdCfgiSte.__name__] - before == 1
    assert rig.xlate(1).result == Result.ABORT
    order.clear()
    asyncio.run(rig.smmu.write_ste(SID, rig.smmu.s1_ste(rig.cdt)))
    assert order == [1, 2, 3, 4, 5, 6, 7, 0]
