"""Translation semantics of the reference SMMUv3: stream table, substreams, CDs, stage-1 walk.

Everything here is a pure function of (SmmuConfig, register snapshot, memory, request) plus a
:class:`Lookup` that decides, at every point where the architecture lets the SMMU use a cached
copy instead of memory, which copy is used. With :class:`NoCache` the result is "what the
tables in memory say now"; :mod:`models.smmu.caches` drives the same code through every
combination of cached copies to build the envelope of legal outcomes. Keeping a single
implementation of the semantics is why the cache points are hooks rather than a second walker.

Spec: reference §2 (STE), §3 (CD), §4 (stage-1 walk), §6 (event records), fault order §4.5.
Choices where the reference is silent are marked "choice:" in comments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from models.arch import registers as R
from models.arch.cd import CD, L1CD, TG0Granule, TG1Granule
from models.arch.events import Event, EventClass, EventID, make_event
from models.arch.geometry import (
    DESC_BYTES,
    ENTRIES,
    LAST_LEVEL,
    TXSZ_MAX,
    TXSZ_MIN,
    align_down,
    input_bits,
    level_shift,
    level_size,
    start_level,
    table_entries,
)
from models.arch.pgtable import (
    PTE_AF,
    PTE_RDONLY,
    BlockDescriptor,
    PageDescriptor,
    TableDescriptor,
    decode_descriptor,
)
from models.arch.ste import (
    L1STD,
    STE,
    ATSMode,
    S1DefaultSubstream,
    S1Format,
    StreamConfig,
    StreamWorld,
)
from models.memory import ExternalAbort, PhysicalMemory
from models.smmu.config import SmmuConfig
from models.smmu.port import PERM_R, PERM_W, PERM_X, Result, TransReq, TransResp

__all__ = [
    "FRESH", "Lookup", "NoCache", "Outcome", "TRANSLATION_CLASS", "TlbEntry", "XlateRegs",
    "translate", "usable_ste",
]

VA56 = (1 << 56) - 1  # VA[55:0]: the address with the top byte removed, as TLBs key it
TRANSLATION_CLASS = frozenset({EventID.F_TRANSLATION, EventID.F_ADDR_SIZE, EventID.F_ACCESS,
                               EventID.F_PERMISSION})


@dataclass(frozen=True, eq=False)
class Outcome:
    """A response plus the event record it writes (None when nothing is recorded)."""

    resp: TransResp
    event: Event | None = None
    # The transaction stalls (CD.S=1, §3.12.2): no response until CMD_RESUME or
    # CMD_STALL_TERM; ``resp`` is then what a termination as an abort gives, and ``event`` the
    # record with Stall=1 and a STAG still to be chosen (STAG=0 here).
    stall: bool = False
    # HTTU (§3.13): the descriptor updates the translation made, as (address, old, new)
    # compare-and-swaps, in order; not part of what the outcome is compared by.
    updates: tuple[tuple[int, int, int], ...] = ()

    def __post_init__(self) -> None:
        # Outcomes are hashed and compared many times while the envelope is enumerated;
        # encoding the record once (records are never changed after this) keeps that cheap.
        object.__setattr__(self, "_key",
                           (self.resp, None if self.event is None else self.event.to_int(),
                            self.stall))

    def key(self) -> tuple[TransResp, int | None]:
        return self._key  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Outcome) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __repr__(self) -> str:
        ev = "" if self.event is None else f", event={EventID(self.event.EventID).name}"
        r = self.resp
        return (f"Outcome({r.result.name}, pa={r.pa:#x}, perm={r.perm:#o}, attr={r.attr:#04x}, "
                f"sh={r.sh}, fault={r.fault:#x}{ev})")


@dataclass(frozen=True)
class XlateRegs:
    """The register state a translation depends on (the values that took effect)."""

    SMMUEN: int = 0
    GBPA_ABORT: int = 0
    RECINVSID: int = 0
    STRTAB_BASE: int = 0  # the address (STRTAB_BASE.ADDR)
    FMT: int = 0
    SPLIT: int = 0
    LOG2SIZE: int = 0
    ATSCHK: int = 0  # CR0.ATSCHK: ATS-Translated traffic checked against the STE

    @classmethod
    @functools.lru_cache(maxsize=64)  # read for every prediction, changed rarely
    def from_values(cls, cr0ack: int, gbpa: int, cr2: int, strtab_base: int,
                    strtab_cfg: int) -> XlateRegs:
        cfg = R.STRTAB_BASE_CFG.from_int(strtab_cfg)
        return cls(SMMUEN=R.CR0.from_int(cr0ack).SMMUEN, GBPA_ABORT=R.GBPA.from_int(gbpa).ABORT,
                   RECINVSID=R.CR2.from_int(cr2).RECINVSID,
                   STRTAB_BASE=R.STRTAB_BASE.from_int(strtab_base).ADDR,
                   FMT=cfg.FMT, SPLIT=cfg.SPLIT, LOG2SIZE=cfg.LOG2SIZE,
                   ATSCHK=R.CR0.from_int(cr0ack).ATSCHK)


@dataclass(frozen=True)
class TlbEntry:
    """A cached stage-1 leaf: the descriptor plus the table attributes inherited above it.

    CD-level controls (MAIR, WXN, PAN, AFFD, A/R) are applied from the CD in use at lookup,
    not stored: choice (the architecture lets either be cached; storing less is simpler).
    """

    asid: int | None  # None: global entry (nG=0), matches every ASID of its ASET
    level: int
    va: int  # VA[55:0] of the block/page base
    oa: int
    ap: int
    uxn: int
    pxn: int
    sh: int
    attr_indx: int
    af: int
    ap_table: int  # APTable bits accumulated (bit 0: no EL0, bit 1: no write)
    uxn_table: int
    pxn_table: int
    # CD.ASET of the walk. §3.17.1: a global entry matches only lookups through a
    # configuration with the same ASET; for a non-global entry ASET is not part of the match.
    aset: int = 0
    dbm: int = 0  # the descriptor's DBM bit (HTTU dirty state, §3.13.3)

    @property
    def size(self) -> int:
        return level_size(self.level)

    @property
    def tag(self) -> TlbTag:
        return tlb_tag(self.asid, self.aset)

    def covers(self, va56: int) -> bool:
        return self.va <= va56 < self.va + self.size


# The tag a TLB entry is filed under: its ASID, or for a global entry its ASID set.
TlbTag = int | tuple[str, int]


def tlb_tag(asid: int | None, aset: int) -> TlbTag:
    return ("global", aset) if asid is None else asid


FRESH: Any = type("Fresh", (), {"__repr__": lambda self: "FRESH"})()


class Lookup(Protocol):
    """Where cached copies may stand in for memory (reference §5.2 cache kinds).

    ``pick`` returns one cached value for (kind, key) or :data:`FRESH` (fetch from memory);
    ``fill`` reports a valid structure just fetched, which the SMMU may cache from now on.
    Kinds: "L1STD" (l1 index, split), "STE" sid, "L1CD" (sid, l1 index, split),
    "CD" (sid, cd index), "TLB" (asid, aset, VA[55:0]), "WALK" (asid, level, VA prefix).
    """

    # Remembers stage results (``_staged``) for a lookup whose picks always fetch; else None.
    stages: Any

    def pick(self, kind: str, key: Hashable) -> Any: ...
    def fill(self, kind: str, key: Hashable, value: Any) -> None: ...
    def choose(self, options: tuple[Any, ...]) -> Any:
        """One of several behaviours the architecture allows (CONSTRAINED UNPREDICTABLE);
        options[0] is the model's own."""
        ...
    def merge(self, state: Hashable) -> None:
        """The rest of the translation depends on ``state`` (and the request, registers,
        memory and caches) only: two runs reaching the same state end alike."""
        ...


