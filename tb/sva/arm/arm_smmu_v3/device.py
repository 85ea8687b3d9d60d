"""The SMMUv3 driver's device: probe and bring-up (Linux arm_smmu_device_probe/reset).

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c (arm_smmu_device_reset, arm_smmu_init_strtab,
arm_smmu_write_strtab_ent, arm_smmu_gerror_handler).

Bring-up follows reference §1.6 step by step; every CR0 and IRQ_CTRL write is followed by
polling its ACK register, and GBPA changes use the Update handshake.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from models.arch import registers as R
from models.arch.commands import (
    CmdCfgiSte,
    CmdPrefetchConfig,
    CmdTlbiEl2All,
    CmdTlbiNsnhAll,
    Command,
    cfgi_all,
)
from models.arch.events import Event
from models.arch.priq import PriEntry
from models.arch.ste import L1STD, STE, S1DefaultSubstream, StreamConfig, StreamWorld
from models.cpu.features import CpuFeatures
from tb.sva.arm.arm_smmu_v3.cd import CdTable
from tb.sva.arm.arm_smmu_v3.cmdq import CommandQueue
from tb.sva.arm.arm_smmu_v3.probe import CMDQ_BATCH_SHIFT, SmmuFeatures, probe, sva_blockers
from tb.sva.platform import Platform, mmio_write64, poll32

log = logging.getLogger("sva.smmu")

# Queue size caps of the v5-era driver (log2 entries).
CMDQ_MAX_SHIFT = 8
EVTQ_MAX_SHIFT = 7
PRIQ_MAX_SHIFT = 8
CMD_BYTES, EVT_BYTES, PRI_BYTES = Command.SIZE, Event.SIZE, PriEntry.SIZE
STE_BYTES = STE.SIZE
L1STD_BYTES = L1STD.SIZE
STRTAB_SPLIT = 8          # Linux: 256 STEs (16 KiB) per leaf
STRTAB_L1_MAX_BITS = 17   # Linux caps the L1 table at 2^17 descriptors

_CACHE_WB, _SH_ISH = 1, 3
GERROR_ERR_MASK = 0x1FD  # Linux: every GERROR bit it knows (bit 1 is reserved)


@dataclass
class Queue:
    base: int = 0
    shift: int = 0
    entry_bytes: int = 0

    @property
    def size_bytes(self) -> int:
        return self.entry_bytes << self.shift


@dataclass
class BringUpReport:
    steps: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class ArmSmmuV3:
    """One SMMU as the driver sees it."""

    def __init__(self, plat: Platform, cpu: CpuFeatures | None = None, *,
                 disable_bypass: bool = True, poll_timeout_ns: float = 100_000.0,
                 evtq_max_shift: int = EVTQ_MAX_SHIFT,
                 priq_max_shift: int = PRIQ_MAX_SHIFT,
                 cmdq_max_shift: int = CMDQ_MAX_SHIFT) -> None:
        self.plat = plat
        self.cpu = cpu or CpuFeatures()
        self.disable_bypass = disable_bypass
        self.poll_timeout_ns = poll_timeout_ns
        # Deviation: Linux caps the event queue at a compile-time constant; a bench may cap it
        # lower, so that a handful of faults fills it (the fault-storm scenario).
        self.evtq_max_shift = evtq_max_shift
        self.priq_max_shift = priq_max_shift  # likewise for the PRI queue
        # and the command queue, which a smaller cap keeps full through an invalidation storm;
        # a batch and its CMD_SYNC must still fit, as Linux's probe requires of CMDQS
        if cmdq_max_shift <= CMDQ_BATCH_SHIFT:
            raise ValueError(f"command queue cap 2^{cmdq_max_shift}: a batch of "
                             f"2^{CMDQ_BATCH_SHIFT} commands and a CMD_SYNC must fit")
        self.cmdq_max_shift = cmdq_max_shift
        self.features: SmmuFeatures | None = None
        self.strtab = Queue(entry_bytes=STE_BYTES)
        self.l2_tables: dict[int, int] | None = None  # 2-level: L1 index -> leaf PA
        self.cmdq = Queue(entry_bytes=CMD_BYTES)
        self.evtq = Queue(entry_bytes=EVT_BYTES)
        self.priq = Queue(entry_bytes=PRI_BYTES)

    # ---- probe ---------------------------------------------------------------------------
    async def probe(self) -> SmmuFeatures:
        self.features = await probe(self.plat, self.cpu)
        for r in self.features.refusals:
            log.warning("Linux would refuse this SMMU: %s", r)
        return self.features

    def sva_blockers(self) -> list[str]:
        assert self.features is not None, "probe() first"
        return sva_blockers(self.features, self.cpu)

    # ---- global errors -------------------------------------------------------------------
    async def handle_gerror(self) -> list[str]:
        """Linux arm_smmu_gerror_handler: report every active global error, repair the
        command queue if it stopped, disable the SMMU on Service Failure Mode, then
        acknowledge everything by writing GERROR back to GERRORN. Returns the active errors."""
        gerror = await self.plat.mmio_read32(R.OFFSETS["GERROR"])
        gerrorn = await self.plat.mmio_read32(R.OFFSETS["GERRORN"])
        active = R.GERROR.from_int((gerror ^ gerrorn) & GERROR_ERR_MASK)
        names = [k for k, v in active.as_dict().items() if v]
        for name in names:
            log.error("global error %s", name)
        if active.SFM_ERR:
            log.error("device has entered Service Failure Mode: disabling it")
            await self._write_sync("CR0", "CR0ACK", 0)
        if active.CMDQ_ERR:
            self.cmdq_drv.skip_err(await self.plat.mmio_read32(R.OFFSETS["CMDQ_CONS"]))
        if names:
            await self.plat.mmio_write32(R.OFFSETS["GERRORN"], gerror)
        return names

    # ---- register helpers ----------------------------------------------------------------
    async def _write_sync(self, reg: str, ack: str, value: int) -> None:
        await self.plat.mmio_write32(R.OFFSETS[reg], value)
        await poll32(self.plat, R.OFFSETS[ack], value, timeout_ns=self.poll_timeout_ns,
                     what=f"{ack} acknowledging {reg}={value:#x}")

    async def update_gbpa(self, set_bits: int, clr_bits: int) -> None:
        off = R.OFFSETS["GBPA"]
        upd = R.GBPA.field("Update").mask
        what = "GBPA not responding to update"
        reg = await poll32(self.plat, off, 0, upd, timeout_ns=self.poll_timeout_ns, what=what)
        reg = (reg & ~clr_bits) | set_bits
        await self.plat.mmio_write32(off, reg | upd)
        await poll32(self.plat, off, 0, upd, timeout_ns=self.poll_timeout_ns, what=what)

    # ---- tables and queues ---------------------------------------------------------------
    def _alloc_queue(self, q: Queue, shift: int) -> None:
        q.shift = shift
        q.base = self.plat.dma.alloc(max(q.size_bytes, 32))

    def _unattached_ste(self) -> bytes:
        cfg = StreamConfig.ABORT if self.disable_bypass else StreamConfig.BYPASS
        return STE(V=1, Config=cfg, SHCFG=0b01).to_bytes()

    def init_strtab(self) -> tuple[int, int]:
        """The stream table as Linux sizes it; returns (STRTAB_BASE, STRTAB_BASE_CFG).

        Linear: 2^SIDSIZE STEs, all aborting (or bypassing) unattached streams. 2-level:
        SPLIT=8, an L1 table of min(2^17, 2^(SIDSIZE-8)) invalid descriptors; leaves of 256
        STEs are allocated when a stream is first used (:meth:`init_l2`)."""
        f = self.features
        assert f is not None
        if f.has("2_LVL_STRTAB"):
            l1_bits = min(STRTAB_L1_MAX_BITS, f.sid_bits - STRTAB_SPLIT)
            self.strtab = Queue(entry_bytes=L1STD_BYTES)
            self._alloc_queue(self.strtab, l1_bits)
            self.l2_tables = {}
            cfg = R.STRTAB_BASE_CFG(FMT=R.StrtabFmt.TWO_LEVEL, SPLIT=STRTAB_SPLIT,
                                    LOG2SIZE=l1_bits + STRTAB_SPLIT)
        else:
            self._alloc_queue(self.strtab, f.sid_bits)
            self.plat.mem.write(self.strtab.base,
                                self._unattached_ste() * (1 << self.strtab.shift), source="cpu")
            cfg = R.STRTAB_BASE_CFG(FMT=R.StrtabFmt.LINEAR, LOG2SIZE=self.strtab.shift)
        return R.STRTAB_BASE(ADDR=self.strtab.base, RA=1).to_int(), cfg.to_int()

    def init_l2(self, sid: int) -> int:
        """Allocate the leaf holding ``sid`` (Linux arm_smmu_init_l2_strtab); returns its PA."""
        assert self.l2_tables is not None, "linear stream table has no leaves"
        idx = sid >> STRTAB_SPLIT
        if idx in self.l2_tables:
            return self.l2_tables[idx]
        n = 1 << STRTAB_SPLIT
        leaf = self.plat.dma.alloc(n * STE_BYTES)
        self.plat.mem.write(leaf, self._unattached_ste() * n, source="cpu")
        desc = L1STD(Span=STRTAB_SPLIT + 1, L2Ptr=leaf).to_int()
        self.plat.mem.write64(self.strtab.base + idx * L1STD_BYTES, desc, source="cpu")
        self.l2_tables[idx] = leaf
        return leaf

    def unattached_ste(self) -> STE:
        """The STE of a stream with no domain: abort (disable_bypass) or bypass."""
        return STE.from_bytes(self._unattached_ste())

    async def write_ste(self, sid: int, ste: STE) -> None:
        """Linux's STE update protocol (reference §2.5): the SMMU reads the 8 words in no
        defined order and dw0 holds V and Config, so dw1..3 go first and are invalidated,
        then dw0 is written in one 64-bit store, invalidated again, and a prefetch hints the
        SMMU to reload it.

        An STE that translates nothing (abort or bypass: detach, the unattached state) is
        written the other way round, as v5's arm_smmu_write_strtab_ent does: dw0 first, so
        the stream stops translating before dw1.. lose the fields (StreamWorld, EATS,
        S1STALLD) the live configuration still reads, then the rest and one invalidation
        (the SMMU may cache a negative result, so it is needed even if the old STE was not
        live)."""
        addr = self.ste_addr(sid)
        words = ste.to_words()
        if not ste.V or not ste.Config & 0b011:
            self.plat.mem.write64(addr, words[0], source="cpu")
            for i in range(1, 8):
                self.plat.mem.write64(addr + 8 * i, words[i], source="cpu")
            await self.cmdq_drv.issue([CmdCfgiSte(StreamID=sid, Leaf=1)])
            return
        for i in range(1, 8):
            self.plat.mem.write64(addr + 8 * i, words[i], source="cpu")
        await self.cmdq_drv.issue([CmdCfgiSte(StreamID=sid, Leaf=1)])
        self.plat.mem.write64(addr, words[0], source="cpu")
        await self.cmdq_drv.issue([CmdCfgiSte(StreamID=sid, Leaf=1)])
        await self.cmdq_drv.issue([CmdPrefetchConfig(StreamID=sid)], sync=False)

    def s1_ste(self, cd: CdTable, *, stall_master: bool = False, ats: bool = False,
               ppar: bool = False) -> STE:
        """The STE of a stage-1 domain (reference §2.5), for a master with a CD table."""
        f = self.features
        assert f is not None
        return STE(V=1, Config=StreamConfig.S1_TRANS, S1Fmt=cd.s1fmt, S1ContextPtr=cd.base,
                   S1CDMax=cd.s1cdmax, S1DSS=S1DefaultSubstream.SSID0, S1CIR=1, S1COR=1,
                   S1CSH=3, STRW=StreamWorld.EL2 if f.has("E2H") else StreamWorld.NS_EL1,
                   S1STALLD=int(f.has("STALLS") and not f.has("STALL_FORCE")
                                and not stall_master),
                   EATS=int(ats), PPAR=int(ppar))

    def ste_addr(self, sid: int) -> int:
        if self.l2_tables is not None:
            leaf = self.init_l2(sid)
            return leaf + (sid & ((1 << STRTAB_SPLIT) - 1)) * STE_BYTES
        return self.strtab.base + sid * STE_BYTES

    def _queue_base(self, q: Queue, ra_name: str, layout: type) -> int:
        return layout(ADDR=q.base, LOG2SIZE=q.shift, **{ra_name: 1}).to_int()

    async def _enable_output_queue(self, name: str, q: Queue, shift: int, enables: int) -> int:
        """Allocate, program and enable the event or PRI queue; returns its CR0 enable bit."""
        self._alloc_queue(q, shift)
        await mmio_write64(self.plat, R.OFFSETS[f"{name}_BASE"],
                           self._queue_base(q, "WA", R.EVENTQ_BASE))
        await self.plat.mmio_write32(R.OFFSETS[f"{name}_PROD"], 0)
        await self.plat.mmio_write32(R.OFFSETS[f"{name}_CONS"], 0)
        bit = R.CR0.field(f"{name}EN").mask
        await self._write_sync("CR0", "CR0ACK", enables | bit)
        return bit

    # ---- bring-up ------------------------------------------------------------------------
    async def device_reset(self, *, bypass: bool = False,
                           invalidate_caches: bool = True) -> BringUpReport:
        """Linux arm_smmu_device_reset; ``invalidate_caches=False`` skips the command-queue
        invalidation step for an SMMU that has no command consumer yet."""
        f = self.features or await self.probe()
        rep = BringUpReport()
        cr0 = R.CR0.field
        if await self.plat.mmio_read32(R.OFFSETS["CR0"]) & cr0("SMMUEN").mask:
            log.warning("SMMU currently enabled: resetting")
            await self.update_gbpa(R.GBPA.field("ABORT").mask, 0)
            rep.steps.append("GBPA.ABORT set before disabling")
        await self._write_sync("CR0", "CR0ACK", 0)
        rep.steps.append("CR0 = 0 (acknowledged)")

        cr1 = R.CR1(QUEUE_IC=_CACHE_WB, QUEUE_OC=_CACHE_WB, QUEUE_SH=_SH_ISH,
                    TABLE_IC=_CACHE_WB, TABLE_OC=_CACHE_WB, TABLE_SH=_SH_ISH).to_int()
        await self.plat.mmio_write32(R.OFFSETS["CR1"], cr1)
        cr2 = R.CR2(RECINVSID=1, E2H=int(f.has("E2H")), PTM=int(not f.has("BTM"))).to_int()
        await self.plat.mmio_write32(R.OFFSETS["CR2"], cr2)
        rep.steps.append(f"CR1 = {cr1:#x}, CR2 = {cr2:#x}")

        base, cfg = self.init_strtab()
        await mmio_write64(self.plat, R.OFFSETS["STRTAB_BASE"], base)
        await self.plat.mmio_write32(R.OFFSETS["STRTAB_BASE_CFG"], cfg)
        kind = "2-level, 2^%d L1 descriptors" if f.has("2_LVL_STRTAB") else "linear, 2^%d STEs"
        rep.steps.append(f"stream table: {kind % self.strtab.shift} at {self.strtab.base:#x}")

        self._alloc_queue(self.cmdq, min(f.cmdq_shift, self.cmdq_max_shift))
        await mmio_write64(self.plat, R.OFFSETS["CMDQ_BASE"],
                           self._queue_base(self.cmdq, "RA", R.CMDQ_BASE))
        await self.plat.mmio_write32(R.OFFSETS["CMDQ_PROD"], 0)
        await self.plat.mmio_write32(R.OFFSETS["CMDQ_CONS"], 0)
        enables = cr0("CMDQEN").mask
        await self._write_sync("CR0", "CR0ACK", enables)
        rep.steps.append(f"command queue: 2^{self.cmdq.shift} at {self.cmdq.base:#x}, enabled")
        self.cmdq_drv = CommandQueue(self.plat, self.cmdq.base, self.cmdq.shift)
        if invalidate_caches:
            await self.cmdq_drv.issue([cfgi_all()])
            tlbi: list[Command] = [CmdTlbiEl2All()] if f.has("HYP") else []
            await self.cmdq_drv.issue([*tlbi, CmdTlbiNsnhAll()])
            rep.steps.append("CFGI_ALL + SYNC, " + ("TLBI_EL2_ALL + " if tlbi else "")
                             + "TLBI_NSNH_ALL + SYNC (consumed)")
        else:
            rep.skipped.append("CFGI_ALL + TLBI_NSNH_ALL + CMD_SYNC (no command consumer)")

        enables |= await self._enable_output_queue("EVENTQ", self.evtq,
                                                    min(f.evtq_shift, self.evtq_max_shift),
                                                    enables)
        rep.steps.append(f"event queue: 2^{self.evtq.shift} at {self.evtq.base:#x}, enabled")
        if f.has("PRI"):
            enables |= await self._enable_output_queue("PRIQ", self.priq,
                                                        min(f.priq_shift, self.priq_max_shift),
                                                        enables)
            rep.steps.append(f"PRI queue: 2^{self.priq.shift} at {self.priq.base:#x}, enabled")
        if f.has("ATS"):
            enables |= cr0("ATSCHK").mask
            await self._write_sync("CR0", "CR0ACK", enables)
            rep.steps.append("ATSCHK enabled")

        await self._write_sync("IRQ_CTRL", "IRQ_CTRLACK", 0)
        irqs = R.IRQ_CTRL(GERROR_IRQEN=1, EVENTQ_IRQEN=1, PRIQ_IRQEN=int(f.has("PRI"))).to_int()
        await self._write_sync("IRQ_CTRL", "IRQ_CTRLACK", irqs)
        rep.steps.append(f"IRQ_CTRL = {irqs:#x} (acknowledged)")

        if bypass:
            await self.update_gbpa(0, R.GBPA.field("ABORT").mask)
            rep.steps.append("SMMU left disabled, GBPA.ABORT cleared: global bypass")
        else:
            enables |= cr0("SMMUEN").mask
            await self._write_sync("CR0", "CR0ACK", enables)
            rep.steps.append(f"CR0 = {enables:#x}: SMMU enabled")
        return rep
