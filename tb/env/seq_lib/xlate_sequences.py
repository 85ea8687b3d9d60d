"""Translation sequences: setup through the software stack, random traffic, invalidations.

The stimulus generator (tb/stimgen) builds the tables; these sequences only decide *when*
things happen: bursts of requests kept in flight, table changes with their invalidation
commands between bursts, and event-queue drains at points where the architecture makes the
records visible (after a CMD_SYNC with nothing in flight).
"""

from __future__ import annotations

import random

import cocotb
from cocotb.triggers import Event
from pyuvm import uvm_sequence

from models.arch import registers as R
from models.arch.commands import CmdTlbiNsnhAll, cfgi_all
from models.arch.geometry import PAGE
from models.memory import FrameAllocator
from models.smmu.port import Result, TransReq
from tb.agents.xlate_agent import TransItem
from tb.env.config import env_cfg
from tb.platform.rtl import CocotbPlatform
from tb.stimgen.mutations import MutationWeights
from tb.stimgen.requests import RequestWeights
from tb.stimgen.world import World
from tb.sva.arm.arm_smmu_v3.device import ArmSmmuV3
from tb.sva.arm.arm_smmu_v3.evtq import EventQueue

# Table-descriptor removals are what exercise walk-cache invalidation: more of them than the
# generator's default mix.
MUTATIONS = MutationWeights(unmap_table=15)
# Translations that succeed exercise the IOTLB and walk cache; the generator's default mix
# leans towards faults.
REQUESTS = RequestWeights(mapped=55, repeat=30)

# The generator's tables live here, clear of the driver's DMA window.
WORLD_WINDOW = (0x1_0000_0000, 0x1_4000_0000)


class SmmuSession:
    """The software stack's handle on the DUT, shared by the sequences of one test."""

    def __init__(self, reg_seq: uvm_sequence,
                 dma_window: tuple[int, int] | None = None) -> None:
        mem = env_cfg().mem
        dma = FrameAllocator(mem, *dma_window) if dma_window else env_cfg().dma
        self.plat = CocotbPlatform(reg_seq, env_cfg().bfm, mem, dma)
        self.smmu = ArmSmmuV3(self.plat)
        self.evtq: EventQueue | None = None

    async def bring_up(self) -> None:
        await self.smmu.device_reset()
        self.evtq = EventQueue(self.plat, self.smmu.evtq.base, self.smmu.evtq.shift)

    async def install_world(self, world: World, *, recinvsid: bool) -> None:
        """Point the SMMU at the generator's stream table (SMMUEN must drop to do so)."""
        regs = self.plat
        cr0 = await regs.mmio_read32(R.OFFSETS["CR0"])
        smmuen = R.CR0.field("SMMUEN").mask
        await self.smmu._write_sync("CR0", "CR0ACK", cr0 & ~smmuen)
        await regs.mmio_write32(R.OFFSETS["STRTAB_BASE"], world.strtab_base & 0xFFFF_FFFF)
        await regs.mmio_write32(R.OFFSETS["STRTAB_BASE"] + 4, world.strtab_base >> 32)
        await regs.mmio_write32(R.OFFSETS["STRTAB_BASE_CFG"], world.strtab_base_cfg)
        await regs.mmio_write32(R.OFFSETS["CR2"], R.CR2(RECINVSID=int(recinvsid)).to_int())
        await self.smmu._write_sync("CR0", "CR0ACK", cr0 | smmuen)
        await self.smmu.cmdq_drv.issue([cfgi_all(), CmdTlbiNsnhAll()])


class XlateBurstSeq(uvm_sequence):
    """Send requests back to back, keep them all in flight, wait for the last response."""

    def __init__(self, name: str, reqs: list) -> None:
        super().__init__(name)
        self.reqs = reqs
        self.items: list[TransItem] = []

    async def body(self) -> None:
        for r in self.reqs:
            it = TransItem.of(r)
            await self.start_item(it)
            await self.finish_item(it)
            self.items.append(it)
        for it in self.items:
            await it.done.wait()