class NoCache:
    """Always fetch: the semantics of the tables as they are in memory now."""

    stages = None

    def pick(self, kind: str, key: Hashable) -> Any:
        return FRESH

    def fill(self, kind: str, key: Hashable, value: Any) -> None:
        pass

    def choose(self, options: tuple[Any, ...]) -> Any:
        return options[0]

    def merge(self, state: Hashable) -> None:
        pass


# ---- internals ---------------------------------------------------------------------------
class _Stop(Exception):
    """Early termination of a translation with its outcome (internal control flow)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__()
        self.outcome = outcome


class _Abort(Exception):
    def __init__(self, addr: int) -> None:
        super().__init__()
        self.addr = addr


@functools.lru_cache(maxsize=1 << 14)
def _dec(cls: type, raw: int) -> Any:
    """Decode a structure once per distinct value: the prediction replays the same walks
    many times. The decoded objects are shared, so nothing here may modify them."""
    return cls.from_int(raw)


@functools.lru_cache(maxsize=1 << 14)
def _desc(raw: int, level: int) -> Any:
    return decode_descriptor(raw, level)


def _staged(c: _Ctx, stage: Callable[..., Any], key: Hashable, stop_key: Hashable,
            *args: Any) -> Any:
    """``stage(c, *args)``, or, with a lookup that keeps a stage memo, what the stage gave
    last time for ``key`` if the memory it read has not changed since (its calls to the
    lookup are replayed). A stage may end in a fault: that is reused only for the same
    ``stop_key``, since the fault's record holds more of the request than ``key``."""
    memo = c.look.stages
    if memo is None:
        return stage(c, *args)
    hit = memo.replay(c, key, stop_key)
    if hit is None:
        rec = memo.record(c)
        try:
            value = stage(c, *args)
            rec.returned(key, value)
            return value
        except _Stop as stop:
            rec.stopped(key, stop.outcome, stop_key)
            raise
        finally:
            memo.done(c, rec)  # puts the lookup and memory back; files a result
    value, stopped = hit
    if stopped is not None:
        raise _Stop(stopped)
    return value


@functools.lru_cache(maxsize=1 << 12)
def _config_outcome(eid: EventID, record: bool, fields: tuple[tuple[str, int], ...]) -> Outcome:
    """Built once per distinct record: the same configuration faults recur for every request
    through a broken stream, and an Outcome and its record are never modified."""
    ev = make_event(eid, **dict(fields)) if record else None
    return Outcome(TransResp(Result.ABORT, fault=int(eid)), ev)


def _read(mem: PhysicalMemory, addr: int, n: int, limit: int) -> bytes:
    """A table fetch; an address beyond the PA size or memory aborts like a bus error."""
    if addr + n > limit:
        raise _Abort(addr)
    try:
        return mem.read(addr, n, source="smmu")
    except (ExternalAbort, ValueError):
        raise _Abort(addr) from None


