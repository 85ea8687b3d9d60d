"""`make bench` measurements on the RTL, in clock cycles (deterministic) and wall time.

Each figure is taken on a directed setup built with tb/stimgen/directed.py: one stream per
start level (T0SZ 16, 25, 34 start the walk at level 0, 1, 2), pages mapped in each.
Request and response cycles are the handshake cycles on the translation port.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import cocotb
from pyuvm import uvm_sequence

from models.arch import registers as R
from models.arch.cd import CD
from models.arch.commands import (
    CmdSync,
    CmdTlbiNhAsid,
    CmdTlbiNhVa,
    CmdTlbiNsnhAll,
    SyncCS,
    cfgi_all,
)
from models.arch.geometry import PAGE, level_size
from models.memory import FrameAllocator
from models.smmu.port import Result, TransReq
from tb.agents.xlate_agent import TransItem
from tb.bfm.mem_bfm import BatchAxiMemory
from tb.dut_config import PARAM_SETS
from tb.env.config import env_cfg
from tb.env.seq_lib.sva_cost import hit_rate as sva_hit_rate
from tb.env.seq_lib.sva_cost import install_dma_streams
from tb.env.seq_lib.sva_cost import measure as measure_sva_cost
from tb.env.seq_lib.sva_sequences import RtlBackend
from tb.env.seq_lib.xlate_sequences import WORLD_WINDOW, RegSeqHolder, XlateBurstSeq, XlateRandomSeq
from tb.scenarios.harness import SvaBench
from tb.scenarios.scenarios import flagship, multi_process_dma
from tb.stimgen.directed import context_cd, install_ste, s1_ste, single_stream
from tb.stimgen.pagetable import PageTable, leaf_descriptor
from tb.stimgen.streams import CdTable
from tb.stimgen.world import World, WorldKnobs

T0SZ_BY_LEVEL = {0: 16, 1: 25, 2: 34}
PAGES = 64
FAULT_PAGE = 200  # unmapped, in the same 2 MiB region as the PAGES mapped pages
HIT_STREAM = 8192  # hits timed for the co-simulation speed (several ms of wall time)
FLOOR_CYCLES = 20_000
RANDOM_N = 2000  # random translations for the headline rate
SCALING_N = 1000  # per point of the scaling figures
WORKING_SETS = (4, 8, 16, 32, 64, 256)  # pages, for the IOTLB's hit rate
# A DRAM-like memory behind the port, in SMMU clock cycles (about 100 ns at 1 GHz)
MEM_READ_LATENCY = 100
MEM_WRITE_LATENCY = 60
FAR_STRIDE = level_size(1)  # one level-1 entry: 1 GiB
FAR_N = max(p["N_WALK"] for p in PARAM_SETS.values())  # a far page per miss engine
VA_BASE = 0x2000_0000  # inside every input range used here (T0SZ 34: 1 GiB)
# One page in each of 8 other 512 GiB regions: a walk there shares no descriptor with the
# others (a cold miss even with the walk cache warm).
COLD = tuple((VA_BASE + (j + 1) * level_size(0), 0xB000_0000 + j * PAGE) for j in range(8))


def _distribution(values: list[int]) -> dict[str, float]:
    """min, median, 90th percentile (nearest rank), max and mean."""
    v = sorted(values)
    return {"n": len(v), "min": v[0], "p50": v[(len(v) - 1) // 2],
            "p90": v[-(-9 * len(v) // 10) - 1], "max": v[-1],
            "mean": round(sum(v) / len(v), 2)}


@dataclass
class BenchResult:
    figures: dict[str, object] = field(default_factory=dict)


class BenchSeq(uvm_sequence):
    def __init__(self, name: str = "bench") -> None:
        super().__init__(name)
        self.result = BenchResult()

    # ---- helpers ----------------------------------------------------------------------
    async def _burst(self, reqs: list) -> list[TransItem]:
        seq = XlateBurstSeq("b", reqs)
        await seq.start(self.xseqr)
        return seq.items

    async def _timed_miss(self, req: TransReq) -> dict[str, int]:
        """One request that must miss and translate: its cycles from acceptance to response
        and the read beats the SMMU fetched for it."""
        mem = self.mem
        mem.enable_log()
        mem.take_log()
        (it,) = await self._burst([req])
        reads = sum(1 for a in mem.take_log() if a.op == "r" and a.source == "smmu-rtl")
        mem.disable_log()
        assert it.rsp is not None and it.rsp["result"] == Result.OK_TRANSLATED, it
        assert it.rsp["walked"], f"a miss was reported as a hit: {it}"
        return {"cycles": it.t_done - it.t_accept, "read_beats": reads}

    async def _miss(self, level: int, *, cold: bool) -> dict[str, int]:
        """A miss through the stream whose walk starts at ``level``: cold (everything
        invalidated) or with the configuration cached (TLB invalidated only)."""
        await self._invalidate(config=cold)
        return await self._timed_miss(TransReq(sid=level, addr=VA_BASE))

    async def _walk_cached_miss(self) -> dict[str, int]:
        """A miss next to a primed page, after a Leaf=1 TLBI that keeps the cached table
        descriptors."""
        await self._invalidate(config=False)
        await self._burst([TransReq(sid=0, addr=VA_BASE)])
        await self.sess.smmu.cmdq_drv.issue([CmdTlbiNhVa(ASID=1, Addr=VA_BASE, Leaf=1)])
        return await self._timed_miss(TransReq(sid=0, addr=VA_BASE + PAGE))

    async def _mixed_load(self) -> dict[str, object]:
        """48 requests offered back to back in a fixed shuffled order, the configuration
        cached: 32 hits (4 lines of each of 8 primed pages), 8 walk-cache hits (8 other pages
        of the primed 2 MiB region: levels 0-2 cached, one read) and 8 cold misses (pages in
        8 other 512 GiB regions: four reads each). Throughput from the first acceptance to
        the last response, and each outcome's latency distribution (acceptance to
        response)."""
        await self._invalidate(config=False)
        primed = [VA_BASE + i * PAGE for i in range(8)]
        await self._burst([TransReq(sid=0, addr=va) for va in primed])
        kinds = ([("hit", va + 64 * j) for va in primed for j in range(4)]
                 + [("walk_cache_hit", VA_BASE + (8 + i) * PAGE) for i in range(8)]
                 + [("cold_miss", va) for va, _ in COLD])
        random.Random("mixed-load").shuffle(kinds)
        items = await self._burst([TransReq(sid=0, addr=a) for _, a in kinds])
        lat: dict[str, list[int]] = {}
        for (kind, _), it in zip(kinds, items, strict=True):
            assert it.rsp is not None and it.rsp["result"] == Result.OK_TRANSLATED, it
            lat.setdefault(kind, []).append(it.t_done - it.t_accept)
        span = max(it.t_done for it in items) - min(it.t_accept for it in items) + 1
        return {"translations": len(items), "cycles": span,
                "per_cycle": round(len(items) / span, 3),
                "latency_cycles": {k: _distribution(v) for k, v in lat.items()}}

    async def _same_page_misses(self, n: int) -> dict[str, int]:
        await self._invalidate(config=False)
        self.mem.enable_log()
        self.mem.take_log()
        items = await self._burst([TransReq(sid=0, addr=VA_BASE + 64 * i) for i in range(n)])
        reads = sum(1 for a in self.mem.take_log() if a.op == "r" and a.source == "smmu-rtl")
        self.mem.disable_log()
        assert all(it.rsp is not None and it.rsp["result"] == Result.OK_TRANSLATED
                   for it in items), items
        return {"misses": n, "read_beats": reads,
                "cycles": max(it.t_done for it in items) - items[0].t_accept}

    async def _invalidate(self, *, config: bool) -> None:
        cmds = ([cfgi_all()] if config else []) + [CmdTlbiNsnhAll()]
        await self.sess.smmu.cmdq_drv.issue(cmds)

    async def _floor(self) -> float:
        """cocotb's floor on this machine, in this run: the DUT idle and Python awaiting every
        rising edge, as a per-cycle testbench would. Every co-simulation speed is reported
        against it, which survives a noisy machine where absolute figures do not."""
        await self.bfm.edge()
        t0 = time.perf_counter()
        for _ in range(FLOOR_CYCLES):
            await self.bfm.edge()
        return FLOOR_CYCLES / (time.perf_counter() - t0)

    @staticmethod
    def _rate(per_s: float, floor: float) -> dict[str, float]:
        return {"per_s": round(per_s), "ratio_to_floor": round(per_s / floor, 4)}

    async def _random(self, window: tuple[int, int], n: int, knobs: WorldKnobs, *,
                      churn: bool = False) -> float:
        """Translations per second of XlateRandomSeq (every response and event record
        checked) on a world of its own; ``churn``: a table change with its invalidations
        after every burst of 1..4 requests, where the model's envelope of stale outcomes is
        largest."""
        world = World(random.Random(1), env_cfg().mem, env_cfg().smmu, window=window,
                      knobs=knobs)
        seq = XlateRandomSeq("speed", translations=n, world=world, session=self.sess,
                             **({"burst": (1, 4), "mutate_every": 1} if churn else {}))
        t0 = time.perf_counter()
        await seq.start()
        return n / (time.perf_counter() - t0)

    async def _scenario(self, name: str, scenario: Callable[[SvaBench], Awaitable[Any]]
                        ) -> tuple[RtlBackend, SvaBench, float]:
        """``scenario`` through the SVA stack on the RTL, after a fresh bring-up, seed 1:
        every translation checked by the scoreboard, every access by the isolation checker.
        Returns the backend, the bench and the scenario's wall time."""
        holder = RegSeqHolder(name)
        await holder.start_session(env_cfg().reg_seqr)
        backend = RtlBackend(holder.session.plat)
        bench = await SvaBench.create(backend, seed=1)
        t0 = time.perf_counter()
        await scenario(bench)
        wall = time.perf_counter() - t0
        bench.finish()
        holder.release()
        return backend, bench, wall

    async def _sva_dma(self) -> float:
        """DMA accesses per second of the SVA stack on the RTL: processes bound to DMA
        engines, each access translated."""
        _, bench, wall = await self._scenario(
            "sva", lambda b: multi_process_dma(b, procs=3, devs=3, rounds=2))
        return bench.summary()["translations"] / wall

    async def _flagship(self) -> dict[str, object]:
        """The flagship (`make sim`'s scenario): how many of its successful translations the
        hit path served (the rest walked)."""
        backend, _, _ = await self._scenario("flagship", flagship)
        hits, ok = backend.served["iotlb"], sum(backend.served.values())
        return {"translations_ok": ok, "iotlb_hits": hits,
                "iotlb_hit_rate": round(hits / ok, 4) if ok else 0.0,
                "pages_translated": len(backend.pages)}

    async def _cosim(self, cosim: dict[str, object], floor: float) -> None:
        """Random traffic, at 1, 16 and 256 contexts and under churn."""
        window = (0x1_8000_0000, 0x1_C000_0000)
        cosim["random_translations_per_s"] = self._rate(
            await self._random(window, RANDOM_N, WorldKnobs()), floor)
        scaling: dict[str, object] = {}
        for n_ctx in (1, 16, 256):
            knobs = WorldKnobs(n_contexts=n_ctx, n_streams=max(16, n_ctx // 2),
                               max_ssids=max(6, n_ctx // 16))
            window = (window[1], window[1] + 0x4000_0000)
            scaling[f"contexts_{n_ctx}"] = self._rate(
                await self._random(window, SCALING_N, knobs), floor)
        window = (window[1], window[1] + 0x4000_0000)
        scaling["invalidation_churn"] = self._rate(
            await self._random(window, SCALING_N, WorldKnobs(), churn=True), floor)
        cosim["random_scaling"] = scaling

    # ---- measurements ---------------------------------------------------------------------
    async def body(self) -> None:
        self.bfm = env_cfg().bfm
        self.mem = env_cfg().mem
        self.xseqr = env_cfg().xlate_seqr
        mem = env_cfg().mem
        holder = RegSeqHolder("sw")
        await holder.start_session(env_cfg().reg_seqr)
        self.sess = holder.session
        await self.sess.bring_up()
        cosim: dict[str, object] = {}
        floor = await self._floor()
        cosim["floor_cycles_per_s"] = round(floor)

        # One stream per start level, 64 pages each, one CD (SSID 0, S1CDMax 0).
        # Level-0 stream: PAGES pages in one 2 MiB region, and one page in each of 8 other
        # 1 GiB regions (misses there share no table below level 0 with the first region).
        far = tuple((VA_BASE + (j + 1) * FAR_STRIDE, 0xA000_0000 + j * PAGE)
                    for j in range(FAR_N))
        setup = single_stream(mem, WORLD_WINDOW, sid=0, asid=1, t0sz=T0SZ_BY_LEVEL[0],
                              log2size=4,
                              mappings=tuple((VA_BASE + i * PAGE, 0x8000_0000 + i * PAGE)
                                             for i in range(PAGES)) + far + COLD, AP=0b01)
        alloc: FrameAllocator = setup.alloc
        for level in (1, 2):
            table = PageTable(mem, alloc, T0SZ_BY_LEVEL[level])
            for i in range(PAGES):
                table.map(VA_BASE + i * PAGE, 3,
                          leaf_descriptor(3, 0x9000_0000 + i * PAGE, AP=0b01))
            cdt = CdTable(mem, alloc, 0, 0)
            cd: CD = context_cd(table, asid=1 + level)
            cdt.write_cd(0, cd, 0, True)
            install_ste(setup.strtab, level, s1_ste(cdt.ptr))
        install_dma_streams(mem, alloc, setup.strtab, T0SZ_BY_LEVEL[0])  # (the cost of SVA)
        await self.sess.install_world(setup, recinvsid=True)  # type: ignore[arg-type]
        f = self.result.figures

        # Hit stream: prime one page, then back-to-back hits on it.
        await self._burst([TransReq(sid=0, addr=VA_BASE)])
        n = HIT_STREAM
        reqs = [TransReq(sid=0, addr=VA_BASE + 8 * i % PAGE) for i in range(n)]
        t0 = time.perf_counter()
        items = await self._burst(reqs)
        wall = time.perf_counter() - t0
        acc = [it.t_accept for it in items]
        assert all(it.rsp is not None and not it.rsp["walked"] for it in items), \
            "a hit was reported as served by a miss engine"
        lat = [it.t_done - a for it, a in zip(items, acc, strict=True)]
        # Sustained rate: responses per cycle from the first to the last response.
        f["hit_throughput_per_cycle"] = round(n / (items[-1].t_done - items[0].t_done + 1), 3)
        f["hit_accept_per_cycle"] = round(n / (acc[-1] - acc[0] + 1), 3)
        f["hit_latency_cycles"] = {"min": min(lat), "max": max(lat),
                                   "mean": round(sum(lat) / n, 2)}
        cosim["hit_stream_translations_per_s"] = self._rate(n / wall, floor)

        # Miss latency per start level, cold (everything invalidated) and with the
        # configuration cached (TLB invalidated only).
        f["miss_latency"] = {
            f"start_level_{level}": {kind: await self._miss(level, cold=kind == "cold")
                                     for kind in ("cold", "config_cached")}
            for level in (0, 1, 2)}

        # A burst of 16 misses to neighbouring pages from cold (configuration and walk cache
        # empty): one engine fetches the context and walks; the others park behind its
        # context fetch or wait for its level-2 chain (docs/rtl.md).
        await self._invalidate(config=True)
        self.mem.enable_log()
        self.mem.take_log()
        items = await self._burst([TransReq(sid=0, addr=VA_BASE + i * PAGE) for i in range(16)])
        beats = sum(1 for a in self.mem.take_log() if a.op == "r" and a.source == "smmu-rtl")
        self.mem.disable_log()
        assert all(it.rsp is not None and it.rsp["result"] == Result.OK_TRANSLATED
                   for it in items), items
        f["miss_burst_16"] = {"cycles": max(it.t_done for it in items) - items[0].t_accept,
                              "read_beats": beats}

        # Walk cache: a miss whose upper levels are cached.
        f["miss_walk_cached"] = await self._walk_cached_miss()

        # Same-page misses: 8 requests to one page, back to back, configuration cached and
        # the walk cache empty. Merged, they cost one walk's reads (one per level).
        f["same_page_misses"] = await self._same_page_misses(8)

        # A translation fault with the configuration cached: its response, and the cycle its
        # event record becomes visible (EVENTQ_PROD moves: after the record's write response).
        prod = self.bfm.rtl.u_regs.eventq_prod
        seen: list[int] = []

        async def watch() -> None:
            await prod.value_change
            seen.append(self.bfm.cycle())

        task = cocotb.start_soon(watch())
        (it,) = await self._burst([TransReq(sid=0, addr=VA_BASE + FAULT_PAGE * PAGE)])
        while not seen:
            await self.bfm.edge()
        task.cancel()
        assert it.rsp is not None and it.rsp["result"] == Result.ABORT, it
        f["fault_with_record"] = {"response_cycles": it.t_done - it.t_accept,
                                  "record_visible_cycles": seen[0] - it.t_accept}

        # Hits under misses: as many misses as there are walkers (to pages in other 1 GiB
        # regions), then 8 hits behind them; every hit must come back before the first miss.
        walkers = PARAM_SETS[os.environ.get("SMMU_PARAMS", "default")]["N_WALK"]
        await self._invalidate(config=False)
        await self._burst([TransReq(sid=0, addr=VA_BASE)])
        mix = [TransReq(sid=0, addr=va) for va, _ in far[:walkers]] + \
              [TransReq(sid=0, addr=VA_BASE + 16 * i) for i in range(8)]
        items = await self._burst(mix)
        last_hit = max(it.t_done for it in items[walkers:])
        first_miss = min(it.t_done for it in items[:walkers])
        f["hits_under_misses"] = {"misses": walkers, "hits": 8,
                                  "all_hits_before_first_miss": last_hit < first_miss}

        # A mixed load: hits, walk-cache hits and cold misses in one burst.
        f["mixed_load"] = await self._mixed_load()

        # Register access round trips, from the cycle an access is issued (at a clock edge) to
        # the cycle it returns: GERRORN read, then written back unchanged (acknowledges
        # nothing).
        plat = self.sess.plat
        await self.bfm.edge()
        start = self.bfm.cycle()
        gerrorn = await plat.mmio_read32(R.OFFSETS["GERRORN"])
        f["register_read_cycles"] = self.bfm.cycle() - start
        await self.bfm.edge()
        start = self.bfm.cycle()
        await plat.mmio_write32(R.OFFSETS["GERRORN"], gerrorn)
        f["register_write_cycles"] = self.bfm.cycle() - start

        # CMD_SYNC latency after a TLBI: from the CMDQ_PROD write to CONS passing the SYNC.
        q = self.sess.smmu.cmdq_drv
        for cmd in (CmdTlbiNhAsid(ASID=1), CmdSync(CS=SyncCS.SIG_NONE)):
            mem.write(q._slot(q.prod), cmd.to_bytes(), source="cpu")
            q.prod = R.q_inc(q.prod, q.shift)
        await self.sess.plat.mmio_write32(R.OFFSETS["CMDQ_PROD"], q.prod)
        start = self.bfm.cycle()
        while (self.bfm.peek("u_regs.cmdq_cons") & ((2 << q.shift) - 1)) != q.prod:
            await self.bfm.edge()
        f["cmd_sync_after_tlbi_cycles"] = self.bfm.cycle() - start
        await q.sync()  # keep the driver's view of CONS consistent

        # The IOTLB's hit rate against the working set: sequential random reads over the
        # first N pages of the DMA buffer (tb/env/seq_lib/sva_cost.py)
        f["hit_rate_vs_working_set"] = {
            f"pages_{n}": await sva_hit_rate(self._burst,
                                             lambda: self._invalidate(config=False), n)
            for n in WORKING_SETS}

        # The same misses against a DRAM-like memory: every read's data MEM_READ_LATENCY
        # cycles later than the zero-wait port above, every write's response
        # MEM_WRITE_LATENCY later (the batch memory engine's latency model; cocotbext-axi's
        # slave has none).
        if isinstance(self.bfm.memport, BatchAxiMemory):
            self.bfm.memport.set_latency(1, read=MEM_READ_LATENCY, write=MEM_WRITE_LATENCY)
            dram: dict[str, object] = {"read_latency_cycles": MEM_READ_LATENCY,
                                       "write_latency_cycles": MEM_WRITE_LATENCY}
            for level in (0, 2):
                for kind in ("cold", "config_cached"):
                    miss = await self._miss(level, cold=kind == "cold")
                    dram[f"miss_start_level_{level}_{kind}_cycles"] = miss["cycles"]
            dram["miss_walk_cached_cycles"] = (await self._walk_cached_miss())["cycles"]
            (it,) = await self._burst([TransReq(sid=0, addr=VA_BASE + PAGE + 8)])
            assert it.rsp is not None and not it.rsp["walked"], it
            dram["hit_cycles"] = it.t_done - it.t_accept
            # Walks in flight: a miss per engine, in 1 GiB regions of their own (no chain to
            # share, so none waits for another), the context cached; against this memory
            # each engine's read is still outstanding when the last one issues its own.
            await self._invalidate(config=False)
            await self._burst([TransReq(sid=0, addr=VA_BASE)])
            self.bfm.restart_read_count()
            await self._burst([TransReq(sid=0, addr=va) for va, _ in far[:walkers]])
            dram["walks_in_flight_max"] = self.bfm.reads_outstanding_max()
            # The cost of SVA under that memory: DMA workloads translated, and through an
            # identity bypass STE (tb/env/seq_lib/sva_cost.py)
            dram["sva_cost"] = await measure_sva_cost(
                self._burst, lambda: self._invalidate(config=True), MEM_READ_LATENCY,
                MEM_WRITE_LATENCY)
            self.bfm.memport.set_latency(0)
            f["memory_latency"] = dram

        # Co-simulation speed with the full scoreboard: random traffic, then how its cost grows
        # with the contexts the model tracks and with invalidation churn. SMMU_BENCH_COSIM=0
        # skips it: the cycle counts alone (tests/test_rtl.py compares them across memory
        # port models).
        timed = os.environ.get("SMMU_BENCH_COSIM", "1") != "0"
        if timed:
            await self._cosim(cosim, floor)
        # Every record written so far is checked before a bring-up replaces the event queue.
        await self.sess.smmu.cmdq_drv.sync()
        assert self.sess.evtq is not None
        env_cfg().xlate_sb.check_events(await self.sess.evtq.drain())
        holder.release()
        if timed:
            cosim["sva_dma_accesses_per_s"] = self._rate(await self._sva_dma(), floor)
        # The flagship's IOTLB hit rate, last: its bring-up replaces the stream table the
        # measurements above installed.
        f["flagship"] = await self._flagship()
        f["cosim"] = cosim
