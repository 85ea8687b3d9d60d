"""`make profile`'s grouping of profiled functions by layer (tb/cli/profile.py)."""

from __future__ import annotations

import pytest

from tb.cli.profile import group_of


@pytest.mark.parametrize(("path", "group"), [
    ("/x/site-packages/cocotbext/axi/stream.py", "cocotbext-axi (bus models)"),
    ("/x/site-packages/cocotb/task.py", "cocotb (scheduler, triggers, signal access)"),
    ("/x/site-packages/cocotb_coverage/coverage.py", "cocotb-coverage"),
    ("/x/site-packages/pyuvm/s12_uvm_tlm_interfaces.py", "pyuvm"),
    ("/r/models/memory/physmem.py", "memory model (models/memory)"),
    ("/r/models/smmu/caches.py", "model prediction (models/smmu, models/arch)"),
    ("/r/tb/env/xlate_scoreboard.py", "environment and agents (tb/env, tb/agents)"),
    ("/r/tb/sva/iommu.py", "software stack and platform (tb/sva, tb/platform)"),
    ("~", "builtins (called from any of the above)"),
    ("/usr/lib/python3.11/heapq.py", "Python standard library and other"),
])
def test_layers(path: str, group: str) -> None:
    assert group_of(path) == group
