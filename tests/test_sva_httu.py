"""SVA with HTTU on the functional model (issue 12, first slice): the driver's shared CD asks
for HA and HD where the SMMU has them (v5 patch 19), so the SMMU sets the access flag and the
dirty state in the process's own page tables while the CPU harvests them.

Expected values follow SPEC §3.13 and the Linux conventions of models/cpu/pgprot.py: a page
mapped by a read fault is clean-writable (AP[2]=1 with DBM); a device write through HD makes
it dirty (AP[2] cleared) and nothing else; page_mkclean reports it and write-protects it, after
which a device write faults; a page migrated is mapped old (AF=0) and a device access through
HA makes it young.
"""

from __future__ import annotations

import asyncio

import pytest

from models.arch import registers as R
from models.arch.events import EventID
from models.arch.geometry import PAGE
from models.cpu.features import CpuFeatures
from models.cpu.pgprot import PROT_READ, PROT_WRITE, pte_dirty, pte_young
from models.smmu.config import DEFAULT
from tb.devices.dma import Descriptor as D
from tb.devices.dma import Status
from tb.platform.model import ModelPlatform
from tb.scenarios.harness import ModelBackend, SvaBench, expect_ok

HTTU = DEFAULT.replace(HTTU=R.HTTU.ACCESS_DIRTY)
RW = PROT_READ | PROT_WRITE


def bench(cpu: CpuFeatures | None = None) -> SvaBench:
    return asyncio.run(SvaBench.create(ModelBackend(ModelPlatform(HTTU)), cpu, seed=1))


@pytest.mark.parametrize("hafdbs", [0, 2])
def test_the_device_dirties_exactly_the_pages_it_wrote_and_the_harvest_sees_them(
        hafdbs: int) -> None:
    """The CPU writes page 5 itself: by a write fault (HAFDBS=0) or in hardware (HAFDBS=2,
    the same compare-and-swap on the same PTEs as the SMMU's); the harvest sees it too."""
    b = bench(CpuFeatures(hafdbs=hafdbs))
    pages, written = 6, {0, 2, 4}

    async def go() -> None:
        eng = await b.device("dma0", 0x10)
        mm = b.process("p")
        bond = await b.bind(eng, mm)
        va = mm.mmap(None, pages * PAGE, RW)
        for i in range(pages):
            mm.read(va + i * PAGE, 1)  # a read fault maps it clean-writable
        assert not any(pte_dirty(mm.pte(va + i * PAGE)) for i in range(pages))
        for i in sorted(written):
            expect_ok(await eng.run(D.fill(va + i * PAGE, 64, bond.pasid, bytes([0x50 + i]))))
        for i in sorted(set(range(pages)) - written):  # reads only
            expect_ok(await eng.run(D.copy(va + i * PAGE, va + 4 * PAGE + 64 * i, 16,
                                           bond.pasid)))
        dirty = {i for i in range(pages) if pte_dirty(mm.pte(va + i * PAGE))}
        assert dirty == written, dirty
        mm.write(va + 5 * PAGE, b"\x55")
        written.add(5)
        assert mm.read(va + 2 * PAGE, 64) == b"\x52" * 64
        # write-back's harvest: exactly those, then write-protected and clean
        harvested = {i for i in range(pages) if mm.page_mkclean(va + i * PAGE)}
        assert harvested == written
        # no device write goes through a harvested page after its invalidation
        c = await eng.run(D.fill(va, 8, bond.pasid, b"\xEE"))
        assert (c.status, c.va, c.fault) == (Status.FAULT, va, EventID.F_PERMISSION), c
        assert mm.read(va, 8) == b"\x50" * 8
        await b.unbind(bond)

    asyncio.run(go())
    b.finish()
    assert b.checker.checked > 0 and b.checker.violations == []


def test_a_device_access_makes_an_old_page_young() -> None:
    """Migration maps the new page old (AF=0); the device's read sets AF through HA (no
    fault), and page aging sees it young and clears it again."""
    b = bench()

    async def go() -> None:
        eng = await b.device("dma0", 0x10)
        mm = b.process("p")
        bond = await b.bind(eng, mm)
        va = b.buffer(mm, 2)
        await b.backend.cpu(mm.migrate_page, va)
        assert not pte_young(mm.pte(va))
        expect_ok(await eng.run(D.copy(va, va + PAGE, 32, bond.pasid)))
        assert pte_young(mm.pte(va))
        assert eng.stats.faults == 0
        assert mm.ptep_clear_flush_young(va) and not pte_young(mm.pte(va))
        await b.unbind(bond)

    asyncio.run(go())
    b.finish()
    assert b.checker.violations == []
