"""`make regress-selftest`: sharding loses, duplicates and changes nothing.

Runs a selection of the suite twice through tb/cli/regress.py's own machinery: whole (shard
1/1, with pytest-xdist workers) and as N shards, each a separate pytest process without xdist,
all started at once; merges the shards with ``merge``; and checks

1. the shards' node ids are pairwise disjoint and together equal the unsharded collection
   (``pytest --collect-only``) and the ids the whole run ran;
2. the merged JUnit file's tests, failures, errors and skipped equal the whole run's, and so
   does every test case's outcome;
3. the merged functional coverage equals the whole run's: the same cover points, in each the
   same hits in every bin, and the same bins covered of the same size in every point and group.

The default selection is every test outside tests/test_rtl.py (formats, models, stack, about
1700 items in seconds) plus three quick RTL items on Verilator that sample the functional
coverage: the random register test at seeds 1 and 2 (one item, one simulation), bring-up and a
random translation run of TRANSLATIONS (default here 300) translations; arguments after ``--``
replace it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml
from junitparser import Error, Failure, JUnitXml, Skipped

from tb.cli.regress import OUT, ROOT, counts, merge, shard_dir, shard_ids

RTL_ITEMS = [f"tests/test_rtl.py::test_rtl[verilator-default-{t}]" for t in (
    "RegAccessTest-s1-2", "BringUpTest-s1", "XlateRandomTest-s1")]


def default_selection() -> list[str]:
    fast = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                  if p.name != "test_rtl.py")
    return [*fast, *RTL_ITEMS]


def _regress(*args: str) -> list[str]:
    return [sys.executable, "-m", "tb.cli.regress", *args]


def collect(selection: Sequence[str], env: dict[str, str]) -> set[str]:
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "no:cacheprovider", *selection],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"selftest: collection failed:\n{proc.stdout[-3000:]}{proc.stderr}")
    return {ln for ln in proc.stdout.splitlines() if "::" in ln and not ln.startswith(" ")}


def outcomes(junit: Path) -> dict[tuple[str, str], str]:
    """Every test case's outcome (a case may carry several results: pytest adds an error for
    a failing teardown to a passed or failed case)."""
    out: dict[tuple[str, str], str] = {}
    for suite in JUnitXml.fromfile(str(junit)):
        for case in suite:
            kinds = sorted(type(r).__name__ for r in case.result
                           if isinstance(r, Failure | Error | Skipped))
            key = (case.classname, case.name)
            out[key] = "+".join(kinds) or "passed"
    return out


def hits(db_file: Path) -> dict[str, dict[str, int]]:
    """Every cover point's hits per bin."""
    db = yaml.safe_load(db_file.read_text()) or {}
    return {k: dict(v["bins:_hits"]) for k, v in db.items() if "bins:_hits" in v}


def figures(db_file: Path) -> dict[str, tuple[int, int]]:
    """Every item's (bins covered, size), groups included: merge_coverage updates these
    incrementally, so they are checked apart from the hits they derive from."""
    db = yaml.safe_load(db_file.read_text()) or {}
    return {k: (v["coverage"], v["size"]) for k, v in db.items()}


