"""`make regress` and `make merge`: the suite in shards, on any engine that runs N commands.

    python -m tb.cli.regress run [--shard i/N] [--jobs J] [--out build/regress] [-- pytest args]
    python -m tb.cli.regress merge [--out build/regress]

``run`` runs shard i of N of the pytest suite (pytest-split, by the durations stored in
.test_durations; 1/1 is the whole suite) with J pytest-xdist workers, into
``OUT/shard-i-of-N/``: ``junit.xml``, ``ids.txt`` (the node ids it ran), ``fcov/`` (one
directory per item with the coverage databases its simulations exported) and ``coverage.yml``
(those merged: exactly what this shard's items sampled; ``{}`` when none ran a simulation).
Every shard must see the same collection (same SIMS, SEEDS, pytest arguments), as pytest-split
splits the collection each shard makes on its own.

``merge`` combines every ``OUT/shard-*-of-N/`` (all of 1..N required, their ids disjoint) into
``OUT/junit.xml`` (junitparser; one suite per shard), ``OUT/coverage.yml`` (cocotb-coverage's
merge_coverage) and ``OUT/.test_durations`` (the stored durations updated from this run; copy
it over .test_durations to rebalance the shards).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from _pytest.junitxml import mangle_test_address
from cocotb_coverage.coverage import merge_coverage
from junitparser import JUnitXml

from tb.cli import args as cli_args
from tb.cli.launch_groups import launch_group
from tb.cli.runner import ROOT

OUT = ROOT / "build" / "regress"
DURATIONS = ROOT / ".test_durations"
SHARD_DIR = re.compile(r"^shard-(\d+)-of-(\d+)$")


@dataclass(frozen=True)
class Counts:
    tests: int
    failures: int
    errors: int
    skipped: int

    def __str__(self) -> str:
        return (f"{self.tests} tests, {self.failures} failures, {self.errors} errors, "
                f"{self.skipped} skipped")


def parse_shard(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not m or not 1 <= int(m[1]) <= int(m[2]):
        raise argparse.ArgumentTypeError(f"bad shard {text!r} (SHARD): i/N with 1 <= i <= N")
    return int(m[1]), int(m[2])


def shard_dir(out: Path, i: int, n: int) -> Path:
    return out / f"shard-{i}-of-{n}"


def counts(junit: Path) -> Counts:
    """tests, failures, errors, skipped of a JUnit file, recounted from its test cases so a
    merged file and pytest's own are counted alike."""
    xml = JUnitXml.fromfile(str(junit))
    xml.update_statistics()
    return Counts(xml.tests, xml.failures, xml.errors, xml.skipped)


def merge_fcov(files: list[Path], out: Path) -> None:
    """cocotb-coverage's merge of ``files`` into ``out``; an empty database when there are
    none (merge_coverage refuses to merge nothing), so every shard has one."""
    out.parent.mkdir(parents=True, exist_ok=True)
    dbs = [f for f in files if yaml.safe_load(f.read_text())]
    if not dbs:
        out.write_text("{}\n")
        return
    merge_coverage(logging.getLogger("regress").debug, str(out), *map(str, dbs))


def run_shard(i: int, n: int, jobs: int, out: Path, pytest_args: list[str],
              durations: Path = DURATIONS) -> int:
    """One shard, into out/shard-i-of-n/ (emptied first); returns pytest's exit code."""
    sdir = shard_dir(out, i, n)
    shutil.rmtree(sdir, ignore_errors=True)
    # Shards of another count belong to another run, which merge would refuse to mix with this.
    for other in out.glob("shard-*-of-*"):
        if (m := SHARD_DIR.match(other.name)) and int(m[2]) != n:
            shutil.rmtree(other, ignore_errors=True)
    sdir.mkdir(parents=True)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "tb.cli.regress_plugin",
           f"--fcov-dir={sdir / 'fcov'}", f"--ids-file={sdir / 'ids.txt'}",
           f"--junitxml={sdir / 'junit.xml'}", "-n", str(jobs)]
    if jobs:
        # as make test: each launch group (tb/cli/launch_groups.py) on one worker
        cmd += ["--dist", "loadgroup"]
    if n > 1:
        # least_duration balances better than the default contiguous chunks; it sorts by
        # duration, so the shards' contents do not depend on file order.
        cmd += ["--splits", str(n), "--group", str(i), f"--durations-path={durations}",
                "--splitting-algorithm", "least_duration"]
    t0 = time.monotonic()
    rc = subprocess.run([*cmd, *pytest_args], cwd=ROOT).returncode
    # A shard that got no items (more shards than items) has nothing to fail.
    if rc == pytest.ExitCode.NO_TESTS_COLLECTED and n > 1:
        rc = 0
    if not (sdir / "junit.xml").exists():
        print(f"regress: shard {i}/{n}: pytest wrote no JUnit file (exit {rc})", file=sys.stderr)
        return rc or 1
    if not (sdir / "ids.txt").exists():
        (sdir / "ids.txt").write_text("")
    fcov = sorted((sdir / "fcov").glob("*/*.yml"))
    merge_fcov(fcov, sdir / "coverage.yml")
    print(f"regress: shard {i}/{n}: {counts(sdir / 'junit.xml')}; {len(fcov)} coverage "
          f"databases merged into {sdir / 'coverage.yml'} ({time.monotonic() - t0:.0f} s)")
    return rc


