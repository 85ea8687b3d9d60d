"""The launch groups (tb/cli/launch_groups.py): which RTL items share a simulation, and that
`make test`'s scheduler keeps a group on one worker and the collection's order."""

from __future__ import annotations

from types import SimpleNamespace

from tb.cli.launch_groups import OWN_GROUP, LaunchGroupScheduling, launch_group
from tests import test_rtl


def _ids(func: str, params: list) -> list[str]:
    return [f"tests/test_rtl.py::{func}[{p.id}]" for p in params]


def test_every_rtl_item_has_its_simulators_and_sets_group() -> None:
    for nodeid, p in zip(_ids("test_rtl", test_rtl.ITEMS), test_rtl.ITEMS, strict=True):
        sim, params, test, _ = p.values
        own = f"-{test}" if test in OWN_GROUP else ""
        assert launch_group(nodeid) == f"{sim}-{params}{own}", nodeid


def test_directed_modules_join_their_group() -> None:
    assert launch_group("tests/test_rtl.py::test_rtl_directed_smoke"
                        "[icarus-tb.directed.cmd_ill-full]") == "icarus-full"
    assert launch_group("tests/test_rtl.py::test_rtl_directed_smoke"
                        "[verilator-tb.directed.xlate-default]") == "verilator-default"


def test_other_items_are_alone() -> None:
    for nodeid in ("tests/test_rtl.py::test_rtl_fuzz_seeds[full-random_x-s2]",
                   "tests/test_rtl.py::test_rtl_replay_matches_model[icarus-httu-httu-1]",
                   "tests/test_models.py::test_x"):
        assert launch_group(nodeid) is None, nodeid


class _Node:
    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent += indexes

    def shutdown(self) -> None:
        self.shutting_down = True


def test_the_scheduler_keeps_groups_whole_and_in_collection_order() -> None:
    group = [f"tests/test_rtl.py::test_rtl[verilator-default-{t}-s1]"
             for t in ("BringUpTest", "RegResetTest", "WatchdogTest")]
    group.append("tests/test_rtl.py::test_rtl_directed_smoke[verilator-tb.directed.x-default]")
    other = "tests/test_rtl.py::test_rtl[icarus-default-BringUpTest-s1]"
    lone = [f"tests/test_x.py::test_{i}" for i in range(6)]
    # as conftest.py sorts: the longest units first (the group), then the rest
    collection = [lone[0], *group, other, *lone[1:]]
    config = SimpleNamespace(option=SimpleNamespace(loadscopereorder=True),
                             getvalue=lambda name: ["popen", "popen"] if name == "tx" else None)
    sched = LaunchGroupScheduling(config)
    assert config.option.loadscopereorder is False  # (xdist would reorder units by size)
    nodes = [_Node("gw0"), _Node("gw1")]
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()
    first = [[collection[i] for i in n.sent] for n in nodes]
    # one unit each, in collection order, then one more each (two or fewer items pending)
    assert first[0][0] == lone[0] and first[1][:4] == group
    assert all(nodeid not in first[0] for nodeid in group)
    assert first[0][1:] == [other]
