"""A random, legal-but-nasty SMMU configuration in memory, and the record of what it holds.

``World`` draws everything from the ``random.Random`` it is given, in a fixed order, so one
seed gives byte-identical memory. It never touches registers: the caller programs
``strtab_base``/``strtab_base_cfg`` and issues the commands mutations return.

Nothing is ever freed (see pagetable.py): stale-TLB and stale-config scenarios must find the
old structures unchanged, not recycled.
"""

from __future__ import annotations

import dataclasses
import random
from bisect import bisect_right
from dataclasses import dataclass, field

from models.arch import pgtable as pt
from models.arch.cd import CD, L1CD
from models.arch.geometry import PAGE
from models.arch.registers import HTTU, StallModel
from models.arch.ste import (
    L1STD,
    STE,
    ATSMode,
    S1DefaultSubstream,
    S1Format,
    StreamConfig,
    StreamWorld,
)
from models.memory import FaultRange, FrameAllocator, PhysicalMemory
from models.smmu.config import SmmuConfig
from tb.stimgen.contexts import (
    ASID_FIELDS,
    VA56,
    Context,
    ContextKnobs,
    cd_for,
    illegal_cd,
    pick_va,
    populate,
    random_context_cd,
    table_attrs,
)
from tb.stimgen.mutations import Mutation, MutationWeights, mutate
from tb.stimgen.pagetable import LEVEL_SIZES, PageTable
from tb.stimgen.requests import Req, RequestState, RequestWeights, random_request
from tb.stimgen.streams import CdSlot, CdTable, Stream, StreamTable

__all__ = ["Route", "World", "WorldKnobs"]

_M48 = (1 << 48) - 1


def _flip(rng: random.Random, raw: int, nbits: int) -> int:
    """``raw`` with 1 to 3 of its ``nbits`` bits flipped."""
    for _ in range(rng.randint(1, 3)):
        raw ^= 1 << rng.randrange(nbits)
    return raw


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    names = list(weights)
    return rng.choices(names, [weights[n] for n in names])[0]


@dataclass
class WorldKnobs:
    """Shape of the random world; weights are relative, not probabilities."""

    n_contexts: int = 6
    n_streams: int = 16
    p_two_level: float = 0.6  # 2-level stream table (when IDR0.ST_LEVEL allows it)
    linear_max_log2size: int = 10  # linear tables beyond this would be mostly empty memory
    l1std_kinds: dict[str, float] = field(default_factory=lambda: {
        "full": 55, "small": 25, "invalid": 10, "eabt": 5, "reserved": 5})
    stream_kinds: dict[str, float] = field(default_factory=lambda: {
        "translate": 70, "bypass": 6, "abort": 4, "reserved": 3, "v0": 4, "illegal": 8,
        "cd_eabt": 3})
    # Streams with fuzzed STEs (World.fuzz_ste) at SIDs the others left, drawn from a
    # generator of their own so that the rest of the world is what it would be without them
    n_fuzz: int = 2
    # and, from the same generator, L1STDs with random Span and L2Ptr at L1 indices no stream
    # uses (2-level stream tables), and page-table entries with random bits (nG forced: a
    # global entry would alias other ASIDs) at free slots of any level
    n_fuzz_l1std: int = 2
    n_fuzz_descriptors: int = 4
    p_priv_override: float = 0.25  # PRIVCFG / INSTCFG force values
    s1cdmax: dict[str, float] = field(default_factory=lambda: {
        "zero": 40, "small": 50, "large": 10})
    s1dss: dict[str, float] = field(default_factory=lambda: {
        "ssid0": 50, "bypass": 25, "terminate": 20, "reserved": 5})
    p_ignored_s1fmt: float = 0.1  # non-zero S1Fmt with S1CDMax=0 (ignored by the SMMU)
    p_shared_cdt: float = 0.1  # a stream reuses another stream's CD table
    l1cd_kinds: dict[str, float] = field(default_factory=lambda: {
        "ok": 80, "v0": 7, "eabt": 10, "v0_noleaf": 3})
    cd_kinds: dict[str, float] = field(default_factory=lambda: {
        "ok": 85, "v0": 5, "illegal": 10})
    cd_illegal_exclude: tuple[str, ...] = ()  # e.g. ("t0sz",): reasons not to draw
    max_ssids: int = 6  # CDs written per CD table (besides CD 0)
    fault_size: int = 0x10000  # the external-abort range (at least one 64 KiB CD leaf)
    contexts: ContextKnobs = field(default_factory=ContextKnobs)