def find_shards(out: Path) -> list[Path]:
    """out/shard-1-of-N .. shard-N-of-N, checked complete and of one N."""
    found = {(int(m[1]), int(m[2])): p for p in sorted(out.glob("shard-*-of-*"))
             if p.is_dir() and (m := SHARD_DIR.match(p.name))}
    ns = {n for _i, n in found}
    if len(ns) != 1:
        raise SystemExit(f"merge: expected the shards of one run in {out}, found "
                         f"{', '.join(sorted(p.name for p in found.values())) or 'none'}")
    n = ns.pop()
    missing = [f"{i}/{n}" for i in range(1, n + 1) if (i, n) not in found
               or not (found[i, n] / "junit.xml").exists()]
    if missing:
        raise SystemExit(f"merge: shard(s) {', '.join(missing)} missing in {out}")
    return [found[i, n] for i in range(1, n + 1)]


def shard_ids(sdir: Path) -> list[str]:
    return (sdir / "ids.txt").read_text().splitlines()


def durations_from(junit: Path, ids: list[str], old: dict[str, float]) -> dict[str, float]:
    """pytest-split's durations from a JUnit file's test times (pytest sums setup, call and
    teardown into a case's time, as --store-durations does), keyed by node id; ids not in the
    file keep their old value. The items of a launch group (tb/cli/launch_groups.py) share
    their simulation's time equally: the item that started it carries it all in the file,
    but a shard given part of the group runs a simulation of its own for that part."""
    by_case: dict[tuple[str, str], str] = {}
    for nodeid in ids:
        names = mangle_test_address(nodeid)
        by_case[".".join(names[:-1]), names[-1]] = nodeid
    new = dict(old)
    groups: dict[str, list[str]] = {}
    for suite in JUnitXml.fromfile(str(junit)):
        for case in suite:
            if (nodeid := by_case.get((case.classname, case.name))) is not None:
                new[nodeid] = round(float(case.time or 0.0), 3)
                if (group := launch_group(nodeid)) is not None:
                    groups.setdefault(group, []).append(nodeid)
    for members in groups.values():
        share = round(sum(new[m] for m in members) / len(members), 3)
        new.update(dict.fromkeys(members, share))
    return new


def merge(out: Path) -> int:
    shards = find_shards(out)
    seen: dict[str, str] = {}
    for sdir in shards:
        for nodeid in shard_ids(sdir):
            if nodeid in seen:
                raise SystemExit(f"merge: {nodeid} ran in {seen[nodeid]} and {sdir.name}: the "
                                 "shards saw different collections (SIMS, SEEDS, arguments?)")
            seen[nodeid] = sdir.name
    merged = JUnitXml()
    for sdir in shards:
        for suite in JUnitXml.fromfile(str(sdir / "junit.xml")):
            suite.name = f"{suite.name} ({sdir.name})"
            merged.add_testsuite(suite)
    merged.update_statistics()
    merged.write(str(out / "junit.xml"))
    merge_fcov([s / "coverage.yml" for s in shards], out / "coverage.yml")
    old = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    new = durations_from(out / "junit.xml", list(seen), old)
    (out / ".test_durations").write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
    db = yaml.safe_load((out / "coverage.yml").read_text())
    points = {k: v for k, v in db.items() if "bins:_hits" in v}
    print(f"merge: {len(shards)} shards: {counts(out / 'junit.xml')} -> {out / 'junit.xml'}")
    for name, p in sorted(points.items()):
        print(f"  {name:<32} {p['coverage']:>4}/{p['size']:<4} {p['cover_percentage']:6.1f}%  "
              f"{sum(p['bins:_hits'].values())} hits")
    print(f"merge: {len(points)} cover points -> {out / 'coverage.yml'}; durations of "
          f"{len(seen)} items -> {out / '.test_durations'}")
    return 0


def check_env(ap: argparse.ArgumentParser) -> None:
    """The variables the suite reads at collection (tests/conftest.py, tests/test_rtl.py),
    checked before the shard's previous results are removed: a bad one would otherwise fail
    every item, or the collection, after that."""
    cli_args.from_env(ap, "SIMS", cli_args.sims, "verilator icarus")
    cli_args.from_env(ap, "SEEDS", cli_args.count("SEEDS"), "2")
    cli_args.from_env(ap, "TRANSLATIONS", cli_args.count("TRANSLATIONS"), "20000")
    if os.environ.get("SEED"):
        cli_args.from_env(ap, "SEED", cli_args.seed, "1")


def main(argv: list[str] | None = None) -> int:
    ap = cli_args.ArgumentParser(prog="regress", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run one shard")
    r.add_argument("--shard", type=parse_shard, default=(1, 1), help="i/N (default 1/1)")
    r.add_argument("--jobs", type=cli_args.count("JOBS", 0), default=2,
                   help="pytest-xdist workers (0: none)")
    r.add_argument("--out", type=Path, default=OUT)
    r.add_argument("pytest_args", nargs="*", help="after --: passed to pytest (selection)")
    m = sub.add_parser("merge", help="combine the shards' results")
    m.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if args.cmd == "run":
        check_env(r)
        return run_shard(*args.shard, args.jobs, args.out.resolve(), args.pytest_args)
    return merge(args.out.resolve())


if __name__ == "__main__":
    sys.exit(main())