def selftest(selection: Sequence[str], shards: int, jobs: int, out: Path,
             env: dict[str, str]) -> list[str]:
    """Runs the proof; returns the failed checks (empty: sharding is exact)."""
    shutil.rmtree(out, ignore_errors=True)
    whole_out, sharded_out = out / "whole", out / "sharded"
    # The shards run concurrently; pytest's cache directory is not written for concurrency.
    sel = ["-p", "no:cacheprovider", *selection]
    collected = collect(selection, env)
    print(f"selftest: {len(collected)} items collected; the whole run ({jobs} xdist workers)")
    subprocess.run(_regress("run", "--shard", "1/1", "--jobs", str(jobs), "--out",
                            str(whole_out), "--", *sel), cwd=ROOT, env=env)
    print(f"selftest: {shards} shards, concurrently, one process each")
    procs = [subprocess.Popen(_regress("run", "--shard", f"{i}/{shards}", "--jobs", "0",
                                       "--out", str(sharded_out), "--", *sel),
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for i in range(1, shards + 1)]
    for p in procs:
        log, _ = p.communicate()
        print(log.splitlines()[-1] if log.strip() else "(no output)")
    merge(sharded_out)

    bad: list[str] = []
    whole = shard_dir(whole_out, 1, 1)
    ids = [set(shard_ids(shard_dir(sharded_out, i, shards))) for i in range(1, shards + 1)]
    union = set().union(*ids)
    overlap = sum(len(a) for a in ids) - len(union)
    if overlap:
        bad.append(f"{overlap} ids ran in more than one shard")
    if union != collected:
        bad.append(f"the shards ran {len(union - collected)} ids not collected and missed "
                   f"{len(collected - union)}")
    if set(shard_ids(whole)) != collected:
        bad.append("the whole run's ids differ from the collection")
    if empty := [i for i, s in enumerate(ids, 1) if not s]:
        # Not wrong (fewer heavy items than shards), but those shards prove nothing.
        print(f"selftest: note: shard(s) {empty} ran nothing")
    cw, cm = counts(whole / "junit.xml"), counts(sharded_out / "junit.xml")
    if cw != cm:
        bad.append(f"JUnit counts differ: whole {cw}; merged {cm}")
    ow, om = outcomes(whole / "junit.xml"), outcomes(sharded_out / "junit.xml")
    if ow != om:
        diff = sorted(k for k in ow.keys() | om.keys() if ow.get(k) != om.get(k))
        bad.append(f"{len(diff)} test cases' outcomes differ, e.g. {diff[:3]}")
    hw, hm = hits(whole / "coverage.yml"), hits(sharded_out / "coverage.yml")
    if hw != hm:
        diff = sorted(k for k in hw.keys() | hm.keys() if hw.get(k) != hm.get(k))
        bad.append(f"coverage differs in {', '.join(diff)}")
    fw, fm = figures(whole / "coverage.yml"), figures(sharded_out / "coverage.yml")
    if fw != fm:
        diff = sorted(k for k in fw.keys() | fm.keys() if fw.get(k) != fm.get(k))
        bad.append(f"coverage figures differ in {', '.join(diff)}")

    n_bins = sum(len(b) for b in hw.values())
    n_hits = sum(sum(b.values()) for b in hw.values())
    print(f"selftest: shard sizes {[len(s) for s in ids]}, disjoint: {not overlap}, union = "
          f"collection of {len(collected)}: {union == collected}")
    print(f"selftest: JUnit whole  {cw}\nselftest: JUnit merged {cm}")
    print(f"selftest: coverage: {len(hw)} cover points, {n_bins} bins, {n_hits} hits whole; "
          f"{len(hm)} points, {sum(sum(b.values()) for b in hm.values())} hits merged; "
          f"equal: {hw == hm}")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=2, help="xdist workers of the whole run")
    ap.add_argument("--out", type=Path, default=OUT.parent / "regress-selftest")
    ap.add_argument("selection", nargs="*", help="after --: pytest arguments (selection)")
    args = ap.parse_args(argv)
    # The default selection's RTL items are Verilator ones of the default seeds; a short
    # translation run keeps the proof to minutes.
    env = {**os.environ, "SIMS": os.environ.get("SIMS", "verilator"),
           "TRANSLATIONS": os.environ.get("TRANSLATIONS", "300")}
    if not args.selection:
        env.pop("SEED", None)
        env["SEEDS"] = "2"
    bad = selftest(args.selection or default_selection(), args.shards, args.jobs,
                   args.out.resolve(), env)
    for b in bad:
        print(f"selftest: FAILED: {b}", file=sys.stderr)
    print("selftest: " + ("FAILED" if bad else "passed: sharding is exact"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