@dataclass
class _Ctx:
    cfg: SmmuConfig
    regs: XlateRegs
    mem: PhysicalMemory
    req: TransReq
    look: Lookup
    pnu: int = 0  # effective, after STE.PRIVCFG
    ind: int = 0  # effective, after STE.INSTCFG
    state: tuple[Any, ...] = ()  # what the translation so far left for the rest (Lookup.merge)
    leaf: tuple[int, int] = (0, 0)  # (address, raw) of the leaf the last fresh walk read

    @property
    def pa_limit(self) -> int:
        return 1 << self.cfg.pa_bits

    # -- outcomes --
    def ids(self) -> dict[str, int]:
        r = self.req
        return {"StreamID": r.sid, "SSV": r.ssv, "SubstreamID": r.ssid if r.ssv else 0}

    def config_fault(self, eid: EventID, record: bool = True, **fields: int) -> _Stop:
        """Configuration-class termination: always an abort, recorded unless ``record`` is off."""
        fields = {**self.ids(), **fields} if record else {}
        return _Stop(_config_outcome(eid, record, tuple(fields.items())))

    def xlate_fault(self, eid: EventID, cd: CD | None, **fields: int) -> _Stop:
        """Translation-class fault: {S, A, R} of the CD (§3.2); without a CD, abort and
        record."""
        r = self.req
        xlate = cd is not None and eid in TRANSLATION_CLASS
        # §3.2 (ref): "S=1: stall + event (R treated as 1)". CD.S=1 is ILLEGAL (C_BAD_CD,
        # checked before) where STALL_MODEL=0b01 and with STE.S1STALLD=1.
        stall = xlate and bool(cd.S)  # type: ignore[union-attr]
        ev = make_event(eid, **self.ids(), PnU=self.pnu, InD=self.ind, RnW=r.rnw,
                        CLASS=fields.pop("CLASS", EventClass.IN), InputAddr=r.addr,
                        Stall=int(stall), **fields)
        if not xlate:
            return _Stop(Outcome(TransResp(Result.ABORT, fault=int(eid)), ev))
        assert cd is not None
        if stall:
            return _Stop(Outcome(TransResp(Result.ABORT, fault=int(eid)), ev, stall=True))
        result = Result.ABORT if cd.A else Result.RAZ_WI
        return _Stop(Outcome(TransResp(result, fault=int(eid)), ev if cd.R else None))


# ---- stream table (§2.4) -----------------------------------------------------------------
def _fetch_ste(c: _Ctx) -> int:
    """The STE in use (as raw bits)."""
    cfg, regs, sid = c.cfg, c.regs, c.req.sid
    log2size = min(regs.LOG2SIZE, cfg.SIDSIZE)
    if sid >> log2size:
        raise c.config_fault(EventID.C_BAD_STREAMID, bool(regs.RECINVSID))
    cached = c.look.pick("STE", sid)
    if cached is not FRESH:
        c.look.merge(("STE", cached))
        return cached
    two_level = regs.FMT == R.StrtabFmt.TWO_LEVEL and cfg.ST_LEVEL == R.STLevel.TWO_LEVEL
    if two_level:
        # §6.3.25: SPLIT is 6, 8 or 10; "Other values are reserved, behave as 6".
        split = regs.SPLIT if regs.SPLIT in (6, 8, 10) else 6
        l1_bytes = L1STD.SIZE << max(regs.LOG2SIZE - split, 0)
        base = regs.STRTAB_BASE & ~(max(64, l1_bytes) - 1)
        l1_key = (sid >> split, split)
        raw = c.look.pick("L1STD", l1_key)
        l1_addr = base + (sid >> split) * L1STD.SIZE
        if raw is FRESH:
            try:
                raw = int.from_bytes(_read(c.mem, l1_addr, L1STD.SIZE, c.pa_limit), "little")
            except _Abort:
                raise c.config_fault(EventID.F_STE_FETCH, FetchAddr=l1_addr) from None
            l1 = _dec(L1STD, raw)
            if l1.Span == 0 or l1.Span > split + 1:
                raise c.config_fault(EventID.C_BAD_STREAMID, bool(regs.RECINVSID))
            c.look.fill("L1STD", l1_key, raw)
        l1 = _dec(L1STD, raw)
        l2_index = sid & ((1 << split) - 1)
        if l2_index >> (l1.Span - 1):
            raise c.config_fault(EventID.C_BAD_STREAMID, bool(regs.RECINVSID))
        # §5.1: "Bits L2Ptr[N:0] are treated as 0 by the SMMU, where N == 5 + (Span -1)".
        ste_addr = align_down(l1.L2Ptr, STE.SIZE << (l1.Span - 1)) + l2_index * STE.SIZE
        if ste_addr >> c.cfg.pa_bits:
            # §3.4.3 (5): an STE fetch address beyond the OAS: "CONSTRAINED UNPREDICTABLE
            # whether an implementation truncates an STE fetch address (and continues
            # translation) or generates an F_STE_FETCH condition".
            if c.look.choose(("fetch", "truncate")) == "fetch":
                raise c.config_fault(EventID.F_STE_FETCH, FetchAddr=ste_addr)
            ste_addr &= c.pa_limit - 1
    else:
        # Linear (FMT reserved, or 2-level without ST_LEVEL support: choice, read as linear).
        ste_addr = (regs.STRTAB_BASE & ~((STE.SIZE << regs.LOG2SIZE) - 1)) + sid * STE.SIZE
    try:
        data = _read(c.mem, ste_addr, STE.SIZE, c.pa_limit)
    except _Abort:
        raise c.config_fault(EventID.F_STE_FETCH, FetchAddr=ste_addr) from None
    raw = int.from_bytes(data, "little")
    ste = _dec(STE, raw)
    if _ste_legal(c.cfg, ste):
        c.look.fill("STE", sid, raw)  # as fetched: decodes to the same STE, no re-encoding
    c.look.merge(("STE", raw))
    return raw


