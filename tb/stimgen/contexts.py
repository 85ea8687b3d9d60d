"""Translation contexts: one ASID, a TTB0 table (and, for some, a TTB1 table) and the TCR-like
CD fields that go with them.

The SMMU tags TLB entries with the ASID (VMID 0 without stage 2), so two CDs naming the same
ASID must describe the same translation regime or a cached entry from one would be "wrong"
for the other. Every CD therefore starts as a copy of a :class:`Context` template and may only
differ in A, R and V (:func:`cd_for`). ILLEGAL CDs get an ASID no context uses, so the
invariant holds for every CD in memory, legal or not.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from models.arch import pgtable as pt
from models.arch.cd import CD, IPSize, TG0Granule, TG1Granule
from models.arch.geometry import ENTRIES, PAGE, TXSZ_MAX, TXSZ_MIN, input_bits, level_size
from models.arch.pgtable import AccessPerm, Shareability
from models.smmu.config import SmmuConfig
from tb.stimgen.pagetable import Hole, Leaf, PageTable, leaf_descriptor

__all__ = [
    "ASID_FIELDS", "VA56", "Context", "ContextKnobs", "cd_for", "illegal_cd", "new_leaf_raw",
    "populate", "random_context_cd",
]

VA56 = (1 << 56) - 1  # VA[55:0]: what TLB entries are tagged with (the top byte never)

TableHook = Callable[[int], dict[str, int]]
# (context, VA, size, is_global) -> may this range be used by this context?
VaVeto = Callable[["Context", int, int, bool], bool]

# The CD fields that must agree among all CDs sharing an ASID (everything in dw0..dw3 that
# shapes a translation or its cached result).
ASID_FIELDS = ("T0SZ", "TG0", "IR0", "OR0", "SH0", "EPD0", "ENDI", "T1SZ", "TG1", "IR1",
               "OR1", "SH1", "EPD1", "IPS", "AFFD", "WXN", "UWXN", "TBI0", "TBI1", "PAN",
               "AA64", "HD", "HA", "ASET", "TTB0", "TTB1", "MAIR", "HAD0", "HAD1")


@dataclass
class ContextKnobs:
    """How contexts and their tables are drawn."""

    p_t0sz_16: float = 0.4
    p_t0sz_25: float = 0.3  # otherwise uniform in 16..39 (T1SZ is drawn the same way)
    p_small_ips: float = 0.2  # IPS below the OAS: leaf/table addresses can exceed it
    p_tbi0: float = 0.5
    p_tbi1: float = 0.5
    p_epd0: float = 0.04
    # EPD1=0 with a TTB1 table of the context's own (context 0 always: every world has one)
    p_ttb1: float = 0.2
    p_had: float = 0.3  # HAD0 / HAD1 set (IGNORED unless IDR3.HAD)
    p_ttb_eabt: float = 0.04  # TTB0 itself in the external-abort range
    p_affd: float = 0.2
    p_wxn: float = 0.2
    p_pan: float = 0.2
    p_stall: float = 0.35  # CD.S=1 where the SMMU has the stall model (always when forced)
    mappings: tuple[int, int] = (8, 24)
    nasties: tuple[int, int] = (3, 8)
    leaf_levels: dict[int, float] = field(default_factory=lambda: {3: 70, 2: 20, 1: 10})
    p_global: float = 0.12
    p_af0: float = 0.08
    p_near: float = 0.75  # next mapping lands in an already used table (shares walks)
    p_oa_anywhere: float = 0.15  # OA drawn from the whole 48-bit space, not just the IPS
    p_table_attrs: float = 0.15  # APTable/UXNTable/PXNTable on a new table descriptor
    # HTTU (drawn only where IDR0.HTTU allows them, so other worlds stay as they were):
    # CD.HA, CD.HD (HD without HA too: it behaves as neither, §5.4), and DBM on leaves
    p_ha: float = 0.7
    p_hd: float = 0.6
    p_dbm: float = 0.0  # the World sets it on an SMMU with HTTU
    p_dbm_httu: float = 0.35
    p_af0_httu: float = 0.25  # AF=0 more often where CD.HA can set it


@dataclass
class Context:
    """A translation regime: the CD template (A=R=0, V=1) and its page tables, TTB0's and,
    with EPD1=0, TTB1's (``pt1``)."""

    index: int
    template: CD
    pt: PageTable
    kind: str  # normal, epd0, ttb_eabt
    pt1: PageTable | None = None

    @property
    def asid(self) -> int:
        return self.template.ASID

    @property
    def ia(self) -> int:
        return input_bits(self.template.T0SZ)

    @property
    def ips_bits(self) -> int:
        return IPSize(self.template.IPS).nbits

    @property
    def tables(self) -> list[PageTable]:
        """The page tables requests and mutations may aim at (TTB0's, then TTB1's)."""
        return [self.pt] if self.pt1 is None else [self.pt, self.pt1]

    def table_of(self, va: int) -> PageTable | None:
        """The table of the half VA[55] selects; None for a disabled TTB1."""
        return self.pt1 if va >> 55 & 1 else self.pt

    def mapped(self) -> list[Leaf]:
        """Every leaf of both halves. Asked for every request aimed at a leaf, so the list is
        kept until a table adds or removes one (PageTable.edits); not to be changed."""
        return self._listed("leaves")

    def holes(self) -> list[Hole]:
        return self._listed("holes")

    def _listed(self, what: str) -> list[Any]:
        stamp = tuple((t, t.edits) for t in self.tables)  # (holding the tables: no id reuse)
        memo = self.__dict__.setdefault("_listed_memo", {})
        got = memo.get(what)
        if got is None or got[0] != stamp:
            got = memo[what] = (stamp, [r for t in self.tables
                                        for r in getattr(t, what).values()])
        return got[1]


