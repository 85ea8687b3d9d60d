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
from models.arch.commands import (
    CmdResume,
    CmdStallTerm,
    CmdTlbiNsnhAll,
    ResumeAction,
    cfgi_all,
)
from models.arch.events import Event as EventRecord
from models.arch.geometry import PAGE
from models.memory import FrameAllocator
from models.smmu.port import Result, TransReq
from tb.agents.xlate_agent import TransBurst, TransItem
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
# A run's next World goes into the other window, so that it never reuses the memory of the
# one it replaces (whose tables the SMMU read last).
WORLD_WINDOWS = (WORLD_WINDOW, (0x1_4000_0000, 0x1_8000_0000))
# Translations per World in a run that builds its own: a World decays as its tables are
# mutated (unmapped tables, invalid CDs and STEs pile up: over a whole 20,000-translation run
# on one World about 6% of the requests translated, against about a quarter in its first
# 2,000), so a long run renews it.
RENEW_EVERY = 5000
_STALL = EventRecord.field("Stall").mask  # a stall record (every record layout has the bit)


class SmmuSession:
    """The software stack's handle on the DUT, shared by the sequences of one test."""

    def __init__(self, reg_seq: uvm_sequence,
                 dma_window: tuple[int, int] | None = None) -> None:
        mem = env_cfg().mem
        dma = FrameAllocator(mem, *dma_window) if dma_window else env_cfg().dma
        self.plat = CocotbPlatform(reg_seq, env_cfg().bfm, mem, dma,
                                   btm=bool(env_cfg().smmu.BTM))
        self.smmu = ArmSmmuV3(self.plat)
        self.evtq: EventQueue | None = None

    async def bring_up(self) -> None:
        await self.smmu.device_reset()
        self.evtq = EventQueue(self.plat, self.smmu.evtq.base, self.smmu.evtq.shift)

    async def install_world(self, world: World, *, recinvsid: bool,
                            low_bits: int = 0) -> None:
        """Point the SMMU at the generator's stream table (SMMUEN must drop to do so).
        ``low_bits`` go into STRTAB_BASE.ADDR below the table's alignment, which the SMMU
        ignores (§6.3.24)."""
        regs = self.plat
        cr0 = await regs.mmio_read32(R.OFFSETS["CR0"])
        smmuen = R.CR0.field("SMMUEN").mask
        await self.smmu._write_sync("CR0", "CR0ACK", cr0 & ~smmuen)
        base = world.strtab_base | low_bits
        await regs.mmio_write32(R.OFFSETS["STRTAB_BASE"], base & 0xFFFF_FFFF)
        await regs.mmio_write32(R.OFFSETS["STRTAB_BASE"] + 4, base >> 32)
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
        self.items = [r if isinstance(r, TransItem) else TransItem.of(r) for r in self.reqs]
        burst = TransBurst(self.get_name(), self.items)
        await self.start_item(burst)
        await self.finish_item(burst)
        await burst.done.wait()


