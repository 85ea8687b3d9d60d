"""I/O page faults end to end on the functional model: stall-capable DMA engines touch memory
the CPU never touched, the SMMU stalls, the driver's event thread reports the faults, the SVA
handler populates the pages and CMD_RESUME retries (tb/scenarios/iopf.py)."""

from __future__ import annotations

import asyncio

import pytest

from models.arch.geometry import PAGE
from models.cpu.pgprot import PROT_READ, PROT_WRITE
from models.smmu.config import STALL
from tb.devices.dma import Descriptor as D
from tb.devices.dma import Status
from tb.platform.model import ModelPlatform
from tb.scenarios.harness import ModelBackend, SvaBench
from tb.scenarios.iopf import IOPF_EVTQ_SHIFT, IOPF_SCENARIOS
from tests.conftest import SVA_SEEDS, seeds


def bench(seed: int = 1) -> SvaBench:
    """The parameter set the RTL runs these scenarios on (stalls, 8 held transactions), with
    the event queue the scenarios ask the driver for (4 records: the fault storm has more
    stalls than records)."""
    return asyncio.run(SvaBench.create(ModelBackend(ModelPlatform(STALL)), seed=seed,
                                       evtq_max_shift=IOPF_EVTQ_SHIFT))


@pytest.mark.parametrize("seed", seeds(SVA_SEEDS))
@pytest.mark.parametrize("name", sorted(IOPF_SCENARIOS))
def test_iopf_scenario_on_the_model(name: str, seed: int) -> None:
    b = bench(seed)
    asyncio.run(IOPF_SCENARIOS[name](b))
    b.finish()
    assert b.checker.checked > 0 and b.checker.violations == []
    assert not b.plat.model.stalls.held  # nothing left stalled  # type: ignore[attr-defined]


def test_the_storm_waits_for_event_queue_room() -> None:
    """More engines stall at once than the event queue has records: some stalls wait for
    room without a record (none is lost, the queue never overflows)."""
    b = bench()
    asyncio.run(IOPF_SCENARIOS["fault_storm"](b))
    stats = b.plat.model.stalls.stats  # type: ignore[attr-defined]
    assert stats["record_waits"] > 0 and stats["record_retries"] == stats["record_waits"]


def test_without_iopf_the_same_dma_faults() -> None:
    """The control: an engine that cannot stall gets the abort at once."""
    b = bench()

    async def go() -> None:
        eng = await b.device("dma0", 0x10)  # no "dma-can-stall"
        mm = b.process("p")
        bond = await b.bind(eng, mm)
        src = b.buffer(mm, 1)
        dst = mm.mmap(None, PAGE, PROT_READ | PROT_WRITE)
        c = await eng.run(D.copy(src, dst, PAGE, bond.pasid))
        assert c.status is Status.FAULT and c.va == dst

    asyncio.run(go())


def test_a_stall_nobody_answers_fails_by_the_watchdog_not_a_hang() -> None:
    """The model backend has no clock: a held transaction whose CMD_RESUME never comes (no
    event thread runs here) would leave the event loop waiting forever. The model platform's
    watchdog fails it after its step budget, naming the transaction."""
    from tb.platform.model import ModelWatchdog

    b = bench()
    b.plat.watchdog_steps = 500

    async def go() -> None:
        eng = await b.device("dma0", 0x10, stall=True)
        mm = b.process("p")
        va = mm.mmap(None, PAGE, PROT_READ | PROT_WRITE)  # never touched: not mapped yet
        pasid = (await b.bind(eng, mm)).pasid
        await eng.run(D.fill(va, 64, pasid, b"x"))

    with pytest.raises(ModelWatchdog, match=r"va=0x[0-9a-f]+ write held without a response "
                                            r"for 500 event-loop steps \(1 transactions held"):
        asyncio.run(go())
