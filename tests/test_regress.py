"""make regress / make merge: the sharding machinery on a small synthetic suite (seconds).

The synthetic suite passes, fails, errs, skips and xfails, and its tests write coverage
databases where the plugin points them, as the pyuvm tests do in a simulator; the selftest
runs it whole and in 3 shards and must find the same ids, JUnit counts and coverage.
`make regress-selftest` runs the same proof on the real suite.
"""

from __future__ import annotations

import argparse
import os
import textwrap
from pathlib import Path

import pytest
import yaml

from tb.cli import regress
from tb.cli.regress_selftest import hits, selftest

SUITE = '''
import os
from pathlib import Path

import pytest
import yaml


def sample(i):
    """Hits of one run in cocotb-coverage's YAML layout: point s.p, bins a (i % 2) and b (i)."""
    out = os.environ.get("SMMU_FCOV_DIR")
    if out is None:
        return
    bins = {"a": i % 2, "b": i}
    covered = sum(1 for n in bins.values() if n >= 1)
    pct = round(covered * 100 / 2, 2)
    db = {"s": {"coverage": covered, "size": 2, "cover_percentage": pct},
          "s.p": {"at_least": 1, "weight": 1, "bins:_hits": bins, "coverage": covered,
                  "size": 2, "cover_percentage": pct}}
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / f"run-{os.getpid()}.yml").write_text(yaml.dump(db))


@pytest.mark.parametrize("i", range(12))
def test_sampling(i):
    sample(i)


@pytest.mark.parametrize("name", ["with space", "plain"])
def test_odd_ids(name):
    sample(3)


def test_fails():
    sample(5)
    assert False


@pytest.fixture
def broken():
    raise RuntimeError("setup error")


def test_errs(broken):
    pass


def test_skips():
    pytest.skip("not here")


@pytest.mark.xfail(reason="known")
def test_xfails():
    assert False


def test_samples_nothing():
    pass
'''


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    d = tmp_path / "suite"
    d.mkdir()
    (d / "pytest.ini").write_text("[pytest]\n")
    (d / "test_synthetic.py").write_text(textwrap.dedent(SUITE))
    return d


def test_sharded_equals_whole_on_a_synthetic_suite(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert selftest([str(suite)], shards=3, jobs=2, out=out, env=dict(os.environ)) == []
    merged = out / "sharded"
    assert regress.counts(merged / "junit.xml") == regress.Counts(19, 1, 1, 2)
    # 12 sampling tests (i = 0..11), two with 3, one with 5; each shard has its own database
    assert hits(merged / "coverage.yml") == {"s.p": {"a": 6 + 2 + 1, "b": 66 + 6 + 5}}
    assert sum(yaml.safe_load((s / "coverage.yml").read_text()) != {}
               for s in regress.find_shards(merged)) >= 2


def test_merge_refuses_an_incomplete_or_overlapping_set(tmp_path: Path) -> None:
    for i in (1, 3):
        d = regress.shard_dir(tmp_path, i, 3)
        d.mkdir(parents=True)
        (d / "junit.xml").write_text("<testsuites/>")
        (d / "ids.txt").write_text("t.py::a\n")
        (d / "coverage.yml").write_text("{}\n")
    with pytest.raises(SystemExit, match=r"2/3 missing"):
        regress.merge(tmp_path)
    d = regress.shard_dir(tmp_path, 2, 3)
    d.mkdir()
    (d / "junit.xml").write_text("<testsuites/>")
    (d / "ids.txt").write_text("")
    with pytest.raises(SystemExit, match=r"t.py::a ran in shard-1-of-3 and shard-3-of-3"):
        regress.merge(tmp_path)


@pytest.mark.parametrize("text", ["0/4", "5/4", "1", "a/b", "1/0"])
def test_shard_must_be_i_of_n(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        regress.parse_shard(text)


def test_a_shard_without_simulations_has_an_empty_database(tmp_path: Path) -> None:
    regress.merge_fcov([], tmp_path / "c.yml")
    assert yaml.safe_load((tmp_path / "c.yml").read_text()) == {}


@pytest.mark.skipif(bool(os.environ.get("SEED") or os.environ.get("SEEDS")),
                    reason="the RTL items' ids follow SEED/SEEDS; the selftest sets SEEDS=2")
def test_selftest_rtl_items_are_collected() -> None:
    """The RTL items `make regress-selftest` selects by id are items of tests/test_rtl.py as
    the selftest collects them (Verilator, SEEDS=2, the same ids as the default): a renamed
    item would make every selftest run stop at collection ("not found")."""
    from tb.cli.regress_selftest import RTL_ITEMS
    from tests.test_rtl import ITEMS

    verilator = {f"tests/test_rtl.py::test_rtl[{p.id}]" for p in ITEMS
                 if p.values[0] == "verilator"}
    if not verilator:
        pytest.skip("Verilator not selected (SIMS)")
    assert set(RTL_ITEMS) <= verilator, sorted(set(RTL_ITEMS) - verilator)


def test_a_launch_groups_time_is_shared_by_its_items(tmp_path: Path) -> None:
    """The item that started a launch group's simulation carries the group's time in JUnit;
    the stored durations give each item of the group an equal share (a shard given part of
    a group runs a simulation for that part), other items keep their own."""
    grouped = [f"tests/test_rtl.py::test_rtl[icarus-default-{t}-s1]"
               for t in ("BringUpTest", "RegResetTest", "WatchdogTest")]
    alone = "tests/test_rtl.py::test_rtl_fuzz_seeds[full-random_x-s2]"
    times = dict(zip([*grouped, alone], ("9.0", "0.001", "0.002", "5.0"), strict=True))
    cases = "".join(f'<testcase classname="tests.test_rtl" name="{n.split("::")[1]}" '
                    f'time="{t}"/>' for n, t in times.items())
    junit = tmp_path / "junit.xml"
    junit.write_text(f'<testsuites><testsuite name="pytest" tests="4">{cases}</testsuite>'
                     "</testsuites>")
    got = regress.durations_from(junit, list(times), {"tests/x.py::y": 1.5})
    assert got == {**dict.fromkeys(grouped, 3.001), alone: 5.0, "tests/x.py::y": 1.5}