class XlateRandomSeq(uvm_sequence):
    """Random worlds, random traffic, random table changes with (or without) invalidation.
    Without a ``world`` given, it builds its own and a fresh one every ``renew_every``
    translations (after an event-queue drain, so every record of the old one is checked).

    On an SMMU with the stall model, contexts with CD.S=1 stall their translation faults: while
    a burst runs, the event-queue interrupt is serviced as a driver would (records drained and
    checked, each stall answered by CMD_RESUME: a retry at most twice per address, else an
    abort or a termination; or, for a stream all of whose unanswered transactions are held
    with records just drained, one CMD_STALL_TERM), so the burst completes. Stray commands
    go to streams with nothing in flight: a CMD_RESUME with a STAG another stream holds, or
    a CMD_STALL_TERM, which must change nothing. Event-queue write aborts are not injected
    there (a stall whose record cannot be written waits, which the model tests and the
    directed tests cover)."""

    def __init__(self, name: str = "xlate_random", *, translations: int = 2000,
                 burst: tuple[int, int] = (1, 24), mutate_every: int = 3,
                 session: SmmuSession | None = None, world: World | None = None,
                 renew_every: int = RENEW_EVERY) -> None:
        super().__init__(name)
        self.renew_every = renew_every
        self.session = session
        self.world = world
        self.translations = translations
        self.burst = burst
        self.mutate_every = mutate_every
        self.p_disabled = 0.03  # per burst: a burst with SMMUEN=0
        self.p_evtq_abort = 0.02  # per burst: event-queue writes abort until the next drain
        # upper / upper_ok: requests with VA[55]=1, and those translated (through TTB1)
        self.stats: dict[str, int] = {"bursts": 0, "mutations": 0, "uninvalidated": 0,
                                      "disabled_bursts": 0, "evtq_aborts": 0,
                                      "upper": 0, "upper_ok": 0, "worlds": 1}

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
        self.stalls = cfg.STALL_MODEL != R.StallModel.TERMINATE_ONLY
        self.retries: dict[tuple[int, int], int] = {}
        self.overflowed = False
        if self.stalls:
            self.p_evtq_abort = 0.0
            self.stats.update({"stalls": 0, "resume_retry": 0, "resume_abort": 0,
                               "resume_terminate": 0, "overflow_windows": 0})
        self._ctx = (xseqr, sess, sb, bfm, rng)
        world = self.world or World(rng, mem, cfg, window=WORLD_WINDOW)
        await sess.install_world(world, recinvsid=rng.random() < 0.7,
                                 low_bits=_strtab_low_bits(rng, world.strtab_base_cfg))
        renew_at = self.renew_every if self.world is None else None

        sent = 0
        abort = None
        while sent < self.translations:
            n = min(rng.randint(*self.burst), self.translations - sent)
            burst = XlateBurstSeq("burst", [world.random_request(rng, REQUESTS)
                                            for _ in range(n)])
            await self._start(burst)
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
                    await self._start(XlateBurstSeq("probe", probes))
                    sent += len(probes)
            if abort is None and rng.random() < self.p_evtq_abort:
                # The next record write aborts: GERROR.EVENTQ_ABT_ERR, then records are
                # discarded until it is acknowledged below.
                abort = mem.add_fault(sess.evtq.base, sess.evtq.base + (32 << sess.evtq.shift),
                                      on="w")
                self.stats["evtq_aborts"] += 1
            if self.stats["bursts"] % 4 == 0 or sent >= self.translations:
                # Records of completed transactions are visible once a CMD_SYNC completes.
                await sess.smmu.cmdq_drv.sync()
                assert sess.evtq is not None
                lossy = abort is not None
                if abort is not None:
                    mem.remove_fault(abort)
                    abort = None
                if lossy:
                    # The GERROR handler sees the abort; more faults while it is
                    # unacknowledged have their records discarded (the register scoreboard
                    # holds EVENTQ_PROD still from the next read on); then it acknowledges
                    # and recording resumes.
                    await sess.plat.mmio_read32(R.OFFSETS["GERROR"])
                lost = sess.evtq.stats.overflows
                records = await sess.evtq.drain()
                # records discarded by an overflow since the last check (stall runs only:
                # elsewhere the queue is large enough)
                ovf = self.overflowed or sess.evtq.stats.overflows != lost
                self.overflowed = False
                self.stats["overflow_windows"] = self.stats.get("overflow_windows", 0) + ovf
                sb.check_events(records, lossy=lossy or ovf)
                if lossy:
                    more = [world.random_request(rng, REQUESTS) for _ in range(8)]
                    await self._start(XlateBurstSeq("after_abort", more))
                    sent += len(more)
                    await sess.smmu.cmdq_drv.sync()
                    sb.check_events(await sess.evtq.drain(), lossy=True)
                    await self._ack_evtq_abort(sess)
                if renew_at is not None and renew_at <= sent < self.translations:
                    renew_at += self.renew_every
                    mem.remove_fault(world.fault)
                    window = WORLD_WINDOWS[self.stats["worlds"] % len(WORLD_WINDOWS)]
                    world = World(rng, mem, cfg, window=window)
                    await sess.install_world(world, recinvsid=rng.random() < 0.7,
                                             low_bits=_strtab_low_bits(rng,
                                                                       world.strtab_base_cfg))
                    self.stats["worlds"] += 1
            if rng.random() < 0.05:
                await bfm.clocks(rng.randint(1, 20))
            if rng.random() < self.p_disabled and sent < self.translations:
                sent += await self._disabled_burst(sess, rng, xseqr)
        if holder is not None:
            holder.release()


    async def _start(self, seq: XlateBurstSeq) -> None:
        """Run a burst; with stalls possible, service the event queue until it completes."""
        xseqr, sess, sb, bfm, rng = self._ctx
        if not self.stalls:
            await seq.start(xseqr)
            return
        done = Event()

        async def run() -> None:
            await seq.start(xseqr)
            done.set()

        cocotb.start_soon(run())
        while not done.is_set():
            await bfm.clocks(8)
            if bfm.irq("eventq"):
                await self._service_stalls(sess, sb, rng, seq.items)

    async def _service_stalls(self, sess: SmmuSession, sb, rng: random.Random,
                              items: list[TransItem]) -> None:
        """Drain the event queue (the scoreboard checks the records, keeping for later what
        it cannot match yet) and answer every stall record: a CMD_RESUME each, or one
        CMD_STALL_TERM for a stream whose every unanswered transaction is held with a record
        in this drain. A STALL_TERM only there: a transaction still walking, retrying, or
        held with its record not yet written would be terminated without the scoreboard
        knowing it held, and a later RESUME on its STAG could meet a new stall reusing it."""
        assert sess.evtq is not None
        lost = sess.evtq.stats.overflows
        records = await sess.evtq.drain()
        # An overflow (EVENTQ_PROD.OVFLG) means non-stall records were discarded (§7.4): the
        # scoreboard must not demand them. Stall records are never among them.
        self.overflowed |= sess.evtq.stats.overflows != lost
        sb.check_events(records, final=False)
        stalls = [r for r in records if r.to_int() & _STALL]
        open_by_sid: dict[int, set[int]] = {}  # unanswered transactions, by stream
        for it in items:
            if it.rsp is None:
                open_by_sid.setdefault(it.sid, set()).add(id(it))
        drained: dict[int, set[int]] = {}      # held with a record in this drain, by stream
        for r in stalls:
            h = sb.stalls.held.get((r.StreamID, r.STAG))
            if h is not None:
                drained.setdefault(r.StreamID, set()).add(id(h.item))
        term = {sid for sid, held in drained.items()
                if open_by_sid.get(sid) == held and rng.random() < 0.2}
        cmds: list = [CmdStallTerm(StreamID=sid) for sid in sorted(term)]
        self.stats["stall_term"] = self.stats.get("stall_term", 0) + len(term)
        for r in stalls:
            self.stats["stalls"] += 1
            if r.StreamID in term:
                continue  # ended by its stream's CMD_STALL_TERM
            key = (r.StreamID, r.InputAddr)
            self.retries[key] = self.retries.get(key, 0) + 1
            if self.retries[key] <= 2 and rng.random() < 0.5:
                action = ResumeAction.RETRY
                self.stats["resume_retry"] += 1
            else:
                action = rng.choice((ResumeAction.ABORT, ResumeAction.TERMINATE))
                self.stats[f"resume_{action.name.lower()}"] += 1
            cmds.append(CmdResume.make(r.StreamID, r.STAG, action))
        if rng.random() < 0.15:
            cmds.append(self._stray_command(rng, open_by_sid, sb))
        if cmds:
            await sess.smmu.cmdq_drv.issue(cmds, sync=False)

    def _stray_command(self, rng: random.Random, open_by_sid: dict[int, set[int]], sb):
        """A stall command that must match nothing (§4.7.2: a RESUME whose StreamID and STAG
        match no stalled transaction has no effect; STALL_TERM of a stream with none held
        neither): aimed at a stream with nothing in flight, with the STAG of a transaction
        another stream holds where there is one."""
        sid = rng.randrange(1 << 16)
        while sid in open_by_sid:
            sid = rng.randrange(1 << 16)
        self.stats["stray"] = self.stats.get("stray", 0) + 1
        if rng.random() < 0.3:
            return CmdStallTerm(StreamID=sid)
        held = sorted(sb.stalls.held)
        stag = rng.choice(held)[1] if held and rng.random() < 0.7 else rng.randrange(1 << 16)
        return CmdResume.make(sid, stag, rng.choice(list(ResumeAction)))

    @staticmethod
    async def _ack_evtq_abort(sess: SmmuSession) -> None:
        """Acknowledge an active EVENTQ_ABT_ERR through GERRORN, as a GERROR handler does."""
        abt = R.GERROR.field("EVENTQ_ABT_ERR").mask
        gerror = await sess.plat.mmio_read32(R.OFFSETS["GERROR"])
        gerrorn = await sess.plat.mmio_read32(R.OFFSETS["GERRORN"])
        if (gerror ^ gerrorn) & abt:
            await sess.plat.mmio_write32(R.OFFSETS["GERRORN"], gerrorn ^ abt)

    async def _disabled_burst(self, sess: SmmuSession, rng: random.Random, xseqr) -> int:
        """SMMUEN=0 for one burst of any addresses (within the OAS or beyond it: §3.4 bypass
        or silent abort, by GBPA), then on again; the caches survive (§6.3.9.6)."""
        cr0 = await sess.plat.mmio_read32(R.OFFSETS["CR0"])
        smmuen = R.CR0.field("SMMUEN").mask
        await sess.smmu._write_sync("CR0", "CR0ACK", cr0 & ~smmuen)
        abort = R.GBPA.field("ABORT").mask if rng.random() < 0.3 else 0
        if abort:
            await sess.smmu.update_gbpa(abort, 0)
        pa_bits = env_cfg().smmu.pa_bits
        reqs = [TransReq(sid=rng.randrange(1 << 16), ssv=rng.randrange(2),
                         ssid=rng.randrange(1 << 20),
                         addr=rng.choice((rng.randrange(1 << pa_bits),
                                          rng.randrange(1 << pa_bits, 1 << 64),
                                          (1 << pa_bits) - 1 - rng.randrange(4096),
                                          (1 << pa_bits) + rng.randrange(4096))),
                         rnw=1, ind=0, pnu=rng.randrange(2)) for _ in range(rng.randint(4, 16))]
        await XlateBurstSeq("disabled", reqs).start(xseqr)
        if abort:
            await sess.smmu.update_gbpa(0, abort)
        await sess.smmu._write_sync("CR0", "CR0ACK", cr0 | smmuen)
        self.stats["disabled_bursts"] += 1
        return len(reqs)


def _strtab_low_bits(rng: random.Random, cfg_word: int) -> int:
    """Random STRTAB_BASE.ADDR bits below the stream table's alignment (§6.3.24), from bit 6."""
    cfg = R.STRTAB_BASE_CFG.from_int(cfg_word)
    if cfg.FMT == R.StrtabFmt.TWO_LEVEL:
        align = max(64, 8 << max(cfg.LOG2SIZE - cfg.SPLIT, 0))
    else:
        align = 64 << cfg.LOG2SIZE
    return rng.randrange(align) & ~0x3F if rng.random() < 0.5 else 0


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