# With the 4 KiB granule and no CD.DS, a descriptor holds OA[47:12] and a TTB must lie within
# 48 bits (§5.4 TTB0), whatever the IPS.
GRANULE_4K_BITS = 48


def cd_for(ctx: Context, *, a: int, r: int, v: int = 1) -> CD:
    """A CD for this context: only A, R and V may differ between CDs of one ASID."""
    return dataclasses.replace(ctx.template, A=a, R=r, V=v)


def _ips_choices(cfg: SmmuConfig, window_limit: int) -> list[int]:
    """IPS encodings whose range still holds every table in the window (else all walks fail)."""
    return [o.value for o in IPSize
            if o.nbits <= cfg.pa_bits and (1 << o.nbits) >= window_limit]


def _txsz(rng: random.Random, knobs: ContextKnobs) -> int:
    u = rng.random()
    if u < knobs.p_t0sz_16:
        return 16
    if u < knobs.p_t0sz_16 + knobs.p_t0sz_25:
        return 25
    return rng.randint(TXSZ_MIN, TXSZ_MAX)


def random_context_cd(rng: random.Random, cfg: SmmuConfig, asid: int, ttb0: int,
                      knobs: ContextKnobs, window_limit: int, *, tbi0: int | None = None,
                      epd0: bool = False, ttb1: bool = False) -> CD:
    """The TCR/MAIR half of a legal CD, with S=0 (terminate-only); EPD1=0 with ``ttb1``
    (the caller fills in TTB1 as it does TTB0), else EPD1=1 with junk in the TTB1 fields."""
    t0sz = _txsz(rng, knobs)
    ips_all = _ips_choices(cfg, window_limit)
    ips = max(ips_all)
    if rng.random() < knobs.p_small_ips and len(ips_all) > 1:
        ips = rng.choice(ips_all[:-1])
    if ttb1:
        half1 = {"EPD1": 0, "T1SZ": _txsz(rng, knobs), "TG1": TG1Granule.SZ_4K,
                 "IR1": rng.randrange(4), "OR1": rng.randrange(4), "SH1": rng.choice((0, 2, 3)),
                 "TBI1": int(rng.random() < knobs.p_tbi1)}
    else:  # IGNORED with EPD1=1 (TG1=0 is even Reserved)
        half1 = {"EPD1": 1, "T1SZ": rng.choice((0, 16, 25)), "TBI1": rng.randrange(2)}
    return CD(
        T0SZ=t0sz, TG0=TG0Granule.SZ_4K, IR0=rng.randrange(4), OR0=rng.randrange(4),
        SH0=rng.choice((0, 2, 3)), EPD0=int(epd0), **half1,
        V=1, IPS=ips, AFFD=int(rng.random() < knobs.p_affd),
        WXN=int(rng.random() < knobs.p_wxn), TBI0=int(rng.random() < knobs.p_tbi0)
        if tbi0 is None else tbi0,
        PAN=int(rng.random() < knobs.p_pan), AA64=1, ASET=int(rng.random() < 0.35),
        HAD0=int(rng.random() < knobs.p_had), HAD1=int(rng.random() < knobs.p_had),
        ASID=asid, TTB0=ttb0, MAIR=rng.getrandbits(64),
    )


