"""`make profile`: run one pyuvm test under cocotb's profiler and say where the Python time goes.

cocotb (COCOTB_ENABLE_PROFILING=1) profiles every resumption of the testbench's coroutines and
writes ``cocotb.pstat`` into the test directory. This groups its self time by the layer it is
spent in (model prediction, memory model, cocotb's scheduler and signal access, cocotbext-axi,
pyuvm, the project's BFMs, environment, stimulus and software stack), prints the groups with
their call counts, the simulator's share of the wall time, the number of coroutine resumptions
per simulated cycle, and the hottest functions.

    python -m tb.cli.profile --sim verilator --test XlateRandomTest --seed 1 [--translations N]
"""

from __future__ import annotations

import pstats
import re
import sys
from collections import Counter
from pathlib import Path

from tb.bfm.smmu_bfm import CLK_PERIOD_NS
from tb.cli import args as cli_args
from tb.cli.args import ArgumentParser
from tb.cli.runner import ROOT, build_dir, run

# (group, path pattern), first match wins; self time of builtins counts as their own group.
GROUPS = (
    ("cocotbext-axi (bus models)", r"/cocotbext/axi/"),
    ("pyuvm", r"/pyuvm/"),
    ("cocotb-coverage", r"/cocotb_coverage/"),
    ("cocotb (scheduler, triggers, signal access)", r"/cocotb(_tools)?/"),
    ("memory model (models/memory)", r"/models/memory/"),
    ("model prediction (models/smmu, models/arch)", r"/models/"),
    ("BFMs and monitors (tb/bfm)", r"/tb/bfm/"),
    ("environment and agents (tb/env, tb/agents)", r"/tb/(env|agents)/"),
    ("stimulus (tb/stimgen)", r"/tb/stimgen/"),
    ("software stack and platform (tb/sva, tb/platform)", r"/tb/(sva|platform)/"),
    ("builtins (called from any of the above)", r"^~$"),
)


def group_of(filename: str) -> str:
    for name, pat in GROUPS:
        if re.search(pat, filename):
            return name
    return "Python standard library and other"


def report(pstat: Path, wall_s: float, cycles: int, top: int = 12) -> str:
    st = pstats.Stats(str(pstat))
    self_t: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    resumes = 0
    for (filename, _line, func), (_cc, nc, tt, _ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        g = group_of(filename)
        self_t[g] += tt
        calls[g] += nc
        if filename.endswith("cocotb/task.py") and func == "_resume":
            resumes = nc
    total = sum(self_t.values())
    lines = [f"{'layer':52} {'self s':>7} {'share':>6} {'calls':>10}"]
    for g, t in self_t.most_common():
        lines.append(f"{g:52} {t:7.2f} {100 * t / total:5.1f}% {calls[g]:>10}")
    lines.append(f"{'Python, profiled':52} {total:7.2f}")
    lines.append(f"{'wall time of the test (simulator = the rest)':52} {wall_s:7.2f}")
    if cycles:
        lines.append(f"coroutine resumptions: {resumes} over {cycles} cycles "
                     f"({resumes / cycles:.1f} per cycle)")
    lines.append("hottest functions (self time):")
    st.sort_stats("tottime")
    for (filename, line, func) in st.fcn_list[:top]:  # type: ignore[attr-defined]
        _cc, nc, tt, ct, _ = st.stats[(filename, line, func)]  # type: ignore[attr-defined]
        short = str(Path(filename).resolve()).replace(str(ROOT) + "/", "")
        short = re.sub(r".*site-packages/", "", short)
        lines.append(f"  {tt:6.2f} s self {ct:6.2f} s cum {nc:>9} calls  {short}:{line} {func}")
    return "\n".join(lines)


def _sim_time_and_wall(log: Path) -> tuple[int, float]:
    """(cycles simulated, wall seconds) from the cocotb summary line of the test's log."""
    for ln in log.read_text().splitlines():
        m = re.search(r"\*\* tb\.tests\.\w+\s+PASS\s+([\d.]+)\s+([\d.]+)", ln)
        if m:
            return int(float(m.group(1)) / CLK_PERIOD_NS), float(m.group(2))
    return 0, 0.0


def main(argv: list[str] | None = None) -> int:
    # Every value is checked before the build (one line and exit status 2 when bad).
    ap = ArgumentParser(prog="profile", description=__doc__.split("\n")[0])
    ap.add_argument("--sim", type=cli_args.sim, default="verilator")
    ap.add_argument("--test", type=cli_args.pyuvm_test_name, default="XlateRandomTest")
    ap.add_argument("--seed", type=cli_args.seed, default=1)
    ap.add_argument("--translations", type=cli_args.count("PROFILE_TRANSLATIONS"),
                    default=2000)
    a = ap.parse_args(argv)
    tdir = build_dir(a.sim) / f"profile-{a.test}-s{a.seed}"
    try:
        run(a.sim, a.test, a.seed, test_dir=tdir, log_file_name="sim.log",
            extra_env={"COCOTB_ENABLE_PROFILING": "1",
                       "SMMU_TRANSLATIONS": str(a.translations)})
    except (RuntimeError, SystemExit) as exc:
        print(f"profile: {a.test} failed: {exc}", file=sys.stderr)
        return 1
    cycles, wall = _sim_time_and_wall(tdir / "sim.log")
    print(f"{a.test} on {a.sim}, seed {a.seed}:")
    print(report(tdir / "cocotb.pstat", wall, cycles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
