"""The RTL under cocotb: one pytest item per (simulator, parameter set, pyuvm test, seeds),
run in the simulation of its launch group (tb/cli/launch_groups.py)."""

from __future__ import annotations

import json
import os
import re
from itertools import pairwise
from pathlib import Path

import pytest

from models.arch.geometry import PAGE
from tb.cli.launch_groups import OWN_GROUP, launch_group
from tb.cli.runner import TEST_MODULE, GroupRun, build_dir, run, run_group
from tb.directed import DIRECTED, FUZZ
from tb.env.seq_lib.sva_cost import working_set
from tests.conftest import (
    IOPF_RTL_SEEDS,
    SVA_SEEDS,
    XLATE_SEEDS_VERILATOR,
    icarus_seeds,
    seeds,
    sims,
)

# (parameter set, pyuvm test, random?)
CASES = [
    ("default", "RegResetTest", False),
    ("default", "RegAccessTest", True),
    ("default", "BringUpTest", False),
    ("default", "XlateRandomTest", True),
    # the watchdog every pyuvm test runs names a planted hang (a memory that stops answering)
    ("default", "WatchdogTest", False),
    # the agents' sequencer (tb/agents/sequencer.py): FIFO order, finish_item after item_done
    ("default", "DirectSequencerTest", False),
    # the same with the stall model: CDs with S=1, stall records answered by CMD_RESUME
    ("stall", "XlateRandomTest", True),
    # and with ATS: ATS requests and ATS-Translated transactions among the traffic, every
    # completion against the model's envelope (cached STEs' EATS included)
    ("pcie", "XlateRandomTest", True),
    # and with HTTU: CDs with HA/HD, leaves with AF=0 and DBM; every flag update checked
    # (tb/env/xlate_scoreboard.py), walks racing an update may have read either value
    ("httu", "XlateRandomTest", True),
    # and everything at once: stall, ATS and PRI, HTTU, BTM, 52-bit OAS, range invalidation
    ("full", "XlateRandomTest", True),
    ("full", "RegResetTest", False),
    ("full", "RegAccessTest", True),
    # bring-up with PRI (the PRI queue and its interrupt) and a 2-level stream table
    ("full", "BringUpTest", False),
    ("mixed", "RegResetTest", False),
    ("nosub", "RegResetTest", False),
    # SVA scenarios with DMA engines (tb/scenarios/scenarios.py), every access isolation-checked
    ("default", "SvaMultiProcessDmaTest", True),
    ("default", "SvaMunmapDuringDmaTest", True),
    ("default", "SvaAsidCollisionTest", True),
    ("default", "SvaBindTwiceTest", True),
    ("default", "SvaTwoDevicesOneMmTest", True),
    ("default", "SvaPasidReuseTest", True),
    ("default", "SvaMmExitBeforeUnbindTest", True),
    ("default", "SvaAsidRolloverTest", True),
    ("default", "SvaFlagshipTest", True),
    ("default", "SvaGerrorRecoveryTest", True),
    ("default", "SvaCmdqStormTest", True),
    # the soak: churn (bind/unbind, munmap/mprotect under DMA, exits, ASID rollovers, faults)
    # for TRANSLATIONS / 10 DMA accesses (tb/scenarios/soak.py); `make soak` runs it longer
    ("default", "SvaSoakTest", True),
    # I/O page faults through the stall model (tb/scenarios/iopf.py): stall records matched with
    # held requests, every response (retried or terminated) checked
    ("stall", "SvaDemandPagedDmaTest", True),
    ("stall", "SvaIopfInvalidAccessTest", True),
    ("stall", "SvaFaultStormTest", True),
    # a thousand stalls against a 4-record event queue, more engines than STALL_MAX
    ("stall", "SvaStallStormTest", True),
    ("stall", "SvaUnbindWithFaultsPendingTest", True),
    ("stall", "SvaMmExitWithFaultsPendingTest", True),
    ("stall", "SvaMunmapWhileStalledTest", True),
    ("stall", "SvaMunmapRacingRetryTest", True),
    # PCIe endpoints through ATS, PRI and ATC invalidation (tb/scenarios/pcie.py), every ATS
    # completion checked against the model, every access (translated ones too) isolation-checked
    ("pcie", "SvaPcieDemandPagedDmaTest", True),
    ("pcie", "SvaPcieMunmapBusyAtcTest", True),
    ("pcie", "SvaPcieInvalidPageRequestsTest", True),
    ("pcie", "SvaPcieAtcTimeoutTest", True),
    ("pcie", "SvaPciePriQueueOverflowTest", True),
    ("pcie", "SvaPcieUnbindWithPrgsTest", True),
    ("pcie", "SvaPcieStallAndPriTest", True),
    ("pcie", "SvaPciePriAbortRecoveryTest", True),
    ("pcie", "RegResetTest", False),
    # HTTU through the software stack (tb/scenarios/httu.py): the SMMU dirties and ages the
    # process's own PTEs while the CPU harvests and ages them
    ("httu", "SvaHttuDirtyTrackingTest", True),
    ("httu", "SvaHttuYoungAfterMigrationTest", True),
    ("httu", "SvaHttuHarvestRaceTest", True),
    # BTM: the CPU's broadcast TLBIs on the DVM port instead of the notifier's commands
    ("btm", "SvaMunmapDuringDmaTest", True),
    ("btm", "SvaFlagshipTest", True),
    ("btm", "SvaHttuHarvestRaceTest", True),
    # ASID pinning is what makes BTM safe: the shared ASID survives the CPU's rollover
    ("btm", "SvaAsidRolloverTest", True),
    # and the kernel at EL2 (VHE): the EL2&0 TLBIs reach no entry of this SMMU (no Hyp), so
    # the driver keeps its TLBI commands
    ("btm", "SvaMunmapDuringDmaVheTest", True),
    ("btm", "SvaFlagshipVheTest", True),
]
# Translations per random translation run (TRANSLATIONS=N overrides).
TRANSLATIONS = int(os.environ.get("TRANSLATIONS", "20000"))



