"""The random stimulus, fuzzed STEs and CDs included, reaches every error path the SMMU
records (tb/env/coverage.py ERROR_EVENTS), on the model: the same worlds and requests drive the
RTL's random test, whose scoreboard compares each record. F_TRANSL_FORBIDDEN needs CR0.ATSCHK,
which only the RTL's random sequence sets (reached there on the `pcie` set)."""

from __future__ import annotations

import random
from collections import Counter

from models.arch.commands import CmdSync
from models.arch.events import EventID
from models.memory import PhysicalMemory
from models.smmu.smmu import SmmuModel
from tb.cli.model_bench import EVTQ, EVTQ_SLOTS, observe, setup_regs, traffic
from tb.dut_config import CONFIGS
from tb.env.coverage import ERROR_EVENTS


def reach(params: str, seed: int, n: int) -> tuple[Counter, Counter, int]:
    """Event records by EventID name: all, and those of requests to fuzzed streams; and the
    number of fuzzed streams the world was built with."""
    cfg = CONFIGS[params]
    mem = PhysicalMemory(pa_bits=cfg.pa_bits)
    model = SmmuModel(cfg, mem, predictor=True)
    rng = random.Random(seed ^ 0x5EED)
    seen: Counter[str] = Counter()
    fuzz: Counter[str] = Counter()
    world = None
    evt = n_fuzz = 0
    for kind, what in traffic(seed, cfg, mem, translations=n, faults=True):
        if kind == "world":
            world = what
            n_fuzz = sum(1 for s in world.streams.values() if s.kind == "fuzz")  # type: ignore[union-attr]
            setup_regs(model, world)  # type: ignore[arg-type]
        elif kind == "enable":
            setup_regs(model, world, enable=bool(what))  # type: ignore[arg-type]
        elif kind == "req":
            runs = model.predict_runs(what)  # type: ignore[arg-type]
            got = observe(rng, runs)
            model.commit_runs(what, runs, got)  # type: ignore[arg-type]
            ev = got[0].event
            if ev is None:
                continue
            name = EventID(ev.EventID).name
            seen[name] += 1
            st = world.streams.get(what.sid)  # type: ignore[union-attr]
            if st is not None and st.kind == "fuzz":
                fuzz[name] += 1
            mem.write(EVTQ + 32 * (evt % EVTQ_SLOTS), ev.to_bytes(), source="smmu")
            evt += 1
        elif kind == "inval":
            for cmd in what:  # type: ignore[union-attr]
                model.apply_command(cmd)
            model.apply_command(CmdSync())
    return seen, fuzz, n_fuzz


def test_random_stimulus_reaches_every_error_path() -> None:
    seen: Counter[str] = Counter()
    fuzz: Counter[str] = Counter()
    streams = 0
    for params in ("default", "pcie"):
        s, f, k = reach(params, 1, 8000)
        seen += s
        fuzz += f
        streams += k
    missing = set(ERROR_EVENTS) - set(seen) - {"F_TRANSL_FORBIDDEN"}
    assert not missing, f"never recorded: {sorted(missing)}; seen {dict(seen)}"
    assert streams >= 4
    # The fuzzed structures get past the STE's checks: CD and substream checks fire too.
    assert {"C_BAD_CD", "C_BAD_SUBSTREAMID"} <= set(fuzz), dict(fuzz)
