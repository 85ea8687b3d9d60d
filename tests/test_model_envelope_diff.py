"""The memoized cache envelope against the reference enumeration, on random traffic.

Two predictors share one memory: ``memo=True`` (what the scoreboard uses) and ``memo=False``
(every cached/fresh combination replayed, the architecture's envelope as first written).
Random worlds, requests, table mutations with and without invalidation, SMMUEN toggles, SMMU
event-record writes and bus-error ranges appearing and disappearing go through both; for every
request the two must allow the same outcomes, the same one first, and for each outcome commit
the same fills; after every commit and invalidation both caches must hold the same entries in
the same order. CPU writes without invalidation over words the SMMU read lately make stale
table, leaf, STE and CD copies of every kind; bus errors come and go on such words too, and
the stream-table registers change now and then.
"""

from __future__ import annotations

import contextlib
import random
from collections import defaultdict
from collections.abc import Hashable
from typing import Any

import pytest

from models.arch.commands import CmdSync
from models.arch.events import EventID
from models.memory import ExternalAbort, FaultRange, PhysicalMemory
from models.smmu.caches import CacheEnvelope
from models.smmu.port import TransReq
from models.smmu.smmu import SmmuModel
from models.smmu.xlate import Outcome
from tb.cli.model_bench import EVTQ, EVTQ_SLOTS, observe, setup_regs, traffic
from tb.dut_config import CONFIGS
from tests.test_smmu_model_helpers import Bench

Summary = dict[Outcome, frozenset[tuple[str, Hashable, Any]]]


def summary(runs: list[tuple[Outcome, list]]) -> Summary:
    """What a commit depends on: each allowed outcome and every fill a run giving it makes."""
    fills: dict[Outcome, set] = defaultdict(set)
    for oc, run_fills in runs:
        fills[oc].update(run_fills)
    return {oc: frozenset(f) for oc, f in fills.items()}


def contents(env: CacheEnvelope) -> dict[tuple[str, Hashable], tuple]:
    """Cache entries by (kind, key), versions oldest first: their order ranks the outcomes
    (the first uses the newest copies), so it must match too."""
    out = {(kind, k): tuple(v) for kind, store in env.config.items() for k, v in store.items()}
    out.update({("TLB", k): tuple(v) for k, v in env.tlb.items()})
    out.update({("WALK", k): tuple(v) for k, v in env.walk.items()})
    return {k: v for k, v in out.items() if v}


