"""Bad input at the edges: every command-line tool behind a `make` target answers a bad value
(an unknown TEST, SIM, PARAMS or BACKEND, a SEED or count that is none, a malformed vector
file) with one line on stderr that names it, a non-zero exit status, and nothing run: no
build, no simulation, and the previous result file as it was.

No simulator runs here: the functions that would build or run one are replaced by ones that
record the call, and each case checks that none was made.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tb.cli import args as cli_args
from tb.cli import bench, bench_ab, cov, profile, regress, sim
from tb.replay import cli as replay
from tb.replay import harness

ROOT = Path(__file__).resolve().parent.parent
_SUBPROCESS_RUN = subprocess.run  # (before the fixture below records every call instead)
VEC = ROOT / "tests" / "vectors"
SENTINEL = "previous result\n"


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every build, simulation, model run or subprocess a tool starts, recorded instead."""
    calls: list[str] = []

    def recorder(name: str) -> Callable[..., None]:
        def record(*a: object, **k: object) -> None:
            calls.append(name)
            raise RuntimeError(f"{name} must not run on bad input")
        return record

    import tb.cli.runner as runner
    for mod, names in ((runner, ("build", "run")), (sim, ("build", "run", "run_model")),
                       (bench, ("run",)), (bench_ab, ("bench_in",)), (profile, ("run",)),
                       (cov, ("run", "_run")),
                       (regress.subprocess, ("run",)), (replay, ("_run_model",))):
        for n in names:
            monkeypatch.setattr(mod, n, recorder(f"{mod.__name__}.{n}"))
    for var in ("SIM", "SIMS", "SEED", "SEEDS", "JOBS", "TRANSLATIONS", "SMMU_TRANSLATIONS"):
        monkeypatch.delenv(var, raising=False)
    return calls


def sentinel(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SENTINEL)
    return path