def _ste_legal(cfg: SmmuConfig, ste: STE) -> bool:
    """§2.6 ILLEGAL conditions for the features this SMMU implements (V=0 included)."""
    if not ste.V:
        return False
    config = ste.Config
    if not config & 0b100:
        return True  # abort (and the reserved 0b001..0b011): other fields are ignored
    if (config & 0b001 and not cfg.S1P) or config & 0b010:  # S2P is always 0 here
        return False
    if config & 0b001:
        # §5.2 EATS: ignored without ATS and treated as 0 in bypass; split-stage (0b10) needs
        # Config 0b111; 0b11 behaves as 0b00 without IDR3.DPT (not implemented).
        if cfg.ATS and ste.EATS == 0b10:
            return False
        if ste.STRW not in (StreamWorld.NS_EL1, StreamWorld.EL2):
            return False
        if ste.STRW == StreamWorld.EL2 and not cfg.HYP:
            return False
        if ste.S1STALLD and cfg.STALL_MODEL != R.StallModel.STALL_AND_TERMINATE:
            return False
        # §5.2: S1CDMax (and with it S1Fmt) is IGNORED when SSIDSIZE is 0.
        if cfg.SSIDSIZE and ste.S1CDMax > cfg.SSIDSIZE:
            return False
        # §5.2: S1Fmt != 0b00 is ILLEGAL without CD2L; otherwise the reserved 0b11 behaves as
        # 0b00 (a linear table).
        if cfg.SSIDSIZE and ste.S1CDMax and ste.S1Fmt != S1Format.LINEAR and not cfg.CD2L:
            return False
        # §3.4.3 (1): SMMUv3.1 and later; SMMUv3.0 has a choice (_beyond_oas)
        if ste.S1ContextPtr >> cfg.pa_bits and not _v30(cfg):
            return False
    return True


def _overrides(c: _Ctx, ste: STE) -> None:
    """STE.PRIVCFG / INSTCFG (0b10 force unpriv/data, 0b11 force priv/instr; else incoming)."""
    r = c.req
    c.pnu = {0b10: 0, 0b11: 1}.get(ste.PRIVCFG, r.pnu)
    # an ATS request is a data read unless INSTCFG forces a fetch (its ind is Execute)
    ind = {0b10: 0, 0b11: 1}.get(ste.INSTCFG, 0 if r.ats else r.ind)
    c.ind = ind if r.rnw else 0  # writes are data accesses


def _bypass(c: _Ctx) -> Outcome:
    if c.req.addr >> c.cfg.pa_bits:
        # §3.4: an STE bypass beyond the OAS (and, with stage 1 bypassed by S1DSS, beyond the
        # IAS, equal to the OAS here) aborts and records F_ADDR_SIZE.
        raise c.xlate_fault(EventID.F_ADDR_SIZE, None)
    return Outcome(TransResp(Result.OK_BYPASS, pa=c.req.addr))


# ---- substreams and CDs (§2.3, §3) -------------------------------------------------------
def _v30(cfg: SmmuConfig) -> bool:
    return not cfg.AIDR & 0xF  # AIDR.ArchMinorRev 0: SMMUv3.0


def _beyond_oas(c: _Ctx, ptr: int, bad: EventID, fetch: int, index: int) -> int:
    """§3.4.3 (1), (3): a stage-1 S1ContextPtr or L1CD.L2Ptr beyond the OAS. SMMUv3.1 and
    later: ``bad`` (C_BAD_STE, C_BAD_SUBSTREAMID). SMMUv3.0 may instead give F_CD_FETCH with
    the non-truncated ``fetch`` address, or truncate the pointer to the OAS and go on."""
    how = c.look.choose(("bad", "fetch", "truncate")) if _v30(c.cfg) else "bad"
    if how == "bad":
        if bad == EventID.C_BAD_STE:
            raise c.config_fault(bad)
        raise c.config_fault(bad, SSV=0, SubstreamID=index)
    if how == "fetch":
        raise c.config_fault(EventID.F_CD_FETCH, FetchAddr=fetch)
    return ptr & (c.pa_limit - 1)


def _fetch_cd(c: _Ctx, ste: STE, index: int) -> CD:
    sid = c.req.sid
    raw = c.look.pick("CD", (sid, index))
    if raw is not FRESH:
        cd = _dec(CD, raw)
    else:
        ptr = ste.S1ContextPtr
        two_level = ste.S1CDMax and ste.S1Fmt in (S1Format.TWO_LEVEL_4K, S1Format.TWO_LEVEL_64K)
        if ptr >> c.cfg.pa_bits:
            first = (index >> (6 if ste.S1Fmt == S1Format.TWO_LEVEL_4K else 10)) * L1CD.SIZE \
                if two_level else index * CD.SIZE
            ptr = _beyond_oas(c, ptr, EventID.C_BAD_STE, ptr + first, index)
        if two_level:
            split = 6 if ste.S1Fmt == S1Format.TWO_LEVEL_4K else 10
            l1_key = (sid, index >> split, split)
            raw = c.look.pick("L1CD", l1_key)
            if raw is FRESH:
                l1_addr = ptr + (index >> split) * L1CD.SIZE
                try:
                    raw = int.from_bytes(_read(c.mem, l1_addr, L1CD.SIZE, c.pa_limit), "little")
                except _Abort:
                    raise c.config_fault(EventID.F_CD_FETCH, FetchAddr=l1_addr) from None
                if not _dec(L1CD, raw).V:
                    raise c.config_fault(EventID.C_BAD_SUBSTREAMID, SSV=0, SubstreamID=index)
                c.look.fill("L1CD", l1_key, raw)
            l2ptr = _dec(L1CD, raw).L2Ptr
            if split == 10:
                l2ptr &= ~0xFFFF  # choice: L2Ptr[15:12] RES0 for 64 KiB leaves, ignored
            offset = (index & ((1 << split) - 1)) * CD.SIZE
            if l2ptr >> c.cfg.pa_bits:
                l2ptr = _beyond_oas(c, l2ptr, EventID.C_BAD_SUBSTREAMID, l2ptr + offset, index)
            cd_addr = l2ptr + offset
        else:
            cd_addr = ptr + index * CD.SIZE
        try:
            raw = int.from_bytes(_read(c.mem, cd_addr, CD.SIZE, c.pa_limit), "little")
        except _Abort:
            raise c.config_fault(EventID.F_CD_FETCH, FetchAddr=cd_addr) from None
        cd = _dec(CD, raw)
        if _cd_legal(c.cfg, ste, cd):
            c.look.fill("CD", (sid, index), raw)
    if not _cd_legal(c.cfg, ste, cd):
        raise c.config_fault(EventID.C_BAD_CD)
    # From here on the CD and the effective PnU/InD (set from the STE) are all that count.
    c.state = ("CD", raw, c.pnu, c.ind)
    c.look.merge(c.state)
    return cd


