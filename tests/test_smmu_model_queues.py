"""Reference model: command and event queues (reference §1.5, §5.3, §5.6, §9 items 18, 20-23)."""

from __future__ import annotations

import pytest

from models.arch import commands as C
from models.arch import registers as R
from models.arch.ste import STE, StreamConfig
from models.smmu.config import DEFAULT
from tests.test_smmu_model_helpers import Bench

CMDQ_ERR = R.GERROR(CMDQ_ERR=1).to_int()


def cons(b: Bench) -> R.CMDQ_CONS:
    return R.CMDQ_CONS.from_int(b.r32("CMDQ_CONS"))


def ack_gerror(b: Bench) -> None:
    b.w32("GERRORN", b.r32("GERROR"))


ILLEGAL = {
    "unknown opcode": (DEFAULT, C.UnknownCommand(Opcode=0x07)),
    "SYNC CS=0b11": (DEFAULT, C.CmdSync(CS=0b11)),
    "reserved bit (SSV on CFGI_CD)": (
        DEFAULT, (C.CmdCfgiCd(StreamID=1).to_int() | 1 << 11).to_bytes(16, "little")),
    "SSec=1": (DEFAULT, C.CmdCfgiSte(StreamID=1, SSec=1)),
    "RESUME terminate-only": (DEFAULT, C.CmdResume(StreamID=1, STAG=3)),
    "STALL_TERM terminate-only": (DEFAULT, C.CmdStallTerm(StreamID=1)),
    "PRI_RESP without PRI": (DEFAULT, C.CmdPriResp(StreamID=1, Resp=2)),
    "PRI_RESP Resp=0b11": (DEFAULT.replace(ATS=1, PRI=1), C.CmdPriResp(StreamID=1, Resp=3)),
    "ATC_INV without ATS": (DEFAULT, C.CmdAtcInv(StreamID=1, Size=52)),
    "TLBI_EL2_ALL without Hyp": (DEFAULT, C.CmdTlbiEl2All()),
    "TLBI_S12_VMALL without S2": (DEFAULT, C.CmdTlbiS12Vmall()),
    "CFGI_CD without S1": (DEFAULT.replace(S1P=0), C.CmdCfgiCd(StreamID=1)),
}


@pytest.mark.parametrize("name", ILLEGAL)
def test_cerror_ill_and_recovery(name: str) -> None:
    cfg, bad = ILLEGAL[name]
    b = Bench(cfg)
    b.cmd(C.CmdCfgiSte(StreamID=1), C.CmdSync(), bad, C.CmdSync(CS=C.SyncCS.SIG_IRQ))
    c = cons(b)
    assert (c.RD, c.ERR) == (2, R.CmdqErr.CERROR_ILL)  # frozen on the bad command
    assert b.r32("GERROR") & CMDQ_ERR and b.smmu.irq_gerror
    assert b.smmu.cmd_sync_irqs == 0
    b.smmu.process_commands()
    assert cons(b).RD == 2  # nothing moves while the error is active
    b.mem.write(b.cmdq + 16 * 2, C.CmdSync().to_bytes())  # Linux: replace with a SYNC
    ack_gerror(b)
    assert cons(b).RD == 4 and not b.smmu.irq_gerror
    assert b.smmu.cmd_sync_irqs == 1


def test_legal_feature_commands() -> None:
    b = Bench(DEFAULT.replace(ATS=1, PRI=1, STALL_MODEL=R.StallModel.STALL_AND_TERMINATE,
                              STALL_MAX=1))
    b.cmd(C.CmdPriResp(StreamID=1, Resp=2), C.CmdAtcInv(StreamID=1, Size=52),
          C.CmdResume(StreamID=1, STAG=2), C.CmdStallTerm(StreamID=1),
          C.CmdPrefetchConfig(StreamID=1), C.CmdPrefetchAddr(StreamID=1, Addr=0x1000),
          C.CmdTlbiNhAll(), C.CmdTlbiNsnhAll(), C.cfgi_all(), C.CmdSync())
    # The SYNC waits for the ATC invalidation before it (models/smmu/atc.py).
    assert (cons(b).RD, cons(b).ERR) == (9, 0)
    (req,) = b.smmu.atc.requests
    assert b.smmu.atc_inv_complete(req.itag)
    assert (cons(b).RD, cons(b).ERR) == (10, 0)
    assert len(b.smmu.cmdq.pri_responses) == 1 and len(b.smmu.cmdq.atc_invalidations) == 1