def call(main: Callable[[list[str]], int], argv: list[str]) -> int:
    """main's exit status, whether it returns it or raises SystemExit."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def one_line_error(capsys: pytest.CaptureFixture[str], rc: int, prog: str,
                   *named: str) -> str:
    """Exit status 2 and exactly one non-empty stderr line, ``prog: ...``, containing each
    of ``named``; returns it."""
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: "), lines[0]
    assert "Traceback" not in err
    for s in named:
        assert s in lines[0], (s, lines[0])
    return lines[0]


# ---- make sim ------------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "named"), [
    (["--sim", "foo"], ["SIM", "'foo'", "verilator, icarus"]),
    (["--seed", "abc"], ["SEED", "'abc'"]),
    (["--seed", "-1"], ["SEED", "'-1'"]),
    (["--seed", ""], ["SEED", "''"]),
    (["--seed", str(2**32)], ["SEED", str(2**32)]),
    (["--backend", "foo"], ["BACKEND", "'foo'", "rtl, model"]),
    (["--backend", "model", "--seed", "1.5"], ["SEED", "'1.5'"]),
    # make sim takes neither TEST nor PARAMS (the flagship runs on its own parameter sets)
    (["--test", "Foo"], ["--test Foo"]),
    (["--params", "foo"], ["--params foo"]),
])
def test_sim_rejects(argv, named, tmp_path, monkeypatch, capsys, launched):
    report = sentinel(tmp_path / "report.json")
    monkeypatch.setattr(sim, "REPORT", report)
    one_line_error(capsys, call(sim.main, argv), "sim", *named)
    assert report.read_text() == SENTINEL
    assert launched == []


def test_sim_rejects_a_bad_sim_from_the_environment(tmp_path, monkeypatch, capsys, launched):
    report = sentinel(tmp_path / "report.json")
    monkeypatch.setattr(sim, "REPORT", report)
    monkeypatch.setenv("SIM", "questa")
    one_line_error(capsys, call(sim.main, []), "sim", "SIM", "'questa'")
    assert report.read_text() == SENTINEL
    assert launched == []


# ---- make waves (tb.cli.args checks tb.cli.runner's arguments first) -----------------------

GOOD_RUNNER = ["--sim", "verilator", "--test", "BringUpTest", "--seed", "1",
               "--params", "default", "--translations", "20000", "--waves"]


def _runner_argv(**change: str) -> list[str]:
    argv = list(GOOD_RUNNER)
    for opt, value in change.items():
        argv[argv.index(f"--{opt}") + 1] = value
    return argv


def test_the_good_runner_arguments_pass(capsys, launched):
    assert cli_args.main(GOOD_RUNNER) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("change", "named"), [
    ({"test": "Foo"}, ["TEST", "'Foo'", "BringUpTest", "XlateRandomTest"]),
    ({"test": "BringupTest"}, ["TEST", "did you mean BringUpTest?"]),
    ({"seed": "abc"}, ["SEED", "'abc'"]),
    ({"seed": "-1"}, ["SEED", "'-1'"]),
    ({"sim": "foo"}, ["SIM", "'foo'", "verilator, icarus"]),
    ({"params": "foo"}, ["PARAMS", "'foo'", "default, full"]),
    ({"translations": "abc"}, ["TRANSLATIONS", "'abc'"]),
    ({"translations": "0"}, ["TRANSLATIONS", "'0'"]),
])
def test_waves_arguments_are_checked(change, named, capsys, launched):
    one_line_error(capsys, call(cli_args.main, _runner_argv(**change)), "waves", *named)
    assert launched == []


def test_the_test_names_come_from_the_test_module():
    names = cli_args.cocotb_test_names()
    assert {"BringUpTest", "XlateRandomTest", "SvaFlagshipTest", "ReplayTest"} <= set(names)
    assert "SmmuBaseTest" not in names and "SvaScenarioTest" not in names
    assert "s1_page_hit" in cli_args.cocotb_test_names("tb.directed.xlate")


def _fake_make_dir(tmp_path: Path, runner: str) -> tuple[Path, dict[str, str], list[str]]:
    """A directory to run the Makefile's waves target in: its own build/, setup inputs older
    than its stamp (setup never runs), and a PY that checks arguments with tb.cli.args as the
    Makefile does but stands in for tb.cli.runner with the shell lines ``runner``."""
    (tmp_path / "scripts").mkdir(parents=True)
    (tmp_path / "scripts" / "setup.sh").write_text("exit 0\n")
    (tmp_path / "requirements.txt").write_text("")
    stamp = tmp_path / "stamp"
    stamp.write_text("")
    os.utime(tmp_path / "scripts" / "setup.sh", (1, 1))
    os.utime(tmp_path / "requirements.txt", (1, 1))
    py = tmp_path / "py"
    py.write_text(f'#!/bin/bash\nif [ "$2" = tb.cli.runner ]; then\n{runner}\nfi\n'
                  f'exec {sys.executable} "$@"\n')
    py.chmod(py.stat().st_mode | stat.S_IXUSR)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MAKEFLAGS", "MFLAGS")}
    env["PYTHONPATH"] = str(ROOT)
    make = ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "waves",
            f"PY={py}", f"STAMP={stamp}"]
    return sentinel(tmp_path / "build" / "last-waves.txt"), env, make


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize(("var", "named"), [("TEST=Foo", ["TEST", "'Foo'"]),
                                            ("SEED=-1", ["SEED", "'-1'"]),
                                            ("SIM=foo", ["SIM", "'foo'"]),
                                            ("PARAMS=foo", ["PARAMS", "'foo'"]),
                                            ("TRANSLATIONS=abc", ["TRANSLATIONS", "'abc'"])])
def test_make_waves_keeps_last_waves_on_bad_input(var, named, tmp_path):
    last, env, make = _fake_make_dir(tmp_path, 'echo "runner ran"; exit 0')
    p = subprocess.run([*make, var], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert p.returncode != 0
    # make adds its own "make: *** [...] Error 2"; the tool's error is the one other line
    lines = [ln for ln in p.stderr.splitlines() if ln.strip() and not ln.startswith("make")]
    assert len(lines) == 1 and lines[0].startswith("waves: "), p.stderr
    assert all(s in lines[0] for s in named), lines[0]
    assert "runner ran" not in p.stdout
    assert last.read_text() == SENTINEL


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_waves_fails_and_keeps_last_waves_when_the_run_fails(tmp_path):
    """The runner's failure reaches make's exit status (set -o pipefail) and leaves the
    previous build/last-waves.txt; a run that passes replaces it."""
    last, env, make = _fake_make_dir(tmp_path, 'echo "FAILED: boom" >&2; exit 1')
    p = subprocess.run(make, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert p.returncode != 0, p.stdout + p.stderr
    assert last.read_text() == SENTINEL
    assert list((tmp_path / "build").iterdir()) == [last]  # no temporary file left

    last, env, make = _fake_make_dir(tmp_path / "ok", 'echo "BringUpTest passed"; '
                                     'echo "waves: /x/dump.fst"; exit 0')
    p = subprocess.run(make, cwd=tmp_path / "ok", env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert last.read_text() == "waves: /x/dump.fst\n"
    assert "open with: gtkwave /x/dump.fst" in p.stdout


# ---- make replay ---------------------------------------------------------------------------

GOOD = '"cd": {"ttb0": "0x1000"}, "requests": [{"va": 0}]'
MALFORMED = {
    "not JSON": ("{not json", ["line 1", "not JSON"]),
    "not an object": ("[1, 2]", ["line 1", "expected a JSON object"]),
    "missing field": ('{"sid": 1, ' + GOOD + "}", ["line 1", "missing 'name'"]),
    "wrong type": ('{"name": 5, "sid": 1, ' + GOOD + "}", ["line 1.name", "string"]),
    "wrong type of sid": ('{"name": "x", "sid": [1], ' + GOOD + "}", ["line 1.sid", "[1]"]),
    "negative address": ('{"name": "x", "sid": 1, "cd": {"ttb0": "0x1000"}, '
                         '"memory": {"-0x10": "0x1"}, "requests": [{"va": 0}]}',
                         ["line 1.memory['-0x10']", "negative"]),
    "negative field": ('{"name": "x", "sid": 1, "cd": {"ttb0": "0x1000", "asid": -1}, '
                       '"requests": [{"va": 0}]}', ["line 1.cd.asid", "-1 is negative"]),
    "SID beyond 32 bits": ('{"name": "x", "sid": 4294967296, ' + GOOD + "}",
                           ["line 1.sid", "4294967296", "32 bits"]),
    "SID beyond the SMMU's": ('{"name": "x", "sid": "0x10000", ' + GOOD + "}",
                              ["line 1.sid", "0x10000", "16 StreamID bits"]),
    "SSID beyond 20 bits": ('{"name": "x", "sid": 1, "ssid": 1048576, ' + GOOD + "}",
                            ["line 1.ssid", "20 bits"]),
    "unknown field": ('{"name": "x", "sid": 1, "bogus": 1, ' + GOOD + "}",
                      ["line 1", "'bogus'"]),
    "unknown request field": ('{"name": "x", "sid": 1, "cd": {"ttb0": "0x1000"}, '
                              '"requests": [{"va": 0, "size": 4}]}',
                              ["line 1.requests[0]", "'size'"]),
    "key twice": ('{"name": "x", "name": "y", "sid": 1, ' + GOOD + "}",
                  ["line 1", "'name' given twice"]),
    "an error on line 3": ("# comment\n" + '{"name": "x", "sid": 1, ' + GOOD + "}\n"
                           + '{"name": "x", "sid": -3, ' + GOOD + "}",
                           ["line 3.sid", "negative"]),
}


def _replay_argv(vectors: Path, out: Path, *more: str) -> list[str]:
    return [str(vectors), str(out), "--backend", "model", *more]


@pytest.mark.parametrize("backend", ["model", "rtl"])
@pytest.mark.parametrize("kind", MALFORMED)
def test_replay_rejects_malformed_vectors(kind, backend, tmp_path, capsys, launched):
    text, named = MALFORMED[kind]
    vec = tmp_path / "in.jsonl"
    vec.write_text(text + "\n")
    out = sentinel(tmp_path / "out.jsonl")
    rc = call(replay.main, [str(vec), str(out), "--backend", backend])
    one_line_error(capsys, rc, "replay", str(vec), *named)
    assert out.read_text() == SENTINEL
    assert sorted(tmp_path.iterdir()) == [vec, out]
    assert launched == []


@pytest.mark.parametrize(("content", "named"), [
    (None, ["cannot read", "No such file"]),
    (b"", ["no vectors"]),
    (b"# only a comment\n\n", ["no vectors"]),
    (b'{"name": "\xff"}\n', ["line 1", "not UTF-8"]),
])
def test_replay_rejects_missing_empty_and_binary_files(content, named, tmp_path, capsys,
                                                       launched):
    vec = tmp_path / "in.jsonl"
    if content is not None:
        vec.write_bytes(content)
    out = sentinel(tmp_path / "out.jsonl")
    one_line_error(capsys, call(replay.main, _replay_argv(vec, out)), "replay", str(vec),
                   *named)
    assert out.read_text() == SENTINEL
    assert launched == []


@pytest.mark.parametrize(("more", "named"), [
    (["--params", "foo"], ["PARAMS", "'foo'", "default, full"]),
    (["--backend", "foo"], ["BACKEND", "'foo'", "rtl, model"]),
    (["--sim", "foo"], ["SIM", "'foo'", "verilator, icarus"]),
    (["--backend", "rtl", "--sim", "foo"], ["SIM", "'foo'"]),
    (["--bogus"], ["unrecognized arguments: --bogus"]),
])
def test_replay_rejects_bad_variables(more, named, tmp_path, capsys, launched):
    out = sentinel(tmp_path / "out.jsonl")
    rc = call(replay.main, _replay_argv(VEC / "handwritten.jsonl", out, *more))
    one_line_error(capsys, rc, "replay", *named)
    assert out.read_text() == SENTINEL
    assert launched == []


def test_replay_rejects_an_out_that_is_a_directory(tmp_path, capsys, launched):
    rc = call(replay.main, _replay_argv(VEC / "handwritten.jsonl", tmp_path))
    one_line_error(capsys, rc, "replay", "OUT", str(tmp_path))
    assert launched == []


def test_replay_keeps_the_previous_out_when_a_run_fails_midway(tmp_path, monkeypatch, capsys):
    """The model run writes a temporary file; OUT is replaced only when every vector ran."""
    calls = []
    real = harness.Replay.run

    async def second_fails(self, v):
        calls.append(v.line)
        if len(calls) == 2:
            raise harness.VectorError(f"line {v.line}: made to fail")
        return await real(self, v)

    monkeypatch.setattr(harness.Replay, "run", second_fails)
    out = sentinel(tmp_path / "out.jsonl")
    vec = VEC / "handwritten.jsonl"
    one_line_error(capsys, call(replay.main, _replay_argv(vec, out)), "replay", str(vec),
                   "made to fail")
    assert len(calls) == 2
    assert out.read_text() == SENTINEL
    assert list(tmp_path.iterdir()) == [out]


# ---- make bench, make profile --------------------------------------------------------------

@pytest.mark.parametrize("argv", [["--sim", "foo"], ["--params", "foo"], ["extra"]])
def test_bench_takes_no_arguments(argv, tmp_path, monkeypatch, capsys, launched):
    out = sentinel(tmp_path / "bench.json")
    monkeypatch.setattr(bench, "OUT", out)
    one_line_error(capsys, call(bench.main, argv), "bench", "unrecognized arguments",
                   argv[-1])
    assert out.read_text() == SENTINEL
    assert launched == []


@pytest.mark.parametrize(("argv", "named"), [
    (["--ref", "no-such-commit"], ["REF", "'no-such-commit'"]),
    (["--ref", ""], ["REF", "''"]),
    (["--rounds", "0"], ["ROUNDS", "'0'"]),
    (["--rounds", "x"], ["ROUNDS", "'x'"]),
])
def test_bench_ab_rejects(argv, named, tmp_path, monkeypatch, capsys, launched):
    def git(*args: str, **kw: object) -> str:
        # REF is checked with git rev-parse (read only): only that one runs
        if args[0] != "rev-parse":
            launched.append(f"git {args[0]}")
            raise RuntimeError(f"git {args[0]} must not run on bad input")
        proc = _SUBPROCESS_RUN(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(proc.stderr)
        return proc.stdout.strip()

    monkeypatch.setattr(bench_ab, "_git", git)
    monkeypatch.setattr(bench_ab, "OUT_DIR", tmp_path / "bench-ab")
    one_line_error(capsys, call(bench_ab.main, argv), "bench-ab", *named)
    assert launched == []
    assert not (tmp_path / "bench-ab").exists()


@pytest.mark.parametrize(("argv", "named"), [
    (["--sim", "foo"], ["SIM", "'foo'"]),
    (["--test", "Foo"], ["TEST", "'Foo'", "XlateRandomTest"]),
    (["--seed", "abc"], ["SEED", "'abc'"]),
    (["--seed", "-1"], ["SEED", "'-1'"]),
    (["--translations", "abc"], ["PROFILE_TRANSLATIONS", "'abc'"]),
    (["--translations", "-5"], ["PROFILE_TRANSLATIONS", "'-5'"]),
])
def test_profile_rejects(argv, named, capsys, launched):
    one_line_error(capsys, call(profile.main, argv), "profile", *named)
    assert launched == []


# ---- make cov, make regress (variables from the environment) -------------------------------

@pytest.mark.parametrize(("var", "value", "named"), [
    ("SIM", "foo", ["SIM", "'foo'"]),
    ("SEEDS", "abc", ["SEEDS", "'abc'"]),
    ("SEEDS", "0", ["SEEDS", "'0'"]),
    ("JOBS", "abc", ["JOBS", "'abc'"]),
    ("SMMU_TRANSLATIONS", "abc", ["TRANSLATIONS", "'abc'"]),
])
def test_cov_rejects(var, value, named, tmp_path, monkeypatch, capsys, launched):
    old = sentinel(tmp_path / "cov" / "coverage.yml")
    monkeypatch.setattr(cov, "OUT_DIR", old.parent)
    monkeypatch.setattr(cov, "OUT", old)
    monkeypatch.setenv(var, value)
    one_line_error(capsys, call(cov.main, []), "cov", *named)
    assert old.read_text() == SENTINEL
    assert launched == []


@pytest.mark.parametrize(("env", "argv", "named"), [
    ({"SIMS": "verilator foo"}, [], ["SIMS", "'verilator foo'"]),
    ({"SEEDS": "abc"}, [], ["SEEDS", "'abc'"]),
    ({"TRANSLATIONS": "abc"}, [], ["TRANSLATIONS", "'abc'"]),
    ({"SEED": "-1"}, [], ["SEED", "'-1'"]),
    ({}, ["--shard", "5/4"], ["SHARD", "'5/4'"]),
    ({}, ["--shard", "abc"], ["SHARD", "'abc'"]),
    ({}, ["--jobs", "abc"], ["JOBS", "'abc'"]),
])
def test_regress_rejects(env, argv, named, tmp_path, monkeypatch, capsys, launched):
    old = sentinel(regress.shard_dir(tmp_path, 1, 1) / "junit.xml")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    rc = call(regress.main, ["run", "--out", str(tmp_path), *argv])
    one_line_error(capsys, rc, "regress run", *named)
    assert old.read_text() == SENTINEL
    assert launched == []
