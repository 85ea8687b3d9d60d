"""Reference model: the cache envelope and invalidation (reference §5.2, §9 items 8 and 22)."""

from __future__ import annotations

import pytest

from models.arch import commands as C
from models.arch.events import EventID
from models.arch.ste import STE, StreamConfig
from models.smmu.caches import UnpredictedOutcome
from models.smmu.port import Result, TransReq, TransResp
from models.smmu.xlate import Outcome
from tests.test_smmu_model_helpers import ASID, Bench, PageTable

SID = 3
VA = 0x7000_1000


def pas(b: Bench, va: int = VA, sid: int = SID) -> set[int]:
    """The output addresses of every acceptable outcome (0 for a fault)."""
    return {o.resp.pa for o in b.smmu.predict(TransReq(sid=sid, addr=va))}


def env(policy: str = "cached") -> tuple[Bench, PageTable]:
    b = Bench(policy=policy)
    pt = b.pt()
    b.s1_stream(SID, b.cd(pt))
    return b, pt


def test_stale_pte_until_tlbi_va() -> None:
    b, pt = env()
    pt.map(VA, 0xA000)
    assert pas(b) == {0xA000}  # nothing cached yet: only memory counts
    assert b.xlate(SID, VA).pa == 0xA000
    pt.map(VA, 0xB000)
    assert pas(b) == {0xA000, 0xB000}
    assert b.xlate(SID, VA).pa == 0xA000  # the model answers like a caching SMMU
    b.cmd(C.CmdTlbiNhVa(ASID=ASID + 1, Addr=VA), C.CmdSync())  # another ASID: no effect
    assert pas(b) == {0xA000, 0xB000}
    b.cmd(C.CmdTlbiNhVa(ASID=ASID, Addr=VA + 0x1000), C.CmdSync())  # another page
    assert pas(b) == {0xA000, 0xB000}
    b.cmd(C.CmdTlbiNhVa(ASID=ASID, Addr=VA, Leaf=1), C.CmdSync())
    assert pas(b) == {0xB000}
    assert b.xlate(SID, VA).pa == 0xB000


def test_fresh_policy_reads_memory() -> None:
    b, pt = env(policy="fresh")
    pt.map(VA, 0xA000)
    assert b.xlate(SID, VA).pa == 0xA000
    pt.map(VA, 0xB000)
    assert b.xlate(SID, VA).pa == 0xB000
    assert pas(b) == {0xA000, 0xB000}


def test_tlbi_asid_keeps_global_entries() -> None:
    b, pt = env()
    pt.map(VA, 0xA000, nG=0)
    pt.map(VA + 0x1000, 0xC000, nG=1)
    b.xlate(SID, VA)
    b.xlate(SID, VA + 0x1000)
    pt.map(VA, 0xB000, nG=0)
    pt.map(VA + 0x1000, 0xD000, nG=1)
    b.cmd(C.CmdTlbiNhAsid(ASID=ASID), C.CmdSync())
    assert pas(b) == {0xA000, 0xB000}
    assert pas(b, VA + 0x1000) == {0xD000}
    b.cmd(C.CmdTlbiNhVaa(Addr=VA), C.CmdSync())  # every ASID and global at VA
    assert pas(b) == {0xB000}


def test_global_entry_serves_other_asid() -> None:
    b, pt = env()
    pt.map(VA, 0xA000, nG=0)
    b.xlate(SID, VA)
    pt.map(VA, 0xB000, nG=0)
    b.s1_stream(SID + 1, b.cd(pt, ASID=ASID + 7))
    assert pas(b, sid=SID + 1) == {0xA000, 0xB000}