def fuzz_descriptor(rng: random.Random, level: int) -> int:
    """A page-table entry for ``level`` with random bits, kept where the architecture defines
    the outcome: reserved bits cleared, SH never the reserved 0b01 and Contiguous 0 (both
    CONSTRAINED UNPREDICTABLE, which the RTL and the model need not resolve alike), and nG
    set (a global entry would alias other ASIDs' lookups, which the world keeps apart). Any
    type may come out: invalid (a fifth of them), table, block, page, or a reserved encoding
    (an L0 block, an L3 type 0b01), which translation-faults."""
    raw = rng.getrandbits(64) | (rng.random() < 0.6)  # valid 80% of the time
    d = pt.decode_descriptor(raw, level)
    raw &= ~d.reserved_mask()
    if isinstance(d, pt.LeafDescriptor):
        raw |= pt.PTE_NG
        raw &= ~pt.PageDescriptor.field("Contiguous").mask
        sh = pt.PageDescriptor.field("SH")
        if (raw & sh.mask) >> sh.lsb == 0b01:
            raw ^= rng.choice((0b01, 0b11)) << sh.lsb  # 0b00 or 0b10
    return raw or 1 << 2  # never 0: an empty slot; an invalid entry with an ignored bit


@dataclass(frozen=True, eq=False)
class Route:
    """(SID, SSV, SSID) that reaches CD ``slot``; ``ok`` when nothing on the way faults."""

    sid: int
    ssv: int
    ssid: int
    stream: Stream
    slot: CdSlot
    ok: bool

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.sid, self.ssv, self.ssid)


