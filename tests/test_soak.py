"""The soak (tb/scenarios/soak.py) on the model, at a size that fits `make test`; `make soak`
runs it at 1,000,000 accesses, and SvaSoakTest (tests/test_rtl.py) on the RTL."""

from __future__ import annotations

import json

import pytest

from tb.cli import soak as cli


@pytest.mark.parametrize("seed", [1, 2])
def test_soak_on_the_model(seed: int) -> None:
    rep = cli.run_model(3000, seed, "default")
    assert rep["accesses"] >= 3000
    assert rep["isolation"]["violations"] == 0
    assert rep["isolation"]["accesses_checked"] >= rep["accesses"] * 0.8
    ops = rep["ops"]
    # every kind of churn happened, and each fault kind was seen and its record matched
    assert {"bind", "unbind", "munmap", "mprotect", "exit", "hole", "spawn"} <= set(ops), ops
    assert {"F_TRANSLATION", "F_PERMISSION", "C_BAD_CD"} <= set(rep["faults"]), rep["faults"]
    assert rep["rollovers"] >= 1 and rep["bytes_checked"] > 0


def test_make_soak_writes_its_report_only_on_success(tmp_path, monkeypatch, capsys) -> None:
    out = tmp_path / "report.json"
    out.write_text("previous\n")
    monkeypatch.setattr(cli, "OUT", out)

    def broken(*_a):
        raise AssertionError("records [], expected [F_TRANSLATION]")

    monkeypatch.setattr(cli, "run_model", broken)
    assert cli.main(["--accesses", "10"]) == 1
    assert "FAILED on model" in capsys.readouterr().err
    assert out.read_text() == "previous\n"
    monkeypatch.setattr(cli, "run_model", lambda n, s, p: {
        "accesses": n, "isolation": {"violations": 0, "accesses_checked": n},
        "bytes_checked": 1, "ops": {}, "faults": {}, "rollovers": 0})
    assert cli.main(["--accesses", "10", "--seed", "3"]) == 0
    rep = json.loads(out.read_text())
    assert rep["accesses"] == 10 and rep["seed"] == 3 and rep["backend"] == "model"
