"""pytest configuration: which simulators and seeds the RTL items use.

``SIMS`` (space-separated, default "verilator icarus") picks the simulators; ``SEEDS``
(a count, default 2) how many seeds each random test runs with (on Verilator the SVA
scenarios at least SVA_SEEDS and the random translation test at least
XLATE_SEEDS_VERILATOR; on Icarus seed 1 alone unless SEEDS is given, ``icarus_seeds``);
``SEED=N`` pins one seed. ``LAUNCH_GROUPS=0`` runs every RTL item in a simulation of its own
(tests/test_rtl.py; by default the items of a launch group share one, tb/cli/launch_groups.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tb.cli.launch_groups import LaunchGroupScheduling, launch_group


def sims() -> list[str]:
    return os.environ.get("SIMS", "verilator icarus").split()


def seeds(minimum: int = 1) -> list[int]:
    """Seeds 1..SEEDS (at least ``minimum`` of them), or only SEED when it is set."""
    if os.environ.get("SEED"):
        return [int(os.environ["SEED"])]
    return list(range(1, max(minimum, int(os.environ.get("SEEDS", "2"))) + 1))


def icarus_seeds() -> list[int]:
    """The seeds of a random RTL item on Icarus: seed 1 alone, unless SEEDS or SEED is given.
    Icarus is the second simulator, there to show that the RTL and the testbench behave the
    same on an event-driven one; Verilator, several times faster, carries the seeds and the
    volume. An explicit SEEDS=N (a nightly run) gives Icarus N seeds too."""
    if os.environ.get("SEED") or os.environ.get("SEEDS"):
        return seeds()
    return [1]


# The SVA scenarios are short and their traffic, timing and invalidation windows change with
# the seed (make sim failed at every seed but 1 while only seed 1 ran): several seeds each,
# on Verilator (Icarus: ``icarus_seeds``).
SVA_SEEDS = 4
# Every pyuvm test on the parameter set `stall` (the I/O page-fault scenarios, the random
# translation test with stalls); the model runs the scenarios with SVA_SEEDS.
IOPF_RTL_SEEDS = 2
# The random translation test on Verilator: the batch ports and the memoized model made it fast
# enough to run this many fresh worlds (SEEDS x TRANSLATIONS each) in less time than two took
# before (docs/profile.md). More seeds rather than longer runs: a world decays as
# its tables are mutated, and a new one reaches fresh configurations.
XLATE_SEEDS_VERILATOR = 11


def pytest_collection_modifyitems(config, items) -> None:
    """Longest first, by the durations pytest-split keeps (.test_durations), so that the
    last units `make test`'s workers run are short ones, and both finish together. A launch
    group (tb/cli/launch_groups.py: items sharing one simulation, one worker's unit) goes where
    its items' total puts it, its items together. The order is the same in every worker, as
    xdist requires."""
    path = Path(config.rootpath) / ".test_durations"
    if not path.exists():
        return
    durations = json.loads(path.read_text())
    unit = {it.nodeid: launch_group(it.nodeid) or it.nodeid for it in items}
    total: dict[str, float] = {}
    for it in items:
        total[unit[it.nodeid]] = total.get(unit[it.nodeid], 0.0) + durations.get(it.nodeid, 0.0)
    items.sort(key=lambda it: (-total[unit[it.nodeid]], unit[it.nodeid]))


@pytest.hookimpl(optionalhook=True)  # (xdist's hook: unknown with -p no:xdist)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` (make test, make regress): each launch group on one worker."""
    if config.getvalue("dist") == "loadgroup":
        return LaunchGroupScheduling(config, log)
    return None