def _ips_bits(cfg: SmmuConfig, cd: CD) -> int:
    """Effective IPS = min(CD.IPS, OAS); the reserved IPS 0b111 therefore means OAS."""
    return R.OAS(min(cd.IPS, cfg.OAS)).nbits


def _half(cd: CD, upper: int) -> tuple[int, int, int, int, int, int]:
    """(TxSZ, granule is 4 KiB, TTBx, TBIx, EPDx, HADx) of the TTB0 or TTB1 half."""
    if upper:
        return (cd.T1SZ, int(cd.TG1 == TG1Granule.SZ_4K), cd.TTB1, cd.TBI1, cd.EPD1, cd.HAD1)
    return (cd.T0SZ, int(cd.TG0 == TG0Granule.SZ_4K), cd.TTB0, cd.TBI0, cd.EPD0, cd.HAD0)


def _cd_legal(cfg: SmmuConfig, ste: STE, cd: CD) -> bool:
    """§3.5 and the {A,S} combinations of §3.2 for the features this SMMU implements."""
    # §5.4 ENDI: IGNORED when both EPDs are 1; big-endian tables are not implemented.
    if not cd.V or not cd.AA64 or (cd.ENDI and not (cd.EPD0 and cd.EPD1)):
        return False
    # §5.4 TTB0: "it is ILLEGAL for the address in this field to be outside the range
    # described by the CD's effective IPS value. In addition, it is ILLEGAL for the address
    # in this field to be outside of a 48-bit range when CD.DS == 0, CD.AA64 selects
    # VMSAv8-64 and CD.TG0 selects a granule smaller than 64KB" (TTB1 likewise). This SMMU
    # has no CD.DS and only the 4 KiB granule: a 52-bit IPS still bounds TTBx to 48 bits.
    ttb_bits = min(_ips_bits(cfg, cd), 48)
    for upper in (0, 1):
        txsz, is4k, ttb, _tbi, epd, _had = _half(cd, upper)
        if epd:
            continue  # values in a disabled TTBx do not count
        if not is4k or not TXSZ_MIN <= txsz <= TXSZ_MAX or ttb >> ttb_bits:
            return False
    if (cd.HA or cd.HD) and cfg.HTTU == R.HTTU.NONE:
        return False
    if cd.HD and cfg.HTTU == R.HTTU.ACCESS:
        return False
    if cd.ASID >> 8 and not cfg.ASID16:
        return False
    if not cd.A and cfg.TERM_MODEL:
        return False
    if cd.S and (cfg.STALL_MODEL == R.StallModel.TERMINATE_ONLY or ste.S1STALLD):
        return False
    return not (not cd.S and cfg.STALL_MODEL == R.StallModel.STALL_FORCED)


# ---- stage-1 walk (§4) -------------------------------------------------------------------
_LEVEL_SHIFT = tuple(level_shift(level) for level in range(LAST_LEVEL + 1))  # looked up per level
def _walk(c: _Ctx, cd: CD, va56: int, upper: int) -> TlbEntry:
    """Table walk after a TLB miss; returns the leaf (not yet access/permission checked)."""
    txsz, _is4k, ttb, _tbi, _epd, had = _half(cd, upper)
    ips = _ips_bits(c.cfg, cd)
    level = start_level(txsz)
    entries = table_entries(level, txsz)
    table = align_down(ttb, entries * DESC_BYTES)  # the first table is aligned to its size
    ap_table = uxn_table = pxn_table = 0
    use_table_attrs = not (had and c.cfg.HAD)
    limit = c.pa_limit
    while True:
        shift = _LEVEL_SHIFT[level]
        index = (va56 >> shift) & (entries - 1)
        desc_addr = table + index * DESC_BYTES
        key = (cd.ASID, level, va56 >> shift)
        raw = c.look.pick("WALK", key) if level < LAST_LEVEL else FRESH
        fresh = raw is FRESH
        if fresh:
            try:
                raw = int.from_bytes(_read(c.mem, desc_addr, DESC_BYTES, limit), "little")
            except _Abort:
                raise c.xlate_fault(EventID.F_WALK_EABT, cd, CLASS=EventClass.TT,
                                    FetchAddr=desc_addr) from None
        desc = _desc(raw, level)
        if isinstance(desc, TableDescriptor):
            if desc.NextTableAddr >> ips:
                raise c.xlate_fault(EventID.F_ADDR_SIZE, cd)
            if fresh:
                c.look.fill("WALK", key, raw)
            if use_table_attrs:
                ap_table |= desc.APTable
                uxn_table |= desc.UXNTable
                pxn_table |= desc.PXNTable
            table = desc.NextTableAddr
            level += 1
            entries = ENTRIES
            c.look.merge((c.state, level, table, ap_table, uxn_table, pxn_table))
            continue
        if not isinstance(desc, (BlockDescriptor, PageDescriptor)):
            raise c.xlate_fault(EventID.F_TRANSLATION, cd)  # invalid, L0 block, L3 0b01
        if desc.OutputAddr >> ips:
            raise c.xlate_fault(EventID.F_ADDR_SIZE, cd)
        c.leaf = (desc_addr, raw)
        return TlbEntry(asid=cd.ASID if desc.nG else None, level=level,
                        va=align_down(va56, 1 << shift), oa=desc.OutputAddr, ap=desc.AP,
                        uxn=desc.UXN, pxn=desc.PXN, sh=desc.SH, attr_indx=desc.AttrIndx,
                        af=desc.AF, ap_table=ap_table, uxn_table=uxn_table,
                        pxn_table=pxn_table, aset=cd.ASET, dbm=desc.DBM)