def test_cerror_abt() -> None:
    b = Bench()
    fault = b.mem.add_fault(b.cmdq + 16, b.cmdq + 32, on="r")
    b.cmd(C.CmdSync(), C.CmdSync(), C.CmdSync())
    c = cons(b)
    assert (c.RD, c.ERR) == (1, R.CmdqErr.CERROR_ABT)
    b.mem.remove_fault(fault)
    ack_gerror(b)
    assert cons(b).RD == 3


def test_error_toggles_once_per_acknowledgement() -> None:
    b = Bench()
    b.cmd(C.UnknownCommand(Opcode=0x7F))
    g1 = b.r32("GERROR") & CMDQ_ERR
    ack_gerror(b)  # acknowledged but not repaired: fails again and toggles back
    assert b.r32("GERROR") & CMDQ_ERR != g1
    assert b.smmu.irq_gerror


def test_sync_msi_into_the_sync_slot() -> None:
    b = Bench(DEFAULT.replace(MSI=1))
    slot = b.cmdq + 16 * 1  # the SYNC will be entry 1
    b.cmd(C.CmdCfgiSte(StreamID=0),
          C.CmdSync(CS=C.SyncCS.SIG_IRQ, MSIData=0, MSIAddr=slot))
    assert b.mem.read32(slot) == 0  # Linux polls the first word of its SYNC becoming 0
    b.cmd(C.CmdSync(CS=C.SyncCS.SIG_IRQ, MSIData=0xCAFE_F00D, MSIAddr=0x2000_0000))
    assert b.mem.read32(0x2000_0000) == 0xCAFE_F00D
    assert b.smmu.cmd_sync_irqs == 2


def test_sync_without_msi_support_writes_nothing() -> None:
    b = Bench()
    b.cmd(C.CmdSync(CS=C.SyncCS.SIG_IRQ, MSIData=0x1234, MSIAddr=0x2000_0000))
    assert b.mem.read32(0x2000_0000) == 0 and b.smmu.cmd_sync_irqs == 1


def test_cmdq_wrap_and_full() -> None:
    b = Bench(cmdq_log2=2)  # 4 entries: index [1:0], wrap bit 2
    b.cmd(*[C.CmdSync()] * 3)
    assert cons(b).RD == 3
    b.cmd(*[C.CmdSync()] * 3)  # crosses the end: wrap bit set, index 2
    assert cons(b).RD == 0b110 and b.r32("CMDQ_PROD") == 0b110
    b.cmd(*[C.CmdSync()] * 4)  # a full queue: PROD index == CONS index, wraps differ
    assert cons(b).RD == 0b010 and b.smmu.cmdq.syncs == 10


# ---- event queue ----------------------------------------------------------------------------
def _bad_ste_bench(**kw: int) -> Bench:
    b = Bench(**kw)  # type: ignore[arg-type]
    b.write_ste(1, STE(V=0))
    return b