def _min_seeds(test: str, params: str = "default") -> int:
    """Seeds of a random item on Verilator (at least; SEEDS may ask for more)."""
    if test == "SvaSoakTest":
        return 1
    if params == "stall" or (params, test) in (("pcie", "XlateRandomTest"),
                                               ("httu", "XlateRandomTest"),
                                               ("full", "XlateRandomTest")):
        return IOPF_RTL_SEEDS
    if test.startswith("Sva"):
        return SVA_SEEDS
    return XLATE_SEEDS_VERILATOR if test == "XlateRandomTest" else 1


def _items():
    for sim in sims():
        for params, test, rnd in CASES:
            if not rnd:
                group = [1]
            elif sim == "icarus":
                group = icarus_seeds()
            else:
                group = seeds(_min_seeds(test, params))
            # One item runs every seed of a test; every item runs in the simulation of its
            # launch group (tb/cli/launch_groups.py). The random translation test keeps one
            # seed per item: each runs for a quarter of a minute or more, and says alone
            # whether it passed.
            if test == "XlateRandomTest" or len(group) == 1:
                for seed in group:
                    yield pytest.param(sim, params, test, (seed,),
                                       id=f"{sim}-{params}-{test}-s{seed}")
            else:  # seeds() gives 1..N
                yield pytest.param(sim, params, test, tuple(group),
                                   id=f"{sim}-{params}-{test}-s{group[0]}-{group[-1]}")


ITEMS = list(_items())


