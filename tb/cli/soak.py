"""`make soak`: the soak (tb/scenarios/soak.py) on BACKEND=model (default) or rtl.

    python -m tb.cli.soak [--backend model|rtl] [--accesses N] [--seed N] [--sim S]
                          [--params P]

ACCESSES DMA accesses (translations; default 1,000,000 on the model, 100,000 on the RTL)
under churn: binds and unbinds, munmap and mprotect under DMA, processes exiting with live
bonds, 8-bit CPU ASIDs rolled over, faults, every destination checked byte for byte and every
access by the isolation checker. On the RTL also every translation by the scoreboard, with
random request gaps, response back-pressure and memory latency. Prints one line of counts and
writes build/soak/report.json (accesses, isolation violations, wall time), replaced only when
the run succeeds. Longer soaks in a nightly run: a bigger ACCESSES, or `make regress` shards
of the test suite with TRANSLATIONS and SEEDS (which scale `SvaSoakTest`).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tb.cli.args import ArgumentParser, backend, count, params, seed, sim
from tb.cli.runner import BUILD_ROOT, build_dir, run

OUT = BUILD_ROOT.parent / "soak" / "report.json"
DEFAULT_ACCESSES = {"model": 1_000_000, "rtl": 100_000}


def run_model(accesses: int, seed_: int, params_: str) -> dict[str, Any]:
    from models.cpu.features import CpuFeatures
    from tb.dut_config import CONFIGS
    from tb.platform.model import ModelPlatform
    from tb.scenarios.harness import ModelBackend, SvaBench
    from tb.scenarios.soak import soak

    async def go() -> dict[str, Any]:
        b = await SvaBench.create(ModelBackend(ModelPlatform(CONFIGS[params_])),
                                  CpuFeatures(asid_bits=8, nr_cpus=2), seed_)
        return await soak(b, accesses)

    return asyncio.run(go())


def run_rtl(accesses: int, seed_: int, sim_: str, params_: str) -> dict[str, Any]:
    tdir = build_dir(sim_, params_) / f"SvaSoakTest-s{seed_}"
    run(sim_, "SvaSoakTest", seed_, params=params_, test_dir=tdir, log_file_name="sim.log",
        extra_env={"SMMU_SOAK_ACCESSES": str(accesses)})
    rep = json.loads((tdir / "soak.json").read_text())
    rep["log"] = str(tdir / "sim.log")
    return rep


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(prog="soak", description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", type=backend, default="model")
    ap.add_argument("--accesses", type=count("ACCESSES"), default=None)
    ap.add_argument("--seed", type=seed, default=1)
    ap.add_argument("--sim", type=sim, default="verilator")
    ap.add_argument("--params", type=params, default="default")
    args = ap.parse_args(argv)
    n = args.accesses or DEFAULT_ACCESSES[args.backend]
    t0 = time.monotonic()
    try:
        rep = (run_model(n, args.seed, args.params) if args.backend == "model"
               else run_rtl(n, args.seed, args.sim, args.params))
    except (AssertionError, RuntimeError, SystemExit) as exc:
        print(f"soak: FAILED on {args.backend} (seed {args.seed}): {exc}", file=sys.stderr)
        return 1
    rep.update(backend=args.backend, seed=args.seed, params=args.params,
               wall_s=round(time.monotonic() - t0, 1))
    if args.backend == "rtl":
        rep["sim"] = args.sim
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_name(f".{OUT.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(rep, indent=2) + "\n")
    os.replace(tmp, OUT)
    iso = rep["isolation"]
    print(f"soak on {args.backend}: {rep['accesses']} DMA accesses, {iso['violations']} "
          f"isolation violations ({iso['accesses_checked']} accesses checked), "
          f"{rep['bytes_checked']} bytes verified, ops {rep['ops']}, faults {rep['faults']}, "
          f"{rep['rollovers']} ASID rollovers, {rep['wall_s']} s; {Path(OUT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