def permissions(cd: CD, e: TlbEntry, priv: int) -> int:
    """{X, W, R} granted at the effective privilege (§4.3, VMSAv8-64 EL1&0 rules).

    UWXN is an AArch32-only control and is ignored (choice, tables are AArch64 only).
    """
    ap = e.ap
    if e.ap_table & 0b01:
        ap &= ~0b01  # APTable[0]: no EL0 access below
    if e.ap_table & 0b10:
        ap |= 0b10  # APTable[1]: no write access below
    el0_access = bool(ap & 0b01)
    read_only = bool(ap & 0b10)
    el0_writable = el0_access and not read_only
    if priv:
        r, w = True, not read_only
        x = not (e.pxn or e.pxn_table or el0_writable)
        if cd.PAN and el0_access:
            r = w = False  # PAN: privileged data access to EL0-accessible memory faults
        writable = not read_only
    else:
        r, w = el0_access, el0_writable
        x = not (e.uxn or e.uxn_table)
        writable = el0_writable
    if cd.WXN and writable:
        x = False
    return (PERM_X if x else 0) | (PERM_W if w else 0) | (PERM_R if r else 0)


def _stage1(c: _Ctx, cd: CD) -> Outcome:
    addr = c.req.addr
    upper = (addr >> 55) & 1
    txsz, _is4k, _ttb, tbi, epd, _had = _half(cd, upper)
    ia = input_bits(txsz)
    top = 56 if tbi else 64
    # A disabled half's TxSZ is IGNORED (§5.4) and may be below 8: no bits then lie between
    # IA and AddrTop, and there is nothing to check (the RTL computes the same).
    width = max(top - ia, 0)
    hi_bits = (addr >> ia) & ((1 << width) - 1)
    if hi_bits != (((1 << width) - 1) if upper else 0):
        raise c.xlate_fault(EventID.F_TRANSLATION, cd)
    va56 = addr & VA56
    hit = c.look.pick("TLB", (cd.ASID, cd.ASET, va56))
    if hit is FRESH:
        if epd:
            raise c.xlate_fault(EventID.F_TRANSLATION, cd)
        # Not staged: walks rarely repeat a page, and recording one costs what it saves.
        entry = _walk(c, cd, va56, upper)
    else:
        entry = hit
    # {HD, HA} = 0b10 behaves as 0b00 (§5.4 CD.HA): HTTU needs HA
    if cd.HA and c.cfg.HTTU != R.HTTU.NONE:
        return _stage1_httu(c, cd, entry, hit is FRESH, va56, upper, epd)
    if not entry.af and not cd.AFFD:
        raise c.xlate_fault(EventID.F_ACCESS, cd)
    if hit is FRESH:
        c.look.fill("TLB", (entry.tag, entry.level, entry.va), entry)
        if cd.AFFD and not entry.af:
            # The AF check is done (and passed) at the walk, so an entry cached under
            # AFFD=1 may hold AF as 1: seen later through a CD with AFFD=0 it gives no
            # F_ACCESS. Both versions are legal.
            c.look.fill("TLB", (entry.tag, entry.level, entry.va), replace(entry, af=1))
    perm = permissions(cd, entry, c.pnu)
    need = PERM_W if not c.req.rnw else PERM_X if c.ind else PERM_R
    if not perm & need:
        raise c.xlate_fault(EventID.F_PERMISSION, cd)
    pa = entry.oa | (va56 & (entry.size - 1))
    attr = (cd.MAIR >> (8 * entry.attr_indx)) & 0xFF
    return Outcome(TransResp(Result.OK_TRANSLATED, pa=pa, perm=perm, attr=attr, sh=entry.sh))