class XlateRandomSeq(uvm_sequence):
    """Random worlds, random traffic, random table changes with (or without) invalidation."""

    def __init__(self, name: str = "xlate_random", *, translations: int = 2000,
                 burst: tuple[int, int] = (1, 24), mutate_every: int = 3,
                 session: SmmuSession | None = None, world: World | None = None) -> None:
        super().__init__(name)
        self.session = session
        self.world = world
        self.translations = translations
        self.burst = burst
        self.mutate_every = mutate_every
        # upper / upper_ok: requests with VA[55]=1, and those translated (through TTB1)
        self.stats: dict[str, int] = {"bursts": 0, "mutations": 0, "uninvalidated": 0,
                                      "upper": 0, "upper_ok": 0}

    async def body(self) -> None:
        seed = env_cfg().seed
        rng = random.Random(seed)
        reg_seqr = env_cfg().reg_seqr
        xseqr = env_cfg().xlate_seqr
        sb = env_cfg().xlate_sb
        cfg = env_cfg().smmu
        mem = env_cfg().mem
        bfm = env_cfg().bfm

        holder = None
        if self.session is None:
            holder = RegSeqHolder("sw")
            await holder.start_session(reg_seqr)
            await holder.session.bring_up()
        sess = self.session or holder.session
        world = self.world or World(rng, mem, cfg, window=WORLD_WINDOW)
        await sess.install_world(world, recinvsid=rng.random() < 0.7)

        sent = 0
        while sent < self.translations:
            n = min(rng.randint(*self.burst), self.translations - sent)
            burst = XlateBurstSeq("burst", [world.random_request(rng, REQUESTS)
                                            for _ in range(n)])
            await burst.start(xseqr)
            sent += n
            self.stats["bursts"] += 1
            for it in burst.items:
                if it.addr >> 55 & 1:
                    assert it.rsp is not None
                    self.stats["upper"] += 1
                    self.stats["upper_ok"] += it.rsp["result"] == Result.OK_TRANSLATED
            if self.stats["bursts"] % self.mutate_every == 0:
                mut = world.mutate(rng, MUTATIONS)
                self.stats["mutations"] += 1
                if mut.invalidated:
                    await sess.smmu.cmdq_drv.issue(list(mut.commands))
                else:
                    self.stats["uninvalidated"] += 1
                probes = _probe_reqs(world, mut, rng)
                if probes:
                    # Straight at what changed: where a stale cached copy would show.
                    await XlateBurstSeq("probe", probes).start(xseqr)
                    sent += len(probes)
            if self.stats["bursts"] % 4 == 0 or sent >= self.translations:
                # Records of completed transactions are visible once a CMD_SYNC completes.
                await sess.smmu.cmdq_drv.sync()
                assert sess.evtq is not None
                sb.check_events(await sess.evtq.drain())
            if rng.random() < 0.05:
                await bfm.clocks(rng.randint(1, 20))
        if holder is not None:
            holder.release()


def _probe_reqs(world: World, mut, rng: random.Random) -> list[TransReq]:
    """Requests through up to two healthy routes whose context uses the changed ASID, at the
    changed VA and its neighbours."""
    if mut.asid is None or mut.va is None:
        return []
    routes = [r for r in world.routes() if r.ok and world.context_of(r).asid == mut.asid]
    out = []
    for r in rng.sample(routes, min(2, len(routes))):
        for k in range(3):
            addr = (mut.va + k * PAGE) & ((1 << 64) - 1)  # the top TTB1 page wraps around
            out.append(TransReq(sid=r.sid, ssv=r.ssv, ssid=r.ssid, addr=addr,
                                rnw=int(rng.random() < 0.7), pnu=rng.randint(0, 1)))
    return out


class RegSeqHolder(uvm_sequence):
    """A register-agent sequence that stays open so the software stack can use it as its
    MMIO path while other sequences run on the translation agent."""

    async def start_session(self, seqr, dma_window: tuple[int, int] | None = None) -> None:
        self._dma_window = dma_window
        self._ready = Event()
        self._done = Event()
        cocotb.start_soon(self.start(seqr))
        await self._ready.wait()

    async def body(self) -> None:
        self.session = SmmuSession(self, self._dma_window)
        self._ready.set()
        await self._done.wait()

    def release(self) -> None:
        self._done.set()
