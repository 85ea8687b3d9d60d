"""`make replay VECTORS=in.jsonl OUT=out.jsonl [BACKEND=rtl|model] [SIM=...] [PARAMS=...]`.

Bad input (an unknown BACKEND, SIM or PARAMS, a vector file that cannot be read or has a bad
line, a vector this SMMU cannot hold) is one line on stderr and exit status 2 before anything
runs. The results go to a temporary file beside OUT that replaces it only when the run
succeeded: a failed run leaves the previous OUT as it was.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tb.cli import args as cli_args
from tb.replay.vectors import Vector, VectorError, load, s1cdmax_for


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


def check_fits(vectors: list[Vector], params: str, path: Path) -> None:
    """What the harness would reject only once the SMMU is up (tb/replay/harness.py): a
    StreamID wider than the parameter set's SIDSIZE, more substream bits than its linear CD
    table holds."""
    from tb.dut_config import CONFIGS
    from tb.replay.harness import MAX_S1CDMAX

    sid_bits = CONFIGS[params].SIDSIZE
    for v in vectors:
        if v.sid >> sid_bits:
            raise VectorError(f"{path}: line {v.line}.sid: {v.sid:#x} needs more than the "
                              f"SMMU's {sid_bits} StreamID bits (PARAMS={params})")
        if s1cdmax_for(v) > MAX_S1CDMAX:
            raise VectorError(f"{path}: line {v.line}: the harness builds a linear CD table of "
                              f"at most 2^{MAX_S1CDMAX} CDs; S1CDMax/SSID need "
                              f"{s1cdmax_for(v)} bits")


def main(argv: list[str] | None = None) -> int:
    ap = cli_args.ArgumentParser(prog="replay", description=__doc__.splitlines()[0])
    ap.add_argument("vectors", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--backend", type=cli_args.backend, default="rtl",
                    metavar="{" + ",".join(cli_args.BACKENDS) + "}")
    ap.add_argument("--sim", type=cli_args.sim, default=os.environ.get("SIM", "verilator"))
    ap.add_argument("--params", type=cli_args.params, default="default",
                    help="the SMMU's parameter set (tb/dut_config.py; httu: flag updates)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:  # a bad value (reported on one line), or --help
        return int(exc.code or 0)
    if args.out.is_dir():
        return cli_args.report(ap.prog, f"bad OUT '{args.out}': a directory, not a file")
    try:
        vectors = load(args.vectors)
        check_fits(vectors, args.params, args.vectors)
    except VectorError as exc:
        return cli_args.report(ap.prog, str(exc))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.{os.getpid()}.tmp")
    try:
        rc = _replay(args, vectors, tmp)
        if rc == 0:
            os.replace(tmp, args.out)
    finally:
        tmp.unlink(missing_ok=True)
    if rc:
        return rc
    n = sum(1 for _ in args.out.open())
    print(f"replay: {len(vectors)} vectors -> {n} result lines in {args.out} ({args.backend})")
    return 0


def _replay(args, vectors: list[Vector], tmp: Path) -> int:
    """Run the vectors on the backend, the result lines into ``tmp``; the exit status."""
    if args.backend == "model":
        try:
            asyncio.run(_run_model(vectors, tmp, args.params))
        except VectorError as exc:
            return cli_args.report("replay", f"{args.vectors}: {exc}")
        return 0
    from tb.cli.runner import build_dir, run
    tdir = build_dir(args.sim, args.params) / f"ReplayTest-{args.out.stem}"
    try:
        run(args.sim, "ReplayTest", 1, params=args.params, test_dir=tdir,
            log_file_name="sim.log",
            extra_env={"REPLAY_VECTORS": str(args.vectors.resolve()),
                       "REPLAY_OUT": str(tmp.resolve())})
    except (RuntimeError, SystemExit) as exc:
        print(f"replay: RTL run failed: {exc}; log: {tdir / 'sim.log'}", file=sys.stderr)
        return 1
    if not tmp.exists():
        print(f"replay: the RTL run wrote no results; log: {tdir / 'sim.log'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
