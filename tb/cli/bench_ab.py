"""`make bench-ab`: random traffic with the full scoreboard here against another commit.

`make bench` reports each co-simulation speed as a ratio to cocotb's floor measured in the same
run, which survives a noisy machine. A speed-up against an older tree cannot be put that way:
the older tree may have no floor figure, and its DUT differs, so the floor differs too. What
survives the noise instead is alternation: BenchTest (Verilator, default set, seed 1) in this
tree and in the reference tree (a git worktree of ``REF`` under build/bench-ab/), one after the
other, ``ROUNDS`` times, the order swapped every round so that a drift of the machine's speed
weighs on both. Each round gives both random-traffic rates and their ratio; the report has
every round, the mean rates, the ratio of the means, and the smallest, median and largest
round ratio. Each tree times its own random traffic as its own BenchTest does (f446a4f: 1,000
translations of its generator; since: 2,000 of a generator that grew TTB1 halves, ATS and
more), which is the figure issue 9 compares. The reference tree runs with this tree's Python
environment; variables that redirect a tree's RTL or builds are not passed on.

    python -m tb.cli.bench_ab [--ref COMMIT] [--rounds N]   -> build/bench-ab/report.json

The worktree and its build stay for the next run (``git worktree remove`` drops them).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from tb.cli.args import ArgumentParser, count, fail
from tb.cli.runner import ROOT

OUT_DIR = ROOT / "build" / "bench-ab"
DEFAULT_REF = "f446a4f"  # the tree issue 9 (testbench speed) started from
# Run in a tree with that tree's code (its runner's run(), which every tree since the batch
# ports has): BenchTest on Verilator, then the random-traffic rate from its bench.json, which
# older trees keep at the top level and newer ones under "cosim" with a ratio to the floor.
_SNIPPET = """
import json, sys
from tb.cli.runner import build_dir, run
tdir = build_dir("verilator", "default") / "BenchTest"
run("verilator", "BenchTest", 1, test_dir=tdir, log_file_name="sim.log")
print("BENCH_AB", json.dumps(json.loads((tdir / "bench.json").read_text())))
"""


def random_rate(bench: dict) -> float:
    """Random translations per second from a BenchTest's bench.json, old layout or new."""
    fig = bench.get("cosim", {}).get("random_translations_per_s",
                                     bench.get("random_translations_per_s"))
    if isinstance(fig, dict):
        fig = fig.get("per_s")
    if not isinstance(fig, (int, float)) or fig <= 0:
        raise ValueError("bench.json has no random_translations_per_s figure")
    return float(fig)


def summary(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Mean rates, the ratio of the means and the spread of the round ratios."""
    here = [r["here"] for r in rounds]
    ref = [r["ref"] for r in rounds]
    ratios = [r["here"] / r["ref"] for r in rounds]
    return {"rounds": len(rounds), "here_mean": round(statistics.mean(here)),
            "ref_mean": round(statistics.mean(ref)),
            "ratio_of_means": round(statistics.mean(here) / statistics.mean(ref), 2),
            "ratio_min": round(min(ratios), 2), "ratio_median": round(statistics.median(ratios), 2),
            "ratio_max": round(max(ratios), 2)}


# Variables that would point a tree's runner at another tree's RTL or builds.
_TREE_VARS = ("SMMU_RTL_DIR", "SMMU_BUILD_DIR", "PYTHONPATH")


def _git(*args: str, tree: Path = ROOT) -> str:
    """git's output; a failure is a RuntimeError with git's own message."""
    proc = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout.strip()


def resolve(ref: str) -> str:
    """The full commit ``ref`` names; a one-line error (exit status 2) if it names none."""
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except RuntimeError:
        fail("bench-ab", f"unknown commit {ref!r} (REF): a commit of this repository")


def reference_tree(ref: str, sha: str) -> Path:
    """The worktree of commit ``sha`` (named ``ref``) under build/bench-ab/, added if it is
    not there, and refused if it is no longer that commit's tree as committed."""
    tree = OUT_DIR / sha[:12]
    if not (tree / ".git").exists():
        _git("worktree", "prune")  # (a worktree whose directory went with build/)
        _git("worktree", "add", "--detach", str(tree), sha)
    elif (_git("rev-parse", "HEAD", tree=tree) != sha
          or _git("status", "--porcelain", tree=tree)):
        raise RuntimeError(f"{tree} is no longer {ref}'s tree as committed (git worktree "
                           f"remove --force {tree} drops it; the next run adds it again)")
    return tree


def bench_in(tree: Path) -> float:
    """BenchTest's random-traffic rate, run in ``tree`` with its own code."""
    env = {k: v for k, v in os.environ.items() if k not in _TREE_VARS}
    env["PYTHONPATH"] = str(tree)
    proc = subprocess.run([sys.executable, "-c", _SNIPPET], cwd=tree, env=env,
                          capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_AB "):
            try:
                return random_rate(json.loads(line.split(" ", 1)[1]))
            except ValueError as exc:  # (json's errors are ValueErrors too)
                raise RuntimeError(f"{tree}'s bench.json: {exc}") from None
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
    raise RuntimeError(f"BenchTest failed in {tree} (status {proc.returncode}):\n{tail}")


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(prog="bench-ab", description=__doc__.splitlines()[0])
    ap.add_argument("--ref", default=DEFAULT_REF, help="the commit to compare with")
    ap.add_argument("--rounds", type=count("ROUNDS"), default=8)
    a = ap.parse_args(argv)
    out = OUT_DIR / "report.json"
    rounds: list[dict[str, float]] = []
    sha = resolve(a.ref)  # (a bad REF leaves the earlier report, as any bad value does)
    out.unlink(missing_ok=True)  # a failed run leaves no earlier report looking current
    try:
        ref_tree = reference_tree(a.ref, sha)
        here = _git("rev-parse", "HEAD")
        dirty = bool(_git("status", "--porcelain"))  # (an untracked module runs too)
        for i in range(a.rounds):
            order = ("ref", "here") if i % 2 == 0 else ("here", "ref")
            got = {side: bench_in(ref_tree if side == "ref" else ROOT) for side in order}
            got["ratio"] = round(got["here"] / got["ref"], 2)
            rounds.append(got)
            print(f"round {i + 1}: here {got['here']:.0f}/s, {a.ref} {got['ref']:.0f}/s, "
                  f"{got['ratio']:.2f}x", flush=True)
    except RuntimeError as exc:
        print(f"bench-ab: {exc}", file=sys.stderr)
        return 1
    report = {"here": here + (" (with uncommitted changes)" if dirty else ""), "ref": sha,
              "figure": "random traffic with the full scoreboard, translations per second "
                        "(BenchTest, Verilator, default set, seed 1)",
              "per_round": rounds, "summary": summary(rounds)}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    s = report["summary"]
    print(f"{s['rounds']} rounds: here {s['here_mean']}/s, {a.ref} {s['ref_mean']}/s; "
          f"{s['ratio_of_means']}x on the means, rounds from {s['ratio_min']}x to "
          f"{s['ratio_max']}x (median {s['ratio_median']}x)")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
