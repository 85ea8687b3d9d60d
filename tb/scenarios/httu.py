"""SVA with HTTU (issue 12): the driver's shared CD asks for HA and HD where the SMMU has them
(v5 patch 19), so the SMMU sets the access flag and the dirty state in the process's own page
tables while the CPU ages and harvests them. Each scenario runs on the functional model
(tests/test_sva_httu.py) and on the RTL (parameter set ``httu``, tests SvaHttu*Test).

Expected values follow SPEC §3.13 and the Linux conventions of models/cpu/pgprot.py: a page
mapped by a read fault is clean-writable (AP[2]=1 with DBM); a device write through HD makes
it dirty (AP[2] cleared) and nothing else; page_mkclean reports it and write-protects it, after
which a device write faults; a page migrated is mapped old (AF=0) and a device access through
HA makes it young.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from models.arch.events import EventID
from models.arch.geometry import PAGE
from models.cpu.pgprot import PROT_READ, PROT_WRITE, pte_dirty, pte_young
from tb.devices.dma import Descriptor as D
from tb.devices.dma import Status
from tb.scenarios.harness import SvaBench, expect_ok

RW = PROT_READ | PROT_WRITE


async def _mkclean(b: SvaBench, mm: Any, va: int) -> bool:
    """page_mkclean on the CPU: the PTE is cleared and the page invalidated before it is
    mapped again write-protected, so a device may use its old translation meanwhile."""
    with b.checker.changing(mm, va, PAGE):
        return bool(await b.backend.cpu(mm.page_mkclean, va))


async def dirty_tracking(b: SvaBench) -> dict[str, Any]:
    """The device writes pages 0, 2 and 4 and only reads 1 and 3; the CPU writes page 5
    itself (a write fault, or in hardware with FEAT_HAFDBS: the same compare-and-swap on the
    same PTEs as the SMMU's). Exactly those are dirty, the harvest reports exactly those, and
    a device write to a harvested page faults (F_PERMISSION) and writes nothing."""
    pages, written = 6, {0, 2, 4}
    eng = await b.device("dma0", 0x10)
    mm = b.process("p")
    bond = await b.bind(eng, mm)
    va = mm.mmap(None, pages * PAGE, RW)
    for i in range(pages):
        await b.backend.cpu(mm.read, va + i * PAGE, 1)  # a read fault maps it clean-writable
    assert not any(pte_dirty(mm.pte(va + i * PAGE)) for i in range(pages))
    for i in sorted(written):
        expect_ok(await eng.run(D.fill(va + i * PAGE, 64, bond.pasid, bytes([0x50 + i]))))
    for i in sorted(set(range(pages)) - written):  # reads only
        expect_ok(await eng.run(D.copy(va + i * PAGE, va + 4 * PAGE + 64 * i, 16,
                                       bond.pasid)))
    dirty = {i for i in range(pages) if pte_dirty(mm.pte(va + i * PAGE))}
    assert dirty == written, dirty
    await b.backend.cpu(mm.write, va + 5 * PAGE, b"\x55")
    written.add(5)
    assert mm.read(va + 2 * PAGE, 64) == b"\x52" * 64
    # write-back's harvest: exactly those, then write-protected and clean
    harvested = {i for i in range(pages) if await _mkclean(b, mm, va + i * PAGE)}
    assert harvested == written, harvested
    # no device write goes through a harvested page after its invalidation
    c = await eng.run(D.fill(va, 8, bond.pasid, b"\xEE"))
    assert (c.status, c.va, c.fault) == (Status.FAULT, va, EventID.F_PERMISSION), c
    assert mm.read(va, 8) == b"\x50" * 8
    await b.unbind(bond)
    return {"dirtied_by_the_device": sorted(dirty), "harvested": sorted(harvested)}


async def young_after_migration(b: SvaBench) -> dict[str, Any]:
    """Migration maps the new page old (AF=0); the device's read sets AF through HA (no
    fault), and page aging sees it young and clears it again."""
    eng = await b.device("dma0", 0x10)
    mm = b.process("p")
    bond = await b.bind(eng, mm)
    va = b.buffer(mm, 2)
    with b.checker.changing(mm, va, PAGE):
        await b.backend.cpu(mm.migrate_page, va)
    assert not pte_young(mm.pte(va))
    expect_ok(await eng.run(D.copy(va, va + PAGE, 32, bond.pasid)))
    assert pte_young(mm.pte(va))
    assert eng.stats.faults == 0
    assert await b.backend.cpu(mm.ptep_clear_flush_young, va)
    assert not pte_young(mm.pte(va))
    await b.unbind(bond)
    return {"young_after_the_device_read": True}


@dataclass
class _Op:
    """One step, with its place in the scenario's order: begun at ``start``, over at ``end``
    (a shared counter, taken before and after each await)."""

    kind: str  # "write" or "read" by a device; "harvest", "rearm" by the CPU
    page: int
    start: int
    end: int
    ok: bool = False    # a device access that completed / a harvest that found the page dirty
    fault: int = 0


async def harvest_race(b: SvaBench, *, pages: int = 6, rounds: int = 5) -> dict[str, Any]:
    """Two DMA engines keep writing and reading the same pages through the SMMU while the
    CPU, round after round, harvests them (page_mkclean: cleared, invalidated, mapped again
    write-protected and clean), ages them (ptep_clear_flush_young) and makes them writable
    again (mprotect, clean). The SMMU's flag updates race the CPU's compare-and-swaps on the
    same PTEs. Checked from the order of events (a step that ended before another began came
    first):

    - no update is lost: a device write that completed, with no harvest of its page begun
      before it ended and not yet over when it began, is reported dirty by the next harvest
      of that page;
    - no device write goes through a write-protected page after its invalidation: a write
      begun after a harvest of its page was over and over before the page was made writable
      again faults, and writes nothing.
    """
    rng = b.rng
    engines = [await b.device(f"dma{i}", 0x10 + i) for i in range(2)]
    mm = b.process("p")
    bonds = [await b.bind(eng, mm) for eng in engines]
    va = mm.mmap(None, pages * PAGE, RW)
    scratch = b.buffer(mm, 1)
    for i in range(pages):
        await b.backend.cpu(mm.read, va + i * PAGE, 1)  # clean-writable
    order = itertools.count()
    ops: list[_Op] = []
    done = False

    async def device(k: int) -> None:
        eng, pasid = engines[k], bonds[k].pasid
        n = 0
        while not done:
            i = rng.randrange(pages)
            at = va + i * PAGE + 64 * rng.randrange(PAGE // 64)
            write = rng.random() < 0.7
            op = _Op("write" if write else "read", i, next(order), 0)
            if write:
                c = await eng.run(D.fill(at, 64, pasid, bytes([0x10 * k + n % 16])))
            else:
                c = await eng.run(D.copy(at, scratch + 64 * k, 64, pasid))
            op.end = next(order)
            op.ok, op.fault = c.status == Status.OK, c.fault
            ops.append(op)
            n += 1
            await b.backend.pause(rng.randrange(1, 16))

    async def cpu() -> None:
        nonlocal done
        for _ in range(rounds):
            for i in rng.sample(range(pages), pages):
                op = _Op("harvest", i, next(order), 0)
                op.ok = await _mkclean(b, mm, va + i * PAGE)
                op.end = next(order)
                ops.append(op)
                await b.backend.pause(rng.randrange(1, 40))
                await b.backend.cpu(mm.ptep_clear_flush_young, va + i * PAGE)
                await b.backend.pause(rng.randrange(1, 40))
            for i in rng.sample(range(pages), pages):
                op = _Op("rearm", i, next(order), 0)
                with b.checker.changing(mm, va + i * PAGE, PAGE):
                    await b.backend.cpu(mm.mprotect, va + i * PAGE, PAGE, RW)
                op.end = next(order)
                ops.append(op)
                await b.backend.pause(rng.randrange(1, 40))
        done = True

    await b.backend.gather(device(0), device(1), cpu())
    # a last harvest: every write made so far must show
    for i in range(pages):
        op = _Op("harvest", i, next(order), 0)
        op.ok = await _mkclean(b, mm, va + i * PAGE)
        op.end = next(order)
        ops.append(op)
    for bond in bonds:
        await b.unbind(bond)

    by_page: dict[int, list[_Op]] = {i: [] for i in range(pages)}
    for op in ops:
        by_page[op.page].append(op)
    lost_checked = blocked_checked = 0
    for i, page_ops in by_page.items():
        harvests = sorted((o for o in page_ops if o.kind == "harvest"), key=lambda o: o.start)
        rearms = sorted((o for o in page_ops if o.kind == "rearm"), key=lambda o: o.start)
        for w in (o for o in page_ops if o.kind == "write"):
            overlapping = [h for h in harvests if h.start < w.end and h.end > w.start]
            if w.ok and not overlapping:
                nxt = next(h for h in harvests if h.start > w.end)
                assert nxt.ok, f"page {i}: the write {w} was not reported dirty by {nxt}"
                lost_checked += 1
            before = [h for h in harvests if h.end < w.start]
            if before:
                last = before[-1]
                reopened = [r for r in rearms if r.start > last.end and r.start < w.end]
                if not reopened:
                    assert not w.ok and w.fault == EventID.F_PERMISSION, \
                        f"page {i}: the write {w} went through, harvested by {last}"
                    blocked_checked += 1
    writes = [o for o in ops if o.kind == "write"]
    out = {"device_writes": len(writes), "device_writes_ok": sum(o.ok for o in writes),
           "device_reads": sum(o.kind == "read" for o in ops),
           "harvests": sum(o.kind == "harvest" for o in ops),
           "harvests_dirty": sum(o.ok for o in ops if o.kind == "harvest"),
           "writes_checked_not_lost": lost_checked,
           "writes_checked_blocked": blocked_checked}
    # the race must have happened both ways
    assert lost_checked and blocked_checked and out["harvests_dirty"], out
    return out


HTTU_SCENARIOS = {
    "dirty_tracking": dirty_tracking,
    "young_after_migration": young_after_migration,
    "harvest_race": harvest_race,
}

__all__ = ["HTTU_SCENARIOS", *HTTU_SCENARIOS]
