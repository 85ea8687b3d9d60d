"""tb/cli/rtl_cov.py: Verilator's coverage.dat read, merged per module and annotated."""

from __future__ import annotations

from pathlib import Path

from tb.cli import rtl_cov


def _key(f: str, line: int, t: str, page: str, o: str, h: str, span: str | None = None) -> str:
    pairs = [("f", f), ("l", str(line)), ("n", "3"), ("t", t), ("page", page), ("o", o)]
    if span:
        pairs.append(("S", span))
    pairs.append(("h", h))
    return "".join(f"\x01{k}\x02{v}" for k, v in pairs)


def _dat(path: Path, points: dict[str, int]) -> Path:
    path.write_text(rtl_cov.HEADER + "\n"
                    + "".join(f"C '{k}' {n}\n" for k, n in points.items()))
    return path


def test_runs_of_two_parameter_sets_and_instances_add_up_per_module(tmp_path: Path) -> None:
    src = tmp_path / "m.sv"
    src.write_text("".join(f"line {i}\n" for i in range(1, 11)))
    f = str(src)
    a = _dat(tmp_path / "a.dat", {
        _key(f, 2, "line", "v_line/m", "block", "top.u.*", "2-3,5"): 4,
        _key(f, 7, "branch", "v_branch/m", "if", "top.u.*"): 0,
        _key(f, 7, "branch", "v_branch/m", "else", "top.u.*"): 1,
        _key(f, 9, "toggle", "v_toggle/m", "sig[1]:0->1", "top.u.*"): 0,
    })
    b = _dat(tmp_path / "b.dat", {
        _key(f, 2, "line", "v_line/m__P34", "block", "top.u.u_hit", "2-3,5"): 1,
        _key(f, 7, "branch", "v_branch/m__Ca_A1", "if", "top.u.g[*].x"): 0,
        _key(f, 9, "toggle", "v_toggle/m__P34", "sig[1]:0->1", "top.u.u_hit"): 2,
        _key(f, 9, "toggle", "v_toggle/m__P34", "sig[1]:1->0", "top.u.u_hit"): 0,
    })
    merged = rtl_cov.merge([a, b])
    assert len(merged) == 5
    mods = rtl_cov.summarise(merged, tmp_path)
    assert list(mods) == ["m"]
    m = mods["m"]
    assert (m.line.hit, m.line.total) == (2, 3)
    assert (m.toggle.hit, m.toggle.total) == (1, 2)
    assert m.uncovered == {("m.sv", 7): ["branch if @7"]}
    assert rtl_cov.bits(m.untoggled) == {"sig": 1}
    out = tmp_path / "merged.dat"
    rtl_cov.write(merged, out)
    assert rtl_cov.read(out) == merged
    (written,) = rtl_cov.annotate(merged, tmp_path, tmp_path / "ann")
    lines = written.read_text().splitlines()
    assert lines[1] == " 000005 line 2" and lines[4] == " 000005 line 5"
    assert lines[3] == " " * 8 + "line 4"
    assert lines[6] == "%000000 line 7"


def test_span_lists_the_block_lines() -> None:
    assert rtl_cov.span({"l": "4", "S": "53-56,64-65"}) == [53, 54, 55, 56, 64, 65]
    assert rtl_cov.span({"l": "4", "S": "7"}) == [7]
    assert rtl_cov.span({"l": "4"}) == [4]
