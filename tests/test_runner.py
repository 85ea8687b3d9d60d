"""tb.cli.runner without a simulator: a build this process found up to date is not checked
again until one of its inputs changes; a simulation running a test with several seeds names
the seeds that failed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tb.cli import runner


class _CountingRunner:
    def __init__(self) -> None:
        self.calls: list[bool] = []

    def build(self, *, always: bool, **_: object) -> None:
        self.calls.append(always)


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, _CountingRunner]:
    rtl, hdl = tmp_path / "rtl", tmp_path / "hdl"
    rtl.mkdir()
    hdl.mkdir()
    (rtl / "files.f").write_text("rtl/a.sv\n")
    (rtl / "a.sv").write_text("module a; endmodule\n")
    (rtl / "defs.svh").write_text("`define X 1\n")
    (hdl / "smmu_tb.sv").write_text("module smmu_tb; endmodule\n")
    fake = _CountingRunner()
    monkeypatch.setattr(runner, "RTL_DIR", rtl)
    monkeypatch.setattr(runner, "TB_HDL", hdl / "smmu_tb.sv")
    monkeypatch.setattr(runner, "BUILD_ROOT", tmp_path / "build")
    monkeypatch.setattr(runner, "_runner", lambda sim: fake)
    monkeypatch.setattr(runner, "_BUILT", {})
    return rtl, fake


def _touch(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def test_an_unchanged_build_is_checked_once(tree) -> None:
    _, fake = tree
    for _ in range(3):
        runner.build("icarus", "default")
    assert fake.calls == [True]  # first: no stamp yet, so a forced build; then none


@pytest.mark.parametrize("changed", ["a.sv", "defs.svh", "smmu_tb.sv"])
def test_a_changed_input_is_checked_again(tree, changed: str) -> None:
    rtl, fake = tree
    runner.build("icarus", "default")
    path = (rtl.parent / "hdl" / changed) if changed == "smmu_tb.sv" else rtl / changed
    _touch(path)
    runner.build("icarus", "default")
    runner.build("icarus", "default")
    assert fake.calls == [True, False]  # the stamp matches: the simulator's own check decides


def test_another_parameter_set_or_a_removed_build_is_checked(tree) -> None:
    _, fake = tree
    bdir = runner.build("icarus", "default")
    runner.build("icarus", "full")
    (bdir / ".build-stamp").unlink()
    runner.build("icarus", "default")
    assert fake.calls == [True, True, True]


class _FakeSim:
    """Stands in for cocotb's runner: records the environment it was given and writes a
    results file in cocotb's form, exiting as cocotb's runner does under pytest (or raising
    ``raises``)."""

    def __init__(self, cases: dict[str, bool | None], status: int = 0) -> None:
        self.cases = cases  # test name -> passed (None: skipped)
        self.status = status  # the simulator's exit status
        self.raises: BaseException | None = None
        self.env: dict[str, str] = {}
        self.filter: str | None = None
        self.results = ""

    def test(self, *, results_xml: str, extra_env: dict[str, str], test_filter: str | None = None,
             **_: object) -> None:
        self.env, self.filter, self.results = extra_env, test_filter, results_xml
        fails = sum(ok is False for ok in self.cases.values())
        mark = {True: "", False: '<failure message="boom"/>', None: "<skipped/>"}
        body = "".join(f'<testcase classname="{mod}" name="{name}">{mark[ok]}</testcase>'
                       for n, ok in self.cases.items() for mod, _, name in (n.rpartition("."),))
        Path(results_xml).write_text(f'<testsuites><testsuite tests="{len(self.cases)}" '
                                     f'failures="{fails}">{body}</testsuite></testsuites>')
        if self.raises is not None:
            raise self.raises
        if fails or self.status:
            raise SystemExit(self.status or 1)


@pytest.fixture
def simulate(tree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Make run() use a _FakeSim with these cases (and exit status), and no build."""
    def make(cases: dict[str, bool | None], status: int = 0) -> _FakeSim:
        sim = _FakeSim(cases, status)
        monkeypatch.setattr(runner, "_runner", lambda name: sim)
        monkeypatch.setattr(runner, "build", lambda *a, **k: tmp_path)
        return sim
    return make


def test_a_test_that_did_not_run_fails(simulate, tmp_path: Path) -> None:
    simulate({})
    with pytest.raises(RuntimeError, match="no cocotb test ran for SvaX"):
        runner.run("icarus", "SvaX", 1, test_dir=tmp_path / "t")


def test_a_failed_test_is_named(simulate, tmp_path: Path) -> None:
    simulate({"SvaX": False})
    with pytest.raises(runner.SimFailure, match=r"1 of 1 tests of SvaX failed .*\(SvaX\) "
                                                r"with seed 3"):
        runner.run("icarus", "SvaX", 3, test_dir=tmp_path / "t")


@pytest.mark.parametrize("how", [SystemExit(139), RuntimeError("Command failed with return "
                                                                "code: 139")])
def test_a_simulator_that_exits_badly_fails_though_its_tests_passed(
        simulate, tmp_path: Path, how: BaseException) -> None:
    """cocotb's runner raises RuntimeError when the simulator's exit status is not 0 (and
    exits under pytest); either way, with results written, the run fails and says so."""
    sim = simulate({"SvaX": True})
    sim.raises = how
    with pytest.raises(RuntimeError, match=r"ended with an error .*139.* after 1 tests"):
        runner.run("icarus", "SvaX", 1, test_dir=tmp_path / "t")


def test_a_relative_test_directory_gets_an_absolute_results_file(
        simulate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = simulate({"SvaX": True})
    monkeypatch.chdir(tmp_path)
    runner.run("icarus", "SvaX", 1, test_dir=Path("rel"))
    assert Path(sim.results) == tmp_path / "rel" / "results.xml"


def test_a_group_names_its_tests_and_reports_each(simulate, tmp_path: Path) -> None:
    """run_group registers exactly the pyuvm tests and seeds asked for (SMMU_TESTS, no filter:
    a filter would make cocotb run the directed modules' skipped tests) and reports each
    test's outcome, a failure with its message, a skipped test as skipped."""
    sim = simulate({"tb.tests.A_s1": True, "tb.tests.B_s1": False, "tb.tests.B_s2": True,
                    "tb.directed.x.t1": True, "tb.directed.x.t2": None}, status=1)
    got = runner.run_group("icarus", pyuvm=[("A", (1,)), ("B", (1,)), ("B", (2,))],
                           modules=["tb.directed.x"], test_dir=tmp_path / "t")
    assert sim.env["SMMU_TESTS"] == "A=1;B=1,2" and sim.filter is None
    assert got.outcomes == {"tb.tests.A_s1": None, "tb.tests.B_s1": "boom",
                            "tb.tests.B_s2": None, "tb.directed.x.t1": None,
                            "tb.directed.x.t2": None}
    assert got.skipped == {"tb.directed.x.t2"}
    assert got.ended == "exit status 1"


def test_a_group_of_nothing_is_refused(simulate, tmp_path: Path) -> None:
    simulate({})
    with pytest.raises(ValueError, match="no tests"):
        runner.run_group("icarus", test_dir=tmp_path / "t")
