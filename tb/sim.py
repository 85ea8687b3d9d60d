"""`make sim`: bring the SMMU up on the RTL and print what the driver probed.

The simulator's own output goes to a log file; this prints the driver's view and where the
log is. It grows into the flagship SVA scenario as the RTL grows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from tb.runner import SIMULATORS, build, run

TEST = "BringUpTest"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim", default=os.environ.get("SIM", "verilator"), choices=SIMULATORS)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--waves", action="store_true")
    args = ap.parse_args(argv)

    t0 = time.monotonic()
    build(args.sim, waves=args.waves)
    t_build = time.monotonic() - t0
    try:
        tdir = run(args.sim, TEST, args.seed, waves=args.waves, log_file_name="sim.log")
    except (RuntimeError, SystemExit) as exc:
        print(f"sim: FAILED: {exc}", file=sys.stderr)
        return 1
    wall = time.monotonic() - t0
    rep = json.loads((tdir / "report.json").read_text())

    print(f"SMMUv3 bring-up on {args.sim} (seed {args.seed})")
    print("  ID registers: " + "  ".join(f"{k}={v}" for k, v in rep["idr"].items()))
    for line in rep["summary"]:
        print(f"  {line}")
    for r in rep["refusals"]:
        print(f"  Linux would refuse to probe: {r}")
    print("  SVA: " + ("supported" if not rep["sva_blockers"] else
                       "not yet (" + "; ".join(rep["sva_blockers"]) + ")"))
    print("  bring-up:")
    for step in rep["bringup_steps"]:
        print(f"    - {step}")
    for step in rep["skipped"]:
        print(f"    - skipped: {step}")
    print(f"  {rep['mmio_accesses']} MMIO accesses, {rep['reads_checked']} reads checked "
          f"against the register model, {rep['cycles']} cycles simulated")
    print(f"  wall time {wall:.1f} s (build/check {t_build:.1f} s); log: {tdir / 'sim.log'}")
    if args.waves:
        from tb.runner import wave_file
        print(f"  waves: {wave_file(args.sim, tdir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