def scribble(rng: random.Random, mem: PhysicalMemory, read: list[tuple[int, int]],
             undo: list[tuple[int, bytes]]) -> None:
    """A CPU write, without invalidation, of a word the SMMU read lately (a descriptor, or a
    piece of an STE or CD, likely cached) copied over another such word: a table descriptor
    pointing at another table, a leaf moving, an STE or CD changing shape."""
    def word() -> int:
        addr, size = rng.choice(read)
        return addr + 8 * rng.randrange(size // 8)
    dst = word()
    try:
        undo.append((dst, mem.peek(dst, 8)))
        mem.write(dst, mem.peek(word(), 8), source="cpu")
    except ExternalAbort:  # an injected bus error there: nothing is written
        pass


def replay(seed: int, params: str, *, translations: int, contexts: int = 6) -> dict[str, int]:
    cfg = CONFIGS[params]
    mem = PhysicalMemory(pa_bits=cfg.pa_bits)
    fast = SmmuModel(cfg, mem, predictor=True, memo=True)
    ref = SmmuModel(cfg, mem, predictor=True, memo=False)
    rng = random.Random(seed ^ 0x5EED)
    stats = {"requests": 0, "several": 0, "fewer_runs": 0, "evt": 0}
    world = None
    regions: list[tuple[int, int]] = []
    read: list[tuple[int, int]] = []
    mem.enable_log()
    undo: list[tuple[int, bytes]] = []
    faults: list[FaultRange] = []
    regs: dict[str, int] = {}

    def unscribble() -> None:
        """Writes into the tables last until the next mutation, which needs the World's
        tables as it made them."""
        while undo:
            mem.poke(*undo.pop())
    for kind, what in traffic(seed, cfg, mem, translations=translations, contexts=contexts,
                              churn=True, faults=True, before_mutate=unscribble):
        where = f"seed {seed}, {params}, request {stats['requests']}"
        if kind in ("world", "enable"):
            if kind == "world":
                world = what
                regions = sorted(world.alloc.allocations.items())  # type: ignore[union-attr]
            enable = kind == "world" or bool(what)
            for m in (fast, ref):
                setup_regs(m, world, enable=enable, **regs)  # type: ignore[arg-type]
        elif kind == "inval":
            for m in (fast, ref):
                for cmd in what:  # type: ignore[union-attr]
                    m.apply_command(cmd)
                m.apply_command(CmdSync())
            assert contents(fast.caches) == contents(ref.caches), where
        elif kind == "req":
            got, want = fast.predict_runs(what), ref.predict_runs(what)  # type: ignore[arg-type]
            assert summary(got) == summary(want), f"{where}: {what}"
            # The first outcome (newest cached copies) is what a caching SMMU answers.
            assert got[0][0] == want[0][0], f"{where}: {what}"
            stats["requests"] += 1
            stats["several"] += len(summary(want)) > 1
            stats["fewer_runs"] += len(got) < len(want)
            matching = observe(rng, want)
            for m, runs in ((fast, got), (ref, want)):
                m.commit_runs(what, runs, matching)  # type: ignore[arg-type]
            assert contents(fast.caches) == contents(ref.caches), f"{where}: {what}"
            read = [(a.addr, a.size) for a in mem.take_log()
                    if a.op == "r" and a.source == "smmu" and not a.faulted] or read
            if rng.random() < 0.05:
                scribble(rng, mem, read, undo)
            if rng.random() < 0.03:
                # A bus error appears on a word the SMMU read lately (a cached structure's
                # home, or one a stage of a fresh run read), for a while.
                structs = [r for r in read if r[1] > 8]  # STEs and CDs, half of the time
                addr, size = rng.choice(structs if structs and rng.random() < 0.5 else read)
                addr += 8 * rng.randrange(size // 8)
                faults.append(mem.add_fault(addr, addr + 8, on=rng.choice(("r", "rw"))))
            if faults and rng.random() < 0.1:
                mem.remove_fault(faults.pop(rng.randrange(len(faults))))
            if rng.random() < 0.02:
                # The stream table seen through other registers (what a stage depends on
                # besides memory): fewer StreamIDs, RECINVSID on or off.
                regs = {"recinvsid": rng.random() < 0.5, "shrink": rng.randrange(3)}
                for m in (fast, ref):
                    setup_regs(m, world, **regs)  # type: ignore[arg-type]
            if matching[0].event is not None and rng.random() < 0.5:
                # The SMMU's own record write (not a table change), now and then into
                # table memory too: whatever either model remembers must notice.
                addr = EVTQ + 32 * (stats["evt"] % EVTQ_SLOTS)
                if rng.random() < 0.2:
                    addr = rng.choice(regions)[0]
                    undo.append((addr, mem.peek(addr, 32)))  # until the next mutation
                with contextlib.suppress(ExternalAbort):  # a bus error there: nothing written
                    mem.write(addr, matching[0].event.to_bytes(), source="smmu")
                stats["evt"] += 1
    return stats


# (seed, parameter set, contexts): each reaches stale copies (several outcomes) within its run
@pytest.mark.parametrize("seed,params,contexts", [
    (1, "default", 6), (2, "default", 6), (8, "mixed", 6), (4, "nosub", 6), (10, "default", 64),
    (5, "mixed", 24), (3, "httu", 6),
])
def test_memoized_envelope_equals_reference(seed: int, params: str, contexts: int) -> None:
    stats = replay(seed, params, translations=600, contexts=contexts)
    # The replay must reach the cases that matter: stale copies (several outcomes) and
    # requests where the shortcuts run less than the reference.
    assert stats["several"] and stats["fewer_runs"], f"seed {seed}: {stats}"


def test_remembered_fetches_follow_memory_and_bus_errors() -> None:
    """The STE and CD stages an all-fresh run remembers are redone once what they read
    changes: a bus error appearing or going, the STE or the CD rewritten."""
    b = Bench()
    pt = b.pt()
    va = 0x7000_1000
    ctx = b.s1_stream(3, b.cd(pt))
    pt.map(va, 0xA000)
    req = TransReq(sid=3, addr=va)

    def pas() -> set[int]:
        got = {oc.resp.pa or oc.resp.fault for oc in b.smmu.predict(req)}
        assert got == {oc.resp.pa or oc.resp.fault for oc, _ in b.smmu.caches.every_run(req)}
        return got

    assert pas() == {0xA000}
    ste = b.ste_addr(3)
    for addr, eid in ((ste, EventID.F_STE_FETCH), (ctx, EventID.F_CD_FETCH)):
        fault = b.mem.add_fault(addr + 8, addr + 16)
        assert pas() == {eid}
        b.mem.remove_fault(fault)
        assert pas() == {0xA000}
        b.mem.add_fault(addr, addr + 8)
        assert pas() == {eid}
        b.mem.clear_faults()
        assert pas() == {0xA000}
    b.mem.write(ctx, b.cd(pt, V=0).to_bytes(), source="cpu")
    assert pas() == {EventID.C_BAD_CD}
    b.mem.poke(ctx, b.cd(pt).to_bytes())
    assert pas() == {0xA000}
    b.mem.write64(ste, 0, source="cpu")  # STE.V=0
    assert pas() == {EventID.C_BAD_STE}
