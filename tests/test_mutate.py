"""`make mutate` without a simulator: sites, the seeded draw, applying a mutant, verdicts."""

from __future__ import annotations

import pytest

from tb.cli.mutate import Result, Site, all_sites, apply, choose, classify, score, sites

SRC = """`default_nettype none
module m
    import p::*;
#(
    parameter int N = 4
) (
    input  logic       clk,
    input  logic       rst_n,
    input  logic [3:0] a, b,
    output logic       y, z
);
    localparam int W = N - 1;
    logic [3:0] q;
    // a <= b in a comment is no site
    assign y = !(a == b) && (q[N-1:0] < a);
    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) q <= '0;
        else if (y) q <= q + 4'd1;
        else q <= a <= b ? ~a : a & b;
    end
    assign z = &q | 1'b0;
endmodule
`default_nettype wire
"""


def _found() -> list[tuple[int, str, str, str]]:
    return [(s.line, s.kind, s.old, s.new) for s in sites(SRC, "rtl/m.sv")]


def test_sites_are_operators_negations_constants_and_if_conditions() -> None:
    assert _found() == [
        (15, "neg", "!", ""), (15, "op", "==", "!="), (15, "op", "&&", "||"),
        (15, "op", "<", "<="),
        (18, "cond", "(y)", "(1'b1)"), (18, "op", "+", "-"),
        (18, "const", "4'd1", "4'd2"), (18, "const", "4'd1", "4'd0"),
        (19, "op", "<=", "<"), (19, "neg", "~", ""), (19, "op", "&", "|"),
        (21, "op", "|", "&"), (21, "const", "1'b0", "1'b1"),
    ]


def test_no_site_in_headers_declarations_bit_selects_comments_or_reset() -> None:
    found = _found()
    lines = {ln for ln, *_ in found}
    assert not lines & {1, 5, 9, 12, 13, 14, 17}
    # line 19: the nonblocking assignment is no comparison, the `<=` after it is one
    assert [f[2] for f in found if f[0] == 19 and f[1] == "op"] == ["<=", "&"]
    # the reduction `&q` is no binary AND; nothing inside q[N-1:0]
    assert [f[2] for f in found if f[0] == 21 and f[1] == "op"] == ["|"]
    assert [f[2] for f in found if f[0] == 15 and f[1] == "op"] == ["==", "&&", "<"]


@pytest.mark.parametrize(("old", "new"), [
    ("1'b1", ["1'b0"]), ("1'b0", ["1'b1"]), ("'0", ["'1"]), ("3'd7", ["3'd6"]),
    ("8'hFF", ["8'hFE"]), ("36'h0", ["36'h1"]), ("0", ["1"]), ("16", ["17", "15"]),
    ("4'b0011", ["4'b0100", "4'b0010"]), ("4'bx0", []),
    ("64'hFFFF_FFFF_0000_0000", ["64'hFFFF_FFFF_0000_0001", "64'hFFFF_FFFE_FFFF_FFFF"]),
])
def test_constants_move_one_step_within_their_width(old: str, new: list[str]) -> None:
    src = f"module m; assign y = {old};\nendmodule\n"
    assert [s.new for s in sites(src, "rtl/m.sv") if s.kind == "const"] == new


def test_a_multi_line_if_condition_is_not_dropped() -> None:
    src = "module m; always @(*) begin\nif (a &&\n b) y = 1'b1; end\nendmodule\n"
    assert [s.kind for s in sites(src, "rtl/m.sv")].count("cond") == 0


def test_the_draw_is_reproducible_and_depends_on_the_seed() -> None:
    every = all_sites()
    assert len(every) > 500
    assert {s.file for s in every}.isdisjoint({"rtl/smmu_arch_pkg.sv", "rtl/smmu_types_pkg.sv"})
    one = choose(every, 1, 30)
    assert one == choose(every, 1, 30)
    assert one != choose(every, 2, 30)
    assert len(set(one)) == 30
    assert len(choose(every[:5], 1, 30)) == 5


def test_apply_changes_one_line_at_the_site() -> None:
    site = sites(SRC, "rtl/m.sv")[1]            # == on line 15
    out = apply(SRC, site)
    changed = [(a, b) for a, b in zip(SRC.split("\n"), out.split("\n"), strict=True) if a != b]
    assert changed == [("    assign y = !(a == b) && (q[N-1:0] < a);",
                        "    assign y = !(a != b) && (q[N-1:0] < a);")]
    cond = next(s for s in sites(SRC, "rtl/m.sv") if s.kind == "cond")
    assert "        else if (1'b1) q <= q + 4'd1;" in apply(SRC, cond).split("\n")


def test_every_real_site_applies_and_changes_its_file() -> None:
    from tb.cli.runner import RTL_DIR
    for s in choose(all_sites(), 3, 200):
        text = (RTL_DIR / s.file.removeprefix("rtl/")).read_text()
        assert apply(text, s) != text


def test_apply_refuses_a_stale_or_empty_mutation() -> None:
    with pytest.raises(ValueError):
        apply(SRC, Site("rtl/m.sv", 15, 0, "==", "!=", "op"))
    with pytest.raises(ValueError):
        apply(SRC, Site("rtl/m.sv", 15, 18, "==", "==", "op"))


@pytest.mark.parametrize(("lint_ok", "rc", "timed_out", "status", "detail"), [
    (False, None, False, "stillborn", "does not lint"),
    (True, 1, False, "killed", "exit 1"),
    (True, None, True, "killed", "timeout"),
    (True, 0, False, "survived", ""),
])
def test_classify(lint_ok: bool, rc: int | None, timed_out: bool, status: str,
                  detail: str) -> None:
    assert classify(lint_ok, rc, timed_out) == (status, detail)


def test_classify_names_the_test_that_killed() -> None:
    assert classify(True, 1, False, "tb.directed.xlate") == ("killed", "tb.directed.xlate")


def test_score_leaves_stillborn_mutants_out() -> None:
    site = Site("rtl/m.sv", 1, 0, "a", "b", "op")
    rs = [Result(f"m{i}", site, st, det, 1.0, "", "") for i, (st, det) in enumerate(
        [("killed", "exit 1"), ("killed", "timeout"), ("killed", "exit 1"), ("survived", ""),
         ("stillborn", "does not lint")])]
    assert score(rs) == {"killed": 3, "survived": 1, "stillborn": 1, "timeouts": 1,
                         "score": 0.75}
    assert score(rs[4:])["score"] is None
