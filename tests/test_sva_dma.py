"""DMA engines and the isolation checker on the functional model: the scenarios of
tb/scenarios/scenarios.py (the same ones the RTL runs) without a simulator."""

from __future__ import annotations

import asyncio

import pytest

from models.arch.events import EventID
from models.arch.geometry import PAGE
from models.smmu.config import DEFAULT
from tb.devices.dma import Descriptor as D
from tb.devices.dma import DmaEngine, Status
from tb.platform.model import ModelPlatform
from tb.scenarios.harness import ModelBackend, SvaBench
from tb.scenarios.scenarios import SCENARIOS
from tests.conftest import SVA_SEEDS, seeds


def bench(cpu=None, seed: int = 1) -> SvaBench:
    return asyncio.run(SvaBench.create(ModelBackend(ModelPlatform(DEFAULT)), cpu, seed))


@pytest.mark.parametrize("seed", seeds(SVA_SEEDS))
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_on_the_model(name, seed):
    fn, cpu = SCENARIOS[name]
    b = bench(cpu, seed)
    asyncio.run(fn(b))
    b.finish()
    assert b.checker.checked > 0 and b.checker.violations == []


def test_fault_completion_names_the_va_and_the_fault():
    b = bench()

    async def go():
        eng = await b.device("dma0", 0x10)
        mm = b.process("p")
        va = b.buffer(mm, 1)
        mm.mmap(va + PAGE, PAGE, 1)  # read-only, never touched: not mapped yet
        h = await b.bind(eng, mm)
        c = await eng.run(D.copy(va, va + PAGE - 16, 64, h.pasid))
        assert (c.status, c.va, c.write, c.fault, c.done) == (
            Status.FAULT, va + PAGE, True, EventID.F_TRANSLATION, 16)
        assert "F_TRANSLATION on write" in str(c)
        assert eng.stats.faults_by_type == {"F_TRANSLATION": 1}

    asyncio.run(go())
    b.finish()


def test_checker_catches_an_access_outside_the_process():
    b = bench()

    async def go():
        eng = await b.device("dma0", 0x10)
        mm, other = b.process("p"), b.process("q", cpu=1)
        va, ova = b.buffer(mm, 1), b.buffer(other, 1)
        h = await b.bind(eng, mm)
        real = eng._translate

        async def wrong(sid, ssv, ssid, addr, rnw, ind, pnu):  # a broken SMMU
            rsp = dict(await real(sid, ssv, ssid, addr, rnw, ind, pnu))
            rsp["pa"] = other.translate(ova)
            return rsp

        eng._translate = wrong
        await eng.run(D.fill(va, 8, h.pasid, b"x"))

    asyncio.run(go())
    assert len(b.checker.violations) == 1 and "maps it to" in b.checker.violations[0]
    with pytest.raises(AssertionError, match="isolation violations"):
        b.finish()


def test_checker_catches_a_write_to_a_read_only_page_and_a_stale_use():
    b = bench()
    eng = asyncio.run(b.device("dma0", 0x10))
    mm = b.process("p")
    va = b.buffer(mm, 2)
    h = asyncio.run(b.bind(eng, mm))
    pa = mm.translate(va)
    from tb.devices.dma import Access
    mm.mprotect(va, PAGE, 1)
    b.checker.observe(Access("dma0", 0x10, h.pasid, va, pa, 8, True))
    assert "cannot write" in b.checker.violations[-1]
    pa2 = mm.translate(va + PAGE)
    mm.munmap(va + PAGE, PAGE)
    b.checker.observe(Access("dma0", 0x10, h.pasid, va + PAGE, pa2, 8, False))
    assert "no page mapped" in b.checker.violations[-1]
    assert len(b.checker.violations) == 2


def test_a_burst_never_crosses_its_size_or_a_4k_boundary():
    """AMBA AXI A3.4.1: a burst must not cross a 4 KiB boundary; the engine translates each
    burst on its own. A 1,024-byte fill at page offset 0xF80 in 256-byte bursts: 128 bytes to
    the page's end, then 256, 256, 256 and the last 128."""
    b = bench()
    b.dma_burst = 256

    async def go():
        eng = await b.device("dma0", 0x10)
        mm = b.process("p")
        va = b.buffer(mm, 2)
        h = await b.bind(eng, mm)
        seen = []
        eng.observers.append(seen.append)
        c = await eng.run(D.fill(va + 0xF80, 1024, h.pasid, b"\xa5"))
        assert c.status is Status.OK and c.done == 1024
        assert [(a.va - va, a.length) for a in seen] == [
            (0xF80, 128), (PAGE, 256), (PAGE + 256, 256), (PAGE + 512, 256), (PAGE + 768, 128)]
        assert eng.stats.translations == 5
        assert mm.read(va + 0xF80, 1024) == b"\xa5" * 1024

    asyncio.run(go())
    b.finish()


@pytest.mark.parametrize("burst", [0, PAGE + 1])
def test_a_burst_outside_1_to_a_page_is_refused(burst):
    with pytest.raises(ValueError, match="burst"):
        DmaEngine("dma0", 0x10, bench().plat.mem, lambda *a: None, burst=burst)