@pytest.mark.parametrize("aset", [0, 1])
def test_global_entry_matches_only_its_aset(aset: int) -> None:
    """§3.17.1: "Global TLB entries with ASET == 0 do not match lookups through configurations
    with ASET == 1" and the converse; §3.17: CMD_TLBI_* invalidate matching entries
    "regardless of their ASET value"."""
    b = Bench(policy="cached")
    pt = b.pt()
    b.s1_stream(SID, b.cd(pt, ASET=aset))
    pt.map(VA, 0xA000, nG=0)
    b.xlate(SID, VA)
    pt.map(VA, 0xB000, nG=0)
    b.s1_stream(SID + 1, b.cd(pt, ASID=ASID + 7, ASET=1 - aset))
    b.s1_stream(SID + 2, b.cd(pt, ASID=ASID + 8, ASET=aset))
    assert pas(b, sid=SID + 1) == {0xB000}           # the other set: memory only
    assert pas(b, sid=SID + 2) == {0xA000, 0xB000}   # the same set: the global entry may hit
    b.cmd(C.CmdTlbiNhVa(ASID=ASID + 7, Addr=VA), C.CmdSync())
    assert pas(b) == {0xB000}


def test_entry_made_under_affd_may_hold_af() -> None:
    """A TLB entry made through a CD with AFFD=1 may hold AF=1 (its AF check was done at the
    walk): after CD.AFFD goes to 0 with only CFGI_CD, the old entry may still translate, and
    the fresh walk gives F_ACCESS (§3.13.1, access flag faults)."""
    b = Bench(policy="cached")
    pt = b.pt()
    ctx = b.s1_stream(SID, b.cd(pt, AFFD=1))
    pt.map(VA, 0xA000, AF=0)
    assert b.xlate(SID, VA).pa == 0xA000
    b.mem.write(ctx, b.cd(pt, AFFD=0).to_bytes())
    b.cmd(C.CmdCfgiCd(StreamID=SID, SubstreamID=0), C.CmdSync())
    outs = b.smmu.predict(TransReq(sid=SID, addr=VA))
    assert {o.resp.pa for o in outs if o.resp.result == Result.OK_TRANSLATED} == {0xA000}
    assert EventID.F_ACCESS in {o.event.EventID for o in outs if o.event is not None}


@pytest.mark.parametrize("cmd", [C.CmdTlbiNhAll(), C.CmdTlbiNsnhAll()])
def test_tlbi_all(cmd: C.Command) -> None:
    b, pt = env()
    pt.map(VA, 0xA000, nG=0)
    b.xlate(SID, VA)
    pt.map(VA, 0xB000)
    b.cmd(C.CmdTlbiNhAll(VMID=1), C.CmdSync())
    assert pas(b) == {0xA000, 0xB000}  # VMID 1 holds nothing here
    b.cmd(cmd, C.CmdSync())
    assert pas(b) == {0xB000}


@pytest.mark.parametrize("leaf,expect", [(1, {0xA000, 0xB000}), (0, {0xB000})])
def test_walk_cache_and_leaf(leaf: int, expect: set[int]) -> None:
    b, pt = env()
    pt.map(VA, 0xA000)
    b.xlate(SID, VA)
    # Point the L2 entry at a new L3 table (the old one still maps VA to 0xA000).
    old_l2 = b.mem.read64(pt.desc_addr(VA, 2))
    new_l3 = b.alloc.alloc(4096)
    pt.set_raw(VA, 2, (old_l2 & ~0xFFFF_FFFF_F000) | new_l3)
    pt.map(VA, 0xB000)
    assert pas(b) == {0xA000, 0xB000}
    b.cmd(C.CmdTlbiNhVa(ASID=ASID, Addr=VA, Leaf=leaf), C.CmdSync())
    assert pas(b) == expect


def test_faults_are_not_cached() -> None:
    b, pt = env()
    r = b.xlate(SID, VA)
    assert r.fault == EventID.F_TRANSLATION
    pt.map(VA, 0xA000)
    assert pas(b) == {0xA000}


