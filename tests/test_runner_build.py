"""tb.cli.runner.build: a build this process found up to date is not checked again until one
of its inputs changes."""

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
