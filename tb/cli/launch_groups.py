"""Launch groups: the short RTL items that share one simulation.

A simulator launch costs 0.6 to 0.8 s before its first test starts (the simulator, cocotb,
pytest and the testbench imported afresh; docs/profile.md), more than most directed tests and
scenarios take. The short items of one simulator and parameter set (every ``test_rtl`` item but
the random translation test's, every ``test_rtl_directed_smoke`` item) form a group, and the
random translation test's seeds of one simulator and set another: the first item of a group
a process runs starts one simulation for every item of the group the session selected
(``tb.cli.runner.run_group``), and each item passes or fails on its own tests' outcomes.

The group is read from the node id alone, so that the scheduler of `make test`'s workers,
which sees only ids, can keep a group on one worker (``LaunchGroupScheduling``, chosen with
``--dist loadgroup``). Under another ``--dist`` a group's items may reach both workers and
each runs the group, one after the other (``run_group`` locks the group's directory): the
same outcomes, twice the work. LAUNCH_GROUPS=0 runs every item in a simulation of its own.
The item that started the simulation carries its time in JUnit; `make merge` stores each
item of a group an equal share of it in .test_durations (``tb.cli.regress.durations_from``),
for pytest-split.
"""

from __future__ import annotations

import re

from xdist.scheduler import LoadGroupScheduling

_RTL = re.compile(r"::test_rtl\[(verilator|icarus)-(\w+)-(\w+)-s[\d-]+\]$")
_DIRECTED = re.compile(r"::test_rtl_directed_smoke\[(verilator|icarus)-[\w.]+-(\w+)\]$")
# Tests whose items (one per seed) form a group of their own: each runs a quarter of a minute
# or more, and a group of them one worker's unit (a long one: conftest.py sorts it first).
OWN_GROUP = ("XlateRandomTest",)


def launch_group(nodeid: str) -> str | None:
    """The group of an item that runs in its group's simulation: ``<simulator>-<parameter
    set>``, or ``<simulator>-<parameter set>-<test>`` for the seeds of an OWN_GROUP test."""
    if m := _RTL.search(nodeid):
        sim, params, test = m.groups()
        return f"{sim}-{params}" + (f"-{test}" if test in OWN_GROUP else "")
    if m := _DIRECTED.search(nodeid):
        return f"{m.group(1)}-{m.group(2)}"
    return None


class LaunchGroupScheduling(LoadGroupScheduling):
    """xdist's loadgroup scheduling (whole groups to a worker, in collection order, a worker
    given more when it has at most two items left), with the launch groups as groups; an item
    of none is a unit of its own. Collection order is kept (``--loadscope-reorder`` is
    overridden): conftest.py sorts longest first, a group by its items' total, so that the
    last units the workers run are short ones."""

    def __init__(self, config, log=None) -> None:
        super().__init__(config, log)
        # (xdist reorders units by their number of items unless told not to)
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        return launch_group(nodeid) or super()._split_scope(nodeid)
