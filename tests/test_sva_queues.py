"""The driver's command and event queues against the functional model."""

from __future__ import annotations

import asyncio

import pytest

from models.arch import registers as R
from models.arch.commands import CmdCfgiSte, CmdSync, CmdTlbiNhAsid, UnknownCommand
from models.arch.events import EventID
from models.smmu.config import DEFAULT
from models.smmu.port import TransReq
from tb.platform.model import ModelPlatform
from tb.sva.arm.arm_smmu_v3.device import ArmSmmuV3
from tb.sva.arm.arm_smmu_v3.evtq import EventQueue
from tb.sva.platform import SmmuTimeout


def up(cfg=DEFAULT):
    plat = ModelPlatform(cfg)
    smmu = ArmSmmuV3(plat)
    asyncio.run(smmu.device_reset())
    return plat, smmu


def test_batches_wrap_the_queue():
    plat, smmu = up()
    q = smmu.cmdq_drv
    before = q.prod
    cmds = [CmdTlbiNhAsid(ASID=i) for i in range(300)]  # > 256 slots, > 4 batches of 64
    asyncio.run(q.issue(cmds))
    # 300 commands + one SYNC after the last batch: the 256-entry queue wrapped once.
    assert q.prod == R.q_inc(before, q.shift, 301)
    assert R.q_wrap(q.prod, q.shift) != R.q_wrap(before, q.shift)
    assert plat.regs.hw_value("CMDQ_CONS") == q.prod
    assert q.stats.by_opcode["CmdTlbiNhAsid"] == 300


def test_illegal_command_is_skipped_and_acknowledged():
    plat, smmu = up()
    q = smmu.cmdq_drv
    bad = UnknownCommand.from_int(0x7F)  # opcode 0x7F is not defined: CERROR_ILL
    asyncio.run(q.issue([CmdCfgiSte(StreamID=1), bad, CmdCfgiSte(StreamID=2)]))
    assert q.stats.errors == {"CERROR_ILL": 1}
    gerror = plat.regs.hw_value("GERROR")
    assert gerror == plat.regs.hw_value("GERRORN")  # acknowledged
    assert plat.regs.hw_value("CMDQ_CONS") & ((2 << q.shift) - 1) == q.prod
    # The bad slot now holds a CMD_SYNC.
    slot = q.base + R.q_index(q.prod - 3, q.shift) * 16
    assert isinstance(CmdSync.from_bytes(plat.mem.read(slot, 16)), CmdSync)


def test_sync_times_out_when_the_queue_is_disabled():
    _, smmu = up()
    asyncio.run(smmu._write_sync("CR0", "CR0ACK", 0))
    smmu.cmdq_drv.timeout_ns = 2000
    with pytest.raises(SmmuTimeout, match="CMD_SYNC timeout"):
        asyncio.run(smmu.cmdq_drv.sync())


def test_event_queue_drain_and_overflow():
    plat, smmu = up()
    evq = EventQueue(plat, smmu.evtq.base, smmu.evtq.shift)
    # Unattached streams abort silently; a SID under an invalid L1 descriptor (no leaf yet)
    # is recorded as C_BAD_STREAMID, because Linux sets CR2.RECINVSID.
    sid = 0xFF00
    for _ in range(3):
        plat.model.translate(TransReq(sid=sid, addr=0x1000))
    events = asyncio.run(evq.drain())
    assert [e.EventID for e in events] == [EventID.C_BAD_STREAMID] * 3
    assert all(e.StreamID == sid for e in events)
    # Fill past the 128-entry queue: the overflow is noticed and acknowledged.
    for _ in range((1 << smmu.evtq.shift) + 5):
        plat.model.translate(TransReq(sid=sid, addr=0x1000))
    events = asyncio.run(evq.drain())
    assert len(events) == 1 << smmu.evtq.shift
    assert evq.stats.overflows == 1
    prod = plat.regs.hw_value("EVENTQ_PROD")
    cons = plat.regs.hw_value("EVENTQ_CONS")
    assert (prod ^ cons) >> 31 == 0  # OVACKFLG == OVFLG


