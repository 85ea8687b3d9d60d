"""`make replay VECTORS=in.jsonl OUT=out.jsonl [BACKEND=rtl|model] [SIM=...] [PARAMS=...]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from tb.replay.vectors import VectorError, load


async def _run_model(vectors, out: Path, params: str) -> None:
    from models.memory import FrameAllocator
    from tb.dut_config import CONFIGS
    from tb.platform.model import ModelPlatform
    from tb.replay.harness import Replay
    from tb.replay.vectors import HARNESS_WINDOW

    plat = ModelPlatform(CONFIGS[params], dma_window=HARNESS_WINDOW)
    assert isinstance(plat.dma, FrameAllocator)
    rep = Replay(plat, plat.translate)
    await rep.start()
    with out.open("w") as fh:
        for v in vectors:
            fh.write(json.dumps(await rep.run(v)) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("vectors", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--backend", choices=("rtl", "model"), default="rtl")
    ap.add_argument("--sim", default=os.environ.get("SIM", "verilator"))
    ap.add_argument("--params", default="default",
                    help="the SMMU's parameter set (tb/dut_config.py; httu: flag updates)")
    args = ap.parse_args(argv)
    from tb.dut_config import CONFIGS
    if args.params not in CONFIGS:
        print(f"replay: unknown parameter set {args.params!r}: one of {sorted(CONFIGS)}",
              file=sys.stderr)
        return 2
    try:
        vectors = load(args.vectors)
    except (VectorError, OSError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.backend == "model":
        try:
            asyncio.run(_run_model(vectors, args.out, args.params))
        except VectorError as exc:
            print(f"replay: {exc}", file=sys.stderr)
            return 2
    else:
        from tb.cli.runner import build_dir, run
        tdir = build_dir(args.sim, args.params) / f"ReplayTest-{args.out.stem}"
        try:
            run(args.sim, "ReplayTest", 1, params=args.params, test_dir=tdir,
                log_file_name="sim.log",
                extra_env={"REPLAY_VECTORS": str(args.vectors.resolve()),
                           "REPLAY_OUT": str(args.out.resolve())})
        except (RuntimeError, SystemExit) as exc:
            print(f"replay: RTL run failed: {exc}; log: {tdir / 'sim.log'}", file=sys.stderr)
            return 1
    n = sum(1 for _ in args.out.open())
    print(f"replay: {len(vectors)} vectors -> {n} result lines in {args.out} ({args.backend})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
