"""make bench-ab: the figure read from either bench.json layout, the summary, the alternation."""

from __future__ import annotations

import json

import pytest

from tb.cli import bench_ab


def test_random_rate_reads_both_layouts() -> None:
    # f446a4f's bench.json kept the figure at the top level; later ones under "cosim", next to
    # its ratio to the floor.
    assert bench_ab.random_rate({"random_translations_per_s": 428}) == 428
    assert bench_ab.random_rate({"cosim": {"random_translations_per_s":
                                           {"per_s": 4087, "ratio_to_floor": 0.05}}}) == 4087
    for bad in ({}, {"cosim": {}}, {"random_translations_per_s": 0},
                {"cosim": {"random_translations_per_s": {"ratio_to_floor": 0.05}}}):
        with pytest.raises(ValueError, match="random_translations_per_s"):
            bench_ab.random_rate(bad)


def test_summary() -> None:
    rounds = [{"here": 4000.0, "ref": 400.0}, {"here": 3000.0, "ref": 250.0},
              {"here": 5000.0, "ref": 625.0}]
    # means 4000 and 425; round ratios 10, 12 and 8
    assert bench_ab.summary(rounds) == {
        "rounds": 3, "here_mean": 4000, "ref_mean": 425, "ratio_of_means": 9.41,
        "ratio_min": 8.0, "ratio_median": 10.0, "ratio_max": 12.0}


def test_rounds_alternate_and_report(tmp_path, monkeypatch, capsys) -> None:
    ref_tree = tmp_path / "ref"
    runs: list[str] = []
    rates = {str(ref_tree): iter([100.0, 200.0, 100.0]),
             str(bench_ab.ROOT): iter([1000.0, 1500.0, 1200.0])}

    def fake_bench(tree):
        runs.append("ref" if tree == ref_tree else "here")
        return next(rates[str(tree)])

    monkeypatch.setattr(bench_ab, "bench_in", fake_bench)
    monkeypatch.setattr(bench_ab, "resolve", lambda ref: "a" * 40)
    monkeypatch.setattr(bench_ab, "reference_tree", lambda ref, sha: ref_tree)
    monkeypatch.setattr(bench_ab, "OUT_DIR", tmp_path / "out")
    # this tree: a commit, and a file git does not track yet (it runs too)
    git = {("rev-parse", "HEAD"): "b" * 40, ("status", "--porcelain"): "?? tb/new.py"}
    monkeypatch.setattr(bench_ab, "_git", lambda *args, **kw: git[args])
    assert bench_ab.main(["--ref", "HEAD", "--rounds", "3"]) == 0
    # the order swaps every round, so that a drift of the machine's speed weighs on both
    assert runs == ["ref", "here", "here", "ref", "ref", "here"]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["ref"] == "a" * 40
    assert report["here"] == "b" * 40 + " (with uncommitted changes)"
    assert report["per_round"] == [{"ref": 100.0, "here": 1000.0, "ratio": 10.0},
                                   {"here": 1500.0, "ref": 200.0, "ratio": 7.5},
                                   {"ref": 100.0, "here": 1200.0, "ratio": 12.0}]
    assert report["summary"]["ratio_of_means"] == round(3700 / 400, 2)
    assert report["summary"]["ratio_min"] == 7.5
    out = capsys.readouterr().out
    assert "round 2: here 1500/s, HEAD 200/s, 7.50x" in out


def test_a_failed_run_leaves_no_report(tmp_path, monkeypatch, capsys) -> None:
    def failing(tree):
        raise RuntimeError("BenchTest failed in somewhere (status 1):\nthe log's tail")

    monkeypatch.setattr(bench_ab, "bench_in", failing)
    monkeypatch.setattr(bench_ab, "resolve", lambda ref: "a" * 40)
    monkeypatch.setattr(bench_ab, "reference_tree", lambda ref, sha: tmp_path)
    monkeypatch.setattr(bench_ab, "_git", lambda *args, **kw: "")
    monkeypatch.setattr(bench_ab, "OUT_DIR", tmp_path / "out")
    old = tmp_path / "out" / "report.json"
    old.parent.mkdir()
    old.write_text("{}")  # an earlier run's: it must not look like this one's
    assert bench_ab.main(["--rounds", "1"]) == 1
    assert "the log's tail" in capsys.readouterr().err
    assert not old.exists()


def test_a_bench_json_without_the_figure_is_a_failed_run(tmp_path, monkeypatch) -> None:
    class Done:
        returncode = 0
        stdout = 'BENCH_AB {"cosim": {}}\n'
        stderr = ""

    monkeypatch.setattr(bench_ab.subprocess, "run", lambda *a, **k: Done())
    with pytest.raises(RuntimeError, match=r"bench\.json: .*random_translations_per_s"):
        bench_ab.bench_in(tmp_path)


def test_the_trees_runs_do_not_inherit_a_redirected_rtl_or_build(tmp_path, monkeypatch) -> None:
    seen = {}

    class Done:
        returncode = 0
        stdout = 'BENCH_AB {"random_translations_per_s": 400}\n'
        stderr = ""

    def run(cmd, **kw):
        seen.update(kw["env"])
        return Done()

    monkeypatch.setattr(bench_ab.subprocess, "run", run)
    monkeypatch.setenv("SMMU_RTL_DIR", "/elsewhere/rtl")
    monkeypatch.setenv("SMMU_BUILD_DIR", "/elsewhere/build")
    assert bench_ab.bench_in(tmp_path) == 400
    assert "SMMU_RTL_DIR" not in seen and "SMMU_BUILD_DIR" not in seen
    assert seen["PYTHONPATH"] == str(tmp_path)


@pytest.mark.parametrize(("head", "status"), [("c" * 40, ""), ("a" * 40, " M tb/tests.py")])
def test_a_worktree_no_longer_the_commit_is_refused(head, status, tmp_path, monkeypatch):
    sha = "a" * 40
    tree = tmp_path / sha[:12]
    tree.mkdir()
    (tree / ".git").write_text("gitdir: elsewhere\n")

    def git(*args, tree=None):
        assert tree is not None, args  # (only the worktree is asked)
        return {"rev-parse": head, "status": status}[args[0]]

    monkeypatch.setattr(bench_ab, "_git", git)
    monkeypatch.setattr(bench_ab, "OUT_DIR", tmp_path)
    with pytest.raises(RuntimeError, match=r"no longer .* as committed"):
        bench_ab.reference_tree("f446a4f", sha)


def test_a_bad_ref_keeps_the_earlier_report(tmp_path, monkeypatch, capsys) -> None:
    def git(*args, **kw):
        raise RuntimeError("git rev-parse: fatal: Needed a single revision")

    monkeypatch.setattr(bench_ab, "_git", git)
    monkeypatch.setattr(bench_ab, "OUT_DIR", tmp_path)
    old = tmp_path / "report.json"
    old.write_text("{}")
    with pytest.raises(SystemExit) as exc:
        bench_ab.main(["--ref", "nope"])
    assert exc.value.code == 2
    assert "unknown commit 'nope' (REF)" in capsys.readouterr().err
    assert old.read_text() == "{}"  # a bad value changes nothing, as with every make variable