def _stage1_httu(c: _Ctx, cd: CD, entry: TlbEntry, fresh: bool, va56: int,
                 upper: int, epd: int) -> Outcome:
    """The end of a stage-1 translation through a CD with HA or HD where the SMMU has HTTU
    (§3.13): the flags are updated in the descriptor instead of faulting.

    - Access flag (CD.HA): a leaf with AF=0 gets AF set (§3.13.2); CD.AFFD is IGNORED with
      HA=1 (§5.4).
    - Dirty state (CD.HD, IDR0.HTTU=0b10): a write to a leaf with DBM=1 that is read-only
      only because of AP[2] (not APTable[1]) gets AP[2] cleared (§3.13.3), and so does an ATS
      Translation Request without No-Write that may read it (§3.13.7). The SMMU never sets
      AP[2], never clears AF and never touches DBM.
    - An access the page forbids even so is F_PERMISSION, with no update (whether AF was set
      then is UNKNOWN, §3.13.2; this SMMU sets nothing).
    - An update is a compare-and-swap of the descriptor read by a fresh walk (a cached entry
      that needs one is walked again); ``Outcome.updates`` lists them, the caller performs
      them (the functional model) or expects them (the scoreboard). An update the memory
      aborts is F_WALK_EABT (§3.13, reference §4.4): ``update_eabt``.
    - The TLB caches the entry only as updated: never a dirty-able page as writable before
      its dirty update (§3.13.3), never AF=0 where HA would have set it.
    """
    hd = bool(cd.HD) and c.cfg.HTTU in (R.HTTU.ACCESS_DIRTY, R.HTTU.ACCESS_DIRTY_TABLE)
    need = PERM_W if not c.req.rnw else PERM_X if c.ind else PERM_R
    set_af = not entry.af
    perm = permissions(cd, entry, c.pnu)
    dirty = False
    # An ATS Translation Request with No-Write=0 asks for write permission: a writable-clean
    # page is made dirty before the completion grants W (§3.13.7, §13.7); with NW=1 never.
    ats_w = bool(c.req.ats and not c.req.nw and perm & need)
    if (((not perm & need and need == PERM_W) or ats_w) and hd and entry.dbm
            and entry.ap & 0b10 and not entry.ap_table & 0b10):
        clean = replace(entry, ap=entry.ap & ~0b10)
        if permissions(cd, clean, c.pnu) & PERM_W:
            dirty = True
    if not perm & need and not dirty:
        if fresh and not set_af:
            c.look.fill("TLB", (entry.tag, entry.level, entry.va), entry)
        raise c.xlate_fault(EventID.F_PERMISSION, cd)
    if (set_af or dirty) and not fresh:
        # The descriptor is needed: walk again, and decide on what the walk finds (it may
        # have been written meanwhile: made dirty, write-protected, unmapped).
        if epd:  # a hit in a disabled half may be used (§5.4.1.1), a walk may not start
            raise c.xlate_fault(EventID.F_TRANSLATION, cd)
        return _stage1_httu(c, cd, _walk(c, cd, va56, upper), True, va56, upper, epd)
    updates: tuple[tuple[int, int, int], ...] = ()
    if set_af or dirty:
        addr, old = c.leaf
        new = old | (PTE_AF if set_af or dirty else 0)
        if dirty:
            new &= ~PTE_RDONLY
        if new != old:
            # a CAS is a read and a write: a fault in either direction aborts it
            if c.mem.fault_at(addr, DESC_BYTES, True) or c.mem.fault_at(addr, DESC_BYTES, False):
                raise c.xlate_fault(EventID.F_WALK_EABT, cd, CLASS=EventClass.TT,
                                    FetchAddr=addr)
            updates = ((addr, old, new),)
        entry = replace(entry, af=1, ap=entry.ap & ~0b10 if dirty else entry.ap)
        perm = permissions(cd, entry, c.pnu)
        fresh = True
    if fresh:
        c.look.fill("TLB", (entry.tag, entry.level, entry.va), entry)
    pa = entry.oa | (va56 & (entry.size - 1))
    attr = (cd.MAIR >> (8 * entry.attr_indx)) & 0xFF
    return Outcome(TransResp(Result.OK_TRANSLATED, pa=pa, perm=perm, attr=attr, sh=entry.sh),
                   updates=updates)


def _translate(c: _Ctx) -> Outcome:
    cfg, regs, req = c.cfg, c.regs, c.req
    if not regs.SMMUEN:
        if req.ats:  # no record: the event queue is written only with SMMUEN=1
            return Outcome(TransResp(Result.ABORT, fault=EventID.F_BAD_ATS_TREQ))
        if regs.GBPA_ABORT:
            return Outcome(TransResp(Result.ABORT))
        # §3.4: with the SMMU disabled and GBPA bypass, an input address beyond the OAS
        # terminates the transaction with an abort, and no event is recorded.
        if req.addr >> cfg.pa_bits:
            return Outcome(TransResp(Result.ABORT))
        return Outcome(TransResp(Result.OK_BYPASS, pa=req.addr))
    # Stage keys: everything a stage depends on besides cfg and memory (which a stage memo
    # checks itself), and what its faults' records add (the IDs).
    ids = (req.sid, req.ssv, req.ssid)
    ste_raw = _staged(c, _fetch_ste, ("STE", regs, req.sid), ids)
    ste = _dec(STE, ste_raw)
    if not _ste_legal(cfg, ste):
        raise c.config_fault(EventID.C_BAD_STE)
    if not cfg.SSIDSIZE:
        ste = replace(ste, S1CDMax=0)  # §5.2: IGNORED without substreams, one CD
    if not ste.Config & 0b100:
        return Outcome(TransResp(Result.ABORT))  # Config abort/reserved: silent, no fault ID
    if req.ats and (ste.Config != StreamConfig.S1_TRANS or ste.EATS != ATSMode.FULL):
        # before any substream check; effective EATS 0b11 is 0b00 (no IDR3.DPT)
        return Outcome(TransResp(Result.ABORT, fault=EventID.F_BAD_ATS_TREQ),
                       make_event(EventID.F_BAD_ATS_TREQ, StreamID=req.sid, SSV=req.ssv,
                                  SubstreamID=req.ssid if req.ssv else 0, InputAddr=req.addr))
    _overrides(c, ste)
    if not ste.Config & 0b001:  # stage 1 bypass (STE.Config = 0b100)
        if req.ssv:
            raise c.config_fault(EventID.C_BAD_SUBSTREAMID, SSV=0, SubstreamID=req.ssid)
        return _bypass(c)
    if req.ssv:
        if not ste.S1CDMax or not cfg.SSIDSIZE or req.ssid >> ste.S1CDMax:
            raise c.config_fault(EventID.C_BAD_SUBSTREAMID, SSV=0, SubstreamID=req.ssid)
        if req.ssid == 0 and ste.S1DSS == S1DefaultSubstream.SSID0:
            raise c.config_fault(EventID.F_STREAM_DISABLED, SSV=0, SubstreamID=0)
        index = req.ssid
    elif ste.S1CDMax:
        if ste.S1DSS == S1DefaultSubstream.BYPASS:
            return _bypass(c)
        if ste.S1DSS != S1DefaultSubstream.SSID0:  # 0b00 terminate, 0b11 reserved (= 0b00)
            raise c.config_fault(EventID.F_STREAM_DISABLED, SSV=0, SubstreamID=0)
        index = 0
    else:
        index = 0
    cd = _staged(c, _fetch_cd, ("CD", ste_raw, index, req.sid, c.pnu, c.ind), ids, ste, index)
    return _stage1(c, cd)