def test_event_queue_overflow() -> None:
    b = _bad_ste_bench(evtq_log2=2)
    for _ in range(4):
        b.xlate(1)
    prod = R.EVENTQ_PROD.from_int(b.r32("EVENTQ_PROD"))
    assert (prod.WR, prod.OVFLG) == (0b100, 0)  # full: index 0, wrap 1
    assert b.smmu.irq_eventq
    b.xlate(1)
    b.xlate(1)  # a second overflow before the ack is invisible
    prod = R.EVENTQ_PROD.from_int(b.r32("EVENTQ_PROD"))
    assert (prod.WR, prod.OVFLG) == (0b100, 1)
    assert len(b.events()) == 4  # drains and acks: CONS.OVACKFLG = 1
    assert not b.smmu.irq_eventq
    for _ in range(5):
        b.xlate(1)
    prod = R.EVENTQ_PROD.from_int(b.r32("EVENTQ_PROD"))
    assert (prod.WR, prod.OVFLG) == (0b000, 0)  # new overflow: toggled back
    assert len(b.events()) == 4


def test_event_queue_wrap() -> None:
    b = _bad_ste_bench(evtq_log2=2)
    for _ in range(3):
        b.xlate(1)
    assert len(b.events()) == 3
    for _ in range(3):
        b.xlate(1)
    assert b.r32("EVENTQ_PROD") == 0b110
    evs = b.events()
    assert len(evs) == 3 and all(e.StreamID == 1 for e in evs)


def test_events_discarded_while_queue_disabled() -> None:
    b = _bad_ste_bench()
    b.w32("CR0", R.CR0(CMDQEN=1, SMMUEN=1).to_int())
    b.xlate(1)
    assert b.r32("EVENTQ_PROD") == 0 and b.smmu.evtq.dropped == 1


def test_event_queue_write_abort() -> None:
    b = _bad_ste_bench()
    b.mem.add_fault(b.evtq, b.evtq + 32, on="w")
    b.xlate(1)
    assert b.r32("EVENTQ_PROD") == 0
    assert b.r32("GERROR") & R.GERROR(EVENTQ_ABT_ERR=1).to_int()


def test_bypass_stream_has_no_event() -> None:
    b = Bench()
    b.write_ste(2, STE(V=1, Config=StreamConfig.BYPASS))
    assert b.xlate(2, 0x1000).pa == 0x1000 and b.events() == []


def test_event_queue_abort_stops_delivery_until_acknowledged() -> None:
    """§7.2.1: the queue is writable only when "No unacknowledged GERROR.EVENTQ_ABT_ERR
    condition exists"; unwritable, "events not associated with stalled faults are silently
    discarded" (and no overflow: §7.4 counts only a full queue)."""
    b = _bad_ste_bench()
    fault = b.mem.add_fault(b.evtq, b.evtq + 32, on="w")
    b.xlate(1)
    b.mem.remove_fault(fault)
    b.xlate(1)
    b.xlate(1)
    assert b.r32("EVENTQ_PROD") == 0
    assert b.mem.read(b.evtq, 64) == bytes(64)
    ack_gerror(b)
    b.xlate(1)
    assert b.r32("EVENTQ_PROD") == 1 and len(b.events()) == 1


def test_queue_bases_aligned_to_their_size() -> None:
    """§6.3.26 (CMDQ_BASE), §6.3.29 (EVENTQ_BASE): "The effective base address is aligned by
    the SMMU to the larger of the queue size in bytes or 32 bytes, ignoring the
    least-significant bits of ADDR as required"."""
    b = _bad_ste_bench()
    b.w32("CR0", 0)
    b.w64("CMDQ_BASE", R.CMDQ_BASE(ADDR=b.cmdq | 0xE0, LOG2SIZE=4).to_int())  # 256 bytes
    b.w64("EVENTQ_BASE", R.EVENTQ_BASE(ADDR=b.evtq | 0x1E0, LOG2SIZE=4).to_int())  # 512
    b.w32("CR0", R.CR0(CMDQEN=1, EVENTQEN=1, SMMUEN=1).to_int())
    b.cmd(C.CmdSync())                                   # written at the aligned base
    assert cons(b).RD == 1 and not cons(b).ERR
    b.xlate(1)
    assert len(b.events()) == 1                          # read from the aligned base
