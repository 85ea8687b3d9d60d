"""tb/scenarios/robustness.py on the functional model (the RTL runs them in tests/test_rtl.py),
and the driver's command-queue cap."""

from __future__ import annotations

import asyncio

import pytest

from models.smmu.config import DEFAULT
from tb.platform.model import ModelPlatform
from tb.scenarios.harness import ModelBackend, SvaBench
from tb.scenarios.robustness import CMDQ_STORM_SHIFT, cmdq_storm
from tb.sva.arm.arm_smmu_v3.device import ArmSmmuV3
from tests.conftest import SVA_SEEDS, seeds


@pytest.mark.parametrize("seed", seeds(SVA_SEEDS))
def test_cmdq_storm_on_the_model(seed):
    b = asyncio.run(SvaBench.create(ModelBackend(ModelPlatform(DEFAULT)), seed=seed,
                                    cmdq_max_shift=CMDQ_STORM_SHIFT))
    out = asyncio.run(cmdq_storm(b))
    b.finish()
    assert b.drv.smmu.cmdq_drv.shift == CMDQ_STORM_SHIFT
    # a TLBI_NH_VA per page (every chunk is below CMDQ_MAX_TLBI_OPS pages) and a CMD_SYNC
    # per call, and the event drain's own CMD_SYNC; each chunk's fault checked by the scenario
    assert out["tlbi_nh_va"] == 1024
    assert out["syncs"] == sum(out["ops"].values()) + 1


def test_the_storm_needs_the_small_queue():
    b = asyncio.run(SvaBench.create(ModelBackend(ModelPlatform(DEFAULT))))
    with pytest.raises(AssertionError, match="cmdq_max_shift=7"):
        asyncio.run(cmdq_storm(b))


@pytest.mark.parametrize("shift", [0, 6])
def test_a_command_queue_cap_a_batch_does_not_fit_in_is_refused(shift):
    # Linux's probe refuses CMDQS <= log2(CMDQ_BATCH_ENTRIES): a batch of 64 and its CMD_SYNC
    # must fit; the driver's cap is held to the same.
    with pytest.raises(ValueError, match="must fit"):
        ArmSmmuV3(ModelPlatform(DEFAULT), cmdq_max_shift=shift)