class World:
    """Stream table, STEs, CD tables, contexts and page tables, built inside ``window``."""

    def __init__(self, rng: random.Random, mem: PhysicalMemory, cfg: SmmuConfig,
                 window: tuple[int, int], knobs: WorldKnobs | None = None) -> None:
        self.mem = mem
        self.cfg = cfg
        self.window = window
        self.knobs = knobs or WorldKnobs()
        if cfg.HTTU != HTTU.NONE and not self.knobs.contexts.p_dbm:
            ck = self.knobs.contexts
            self.knobs = dataclasses.replace(self.knobs, contexts=dataclasses.replace(
                ck, p_dbm=ck.p_dbm_httu, p_af0=max(ck.p_af0, ck.p_af0_httu)))
        self.alloc = FrameAllocator(mem, *window)
        k = self.knobs
        self.fault_base = self.alloc.alloc(k.fault_size, max(k.fault_size, 0x10000))
        self.fault_size = k.fault_size
        self.fault: FaultRange = mem.add_fault(self.fault_base, self.fault_base + k.fault_size)
        self.asid_bits = 16 if cfg.ASID16 else 8
        self._used_asids: set[int] = set()
        self.contexts: list[Context] = []
        # VA[55:0] ranges holding global (nG=0) entries: (start, end, owner context index). A
        # cached global entry matches every ASID, so no other context may map, fault at or be
        # sent to these VAs; ranges stay reserved after an unmap. VA[55:0], as TLB entries are
        # tagged: a TTB1 range starts at 0xFF.. in VA[55:48].
        self.global_ranges: list[tuple[int, int, int]] = []
        self._global_idx: tuple[int, tuple[list[int], list[int], list[int]]] = (0, ([], [], []))
        self.streams: dict[int, Stream] = {}
        self.cd_tables: list[CdTable] = []
        self.retired: dict[int, list[int]] = {}  # context index -> VAs unmapped by mutations
        self._routes: list[Route] | None = None
        self._fuzz_cds: int | None = None  # the CD frame of the fuzz streams, once drawn
        self._build_contexts(rng)
        self.strtab = self._build_strtab(rng)
        self._build_streams(rng)
        # Seeded from the generator's state as text (hashed with SHA-512: the same in every
        # process, where hash() of the state is not), without drawing from it.
        frng = random.Random(str(rng.getstate()[1]))
        self._add_fuzz_streams(frng)
        self._add_fuzz_l1stds(frng)
        self._add_fuzz_descriptors(frng)
        self.request_state = RequestState()

    # -- registers -----------------------------------------------------------------------------
    @property
    def strtab_base(self) -> int:
        """SMMU_STRTAB_BASE value (RA=1)."""
        return self.strtab.strtab_base

    @property
    def strtab_base_cfg(self) -> int:
        return self.strtab.strtab_base_cfg

    # -- helpers ---------------------------------------------------------------------------------
    def fresh_asid(self, rng: random.Random) -> int:
        """An ASID no CD uses yet (each context, and each ILLEGAL CD, gets its own)."""
        if len(self._used_asids) >= (1 << self.asid_bits) - 1:
            raise RuntimeError("all ASIDs in use: fewer contexts or ILLEGAL CDs needed")
        while True:
            asid = rng.randrange(1, 1 << self.asid_bits)
            if asid not in self._used_asids:
                self._used_asids.add(asid)
                return asid

    def _add_fuzz_streams(self, frng: random.Random) -> None:
        """``n_fuzz`` streams with fuzzed STEs at reachable SIDs no other stream took;
        ``frng`` is derived from the world's generator without drawing from it."""
        free = [s for s in self.sid_pool()
                if s not in self.streams and self.strtab.sid_status(s) == "ok"]
        for sid in frng.sample(free, min(self.knobs.n_fuzz, len(free))):
            ste = self.fuzz_ste(frng)
            stream = Stream(sid, "fuzz", ste, ste, None, base_kind="fuzz")
            stream.addr = self.strtab.write_ste(sid, ste)
            self.streams[sid] = stream
        self._routes = None

    def _add_fuzz_l1stds(self, frng: random.Random) -> None:
        """``n_fuzz_l1std`` L1STDs with a random Span (0..31: invalid, in range or reserved)
        and a random L2Ptr, at L1 indices nothing was put at; the bad_sid requests aim under
        them."""
        st = self.strtab
        if not st.two_level:
            return
        free = [i for i in range(st.n_l1) if i not in st.l1]
        for idx in frng.sample(free, min(self.knobs.n_fuzz_l1std, len(free))):
            span = frng.randrange(32)
            # Low bits too: §5.1 has the SMMU treat L2Ptr[5+(Span-1):0] as 0. Half of them
            # beyond the OAS, where §3.4.3 (5) allows a truncated fetch or F_STE_FETCH and the
            # model's envelope holds both.
            bits = 52 if frng.random() < 0.5 else self.cfg.pa_bits
            st.set_l1(idx, span, frng.getrandbits(bits) & ~0x3F,
                      max(1, min(span, st.split + 1)), "fuzz")
        self._routes = None

    def _add_fuzz_descriptors(self, frng: random.Random) -> None:
        """``n_fuzz_descriptors`` entries from :func:`fuzz_descriptor`, each at a free slot of
        a random level of a random context's table (a hole of kind "fuzz", which the hole
        requests aim at). A valid leaf among them translates to a random PA; a table
        descriptor sends the walk to random memory."""
        tables = [(c, t) for c in self.contexts if c.kind != "ttb_eabt" for t in c.tables]
        if not tables:
            return
        for _ in range(self.knobs.n_fuzz_descriptors):
            ctx, cpt = frng.choice(tables)
            for _ in range(8):
                level = frng.randint(cpt.start, 3)
                va = pick_va(frng, cpt, level, self.knobs.contexts)
                if not self.va_ok(ctx, va, LEVEL_SIZES[level], False):
                    continue
                raw = fuzz_descriptor(frng, level)
                if cpt.put_hole(va, level, raw, "fuzz", table_attrs(frng, self.knobs.contexts)):
                    break
        self._routes = None

    def fuzz_ste(self, rng: random.Random) -> STE:
        """An STE with random bits: in every field (a third of them), or 1 to 3 bits flipped
        in a legal stage-1 STE whose CD table is a frame of fuzzed CDs (the first time, drawn
        then), so that the checks past the STE's are reached too."""
        if rng.random() < 0.3:
            return STE.from_bytes(rng.randbytes(STE.SIZE))
        if self._fuzz_cds is None:
            self._fuzz_cds = self._fuzz_cd_frame(rng)
        s1cdmax = min(rng.choice((0, 0, 1, 3, 6)), self.cfg.SSIDSIZE)
        legal = STE(V=1, Config=StreamConfig.S1_TRANS, S1ContextPtr=self._fuzz_cds,
                    S1CDMax=s1cdmax, S1DSS=rng.randrange(3) if s1cdmax else 0,
                    **self.ste_attrs(rng))
        return STE.from_int(_flip(rng, legal.to_int(), STE.SIZE * 8))

    def _fuzz_cd_frame(self, rng: random.Random) -> int:
        """A page of fuzzed CDs (also what a 2-level S1Fmt reads as L1CDs): legal CDs with 1
        to 3 bits flipped, or random bits in every field. None may translate: each table base
        is an empty table, in the abort range, or beyond the 48-bit output range, so whatever
        ASID they carry (their own, reserved here, with random upper bits now and then) fills
        no TLB entry another CD could meet."""
        frame = self.alloc.alloc(PAGE, PAGE)
        empty = self.alloc.alloc(PAGE, PAGE)
        asid = self.fresh_asid(rng)

        def ttb() -> int:
            u = rng.random()
            return empty if u < 0.4 else self.fault_addr(rng, PAGE) if u < 0.7 else \
                (rng.getrandbits(52) | 1 << 48) & ~0xF

        for i in range(PAGE // CD.SIZE):
            if rng.random() < 0.4:
                cd = CD.from_bytes(rng.randbytes(CD.SIZE))
            else:
                legal = random_context_cd(rng, self.cfg, asid, empty, self.knobs.contexts,
                                          self.window[1])
                cd = CD.from_int(_flip(rng, legal.to_int(), CD.SIZE * 8))
            wide = rng.getrandbits(16) & 0xFF00 if rng.random() < 0.1 else 0
            cd = dataclasses.replace(cd, TTB0=ttb(), TTB1=ttb(), ASID=asid | wide)
            self.mem.write(frame + i * CD.SIZE, cd.to_bytes())
        return frame

    def fault_addr(self, rng: random.Random, align: int) -> int:
        """An ``align``-aligned address inside the external-abort range."""
        return self.fault_base + rng.randrange(max(1, self.fault_size // align)) * align

    def va_ok(self, ctx: Context, va: int, size: int, is_global: bool) -> bool:
        """May ``ctx`` use [va, va+size)? Never inside another context's global range; a new
        global range must not touch anything another context maps or faults at (compared
        on VA[55:0], what a TLB entry is tagged with)."""
        lo = va & VA56
        end = lo + size
        for s, e, owner in self.global_ranges:
            if owner != ctx.index and s < end and lo < e:
                return False
        if is_global:
            sizes = LEVEL_SIZES
            for other in self.contexts:
                if other is ctx:
                    continue
                for t in other.tables:  # plain loops: this runs for every mapping made
                    for recs in (t.leaves.values(), t.holes.values()):
                        for rec in recs:
                            r56 = rec.va & VA56
                            if r56 < end and lo < r56 + sizes[rec.level]:
                                return False
                for r in self.retired.get(other.index, []):
                    if lo <= (r & VA56) < end:
                        return False
            self.global_ranges.append((lo, end, ctx.index))
        return True

    def foreign_global(self, ctx: Context | None, addr: int) -> bool:
        """Could ``addr`` (under any top-byte/IA masking) hit another context's global entry?
        An address with VA[55] set can only meet TTB1 entries, tagged by VA[55:0]."""
        if not self.global_ranges:
            return False
        owner = -1 if ctx is None else ctx.index
        if addr >> 55 & 1:
            cands: tuple[int, ...] = (addr & VA56,)
        else:
            cands = (addr & _M48, addr & VA56, addr)
            if ctx is not None:
                cands += (addr & ((1 << ctx.ia) - 1),)
        starts, ends, owners = self._global_index()
        for a in cands:  # (this runs for every request)
            i = bisect_right(starts, a) - 1
            if i >= 0 and a < ends[i] and owners[i] != owner:
                return True
        return False

    def _global_index(self) -> tuple[list[int], list[int], list[int]]:
        """``global_ranges`` as disjoint intervals sorted by start, each with its owner:
        ranges of different owners never overlap (``va_ok``), so overlapping ones are one
        owner's and merge. Rebuilt when a range was added (they are never removed)."""
        n = len(self.global_ranges)
        if self._global_idx[0] != n:
            merged: list[list[int]] = []
            for s, e, o in sorted(self.global_ranges):
                if merged and s < merged[-1][1]:
                    assert merged[-1][2] == o, "global ranges of two contexts overlap"
                    merged[-1][1] = max(merged[-1][1], e)
                else:
                    merged.append([s, e, o])
            self._global_idx = (n, ([m[0] for m in merged], [m[1] for m in merged],
                                    [m[2] for m in merged]))
        return self._global_idx[1]

    # -- contexts ------------------------------------------------------------------------------
    def _build_contexts(self, rng: random.Random) -> None:
        ck = self.knobs.contexts
        for i in range(self.knobs.n_contexts):
            kind = "normal"
            if i >= 2:  # contexts 0/1 are plain, with TBI0=1 and 0: coverage needs both
                u = rng.random()
                if u < ck.p_epd0:
                    kind = "epd0"
                elif u < ck.p_epd0 + ck.p_ttb_eabt:
                    kind = "ttb_eabt"
            asid = self.fresh_asid(rng)
            # context 0 always translates through TTB1 as well, others now and then
            ttb1 = kind != "ttb_eabt" and (i == 0 or rng.random() < ck.p_ttb1)
            tcr = random_context_cd(rng, self.cfg, asid, 0, ck, self.window[1],
                                    tbi0=(1, 0)[i] if i < 2 else None,
                                    epd0=kind == "epd0", ttb1=ttb1)
            table = PageTable(self.mem, self.alloc, tcr.T0SZ)
            table1 = PageTable(self.mem, self.alloc, tcr.T1SZ, upper=True) if ttb1 else None
            ttb0 = self.fault_addr(rng, PAGE) if kind == "ttb_eabt" else table.root
            template = dataclasses.replace(tcr, TTB0=ttb0,
                                           TTB1=table1.root if table1 is not None else 0)
            # The stall model: CD.S=1 now and then (it must be 1 when forced, §3.2); drawn
            # only on an SMMU that can stall, so other worlds stay as they were.
            if self.cfg.STALL_MODEL == StallModel.STALL_FORCED:
                template = dataclasses.replace(template, S=1)
            elif self.cfg.STALL_MODEL == StallModel.STALL_AND_TERMINATE:
                template = dataclasses.replace(template, S=int(rng.random() < ck.p_stall))
            if self.cfg.HTTU != HTTU.NONE:
                template = dataclasses.replace(
                    template, HA=int(rng.random() < ck.p_ha),
                    HD=int(self.cfg.HTTU != HTTU.ACCESS and rng.random() < ck.p_hd))
            ctx = Context(i, template, table, kind, table1)
            self.contexts.append(ctx)
            if kind != "ttb_eabt":
                for t in ctx.tables:
                    populate(rng, ctx, self.cfg, ck, self.fault_base, self.fault_size,
                             self.va_ok, t)

    # -- stream table --------------------------------------------------------------------------
    def _build_strtab(self, rng: random.Random) -> StreamTable:
        cfg, k = self.cfg, self.knobs
        sidsize = cfg.SIDSIZE
        splits = [s for s in (6, 8, 10) if s <= sidsize]
        if cfg.ST_LEVEL and splits and rng.random() < k.p_two_level:
            split = rng.choice(splits)
            hi = sidsize - 1 if sidsize > split and rng.random() < 0.8 else sidsize
            st = StreamTable(self.mem, self.alloc, two_level=True,
                             log2size=rng.randint(split, hi), split=split)
            n_used = rng.randint(min(2, st.n_l1), min(5, st.n_l1))
            # One full leaf to translate through, and (when there is room) one L1STD that
            # aborts, so F_STE_FETCH exists in every 2-level world.
            for n, idx in enumerate(sorted(rng.sample(range(st.n_l1), n_used))):
                kind = "full" if n == 0 else "eabt" if n == 1 else _pick(rng, k.l1std_kinds)
                self._add_l1std(rng, st, idx, kind)
            return st
        lo = min(5, sidsize)
        hi = max(lo, min(sidsize, k.linear_max_log2size))
        return StreamTable(self.mem, self.alloc, two_level=False, log2size=rng.randint(lo, hi))

    def _add_l1std(self, rng: random.Random, st: StreamTable, idx: int, kind: str) -> None:
        full = st.split + 1
        match kind:
            case "full":
                st.set_l1(idx, full, self.alloc.alloc(STE.SIZE << st.split), full, kind)
            case "small":
                span = rng.randint(1, st.split)
                st.set_l1(idx, span, self.alloc.alloc(STE.SIZE << (span - 1)), span, kind)
            case "invalid":  # sometimes with a populated table, so a mutation can enable it
                table = self.alloc.alloc(STE.SIZE << st.split) if rng.random() < 0.5 else None
                st.set_l1(idx, 0, table, full, kind)
            case "eabt":
                st.set_l1(idx, full, self.fault_addr(rng, STE.SIZE << st.split), full, kind)
            case _:  # reserved Span > SPLIT+1
                st.set_l1(idx, rng.randint(full + 1, 31), self.fault_base, full, "reserved")

    def sid_pool(self) -> list[int]:
        """SIDs whose STE slot is memory we own."""
        st = self.strtab
        if not st.two_level:
            return list(range(1 << st.log2size))
        out = []
        for idx, e in sorted(st.l1.items()):
            if e.table is not None and e.kind not in ("eabt", "reserved", "fuzz"):
                out += [(idx << st.split) | low for low in range(1 << (e.table_span - 1))]
        return out

    # -- streams -------------------------------------------------------------------------------
    def _build_streams(self, rng: random.Random) -> None:
        pool = self.sid_pool()
        sids = rng.sample(pool, min(self.knobs.n_streams, len(pool)))
        # The first two reachable SIDs become the coverage streams: one with substreams and
        # S1DSS=SSID0 (so SSV=0/1 and SSID 0 cases exist), one with a single CD.
        sids.sort(key=lambda s: self.strtab.sid_status(s) != "ok")
        # The third reachable SID fetches its CD from aborting memory (F_CD_FETCH).
        for n, sid in enumerate(sids):
            ok = self.strtab.sid_status(sid) == "ok"
            forced = n if n < 2 and ok else None
            kind = ("translate" if forced is not None else "cd_eabt" if n == 2 and ok
                    else _pick(rng, self.knobs.stream_kinds))
            self._add_stream(rng, sid, kind, forced)

    def _random_s1cdmax(self, rng: random.Random) -> int:
        ssidsize = self.cfg.SSIDSIZE
        if ssidsize == 0:
            return 0
        what = _pick(rng, self.knobs.s1cdmax)
        if what == "zero":
            return 0
        if what == "small":
            return min(ssidsize, rng.choice((1, 2, 2, 3, 4, 5, 6, 7, 8)))
        # Without CD2L a linear table of 2^16 CDs would be 4 MiB of mostly zeros (Linux caps
        # ssid_bits at 10 there too).
        cap = ssidsize if self.cfg.CD2L else min(ssidsize, 10)
        return min(cap, rng.choice((9, 10, 11, 12, ssidsize, ssidsize)))

    def _new_cd_table(self, rng: random.Random, s1cdmax: int, forced: int | None) -> CdTable:
        fmt = S1Format.LINEAR
        if s1cdmax and self.cfg.CD2L and forced is None and (s1cdmax > 10
                                                              or rng.random() < 0.5):
            fmt = rng.choice((S1Format.TWO_LEVEL_4K, S1Format.TWO_LEVEL_64K))
        cdt = CdTable(self.mem, self.alloc, fmt, s1cdmax)
        self.cd_tables.append(cdt)
        n_ssid = (1 << s1cdmax) - 1
        ssids = [0] if s1cdmax == 0 or forced is not None or rng.random() < 0.7 else []
        want = len(ssids) + rng.randint(1, min(self.knobs.max_ssids, n_ssid)) if n_ssid else 1
        while len(ssids) < want:
            if len(ssids) > 1 and rng.random() < 0.5:
                s = rng.choice(ssids) ^ rng.randrange(1, 8)
            elif rng.random() < 0.5:
                s = rng.randrange(1, min(n_ssid + 1, 16))
            else:
                s = rng.randrange(1, n_ssid + 1)
            if 0 < s <= n_ssid and s not in ssids:
                ssids.append(s)
        if cdt.two_level:
            for idx in sorted({cdt.l1_index(s) for s in ssids}):
                kind = "ok" if forced is not None else _pick(rng, self.knobs.l1cd_kinds)
                leaf_bytes = CD.SIZE << cdt.leaf_bits
                leaf = None
                if kind in ("ok", "v0"):
                    leaf = self.alloc.alloc(leaf_bytes)
                elif kind == "eabt":
                    leaf = self.fault_addr(rng, leaf_bytes)
                cdt.set_l1(idx, kind, leaf)
        for s in ssids:
            if cdt.slot_addr(s) is None:
                continue  # behind an aborting or leaf-less L1CD: nothing to write
            self.write_random_cd(rng, cdt, s, "ok" if forced is not None else None,
                                 normal_only=forced is not None)
        return cdt

    def write_random_cd(self, rng: random.Random, cdt: CdTable, ssid: int,
                        kind: str | None, *, normal_only: bool = False) -> CdSlot:
        """A CD copied from a random context: legal (ok), V=0, or ILLEGAL."""
        kind = kind or _pick(rng, self.knobs.cd_kinds)
        normal = [c for c in self.contexts if c.kind == "normal"]
        use_normal = normal_only or (kind == "ok" and rng.random() < 0.85)
        ctx = rng.choice(normal if use_normal and normal else self.contexts)
        a, r = rng.randrange(2), rng.randrange(2)
        if self.cfg.TERM_MODEL:
            a = 1  # A=0 is ILLEGAL with TERM_MODEL=1; only the "illegal" kind may do that
        if kind == "illegal":
            cd, reason = illegal_cd(rng, self.cfg, cd_for(ctx, a=a, r=r),
                                    self.fresh_asid(rng), self.knobs.cd_illegal_exclude)
            return cdt.write_cd(ssid, cd, ctx.index, False, reason)
        return cdt.write_cd(ssid, cd_for(ctx, a=a, r=r, v=int(kind == "ok")), ctx.index, True)

    def translate_ste(self, rng: random.Random, cdt: CdTable, forced: int | None) -> STE:
        """A legal stage-1 STE for a CD table, with random attribute overrides."""
        k = self.knobs
        if cdt.s1cdmax == 0:
            dss = rng.randrange(3)  # ignored without substreams
        elif forced == 0:
            dss = S1DefaultSubstream.SSID0
        else:
            dss = {"ssid0": 0b10, "bypass": 0b01, "terminate": 0b00,
                   "reserved": 0b11}[_pick(rng, k.s1dss)]
        fmt = cdt.fmt
        if cdt.s1cdmax == 0 and self.cfg.CD2L and rng.random() < k.p_ignored_s1fmt:
            fmt = rng.choice((S1Format.TWO_LEVEL_4K, S1Format.TWO_LEVEL_64K))
        return STE(V=1, Config=StreamConfig.S1_TRANS, S1Fmt=fmt, S1ContextPtr=cdt.ptr,
                   S1CDMax=cdt.s1cdmax, S1DSS=dss, **self.ste_attrs(rng))

    def ste_attrs(self, rng: random.Random) -> dict[str, int]:
        """Fields that never make an STE ILLEGAL: CD fetch attributes and overrides."""
        over = self.knobs.p_priv_override
        # With ATS: EATS full ATS (ATS requests and checked translated traffic allowed), off,
        # or 0b11 (behaves as off without IDR3.DPT); 0b10 is ILLEGAL with stage 1 only.
        eats = {"EATS": rng.choice((ATSMode.FULL, ATSMode.FULL, ATSMode.DISABLED, 0b11))} \
            if self.cfg.ATS else {}
        return {**eats,
            "S1CIR": rng.randrange(4), "S1COR": rng.randrange(4), "S1CSH": rng.choice((0, 2, 3)),
            "MEV": rng.randrange(2), "MemAttr": rng.randrange(16), "MTCFG": rng.randrange(2),
            "ALLOCCFG": rng.randrange(16), "SHCFG": rng.randrange(4),
            "PRIVCFG": rng.choice((0b10, 0b11)) if rng.random() < over else 0,
            "INSTCFG": rng.choice((0b10, 0b11)) if rng.random() < over else 0,
        }

    def illegal_ste(self, rng: random.Random, base: STE) -> tuple[STE, str]:
        """ILLEGAL variants of a stage-1 STE (ref §2.6); (STE, reason)."""
        cfg = self.cfg
        reasons = ["stage2"]
        if cfg.SSIDSIZE < 31:
            reasons.append("s1cdmax")
        if cfg.STALL_MODEL != 0:
            reasons.append("s1stalld")
        if not cfg.HYP:
            reasons.append("strw_el2")
        if not cfg.CD2L and base.S1CDMax:
            reasons.append("s1fmt_no_cd2l")
        reason = rng.choice(reasons)
        fields = {
            "stage2": {"Config": rng.choice((StreamConfig.S2_TRANS, StreamConfig.NESTED))},
            "s1cdmax": {"S1CDMax": rng.randint(cfg.SSIDSIZE + 1, 31)},
            "s1stalld": {"S1STALLD": 1},
            "strw_el2": {"STRW": StreamWorld.EL2},
            "s1fmt_no_cd2l": {"S1Fmt": S1Format.TWO_LEVEL_4K},
        }[reason]
        return dataclasses.replace(base, **fields), reason

    def _add_stream(self, rng: random.Random, sid: int, kind: str, forced: int | None) -> None:
        cdt: CdTable | None = None
        reason = ""
        if kind in ("translate", "v0", "illegal"):
            shared = [c for c in self.cd_tables if c.users]
            if forced is None and shared and rng.random() < self.knobs.p_shared_cdt:
                cdt = rng.choice(shared)
            else:
                ssidsize = self.cfg.SSIDSIZE
                s1cdmax = (rng.randint(min(2, ssidsize), min(8, ssidsize)) if forced == 0
                           else 0 if forced == 1 else self._random_s1cdmax(rng))
                cdt = self._new_cd_table(rng, s1cdmax, forced)
            cdt.users.append(sid)
            base = self.translate_ste(rng, cdt, forced)
            ste = base
            if kind == "v0":
                ste = dataclasses.replace(base, V=0)
            elif kind == "illegal":
                ste, reason = self.illegal_ste(rng, base)
        elif kind == "cd_eabt":
            s1cdmax = rng.choice((0, 0, 2, 4))
            base = STE(V=1, Config=StreamConfig.S1_TRANS, S1CDMax=s1cdmax,
                       S1ContextPtr=self.fault_addr(rng, CD.SIZE << s1cdmax),
                       S1DSS=S1DefaultSubstream.SSID0, **self.ste_attrs(rng))
            ste = base
        else:
            config = {"bypass": StreamConfig.BYPASS, "abort": StreamConfig.ABORT,
                      "reserved": rng.randint(0b001, 0b011)}[kind]
            # Stage-1 fields are ignored here; leave junk in them now and then.
            junk = rng.random() < 0.3
            base = STE(V=1, Config=config, S1ContextPtr=self.fault_base if junk else 0,
                       S1CDMax=rng.randrange(4) if junk else 0, **self.ste_attrs(rng))
            ste = base
        base_kind = "translate" if cdt is not None else kind
        stream = Stream(sid, kind, ste, base, cdt, reason, base_kind=base_kind)
        stream.addr = self.strtab.write_ste(sid, ste)
        self.streams[sid] = stream

    def write_stream(self, stream: Stream, ste: STE, kind: str, reason: str = "") -> None:
        stream.ste, stream.kind, stream.reason = ste, kind, reason
        self.strtab.write_ste(stream.sid, ste)
        self._routes = None

    # -- what requests can aim at ----------------------------------------------------------
    def routes(self) -> list[Route]:
        """Every (SID, SSV, SSID) that selects a CD we wrote, in a deterministic order."""
        if self._routes is not None:
            return self._routes
        out = []
        for sid, st in sorted(self.streams.items()):
            if st.cdt is None:
                continue
            ste_ok = st.kind == "translate" and self.strtab.sid_status(sid) == "ok"
            dss = st.ste.S1DSS
            for ssid, slot in sorted(st.cdt.slots.items()):
                ok = ste_ok and st.cdt.ssid_status(ssid) == "ok" and slot.ok
                keys = []
                if st.cdt.s1cdmax == 0:
                    keys.append((0, 0))
                else:
                    if ssid != 0 or dss != S1DefaultSubstream.SSID0:
                        keys.append((1, ssid))
                    if ssid == 0 and dss == S1DefaultSubstream.SSID0:
                        keys.append((0, 0))
                out += [Route(sid, ssv, s, st, slot, ok) for ssv, s in keys]
        self._routes = out
        return out

    def context_of(self, route: Route) -> Context:
        return self.contexts[route.slot.ctx]

    def random_request(self, rng: random.Random, weights: RequestWeights | None = None) -> Req:
        """One request (see requests.py); ``weights`` defaults to ``RequestWeights()``."""
        return random_request(self, rng, weights)

    def mutate(self, rng: random.Random, weights: MutationWeights | None = None) -> Mutation:
        """Apply one random change to memory; returns what changed and the commands."""
        m = mutate(self, rng, weights)
        self._routes = None
        return m

    # -- checks ----------------------------------------------------------------------------
    def all_cds(self) -> list[CdSlot]:
        return [s for cdt in self.cd_tables for _, s in sorted(cdt.slots.items())]

    def asid_conflicts(self) -> list[str]:
        """CDs sharing an ASID whose translation-shaping fields differ (must be empty)."""
        seen: dict[int, tuple[int, dict[str, int]]] = {}
        out = []
        for slot in self.all_cds():
            f = {n: getattr(slot.cd, n) for n in ASID_FIELDS}
            first = seen.setdefault(slot.cd.ASID, (slot.addr, f))
            if first[1] != f:
                diff = sorted(n for n in f if f[n] != first[1][n])
                out.append(f"ASID {slot.cd.ASID:#x}: CD at {slot.addr:#x} differs from CD at "
                           f"{first[0]:#x} in {diff}")
        return out

    def check(self) -> list[str]:
        """Differences between the record and memory, plus invariant violations."""
        out = []
        peek = self.mem.peek
        st = self.strtab
        for idx, e in sorted(st.l1.items()):
            want = L1STD(Span=e.span, L2Ptr=e.table or 0).to_bytes()
            if peek(st.l1_addr(idx), L1STD.SIZE) != want:
                out.append(f"L1STD {idx}: memory differs from record")
        for sid, s in sorted(self.streams.items()):
            if peek(s.addr, STE.SIZE) != s.ste.to_bytes():
                out.append(f"STE {sid:#x}: memory differs from record")
        for cdt in self.cd_tables:
            for idx, e in sorted(cdt.l1.items()):
                want = L1CD(V=e.valid, L2Ptr=e.leaf or 0).to_bytes()
                if peek(cdt.l1_addr(idx), L1CD.SIZE) != want:
                    out.append(f"L1CD {idx} of table {cdt.ptr:#x}: memory differs")
            for ssid, slot in sorted(cdt.slots.items()):
                if peek(slot.addr, CD.SIZE) != slot.cd.to_bytes():
                    out.append(f"CD {ssid:#x} of table {cdt.ptr:#x}: memory differs")
        for ctx in self.contexts:
            out += [f"context {ctx.index}: {p}" for t in ctx.tables for p in t.check()]
        return out + self.asid_conflicts()

    def snapshot(self) -> list[tuple[int, bytes]]:
        """Every allocated region's bytes, by address: what "same memory" is compared on."""
        return [(pa, self.mem.peek(pa, size))
                for pa, size in sorted(self.alloc.allocations.items())]
