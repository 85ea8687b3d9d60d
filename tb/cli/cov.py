"""`make cov`: functional coverage of the register and translation tests, merged over runs.

Runs RegAccessTest and XlateRandomTest (SEEDS seeds each, on SIM), merges the coverage each
run exported, writes build/cov/coverage.yml and prints every cover point with its bins.
"""

from __future__ import annotations

import logging
import os
import sys

import yaml
from cocotb_coverage.coverage import merge_coverage

from tb.cli.runner import ROOT, build_dir, run

OUT = ROOT / "build" / "cov" / "coverage.yml"
TESTS = ("RegAccessTest", "XlateRandomTest")


def main() -> int:
    sim = os.environ.get("SIM", "verilator")
    seeds = range(1, int(os.environ.get("SEEDS", "2")) + 1)
    files = []
    for test in TESTS:
        for seed in seeds:
            tdir = build_dir(sim, "default") / f"cov-{test}-s{seed}"
            try:
                run(sim, test, seed, test_dir=tdir, log_file_name="sim.log")
            except (RuntimeError, SystemExit) as exc:
                print(f"cov: {test} seed {seed} failed: {exc}", file=sys.stderr)
                return 1
            files.append(str(tdir / "coverage.yml"))
    OUT.parent.mkdir(parents=True, exist_ok=True)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