def illegal_cd(rng: random.Random, cfg: SmmuConfig, base: CD, asid: int,
               exclude: tuple[str, ...] = ()) -> tuple[CD, str]:
    """An ILLEGAL CD (ref §3.5) derived from ``base`` under a private ASID; (CD, reason).

    ``exclude`` drops reasons a model treats differently (T0SZ out of range is CONSTRAINED
    UNPREDICTABLE before SMMUv3.1)."""
    cd = dataclasses.replace(base, ASID=asid)
    ttb_bits = min(IPSize(cd.IPS).nbits, cfg.pa_bits, GRANULE_4K_BITS)
    reasons = ["tg0", "aa64", "t0sz", "ttb0_ips", "endi", "stall", "httu",
               "tg1", "t1sz", "ttb1_ips"]
    if not cfg.ASID16:
        reasons.append("asid16")
    if cfg.TERM_MODEL:
        reasons.append("a0_term")
    # ILLEGAL values in a disabled half do not count (ref §3.5, §5.4.1.1)
    if cd.EPD0:
        reasons = [r for r in reasons if r not in ("tg0", "t0sz", "ttb0_ips")]
    if cd.EPD1:
        reasons = [r for r in reasons if r not in ("tg1", "t1sz", "ttb1_ips")]
    reasons = [r for r in reasons if r not in exclude] or ["aa64"]
    reason = rng.choice(reasons)
    match reason:
        case "tg0":
            cd = dataclasses.replace(cd, TG0=rng.choice((0b01, 0b10, 0b11)))
        case "aa64":
            cd = dataclasses.replace(cd, AA64=0)
        case "t0sz":
            cd = dataclasses.replace(cd, T0SZ=rng.choice((*range(0, TXSZ_MIN),
                                                       *range(TXSZ_MAX + 1, 64))))
        case "ttb0_ips":
            high = rng.randrange(1, 1 << (52 - ttb_bits)) << ttb_bits
            cd = dataclasses.replace(cd, TTB0=high | (cd.TTB0 & ((1 << ttb_bits) - 1)))
        case "tg1":  # 0b00 Reserved; 16 KiB and 64 KiB not implemented (IDR5)
            cd = dataclasses.replace(cd, TG1=rng.choice((0b00, 0b01, 0b11)))
        case "t1sz":
            cd = dataclasses.replace(cd, T1SZ=rng.choice((*range(0, TXSZ_MIN),
                                                       *range(TXSZ_MAX + 1, 64))))
        case "ttb1_ips":
            high = rng.randrange(1, 1 << (52 - ttb_bits)) << ttb_bits
            cd = dataclasses.replace(cd, TTB1=high | (cd.TTB1 & ((1 << ttb_bits) - 1)))
        case "endi":
            cd = dataclasses.replace(cd, ENDI=1)
        case "stall":
            cd = dataclasses.replace(cd, S=1)
        case "httu":
            cd = dataclasses.replace(cd, HA=1, HD=rng.randrange(2))
        case "asid16":
            cd = dataclasses.replace(cd, ASID=(asid & 0xFF) | rng.randint(1, 0xFF) << 8)
        case "a0_term":
            cd = dataclasses.replace(cd, A=0)
    return cd, reason


# -- page-table contents ---------------------------------------------------------------------
def new_leaf_raw(rng: random.Random, level: int, oa_bits: int, knobs: ContextKnobs, *,
                 global_ok: bool, oa: int | None = None) -> int:
    """Random block/page descriptor: AP, XN, AF, nG, AttrIndx, SH; Contiguous always 0."""
    size = level_size(level)
    if oa is None:
        bits = 48 if rng.random() < knobs.p_oa_anywhere else min(oa_bits, GRANULE_4K_BITS)
        oa = rng.randrange(1 << bits) & ~(size - 1)
    return leaf_descriptor(
        level, oa, AttrIndx=rng.randrange(8), AP=rng.choice(list(AccessPerm)),
        SH=rng.choice(list(Shareability)), AF=int(rng.random() >= knobs.p_af0),
        nG=0 if global_ok and rng.random() < knobs.p_global else 1,
        PXN=int(rng.random() < 0.3), UXN=int(rng.random() < 0.3),
        SW=rng.randrange(16) if rng.random() < 0.2 else 0,
        Ignored=int(rng.random() < 0.1),
        DBM=int(bool(knobs.p_dbm) and rng.random() < knobs.p_dbm),
    )


def table_attrs(rng: random.Random, knobs: ContextKnobs) -> TableHook:
    """A ``new_table`` hook for :meth:`PageTable.map`: hierarchical bits on a few tables."""

    def pick(level: int) -> dict[str, int]:
        del level
        if rng.random() >= knobs.p_table_attrs:
            return {}
        return {"APTable": rng.randrange(4), "UXNTable": rng.randrange(2),
                "PXNTable": rng.randrange(2),
                "IgnoredHigh": rng.randrange(128) if rng.random() < 0.3 else 0}

    return pick


