"""`make bench`'s cost of SVA: a DMA workload translated through a process's page tables
against the same workload through an identity bypass STE, under the same memory latency; and
the IOTLB's hit rate against the working set, over the same buffer (``hit_rate``).

The device is sequential: for each 64-byte access it asks the SMMU (one request outstanding),
then moves the data, which costs the memory's latency plus the eight 8-byte beats (a read waits
for its data, a write for its response). The data itself is not moved: only the translation's
cycles are simulated, and the data phase adds ``ACCESS_CYCLES`` per access (the SMMU's state
does not depend on idle time, so the sum equals a run that waited). A device that overlaps
translations with data would hide part of the difference; this one shows all of it.

Workloads (offsets into a buffer of ``DMA_PAGES`` pages, mapped 4 KiB page by 4 KiB page
through four levels):
- ``stream_copy``: a copy of ``COPY_BYTES``, each 64-byte line read from the source half and
  written to the destination half, in order;
- ``random_64b``: ``RANDOM_ACCESSES`` reads or writes of 64 bytes at random lines of the whole
  buffer.

Each runs twice in a row: the first from an SMMU whose caches hold nothing of the buffer (the
configuration and TLB invalidated), the second with whatever the first left cached (a warmed
IOTLB: for a random pattern over a buffer much larger than the IOTLB, little).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

from models.arch.geometry import PAGE
from models.arch.ste import STE, StreamConfig
from models.memory import FrameAllocator, PhysicalMemory
from models.smmu.port import Result, TransReq
from tb.agents.xlate_agent import TransItem
from tb.stimgen.directed import context_cd, install_ste, s1_ste
from tb.stimgen.pagetable import PageTable, leaf_descriptor
from tb.stimgen.streams import CdTable, StreamTable

SID_DMA, SID_BYPASS = 3, 4
DMA_ASID = 5
DMA_PAGES = 4096  # a 16 MiB buffer
DMA_VA = 0x40_0000_0000
DMA_PA = 0x2_0000_0000  # the bypass stream's addresses: the same lines, untranslated
LINE = 64
BEAT = 8
COPY_BYTES = 64 * 1024
RANDOM_ACCESSES = 1024


def install_dma_streams(mem: PhysicalMemory, alloc: FrameAllocator, strtab: StreamTable,
                        t0sz: int) -> None:
    """The translating stream (a stage-1 CD over the buffer's page table) and the bypass one."""
    table = PageTable(mem, alloc, t0sz)
    for i in range(DMA_PAGES):
        table.map(DMA_VA + i * PAGE, 3, leaf_descriptor(3, DMA_PA + i * PAGE, AP=0b01))
    cdt = CdTable(mem, alloc, 0, 0)
    cdt.write_cd(0, context_cd(table, asid=DMA_ASID), 0, True)
    install_ste(strtab, SID_DMA, s1_ste(cdt.ptr))
    install_ste(strtab, SID_BYPASS, STE(V=1, Config=StreamConfig.BYPASS, SHCFG=1))


def workloads() -> dict[str, list[tuple[int, int]]]:
    """(buffer offset, RnW) per 64-byte access."""
    half = DMA_PAGES * PAGE // 2
    copy = [(off + side, rnw) for off in range(0, COPY_BYTES, LINE)
            for side, rnw in ((0, 1), (half, 0))]
    rng = random.Random("sva-cost")
    lines = DMA_PAGES * PAGE // LINE
    rand = [(rng.randrange(lines) * LINE, rng.randrange(2)) for _ in range(RANDOM_ACCESSES)]
    return {"stream_copy": copy, "random_64b": rand}


def working_set(pages: int, accesses: int = 512) -> list[int]:
    """Buffer offsets of ``accesses`` random lines of the buffer's first ``pages`` pages."""
    rng = random.Random(f"working-set-{pages}")
    return [rng.randrange(pages) * PAGE + rng.randrange(PAGE // LINE) * LINE
            for _ in range(accesses)]


async def hit_rate(burst: Callable[[list[TransReq]], Awaitable[list[TransItem]]],
                   invalidate_tlb: Callable[[], Awaitable[None]],
                   pages: int, accesses: int = 512) -> float:
    """The IOTLB hit rate of ``accesses`` sequential reads at random lines of the buffer's
    first ``pages`` pages (``working_set``), from an empty TLB (the configuration cached)."""
    await invalidate_tlb()
    hits = 0
    for off in working_set(pages, accesses):
        (it,) = await burst([TransReq(sid=SID_DMA, addr=DMA_VA + off)])
        assert it.rsp is not None and it.rsp["result"] == Result.OK_TRANSLATED, it
        hits += not it.rsp["walked"]
    return round(hits / accesses, 4)


def access_cycles(read_latency: int, write_latency: int, rnw: int) -> int:
    """The data phase of one 64-byte access."""
    return (read_latency if rnw else write_latency) + LINE // BEAT


async def measure(burst: Callable[[list[TransReq]], Awaitable[list[TransItem]]],
                  invalidate: Callable[[], Awaitable[None]], read_latency: int,
                  write_latency: int) -> dict[str, object]:
    """Each workload, translated and bypassed, cold then warm: cycles and overhead."""
    out: dict[str, object] = {"device": "sequential, one access outstanding, 64-byte accesses",
                              "buffer_pages": DMA_PAGES}
    for name, accesses in workloads().items():
        data = sum(access_cycles(read_latency, write_latency, rnw) for _, rnw in accesses)
        row: dict[str, object] = {"accesses": len(accesses), "data_cycles": data}
        for mode, sid, base in (("translated", SID_DMA, DMA_VA), ("bypass", SID_BYPASS, DMA_PA)):
            await invalidate()
            for run in ("cold", "warm"):
                xlate = 0
                for off, rnw in accesses:
                    (it,) = await burst([TransReq(sid=sid, addr=base + off, rnw=rnw)])
                    want = Result.OK_TRANSLATED if mode == "translated" else Result.OK_BYPASS
                    assert it.rsp is not None and it.rsp["result"] == want, it
                    xlate += it.t_done - it.t_accept
                row[f"{mode}_{run}_cycles"] = xlate + data
        for run in ("cold", "warm"):
            t, b = row[f"translated_{run}_cycles"], row[f"bypass_{run}_cycles"]
            assert isinstance(t, int) and isinstance(b, int)
            row[f"overhead_{run}_pct"] = round(100 * (t - b) / b, 1)
        out[name] = row
    return out