def _translations(sim: str) -> int:
    # Icarus runs the random test (and the soak, TRANSLATIONS / 10 accesses) an eighth as
    # long: its simulator is about five times slower, it is there to show that an
    # event-driven simulator agrees, and Verilator's seeds carry the volume.
    return max(1, TRANSLATIONS // 8) if sim == "icarus" else TRANSLATIONS


# LAUNCH_GROUPS=0: every item in a simulation of its own (to compare with the groups' runs).
GROUPED = os.environ.get("LAUNCH_GROUPS", "1") != "0"
# The simulations this session ran, by launch group (tb/cli/launch_groups.py); an exception
# stands for one that wrote no results.
_RUNS = pytest.StashKey[dict[str, GroupRun | Exception]]()
# The tests that read SMMU_TRANSLATIONS, so that a rerun gets the same length.
_SIZED = ("XlateRandomTest", "SvaSoakTest")


def _group_run(request: pytest.FixtureRequest, sim: str, params: str) -> GroupRun:
    """The simulation of this item's launch group: run (for every item of the group that the
    session selected) the first time one of them asks."""
    nodeid = request.node.nodeid
    key = launch_group(nodeid) if GROUPED else nodeid
    assert key is not None, nodeid
    runs = request.session.stash.setdefault(_RUNS, {})
    if key not in runs:
        members = ([it for it in request.session.items if launch_group(it.nodeid) == key]
                   if GROUPED else [request.node])
        pyuvm, modules = [], []
        for item in members:
            cs = item.callspec.params  # type: ignore[attr-defined]
            if "module" in cs:
                modules.append(cs["module"])
            else:
                pyuvm.append((cs["test"], cs["group"]))
        name = (f"launch-group{key[len(sim) + len(params) + 1:]}" if GROUPED
                else re.sub(r"[^\w.-]", "_", request.node.name))
        try:
            runs[key] = run_group(sim, params=params, pyuvm=pyuvm, modules=modules,
                                  test_dir=build_dir(sim, params) / name,
                                  log_file_name="sim.log",
                                  extra_env={"SMMU_TRANSLATIONS": str(_translations(sim))})
        except Exception as exc:  # (kept: the group's other items fail with it, not rerun)
            runs[key] = exc
    got = runs[key]
    if isinstance(got, Exception):
        pytest.fail(f"the simulation of {key} wrote no results: {got!r}")
    return got


def _judge(run: GroupRun, names: list[str], what: str) -> list[str]:
    """The names of ``names`` that failed; fails the item when one did not run."""
    missing = [n for n in names if n not in run.outcomes]
    if missing or not names:
        end = f"; the simulation ended: {run.ended}" if run.ended else ""
        pytest.fail(f"{what}: {', '.join(missing) or 'none of its tests'} did not run in "
                    f"the simulation (log in {run.tdir / 'sim.log'}{end})")
    return [n for n in names if run.outcomes[n] is not None]


def _in_group(sim: str, params: str, test: str = "") -> str:
    """How to rerun a failure that shows only after the other tests of its launch group (the
    selection may take in a few items of other groups, which then run in theirs)."""
    if not GROUPED:
        return ""
    which = test if test in OWN_GROUP else "not fuzz and not replay and not " + " and not ".join(
        OWN_GROUP)
    return ("; if it passes alone, rerun its launch group with "
            f"`SIMS={sim} python -m pytest tests/test_rtl.py -k '{sim} and {params} and {which}'`")


@pytest.mark.rtl
@pytest.mark.parametrize(("sim", "params", "test", "group"), ITEMS)
def test_rtl(sim: str, params: str, test: str, group: tuple[int, ...],
             request: pytest.FixtureRequest) -> None:
    run = _group_run(request, sim, params)
    failed = _judge(run, [f"{TEST_MODULE}.{test}_s{s}" for s in group], test)
    if failed:
        bad = [int(f.rsplit("_s", 1)[1]) for f in failed]
        rerun = f"make waves TEST={test} SEED={bad[0]} SIM={sim} PARAMS={params}"
        if test in _SIZED:
            rerun += f" TRANSLATIONS={_translations(sim)}"
        pytest.fail(f"{test} on {sim} ({params}) failed with seed(s) "
                    f"{', '.join(map(str, bad))}; rerun alone with `{rerun}`"
                    f"{_in_group(sim, params, test)}; log in {run.tdir / 'sim.log'}: "
                    + "; ".join(f"{f}: {run.outcomes[f]}" for f in failed))


@pytest.mark.rtl
@pytest.mark.skipif("verilator" not in sims(), reason="Verilator not selected (SIMS)")
def test_seeds_in_one_simulation_run_as_alone(tmp_path: Path) -> None:
    """A seed run after other tests in one simulation (a launch group's ``run_group``: the
    random translation test with its port stress, the same test's earlier seeds, and a
    directed module after them) does what it does alone: the flagship's report (every
    latency, cycle and count) of seeds 3 and 4 is the same byte for byte (seed 4 also turns
    the memory port's latency model on), and differs from seed 1's. Each test boundary moves
    the clock off its grid unless the next test starts back on it."""
    got = run_group("verilator", pyuvm=[("XlateRandomTest", (2,)),
                                        ("SvaFlagshipTest", (1, 2, 3, 4))],
                    modules=["tb.directed.ttb1"], test_dir=tmp_path / "all",
                    extra_env={"SMMU_TRANSLATIONS": "300"})
    assert len(got.outcomes) > 5 and not any(got.outcomes.values()), got.outcomes
    assert got.ended is None
    for seed in (3, 4):
        run("verilator", "SvaFlagshipTest", seed, test_dir=tmp_path / f"s{seed}")
        alone = (tmp_path / f"s{seed}" / "report.json").read_text()
        report = tmp_path / "all" / f"SvaFlagshipTest-s{seed}" / "report.json"
        assert report.read_text() == alone, seed
        assert (tmp_path / "all" / "SvaFlagshipTest-s1" / "report.json").read_text() != alone


@pytest.mark.rtl
@pytest.mark.parametrize(("module", "params"), DIRECTED)
@pytest.mark.parametrize("sim", sims())
def test_rtl_directed_smoke(sim: str, module: str, params: str,
                            request: pytest.FixtureRequest) -> None:
    """Directed translation tests with hand-derived expectations (every test of the module),
    in the simulation of their launch group."""
    run = _group_run(request, sim, params)
    names = [n for n in run.outcomes if n.startswith(f"{module}.")]
    if failed := _judge(run, names, module):
        pytest.fail(f"directed tests {module} failed on {sim} ({params}): "
                    + "; ".join(f"{f}: {run.outcomes[f]}" for f in failed)
                    + f"; log in {run.tdir / 'sim.log'}; rerun alone with `python -m "
                    f"tb.cli.runner --sim {sim} --module {module} "
                    f"--test {failed[0].rsplit('.', 1)[1]} --params {params}`"
                    + _in_group(sim, params))
    if all(n in run.skipped for n in names):
        pytest.skip(f"every test of {module} is marked skip on {params}")


FUZZ_ITEMS = [
    pytest.param(module, test, params, seed, id=f"{params}-{test}-s{seed}")
    for module, test, sets in FUZZ
    for params in sets
    for seed in seeds(2) if seed != 1  # seed 1 runs in test_rtl_directed_smoke
]


@pytest.mark.rtl
@pytest.mark.parametrize(("module", "test", "params", "seed"), FUZZ_ITEMS)
def test_rtl_fuzz_seeds(module: str, test: str, params: str, seed: int) -> None:
    """The directed fuzz tests with more seeds (Verilator; Icarus runs seed 1)."""
    tdir = build_dir("verilator", params) / f"{test}-s{seed}"
    try:
        run("verilator", test, seed, params=params, test_dir=tdir, log_file_name="sim.log",
            test_module=module)
    except (RuntimeError, SystemExit) as exc:
        pytest.fail(f"{test} on verilator ({params}) failed with seed {seed}; rerun with "
                    f"`python -m tb.cli.runner --sim verilator --module {module} --test {test} "
                    f"--seed {seed} --params {params}`; log in {tdir}: {exc}")


@pytest.mark.rtl
@pytest.mark.parametrize(("vectors", "params", "n"), [("handwritten", "default", 7),
                                                      ("httu", "httu", 1)])
@pytest.mark.parametrize("sim", sims())
def test_rtl_replay_matches_model(sim: str, vectors: str, params: str, n: int,
                                  tmp_path) -> None:
    """`make replay` on the hand-written vectors: the RTL's result lines equal the model's,
    the flag updates in memory_writes included (parameter set httu)."""
    from tb.replay.cli import main as replay

    vec = Path(__file__).parent / "vectors" / f"{vectors}.jsonl"
    assert replay([str(vec), str(tmp_path / "model.jsonl"), "--backend", "model",
                   "--params", params]) == 0
    assert replay([str(vec), str(tmp_path / "rtl.jsonl"), "--backend", "rtl", "--sim", sim,
                   "--params", params]) == 0
    model = (tmp_path / "model.jsonl").read_text().splitlines()
    rtl = (tmp_path / "rtl.jsonl").read_text().splitlines()
    assert len(rtl) == len(model) == n
    for r, m in zip(rtl, model, strict=True):
        assert r == m


@pytest.mark.rtl
def test_batch_engines_keep_cocotbext_axi_timing(tmp_path) -> None:
    """The wrapper's batch memory and register engines (tb/bfm/mem_bfm.py, reg_bfm.py)
    replaced cocotbext-axi's AXI slave and AXI4-Lite master with the same timing: every cycle
    count `make bench` measures (hits, cold and cached misses, walks in flight, a fault and
    its record's write, register read and write round trips, CMD_SYNC after a register write)
    is the same under both."""
    figures = {}
    latency = {}
    for model in ("batch", "cocotbext"):
        tdir = tmp_path / model
        run("verilator", "BenchTest", 1, test_dir=tdir, log_file_name="sim.log",
            extra_env={"SMMU_MEMPORT": model, "SMMU_REGPORT": model,
                       "SMMU_BENCH_COSIM": "0"})
        got = json.loads((tdir / "bench.json").read_text())
        got.pop("cosim")
        latency[model] = got.pop("memory_latency", None)  # (the batch engine's model only)
        figures[model] = got
    assert figures["batch"] == figures["cocotbext"]
    # The latency model delays each read's data by the read latency and nothing else: a
    # miss costs its zero-wait cycles plus that latency once per read in its dependent
    # chain (STE, CD, then one per table level walked; the walk cache leaves the leaf's).
    lat, miss = latency["batch"], figures["batch"]["miss_latency"]
    assert latency["cocotbext"] is None
    r = lat["read_latency_cycles"]
    for level, reads_cold in ((0, 6), (2, 4)):
        row = miss[f"start_level_{level}"]
        assert lat[f"miss_start_level_{level}_cold_cycles"] == \
            row["cold"]["cycles"] + reads_cold * r
        assert lat[f"miss_start_level_{level}_config_cached_cycles"] == \
            row["config_cached"]["cycles"] + (reads_cold - 2) * r
    assert lat["miss_walk_cached_cycles"] == figures["batch"]["miss_walk_cached"]["cycles"] + r
    assert lat["hit_cycles"] == figures["batch"]["hit_latency_cycles"]["min"]
    # The cost of SVA: a bypassed access with its STE cached is answered as fast as a hit,
    # so a warm bypass run costs its data phases plus a hit latency per access; every cold
    # translated run costs more than the bypassed one. The warm streaming copy's 32 pages fit
    # the IOTLB (smmu_top's 256 entries, 4 ways: 32 consecutive pages take one way of 32
    # sets), so it costs exactly what the bypass costs; the random pattern's 4096 pages do not.
    hit = figures["batch"]["hit_latency_cycles"]["min"]
    for name in ("stream_copy", "random_64b"):
        row = lat["sva_cost"][name]
        assert row["bypass_warm_cycles"] == row["data_cycles"] + hit * row["accesses"], row
        assert row["translated_cold_cycles"] > row["bypass_cold_cycles"], row
    row = lat["sva_cost"]["stream_copy"]
    assert row["translated_warm_cycles"] == row["bypass_warm_cycles"], row
    row = lat["sva_cost"]["random_64b"]
    assert row["translated_warm_cycles"] > row["bypass_warm_cycles"], row
    # The IOTLB from empty: up to 256 consecutive pages fit (4 in each of 64 sets), so a
    # working set misses exactly once per page its 512 reads touch, and the hit rate falls as
    # the working set grows.
    rates = figures["batch"]["hit_rate_vs_working_set"]
    sizes = sorted(int(k.split("_")[1]) for k in rates)
    for n in sizes:
        assert n <= 256, n
        touched = len({off // PAGE for off in working_set(n)})
        assert rates[f"pages_{n}"] == round((512 - touched) / 512, 4), (n, touched, rates)
    assert all(rates[f"pages_{a}"] > rates[f"pages_{b}"] for a, b in pairwise(sizes)), rates
    # The mixed load's outcomes are what they claim: alone each costs what the directed
    # figures say (a hit, a one-read walk-cached miss, a four-read config-cached miss from
    # level 0), and contention only adds to it.
    mixed, f = figures["batch"]["mixed_load"]["latency_cycles"], figures["batch"]
    assert mixed["hit"]["min"] == f["hit_latency_cycles"]["min"], mixed
    assert mixed["walk_cache_hit"]["min"] >= f["miss_walk_cached"]["cycles"], mixed
    assert mixed["cold_miss"]["min"] >= \
        f["miss_latency"]["start_level_0"]["config_cached"]["cycles"], mixed
    assert mixed["hit"]["max"] < mixed["walk_cache_hit"]["min"], mixed
    assert mixed["walk_cache_hit"]["max"] < mixed["cold_miss"]["min"], mixed
    assert figures["batch"]["fault_with_record"]["record_visible_cycles"] > 0
    assert figures["batch"]["register_read_cycles"] > 0 < figures["batch"]["register_write_cycles"]