def usable_ste(cfg: SmmuConfig, regs: XlateRegs, mem: PhysicalMemory, sid: int) -> STE | None:
    """The STE of ``sid`` as read from the tables now, or None where there is none to use:
    SMMUEN=0, the StreamID out of range, a fetch abort, or an ILLEGAL STE (what the PRI
    queue's automatic response calls an STE that cannot be checked)."""
    if not regs.SMMUEN:
        return None
    c = _Ctx(cfg, regs, mem, TransReq(sid=sid, ssv=0, ssid=0, addr=0, rnw=1), NoCache())
    try:
        ste = _dec(STE, _fetch_ste(c))
    except _Stop:
        return None
    return ste if _ste_legal(cfg, ste) else None


def _translated(c: _Ctx) -> Outcome:
    """An ATS-Translated transaction at PA ``addr`` (SPEC §3.9.1.3, reference fault-paths.md
    §3.1). With CR0.ATSCHK=0 it passes untouched with no lookup (GBPA with SMMUEN=0); with
    ATSCHK=1 only the STE decides: abort with F_TRANSL_FORBIDDEN for SMMUEN=0 (no record: the
    event queue is written only with SMMUEN=1), a bypass STE or an effective EATS other than
    full ATS; a silent abort for an abort STE; the STE's own configuration faults as for any
    transaction; otherwise passed untouched. No CD or TLB is involved. An address beyond the
    OAS is not one this SMMU can emit: aborted, no record (as an SMMUEN=0 bypass beyond the
    OAS, §3.4; an implementation choice)."""
    cfg, regs, req = c.cfg, c.regs, c.req
    forbidden = TransResp(Result.ABORT, fault=EventID.F_TRANSL_FORBIDDEN)
    if req.addr >> cfg.pa_bits:
        return Outcome(TransResp(Result.ABORT))
    if not regs.SMMUEN:
        if regs.ATSCHK:
            return Outcome(forbidden)
        return Outcome(TransResp(Result.ABORT) if regs.GBPA_ABORT
                       else TransResp(Result.OK_BYPASS, pa=req.addr))
    if not regs.ATSCHK:
        return Outcome(TransResp(Result.OK_BYPASS, pa=req.addr))
    ste = _dec(STE, _staged(c, _fetch_ste, ("STE", regs, req.sid), (req.sid, 0, 0)))
    if not _ste_legal(cfg, ste):
        raise c.config_fault(EventID.C_BAD_STE)
    if not ste.Config & 0b100:
        return Outcome(TransResp(Result.ABORT))
    if ste.Config != StreamConfig.S1_TRANS or ste.EATS != ATSMode.FULL:
        return Outcome(forbidden, make_event(EventID.F_TRANSL_FORBIDDEN, StreamID=req.sid,
                                             RnW=req.rnw, InputAddr=req.addr))
    return Outcome(TransResp(Result.OK_BYPASS, pa=req.addr))



_STU_MASK = ~0xFFF  # the 4 KiB Smallest Translation Unit (IDR5.GRAN4K only)


def _ats_outcome(req: TransReq, out: Outcome) -> Outcome:
    """The Translation Completion an ATS request's lookup gives, in the port's encoding
    (docs/port-contract.md; reference fault-paths.md §3.1): UR where the STE said so
    (F_BAD_ATS_TREQ, or a silent abort), Success with the permitted subset for the STU,
    Success with R=W=0 for a translation-class fault (no record, no stall), CA (ABORT with
    the fault, no record: no CR2.REC_CFG_ATS) for a configuration error."""
    r = out.resp
    if r.fault == EventID.F_BAD_ATS_TREQ or (r.result == Result.ABORT and not r.fault):
        return out
    if r.result in (Result.OK_TRANSLATED, Result.OK_BYPASS):
        perm = (PERM_R | PERM_W | PERM_X) if r.result == Result.OK_BYPASS else r.perm
        perm &= ~(PERM_W if req.nw else 0) & ~(0 if req.ind else PERM_X)
        return Outcome(TransResp(r.result, pa=r.pa & _STU_MASK, perm=perm), updates=out.updates)
    if r.fault in TRANSLATION_CLASS:  # F_ADDR_SIZE included
        return Outcome(TransResp(Result.OK_TRANSLATED, fault=r.fault))
    return Outcome(TransResp(Result.ABORT, fault=r.fault))


def translate(cfg: SmmuConfig, regs: XlateRegs, mem: PhysicalMemory, req: TransReq,
              lookup: Lookup | None = None) -> Outcome:
    """The outcome of one transaction; with ``lookup=None`` the tables are read as they are.
    ATS requests and ATS-Translated transactions (``req.ats``, ``req.at``) get what the
    port answers them (docs/port-contract.md)."""
    if req.at and (req.ats or req.ssv):
        # an ATS request wins; translated traffic carries no PASID (no IDR3.PASIDTT)
        req = replace(req, at=0) if req.ats else replace(req, ssv=0, ssid=0)
    ind = 0 if req.ats or not req.rnw else req.ind
    c = _Ctx(cfg, regs, mem, req, lookup or NoCache(), pnu=req.pnu, ind=ind)
    try:
        out = _translated(c) if req.at else _translate(c)
    except _Stop as stop:
        out = stop.outcome
    return _ats_outcome(req, out) if req.ats else out