def test_gerror_handler_reports_and_acknowledges_an_event_queue_abort():
    plat, smmu = up()
    plat.mem.add_fault(smmu.evtq.base, smmu.evtq.base + smmu.evtq.size_bytes, on="w")
    plat.model.translate(TransReq(sid=0xFF00, addr=0x1000))  # a record that cannot be written
    assert asyncio.run(smmu.handle_gerror()) == ["EVENTQ_ABT_ERR"]
    assert plat.regs.hw_value("GERROR") == plat.regs.hw_value("GERRORN") != 0
    assert asyncio.run(smmu.handle_gerror()) == []  # nothing active any more


def test_gerror_handler_repairs_the_command_queue():
    plat, smmu = up()
    q = smmu.cmdq_drv
    plat.mem.write(q._slot(q.prod), UnknownCommand.from_int(0x7F).to_bytes())
    q.prod = R.q_inc(q.prod, q.shift)
    asyncio.run(smmu.plat.mmio_write32(R.OFFSETS["CMDQ_PROD"], q.prod))
    assert plat.regs.hw_value("CMDQ_CONS") != q.prod  # stopped on the bad command
    assert asyncio.run(smmu.handle_gerror()) == ["CMDQ_ERR"]
    assert q.stats.errors == {"CERROR_ILL": 1}
    asyncio.run(q.sync())  # the repaired slot is consumed, the queue runs again
    assert plat.regs.hw_value("CMDQ_CONS") & ((2 << q.shift) - 1) == q.prod


def test_an_aborted_command_fetch_is_retried_without_reading_the_entry():
    """CERROR_ABT (§5.6): Linux's arm_smmu_cmdq_skip_err only acknowledges, and the SMMU
    fetches again at CONS. The driver must not read the entry itself: the memory that aborted
    the SMMU's fetch may abort the CPU's read too (it did, before the driver stopped reading
    it). While the memory still aborts, the retry fails again; once it answers, the queue
    runs."""
    plat, smmu = up()
    q = smmu.cmdq_drv
    fault = plat.mem.add_fault(smmu.cmdq.base, smmu.cmdq.base + smmu.cmdq.size_bytes, on="r")
    plat.mem.write(q._slot(q.prod), CmdSync().to_bytes(), source="cpu")
    q.prod = R.q_inc(q.prod, q.shift)
    asyncio.run(plat.mmio_write32(R.OFFSETS["CMDQ_PROD"], q.prod))
    assert R.CMDQ_CONS.from_int(plat.regs.hw_value("CMDQ_CONS")).ERR == R.CmdqErr.CERROR_ABT
    assert asyncio.run(smmu.handle_gerror()) == ["CMDQ_ERR"]  # no ExternalAbort here
    assert plat.regs.hw_value("CMDQ_CONS") & ((2 << q.shift) - 1) != q.prod  # aborted again
    plat.mem.remove_fault(fault)
    assert asyncio.run(smmu.handle_gerror()) == ["CMDQ_ERR"]
    assert plat.regs.hw_value("CMDQ_CONS") & ((2 << q.shift) - 1) == q.prod
    assert q.stats.errors == {"CERROR_ABT": 2}


def test_cmdq_err_with_cerror_none_leaves_the_queue_alone():
    """Linux's arm_smmu_cmdq_skip_err returns at once for CERROR_NONE: an active CMDQ_ERR
    whose CONS.ERR names no error (software toggled GERRORN itself) must not get the command
    at CONS overwritten with a CMD_SYNC."""
    plat, smmu = up()
    q = smmu.cmdq_drv
    slot = q._slot(q.prod)
    cmd = CmdTlbiNhAsid(ASID=5).to_bytes()
    plat.mem.write(slot, cmd, source="cpu")
    q.skip_err(q.prod)  # CONS with ERR = CERROR_NONE
    assert plat.mem.read(slot, len(cmd)) == cmd
    assert q.stats.errors == {"CERROR_NONE": 1}
