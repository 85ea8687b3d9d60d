"""`make bench`: run BenchTest on both simulators, write build/bench/bench.json, print a table.

Cycle counts come from simulation and are the same on both simulators (checked here).
Wall-clock figures are from this one run and sit under ``cosim``: each co-simulation speed
next to cocotb's floor measured in the same simulation (``floor_cycles_per_s``, Python awaiting
every edge of the idle DUT), as a ratio to it, which is what survives a noisy machine.
"""

from __future__ import annotations

import json
import os
import sys
import time

from tb.cli.args import ArgumentParser
from tb.cli.bench_plots import plot
from tb.cli.runner import ROOT, SIMULATORS, build_dir, run

OUT = ROOT / "build" / "bench" / "bench.json"
TARGETS = {"hit_throughput_per_cycle": ">= 1.0", "hit_latency_cycles.max": "<= 1",
           "memory_latency.walks_in_flight_max": ">= 16", "miss_walk_cached.read_beats": "== 1",
           "cmd_sync_after_tlbi_cycles": "< 20",
           "flagship.iotlb_hit_rate": "> 0.9",
           "same_page_misses.read_beats": "== miss_latency.start_level_0.config_cached.read_beats",
           "cosim.hit_stream_translations_per_s.ratio_to_floor": ">= 0.25 (Verilator)"}


def _flat(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def main(argv: list[str] | None = None) -> int:
    # make bench takes no variables (both simulators, the default parameter set, seed 1): a
    # stray argument is a one-line error before anything runs.
    ArgumentParser(prog="bench", description=__doc__.splitlines()[0]).parse_args(argv)
    results: dict[str, dict] = {}
    for sim in SIMULATORS:
        tdir = build_dir(sim, "default") / "BenchTest"
        t0 = time.monotonic()
        try:
            run(sim, "BenchTest", 1, test_dir=tdir, log_file_name="sim.log")
        except (RuntimeError, SystemExit) as exc:
            print(f"bench: {sim} failed: {exc}", file=sys.stderr)
            return 1
        results[sim] = json.loads((tdir / "bench.json").read_text())
        results[sim]["wall_s"] = round(time.monotonic() - t0, 1)
    flat = {sim: _flat(r) for sim, r in results.items()}
    keys = list(flat[SIMULATORS[0]])
    mismatch = [k for k in keys if not (k.startswith("cosim.") or k == "wall_s")
                and flat[SIMULATORS[0]][k] != flat[SIMULATORS[1]].get(k)]
    # Replaced whole (a temporary file renamed over it), only once both runs have succeeded.
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_name(f".{OUT.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"per_simulator": results, "targets": TARGETS,
                               "cycle_counts_differ": mismatch}, indent=2) + "\n")
    os.replace(tmp, OUT)
    w = max(map(len, keys)) + 2
    print(f"{'figure':<{w}}{'verilator':>12}{'icarus':>12}  target")
    for k in keys:
        print(f"{k:<{w}}{flat['verilator'][k]!s:>12}{flat['icarus'].get(k)!s:>12}  "
              f"{TARGETS.get(k, '')}")
    print(f"written: {OUT}")
    for png in plot(results[SIMULATORS[0]], OUT.parent):
        print(f"plot: {png}")
    if mismatch:
        print(f"bench: cycle counts differ between simulators: {mismatch}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