def pick_va(rng: random.Random, ctx_pt: PageTable, level: int, knobs: ContextKnobs) -> int:
    """A VA of the table's half aligned for ``level``: usually next to an existing leaf so
    tables are shared."""
    size = level_size(level)
    recs = [*ctx_pt.leaves.values(), *ctx_pt.holes.values()]
    if recs and rng.random() < knobs.p_near:
        anchor = rng.choice(recs).va
        group = size * ENTRIES  # the table the anchor is in
        spread = 8 if rng.random() < 0.6 else ENTRIES  # mostly a cluster of neighbours
        va = (anchor & ~(group - 1)) + rng.randrange(spread) * size
    else:
        va = rng.randrange(1 << ctx_pt.ia) & ~(size - 1)
    return ctx_pt.va_base | va % (1 << ctx_pt.ia)


def populate(rng: random.Random, ctx: Context, cfg: SmmuConfig, knobs: ContextKnobs,
             fault_base: int, fault_size: int, va_ok: VaVeto,
             cpt: PageTable | None = None) -> None:
    """Fill one of a context's tables (``cpt``, TTB0's by default) with random leaves and
    nasty entries.

    ``va_ok(ctx, va, size, is_global)`` is the world's veto: global entries must never
    overlap another ASID's VAs (a cached global entry matches every ASID).
    """
    cpt = cpt or ctx.pt
    eff_ips = min(ctx.ips_bits, cfg.pa_bits)
    hook = table_attrs(rng, knobs)
    levels = [lv for lv in knobs.leaf_levels if lv >= cpt.start]
    weights = [knobs.leaf_levels[lv] for lv in levels]
    want = rng.randint(*knobs.mappings)
    for _ in range(want * 4):
        if len(cpt.leaves) >= want:
            break
        level = rng.choices(levels, weights)[0]
        va = pick_va(rng, cpt, level, knobs)
        raw = new_leaf_raw(rng, level, eff_ips, knobs, global_ok=True)
        is_global = not raw & pt.PTE_NG
        if not va_ok(ctx, va, level_size(level), is_global):
            continue
        cpt.map(va, level, raw, hook)
    nasty_kinds = ["invalid", "l3_type01", "table_eabt", "leaf_addr_size", "table_addr_size",
                   "l0_block"]
    for _ in range(rng.randint(*knobs.nasties)):
        kind = rng.choice(nasty_kinds)
        if kind == "l0_block" and cpt.start != 0:
            kind = "invalid"
        if kind in ("leaf_addr_size", "table_addr_size") and eff_ips >= 48:
            kind = rng.choice(("invalid", "l3_type01", "table_eabt"))  # cannot exceed 48 bits
        put_nasty(rng, ctx, kind, eff_ips, (fault_base, fault_size), hook, va_ok, knobs, cpt)


def put_nasty(rng: random.Random, ctx: Context, kind: str, eff_ips: int,
              fault: tuple[int, int], hook: TableHook, va_ok: VaVeto,
              knobs: ContextKnobs, cpt: PageTable | None = None) -> Hole | None:
    """One faulting entry of ``kind`` in ``cpt`` (TTB0's by default); None if no free slot
    was found."""
    cpt = cpt or ctx.pt
    fault_base, fault_size = fault
    for _ in range(8):
        if kind == "invalid":
            level = rng.randint(cpt.start, 3)
        elif kind == "l0_block":
            level = 0
        elif kind in ("l3_type01", "leaf_addr_size"):
            level = 3 if kind == "l3_type01" else rng.randint(max(1, cpt.start), 3)
        else:
            level = rng.randint(cpt.start, 2)
        va = pick_va(rng, cpt, level, knobs)
        if not va_ok(ctx, va, level_size(level), False):
            continue
        oa_rand = rng.randrange(1 << 48) & ~(PAGE - 1)
        match kind:
            case "invalid":
                raw = pt.InvalidDescriptor(Ignored=rng.getrandbits(63) | 1).to_int()
            case "l0_block" | "l3_type01":
                raw = pt.ReservedDescriptor(Valid=1, Type=0,
                                            Rest=(oa_rand | 1 << 10) >> 2).to_int()
            case "leaf_addr_size":
                oa = (rng.randrange(1 << eff_ips, 1 << 48)) & ~(level_size(level) - 1)
                raw = new_leaf_raw(rng, level, eff_ips, knobs, global_ok=False, oa=oa)
            case "table_addr_size":
                raw = pt.TableDescriptor(Valid=1, NextTableAddr=rng.randrange(
                    1 << eff_ips, 1 << 48) & ~(PAGE - 1)).to_int()
            case _:  # table_eabt
                raw = pt.TableDescriptor(Valid=1, NextTableAddr=fault_base + rng.randrange(
                    fault_size // PAGE) * PAGE).to_int()
        hole = cpt.put_hole(va, level, raw, kind, hook)
        if hole is not None:
            return hole
    return None

