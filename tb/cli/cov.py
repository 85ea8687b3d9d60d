"""`make cov`: functional, RTL code and model line coverage, each merged over its runs.

1. Functional coverage (cocotb-coverage): RegAccessTest and XlateRandomTest, SEEDS seeds each,
   merged into build/cov/coverage.yml; every cover point is printed with its bins.
2. RTL code coverage (Verilator line and toggle): those runs plus the other RTL runs of
   RTL_RUNS and the directed modules, all on the coverage build (build/sim/verilator-*-cov/);
   their coverage.dat files are merged into build/cov/rtl-coverage.dat, summed per module into
   build/cov/rtl-coverage.json, the sources annotated into build/cov/rtl-annotated/ and every
   unreached line listed in build/cov/rtl-uncovered.txt.
3. Model line coverage (coverage.py): the fast tests (`pytest -m "not rtl"`) over models/,
   into build/cov/model-coverage.json (and an HTML report in build/cov/model-html/).

The RTL and model figures are printed side by side. With SIM=icarus only the functional
coverage is measured (code coverage is built on Verilator only); the model's still is.
docs/rtl-coverage.md says why each line the runs leave unreached is unreached.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import yaml
from cocotb_coverage.coverage import merge_coverage

from tb.cli import args as cli_args
from tb.cli import rtl_cov
from tb.cli.runner import ROOT, build_dir, run
from tb.directed import DIRECTED_MODULES

OUT_DIR = ROOT / "build" / "cov"
OUT = OUT_DIR / "coverage.yml"
# The random tests whose functional coverage is merged (SEEDS seeds each).
TESTS = ("RegAccessTest", "XlateRandomTest")
# Further RTL runs for code coverage, seed 1 each: (parameter set, pyuvm test). Runs that
# reached no line the others miss are left out (RegResetTest, the other SVA scenarios).
RTL_RUNS = (
    ("default", "BringUpTest"),
    ("default", "SvaFlagshipTest"),
    ("default", "SvaMmExitBeforeUnbindTest"),
    # the MSI interrupt-configuration registers are writable with MSI=1 (the full set)
    ("full", "RegAccessTest"),
    # 8-bit ASIDs (ASID16=0) are in the mixed set only; translations run there for this alone
    ("mixed", "XlateRandomTest"),
)
MODEL_PACKAGES = ("models/arch", "models/cpu", "models/memory", "models/smmu")


def _run(sim: str, test: str | None, seed: int, params: str, module: str | None,
         coverage: bool) -> Path:
    name = test or (module or "").rsplit(".", 1)[1]
    tdir = build_dir(sim, params, coverage=coverage) / f"cov-{name}-s{seed}"
    (tdir / "coverage.dat").unlink(missing_ok=True)
    kw = {"test_module": module} if module else {}
    run(sim, test, seed, params=params, test_dir=tdir, log_file_name="sim.log",
        coverage=coverage, **kw)
    return tdir


def functional(files: list[str], sim: str) -> None:
    merge_coverage(logging.getLogger("cov").info, str(OUT), *files)
    db = yaml.safe_load(OUT.read_text())
    for name, item in sorted(db.items()):
        if "bins:_hits" not in item:
            continue
        hits = item["bins:_hits"]
        missed = [str(b) for b, n in hits.items() if n == 0]
        print(f"{name:<32} {item['coverage']:>4}/{item['size']:<4} {item['cover_percentage']:6.1f}%"
              + (f"  not hit: {', '.join(missed[:8])}{' ...' if len(missed) > 8 else ''}"
                 if missed else ""))
    print(f"written: {OUT} ({len(files)} runs on {sim})")


def rtl(dats: list[Path]) -> list[tuple[str, str]]:
    """Merge, summarise and annotate; returns the table rows (module, figures)."""
    points = rtl_cov.merge(dats)
    rtl_cov.write(points, OUT_DIR / "rtl-coverage.dat")
    mods = rtl_cov.summarise(points, ROOT)
    rtl_cov.annotate(points, ROOT, OUT_DIR / "rtl-annotated")
    report = {"runs": [str(d.parent.relative_to(ROOT)) for d in dats], "modules": {}}
    lines = []
    rows = []
    total_line, total_toggle = rtl_cov.Tally(), rtl_cov.Tally()
    for name, m in mods.items():
        report["modules"][name] = {
            "line": {"hit": m.line.hit, "total": m.line.total, "pct": round(m.line.pct, 1)},
            "toggle": {"hit": m.toggle.hit, "total": m.toggle.total,
                       "pct": round(m.toggle.pct, 1)},
            "uncovered_lines": [f"{f}:{ln}" for f, ln in sorted(m.uncovered)],
            "untoggled_signals": rtl_cov.bits(m.untoggled),
        }
        for (f, ln), what in sorted(m.uncovered.items()):
            src = (ROOT / f).read_text().splitlines()[ln - 1].strip()
            lines.append(f"{f}:{ln}: {src}    [{'; '.join(what)}]")
        for t, mt in ((total_line, m.line), (total_toggle, m.toggle)):
            t.hit += mt.hit
            t.total += mt.total
        rows.append((name, _fig(m.line), _fig(m.toggle) if m.toggle.total else "-"))
    rows.append(("total", _fig(total_line), _fig(total_toggle)))
    report["total"] = {"line_pct": round(total_line.pct, 1),
                       "toggle_pct": round(total_toggle.pct, 1)}
    (OUT_DIR / "rtl-coverage.json").write_text(json.dumps(report, indent=1) + "\n")
    (OUT_DIR / "rtl-uncovered.txt").write_text("\n".join(lines) + "\n")
    return [(n, f"{ln:>17} {tg:>19}") for n, ln, tg in rows]


def _fig(t: rtl_cov.Tally) -> str:
    return f"{t.hit}/{t.total} {t.pct:5.1f}%"


def model(jobs: str) -> list[tuple[str, str]]:
    """The fast tests under coverage.py; returns rows (package, line figures)."""
    data = OUT_DIR / "model-coverage.json"
    cmd = [sys.executable, "-m", "pytest", "-m", "not rtl", "-q", "-p", "no:cacheprovider",
           "-n", jobs, "--cov=models", "--cov-report=", f"--cov-report=json:{data}",
           f"--cov-report=html:{OUT_DIR / 'model-html'}"]
    env = {**os.environ, "COVERAGE_FILE": str(OUT_DIR / ".coverage")}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise RuntimeError("the fast tests failed under coverage")
    files = json.loads(data.read_text())["files"]
    per: dict[str, rtl_cov.Tally] = defaultdict(rtl_cov.Tally)
    for path, f in files.items():
        pkg = next((p for p in MODEL_PACKAGES if path.startswith(p + "/")), "models")
        per[pkg].total += f["summary"]["num_statements"]
        per[pkg].hit += f["summary"]["covered_lines"]
    total = rtl_cov.Tally(sum(t.hit for t in per.values()), sum(t.total for t in per.values()))
    rows = [(p, f"{_fig(t):>17}") for p, t in sorted(per.items()) if t.total]
    return [*rows, ("total", f"{_fig(total):>17}")]


def side_by_side(left: list[tuple[str, str]], right: list[tuple[str, str]], n_runs: int) -> None:
    lw, rw = 16 + 1 + 37, 14 + 1 + 17
    print(f"{'RTL code coverage (Verilator, ' + str(n_runs) + ' runs merged)':<{lw}} | "
          "model line coverage (fast tests)")
    print(f"{'module':<16} {'line':>17} {'toggle':>19} | {'package':<14} {'line':>17}")
    print("-" * lw + "-+-" + "-" * rw)
    for i in range(max(len(left), len(right))):
        lname, lfig = left[i] if i < len(left) else ("", "")
        rname, rfig = right[i] if i < len(right) else ("", "")
        print(f"{lname:<16} {lfig:<37} | {rname:<14} {rfig}")


def main(argv: list[str] | None = None) -> int:
    # Its variables come from the environment (the Makefile sets them); every one is checked
    # here, before a build or a run (one line and exit status 2 when bad).
    ap = cli_args.ArgumentParser(prog="cov", description=__doc__.splitlines()[0])
    ap.parse_args(argv)
    sim = cli_args.from_env(ap, "SIM", cli_args.sim, "verilator")
    n_seeds = cli_args.from_env(ap, "SEEDS", cli_args.count("SEEDS"), "2")
    jobs = str(cli_args.from_env(ap, "JOBS", cli_args.count("JOBS", 0), "2"))
    if "SMMU_TRANSLATIONS" in os.environ:
        cli_args.from_env(ap, "TRANSLATIONS", cli_args.count("TRANSLATIONS"), "",
                          env_var="SMMU_TRANSLATIONS")
    code = sim == "verilator"
    seeds = range(1, n_seeds + 1)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    dats: list[Path] = []
    jobs = [("default", t, s, None) for t in TESTS for s in seeds]
    if code:
        jobs += [(p, t, 1, None) for p, t in RTL_RUNS]
        jobs += [("default", None, 1, m) for m in DIRECTED_MODULES]
    for params, test, seed, module in jobs:
        try:
            tdir = _run(sim, test, seed, params, module, code)
        except (RuntimeError, SystemExit) as exc:
            print(f"cov: {test or module} ({params}) seed {seed} failed: {exc}", file=sys.stderr)
            return 1
        if test in TESTS and params == "default":
            files.append(str(tdir / "coverage.yml"))
        if code:
            dats.append(tdir / "coverage.dat")
    functional(files, sim)
    print()
    left = rtl(dats) if code else [("(SIM=" + sim + ": no code coverage)", "")]
    try:
        right = model(jobs)
    except RuntimeError as exc:
        print(f"cov: {exc}", file=sys.stderr)
        return 1
    side_by_side(left, right, len(dats))
    print(f"written: {OUT_DIR}/rtl-coverage.json, rtl-uncovered.txt, rtl-annotated/, "
          "model-coverage.json, model-html/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
