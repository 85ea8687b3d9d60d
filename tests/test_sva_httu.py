"""SVA with HTTU on the functional model (tb/scenarios/httu.py; on the RTL: parameter set
``httu``, tests SvaHttu*Test): the SMMU sets the access flag and the dirty state in the
process's own page tables while the CPU ages and harvests them."""

from __future__ import annotations

import asyncio

import pytest

from models.cpu.features import CpuFeatures
from tb.dut_config import CONFIGS
from tb.platform.model import ModelPlatform
from tb.scenarios.harness import ModelBackend, SvaBench
from tb.scenarios.httu import HTTU_SCENARIOS
from tests.conftest import SVA_SEEDS, seeds


def bench(cpu: CpuFeatures | None = None, seed: int = 1) -> SvaBench:
    return asyncio.run(SvaBench.create(ModelBackend(ModelPlatform(CONFIGS["httu"])), cpu,
                                       seed=seed))


@pytest.mark.parametrize("hafdbs", [0, 2])
def test_the_device_dirties_exactly_the_pages_it_wrote_and_the_harvest_sees_them(
        hafdbs: int) -> None:
    """With the CPU writing its page by a write fault (HAFDBS=0) or in hardware (HAFDBS=2)."""
    b = bench(CpuFeatures(hafdbs=hafdbs))
    out = asyncio.run(HTTU_SCENARIOS["dirty_tracking"](b))
    b.finish()
    assert out["harvested"] == [0, 2, 4, 5], out
    assert b.checker.checked > 0 and b.checker.violations == []


def test_a_device_access_makes_an_old_page_young() -> None:
    b = bench()
    asyncio.run(HTTU_SCENARIOS["young_after_migration"](b))
    b.finish()
    assert b.checker.violations == []


@pytest.mark.parametrize("seed", seeds(SVA_SEEDS))
@pytest.mark.parametrize("hafdbs", [0, 2])
def test_harvest_and_aging_race_the_device(hafdbs: int, seed: int) -> None:
    b = bench(CpuFeatures(hafdbs=hafdbs), seed)
    out = asyncio.run(HTTU_SCENARIOS["harvest_race"](b))
    b.finish()
    assert out["writes_checked_not_lost"] and out["writes_checked_blocked"], out
    assert b.checker.checked > 0 and b.checker.violations == []