def test_ste_cache_and_cfgi_ste() -> None:
    b, pt = env()
    pt.map(VA, 0xA000)
    b.xlate(SID, VA)
    b.write_ste(SID, STE(V=1, Config=StreamConfig.BYPASS))
    results = {o.resp.result for o in b.smmu.predict(TransReq(SID, addr=VA))}
    assert results == {Result.OK_TRANSLATED, Result.OK_BYPASS}
    b.cmd(C.CmdCfgiSte(StreamID=SID + 1), C.CmdSync())
    assert len(b.smmu.predict(TransReq(SID, addr=VA))) == 2
    b.cmd(C.CmdCfgiSte(StreamID=SID, Leaf=1), C.CmdSync())
    assert pas(b) == {VA}


def test_invalid_ste_is_not_cached() -> None:
    b, _pt = env()
    b.write_ste(SID, STE(V=0))
    assert b.xlate(SID, VA).fault == EventID.C_BAD_STE
    b.write_ste(SID, STE(V=1, Config=StreamConfig.BYPASS))
    assert pas(b) == {VA}


@pytest.mark.parametrize("cmd", [
    C.CmdCfgiCd(StreamID=SID, SubstreamID=0, Leaf=1), C.CmdCfgiCdAll(StreamID=SID),
    C.CmdCfgiSte(StreamID=SID, Leaf=1), C.CmdCfgiSteRange(StreamID=SID & ~3, Range=1),
    C.cfgi_all()])
def test_cd_cache_and_invalidations(cmd: C.Command) -> None:
    b, pt = env()
    pt.map(VA, 0xA000)
    b.xlate(SID, VA)
    ctx = STE.from_bytes(b.mem.read(b.ste_addr(SID), 64)).S1ContextPtr
    b.mem.write(ctx, b.cd(pt, V=0).to_bytes())
    b.cmd(C.CmdTlbiNhAsid(ASID=ASID), C.CmdSync())  # the TLB no longer hides the CD
    faults = {o.resp.fault for o in b.smmu.predict(TransReq(SID, addr=VA))}
    assert faults == {0, EventID.C_BAD_CD}
    b.cmd(C.CmdCfgiCd(StreamID=SID, SubstreamID=1), C.CmdSync())  # another CD index
    assert len(b.smmu.predict(TransReq(SID, addr=VA))) == 2
    b.cmd(cmd, C.CmdSync())
    assert {o.resp.fault for o in b.smmu.predict(TransReq(SID, addr=VA))} == {EventID.C_BAD_CD}


def test_commit_rejects_unpredicted_outcome() -> None:
    b, pt = env()
    pt.map(VA, 0xA000)
    req = TransReq(SID, addr=VA)
    with pytest.raises(UnpredictedOutcome):
        b.smmu.commit(req, Outcome(TransResp(Result.OK_TRANSLATED, pa=0xB000)))
    (good,) = b.smmu.predict(req)
    b.smmu.commit(req, good)
    assert len(b.smmu.caches) > 0


def test_scoreboard_invalidations_wait_for_sync() -> None:
    b, pt = env()
    pt.map(VA, 0xA000)
    req = TransReq(SID, addr=VA)
    (first,) = b.smmu.predict(req)
    b.smmu.commit(req, first)
    pt.map(VA, 0xB000)
    b.smmu.apply_command(C.CmdTlbiNhVa(ASID=ASID, Addr=VA))
    assert pas(b) == {0xA000, 0xB000}  # consumed, not yet guaranteed
    b.smmu.apply_command(C.CmdSync())
    assert pas(b) == {0xB000}


def test_repeated_prediction_sees_an_invalidation_without_any_store() -> None:
    """The envelope remembers a request's runs while nothing changed (caches.runs); an
    invalidation applied with no memory store between (the scoreboard applies a command
    when its CMD_SYNC completes, long after it was written) must still narrow it (§5.2)."""
    b, pt = env()
    pt.map(VA, 0xA000)
    assert b.xlate(SID, VA).pa == 0xA000
    pt.map(VA, 0xB000)
    assert pas(b) == {0xA000, 0xB000}
    assert pas(b) == {0xA000, 0xB000}  # (served from the memo)
    b.smmu.caches.invalidate(C.CmdTlbiNhVa(ASID=ASID, Addr=VA, Leaf=1))
    assert pas(b) == {0xB000}
