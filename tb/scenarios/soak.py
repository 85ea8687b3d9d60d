"""The soak: SVA under churn until a number of DMA accesses, backend-agnostic.

Processes come and go, bind to and unbind from DMA engines, and keep copying and filling
their buffers while the CPU unmaps and write-protects pages under them, processes exit with
their bonds live, and throwaway processes roll the CPU's ASID generation over (8-bit ASIDs:
create the bench with ``CpuFeatures(asid_bits=8, nr_cpus=2)``). Every step's outcome is what
the architecture and Linux promise, checked as it happens:

- a DMA to live memory completes, and the bytes it wrote are what the CPU reads (each
  destination is checked against an image kept here, at every unbind and at the end);
- a DMA after munmap returned faults with F_TRANSLATION at the unmapped page, a write after
  mprotect(PROT_READ) returned with F_PERMISSION, each with its event record;
- after its process exited, a bond's DMA aborts silently (F_TRANSLATION, no record), and the
  PASID's CD is gone after unbind (C_BAD_CD, recorded);
- a bound process keeps its pinned ASID across rollovers;
- the isolation checker sees every access: no device ever reaches a page outside its
  process, or one that process gave up (``SvaBench.finish``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from models.arch.events import EventID
from models.arch.geometry import PAGE
from models.cpu.mm import MM
from models.cpu.pgprot import PROT_READ
from tb.devices.dma import Descriptor as D
from tb.devices.dma import DmaEngine
from tb.scenarios.harness import RW, SvaBench, check_memory, expect_fault, expect_ok
from tb.sva.iommu_sva import IommuBond

PAGES = 4  # per buffer
OPS = {"dma": 70, "bind": 6, "unbind": 5, "munmap": 4, "mprotect": 4, "exit": 2, "hole": 4,
       "spawn": 1}
SPAWN = 64        # throwaway processes per spawn (8-bit ASIDs: a rollover every 4 or so)
MAX_SPAWNS = 60   # spawns per soak, so that memory stays bounded


@dataclass(eq=False)
class Bond:
    """A live (engine, process) binding with the buffers its DMA works on."""

    eng: DmaEngine
    mm: MM
    bond: IommuBond
    src: int
    dst: int
    image: bytearray  # what dst must hold
    exited: bool = False


@dataclass
class SoakStats:
    ops: Counter[str] = field(default_factory=Counter)
    faults_expected: Counter[str] = field(default_factory=Counter)
    rollovers_seen: int = 0
    checked_bytes: int = 0


async def soak(b: SvaBench, accesses: int, *, devs: int = 4, max_procs: int = 6,
               drain_every: int = 64) -> dict[str, Any]:
    """Churn until the engines made ``accesses`` translations; returns the counts."""
    engines = [await b.device(f"dma{i}", 0x10 * (i + 1)) for i in range(devs)]
    bonds: list[Bond] = []
    procs: list[MM] = []
    st = SoakStats()
    want: list[EventID] = []  # records the driver must have read at the next drain
    pinned: dict[int, int] = {}  # id(mm) -> its ASID while bound
    n_proc = spawns = steps = 0
    rng = b.rng

    def translations() -> int:
        return sum(e.stats.translations for e in engines)

    def live() -> list[Bond]:
        return [x for x in bonds if not x.exited]

    async def bind(eng: DmaEngine, mm: MM) -> None:
        h = await b.bind(eng, mm)
        size = PAGES * PAGE
        src, dst = b.buffer(mm, PAGES), b.buffer(mm, PAGES, bytes(size))
        bonds.append(Bond(eng, mm, h, src, dst, bytearray(size)))
        pinned[id(mm)] = mm.asid

    async def unbind(x: Bond) -> None:
        if not x.exited:
            check_memory(x.mm, x.dst, bytes(x.image))
            st.checked_bytes += len(x.image)
        bonds.remove(x)
        pasid = x.bond.pasid  # (unbind resets it)
        await b.unbind(x.bond)
        if not any(y.mm is x.mm for y in bonds):
            pinned.pop(id(x.mm), None)
            if x.mm.exited:
                procs.remove(x.mm)
        if x.bond.refs == 0 and not any(y.eng is x.eng and y.bond.pasid == pasid
                                        for y in bonds):
            # the PASID's CD is gone from this engine's CD table: recorded as C_BAD_CD
            expect_fault(await x.eng.run(D.fill(x.dst, 8, pasid, b"!")),
                         EventID.C_BAD_CD)
            want.append(EventID.C_BAD_CD)
            st.faults_expected["C_BAD_CD"] += 1

    async def dma(x: Bond) -> None:
        size = PAGES * PAGE
        if rng.random() < 0.5:
            so, do = rng.randrange(size - 64), rng.randrange(size - 64)
            n = rng.randrange(1, min(size - so, size - do, 2 * PAGE))
            expect_ok(await x.eng.run(D.copy(x.src + so, x.dst + do, n, x.bond.pasid)))
            x.image[do:do + n] = x.mm.read(x.src + so, n)
        else:
            fo = rng.randrange(size - 8)
            fn = rng.randrange(1, min(size - fo, 2 * PAGE))
            pat = bytes([rng.randrange(256), x.eng.sid & 0xFF, len(bonds) & 0xFF])
            expect_ok(await x.eng.run(D.fill(x.dst + fo, fn, x.bond.pasid, pat)))
            x.image[fo:fo + fn] = (pat * (fn // 3 + 1))[:fn]

    while translations() < accesses:
        op = rng.choices(list(OPS), list(OPS.values()))[0]
        lv = live()
        if op == "bind" or not lv:
            eng = rng.choice(engines)
            fresh = [mm for mm in procs if not mm.exited and
                     not any(y.mm is mm and y.eng is eng for y in bonds)]
            if len(procs) < max_procs and (not fresh or rng.random() < 0.3):
                mm = b.process(f"s{n_proc}", cpu=n_proc % 2)
                n_proc += 1
                procs.append(mm)
                fresh.append(mm)
            if fresh:
                await bind(eng, rng.choice(fresh))
                st.ops["bind"] += 1
            continue
        x = rng.choice(lv)
        if op == "dma":
            # Concurrent traffic: every engine with a live bond runs one descriptor at once.
            jobs, used = [], set()
            for y in rng.sample(lv, len(lv)):
                if y.eng.name not in used:
                    used.add(y.eng.name)
                    jobs.append(dma(y))
            await b.backend.gather(*jobs)
            st.ops["dma"] += len(jobs)
        elif op == "unbind":
            await unbind(x)
            st.ops["unbind"] += 1
        elif op == "munmap":
            # The source's page goes; the next read of it faults, then a fresh source.
            page = x.src + rng.randrange(PAGES) * PAGE
            await b.munmap(x.mm, page, PAGE)
            expect_fault(await x.eng.run(D.copy(page, x.dst, 64, x.bond.pasid)),
                         EventID.F_TRANSLATION, va=page, write=False)
            want.append(EventID.F_TRANSLATION)
            st.faults_expected["F_TRANSLATION"] += 1
            for y in bonds:  # every bond of this process on that buffer
                if y.mm is x.mm and y.src == x.src:
                    y.src = b.buffer(x.mm, PAGES)
            st.ops["munmap"] += 1
        elif op == "mprotect":
            page = x.dst + rng.randrange(PAGES) * PAGE
            with b.checker.changing(x.mm, page, PAGE):
                await b.backend.cpu(x.mm.mprotect, page, PAGE, PROT_READ)
            expect_fault(await x.eng.run(D.fill(page, 16, x.bond.pasid, b"ro")),
                         EventID.F_PERMISSION, va=page, write=True)
            want.append(EventID.F_PERMISSION)
            st.faults_expected["F_PERMISSION"] += 1
            with b.checker.changing(x.mm, page, PAGE):
                await b.backend.cpu(x.mm.mprotect, page, PAGE, RW)
            # Writable again but clean (arm64: PTE_RDONLY with DBM): without HTTU a device
            # write would fault until something dirties it, as the CPU's own write does.
            x.mm.write(page, x.mm.read(page, 8))
            st.ops["mprotect"] += 1
        elif op == "exit":
            # The process exits with its bonds live: their DMA aborts without a record.
            await b.exit(x.mm)
            for y in bonds:
                if y.mm is x.mm:
                    y.exited = True
            expect_fault(await x.eng.run(D.copy(x.src, x.dst, 64, x.bond.pasid)),
                         EventID.F_TRANSLATION, va=x.src)
            st.ops["exit"] += 1
            for y in [y for y in bonds if y.mm is x.mm]:
                await unbind(y)
        elif op == "hole":
            # An address the process never mapped: a fault, the process untouched.
            hole = x.dst + PAGES * PAGE + 16 * PAGE
            if x.mm.find_vma(hole) is None:
                expect_fault(await x.eng.run(D.fill(hole, 8, x.bond.pasid, b"h")),
                             EventID.F_TRANSLATION, va=hole, write=True)
                want.append(EventID.F_TRANSLATION)
                st.faults_expected["F_TRANSLATION"] += 1
                st.ops["hole"] += 1
        elif op == "spawn" and spawns < MAX_SPAWNS:
            # Throwaway processes: the CPU's ASID generation rolls over now and then.
            before = b.sys.cpu_asids.rollovers
            for i in range(SPAWN):  # (a page-table root each: kept, memory is sparse)
                b.process(f"t{spawns}-{i}", cpu=i % 2)
            spawns += 1
            st.rollovers_seen += b.sys.cpu_asids.rollovers - before
            for mm in procs:
                if id(mm) in pinned:
                    assert mm.asid == pinned[id(mm)], f"{mm.name}: pinned ASID lost"
            st.ops["spawn"] += 1
        steps += 1
        if steps % drain_every == 0 or len(want) > 16:
            got = await b.drain_events()
            assert sorted(got) == sorted(want), f"records {got}, expected {want}"
            want.clear()
    for x in list(bonds):
        await unbind(x)
    got = await b.drain_events()
    assert sorted(got) == sorted(want), f"records {got}, expected {want}"
    b.finish()
    return {"accesses": translations(), "ops": dict(st.ops),
            "faults": dict(st.faults_expected), "rollovers": st.rollovers_seen,
            "bytes_checked": st.checked_bytes, "processes": n_proc,
            "throwaway_processes": spawns * SPAWN,
            "isolation": b.summary()["isolation"]}
