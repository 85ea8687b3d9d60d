"""Reference model: ATC invalidation (reference fault-paths.md §3.2, smmuv3.md §5.5 and §5.6,
§9 item 20's CERROR_ATC_INV_SYNC). Expected values are written from those rules, not read off
the model."""

from __future__ import annotations

from models.arch import commands as C
from models.arch import registers as R
from models.smmu.atc import AtcInvRequest
from models.smmu.config import DEFAULT
from tests.test_smmu_model_helpers import Bench

ATS = DEFAULT.replace(ATS=1)


def cons(b: Bench) -> R.CMDQ_CONS:
    return R.CMDQ_CONS.from_int(b.r32("CMDQ_CONS"))


def test_atc_inv_goes_out_with_its_fields() -> None:
    """§5.5: StreamID, SubstreamID with SSV, Global, the address and Size (span 4 KiB·2^Size)."""
    b = Bench(ATS)
    b.cmd(C.CmdAtcInv(StreamID=7, SSV=1, SubstreamID=9, Global=1, Addr=0x12_3000, Size=2))
    (r,) = b.smmu.atc.requests
    assert (r.sid, r.ssv, r.ssid, r.glob, r.addr, r.size, r.span) == \
        (7, 1, 9, 1, 0x12_3000, 2, 16 << 10)


def test_a_sync_completes_only_after_earlier_atc_invalidations() -> None:
    """§5.3: a CMD_SYNC completes once the ATC_INVs before it are complete; a SYNC before an
    ATC_INV does not wait for it. CONS stays at the waiting SYNC, and its interrupt comes
    only with its completion."""
    b = Bench(ATS)
    b.cmd(C.CmdSync(), C.CmdAtcInv(StreamID=1, Size=52), C.CmdAtcInv(StreamID=2, Size=0),
          C.CmdSync(CS=C.SyncCS.SIG_IRQ))
    assert cons(b).RD == 3 and b.smmu.cmd_sync_irqs == 0
    first, second = b.smmu.atc.requests
    assert b.smmu.atc_inv_complete(second.itag)
    assert cons(b).RD == 3  # still one to go
    assert b.smmu.atc_inv_complete(first.itag)
    assert (cons(b).RD, cons(b).ERR) == (4, R.CmdqErr.CERROR_NONE)
    assert b.smmu.cmd_sync_irqs == 1


def test_a_ur_response_completes_without_error() -> None:
    """§5.5: a UR response to the invalidation completes it (invalidation not guaranteed)."""
    b = Bench(ATS)
    b.cmd(C.CmdAtcInv(StreamID=1, Size=52), C.CmdSync())
    (r,) = b.smmu.atc.requests
    assert b.smmu.atc_inv_complete(r.itag, ur=True)
    assert (cons(b).RD, cons(b).ERR) == (2, R.CmdqErr.CERROR_NONE)
    assert not b.smmu.irq_gerror


def test_a_completion_that_never_comes_is_cerror_atc_inv_sync_at_the_sync() -> None:
    """§5.6: CERROR_ATC_INV_SYNC, CONS pointing at the SYNC, GERROR.CMDQ_ERR; Linux's
    recovery only acknowledges it and the SYNC is retried, which now completes. A completion
    arriving after the timeout is ignored."""
    b = Bench(ATS)
    b.cmd(C.CmdTlbiNhAll(), C.CmdAtcInv(StreamID=1, Size=52), C.CmdSync(), C.CmdTlbiNhAll())
    assert cons(b).RD == 2
    (r,) = b.smmu.atc_inv_timeout()
    c = cons(b)
    assert (c.RD, c.ERR) == (2, R.CmdqErr.CERROR_ATC_INV_SYNC)
    assert R.GERROR.from_int(b.r32("GERROR")).CMDQ_ERR != \
        R.GERROR.from_int(b.r32("GERRORN")).CMDQ_ERR
    assert b.smmu.irq_gerror
    b.w32("GERRORN", b.r32("GERROR"))
    assert cons(b).RD == 4 and not b.smmu.irq_gerror
    assert not b.smmu.atc_inv_complete(r.itag)  # late
    assert b.smmu.atc_inv_timeout() == []  # nothing waits


def test_atc_inv_is_ignored_with_smmuen_0() -> None:
    """§5.5: ignored when SMMUEN=0: nothing goes out, and the SYNC does not wait."""
    b = Bench(ATS, enable=False)
    b.cmd(C.CmdAtcInv(StreamID=1, Size=52), C.CmdSync())
    assert b.smmu.atc.requests == [] and cons(b).RD == 2


def test_the_range_and_scope_of_a_request() -> None:
    """§5.5: the address is aligned down to the span; Size=52 is everything; SSV=0 reaches
    every entry of the stream, PASID-tagged ones too; SSV=1 those of its PASID, and with
    Global the global entries of every PASID."""
    r = AtcInvRequest(0, sid=4, ssv=0, ssid=0, glob=0, addr=0x5_4321, size=4)  # 64 KiB
    assert r.covers(0x5_0000) and r.covers(0x5_F000) and not r.covers(0x6_0000)
    assert not r.covers(0x4_F000) and r.covers(0x4_F000, 0x2000)
    assert r.matches(4, None) and r.matches(4, 17) and not r.matches(5, None)
    p = AtcInvRequest(1, sid=4, ssv=1, ssid=17, glob=0, addr=0, size=52)
    assert p.everything and p.covers(1 << 60) and p.matches(4, 17)
    assert not p.matches(4, 18) and not p.matches(4, None)
    g = AtcInvRequest(2, sid=4, ssv=1, ssid=17, glob=1, addr=0, size=0)
    assert g.matches(4, 18) and not g.matches(4, None)


def test_a_stopped_queue_waits_for_nothing() -> None:
    """With CMDQEN=0 no SYNC is in progress, so no timeout can raise an error; re-enabled, the
    SYNC at CONS waits again for the invalidation sent before."""
    b = Bench(ATS)
    b.cmd(C.CmdAtcInv(StreamID=1, Size=52), C.CmdSync())
    b.w32("CR0", R.CR0(EVENTQEN=1, SMMUEN=1).to_int())
    assert b.smmu.atc_inv_timeout() == []
    assert not b.smmu.irq_gerror
    b.w32("CR0", R.CR0(CMDQEN=1, EVENTQEN=1, SMMUEN=1).to_int())
    assert cons(b).RD == 1
    (r,) = b.smmu.atc.requests
    assert b.smmu.atc_inv_complete(r.itag)
    assert cons(b).RD == 2
