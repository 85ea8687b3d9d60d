"""The random stimulus, fuzzed STEs and CDs included, reaches every error path the SMMU
records (tb/env/coverage.py ERROR_EVENTS), on the model: the same worlds and requests drive the
RTL's random test, whose scoreboard compares each record. F_TRANSL_FORBIDDEN needs CR0.ATSCHK,
which only the RTL's random sequence sets (reached there on the `pcie` set)."""

from __future__ import annotations

from collections import Counter

from models.arch.events import EventID
from tb.cli.model_bench import run
from tb.dut_config import CONFIGS
from tb.env.coverage import ERROR_EVENTS


def reach(params: str, seed: int, n: int) -> tuple[Counter, Counter, int]:
    """Event records by EventID name: all, and those of requests to fuzzed streams (and, as
    "walk:<result or EventID>", of requests aimed at fuzzed page-table entries); and the
    number of fuzzed streams the world was built with (seen at the first request, before
    any mutation)."""
    seen: Counter[str] = Counter()
    fuzz: Counter[str] = Counter()
    n_fuzz: list[int] = []

    def count(world, req, oc) -> None:
        if not n_fuzz:
            n_fuzz.append(sum(1 for s in world.streams.values() if s.kind == "fuzz"))
        if getattr(req, "kind", "") == "hole/fuzz":  # (injected requests have none)
            what = EventID(oc.event.EventID).name if oc.event is not None else \
                oc.resp.result.name
            fuzz[f"walk:{what}"] += 1
        if oc.event is None:
            return
        name = EventID(oc.event.EventID).name
        seen[name] += 1
        st = world.streams.get(req.sid)
        if st is not None and st.kind == "fuzz":
            fuzz[name] += 1

    run(seed, CONFIGS[params], translations=n, contexts=6, churn=False, memo=True,
        faults=True, on_outcome=count)
    return seen, fuzz, n_fuzz[0]


def test_random_stimulus_reaches_every_error_path() -> None:
    seen: Counter[str] = Counter()
    fuzz: Counter[str] = Counter()
    streams = 0
    # Two worlds per set: a world's two fuzzed streams get a small share of the traffic.
    for params in ("default", "pcie"):
        for seed in (1, 2):
            s, f, k = reach(params, seed, 6000)
            seen += s
            fuzz += f
            streams += k
    missing = set(ERROR_EVENTS) - set(seen) - {"F_TRANSL_FORBIDDEN"}
    assert not missing, f"never recorded: {sorted(missing)}; seen {dict(seen)}"
    assert streams >= 8
    # The fuzzed structures get past the STE's checks: CD and substream checks fire too.
    assert {"C_BAD_CD", "C_BAD_SUBSTREAMID"} <= set(fuzz), dict(fuzz)
    # Fuzzed page-table entries fault in more than one way, and some translate.
    walks = {k for k in fuzz if k.startswith("walk:")}
    assert "walk:F_TRANSLATION" in walks and len(walks) >= 3, dict(fuzz)
