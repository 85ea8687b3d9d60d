"""PCIe SVA end to end on the functional model: an endpoint with ATS, an ATC and PRI does DMA
for processes, through page requests for memory they never touched and ATC invalidation
when they unmap (tb/scenarios/pcie.py)."""

from __future__ import annotations

import asyncio

import pytest

from models.smmu.config import PCIE, STALL
from tb.platform.model import ModelPlatform
from tb.scenarios.harness import ModelBackend, SvaBench
from tb.scenarios.pcie import PCIE_PRIQ_SHIFT, PCIE_SCENARIOS
from tests.conftest import SVA_SEEDS, seeds

# Stalls for platform devices and ATS + PRI for PCIe functions on one SMMU: the RTL's set
# (IDR3.PPS=1) and the same with PPS=0, where STE.PPAR decides whether a PRG response
# carries the PASID.
CONFIGS = {"pps1": PCIE, "pps0": STALL.replace(ATS=1, PRI=1, PRIQS=8, PPS=0)}


def bench(name: str, seed: int = 1, config: str = "pps0") -> SvaBench:
    shift = PCIE_PRIQ_SHIFT if name == "pri_queue_overflow" else 8
    return asyncio.run(SvaBench.create(ModelBackend(ModelPlatform(CONFIGS[config])),
                                       seed=seed, priq_max_shift=shift))


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("seed", seeds(SVA_SEEDS))
@pytest.mark.parametrize("name", sorted(PCIE_SCENARIOS))
def test_pcie_scenario_on_the_model(name: str, seed: int, config: str) -> None:
    b = bench(name, seed, config)
    asyncio.run(PCIE_SCENARIOS[name](b))
    b.finish()
    assert b.checker.violations == []
    assert not b.plat.model.atc.outstanding  # type: ignore[attr-defined]
