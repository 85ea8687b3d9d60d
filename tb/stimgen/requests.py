"""Translation-port requests aimed at what a World holds (port contract: t_req_*).

The generator does not predict results; it only chooses *which* path a request exercises.
Each request carries a ``kind`` label (not compared, not part of the port) so coverage can be
counted: ``category`` or ``category/detail``.

Most traffic goes to mapped pages of the stream's own context, and a share repeats recent
addresses, possibly through another stream or SSID with the same ASID, so the TLB sees hits.
Addresses that could alias another context's global (nG=0) entry are sent only by the
``foreign_global`` category: whether the other context's cached global entry answers depends
on the TLB's contents and on the two CDs' ASETs (§3.17.1), which the model's envelope covers;
elsewhere such aliasing would only blur what a category exercises.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field, fields
from functools import cached_property
from itertools import accumulate
from typing import TYPE_CHECKING

from models.arch.geometry import PAGE
from models.arch.ste import S1DefaultSubstream
from models.smmu.port import TransReq
from tb.stimgen.contexts import VA56, Context

if TYPE_CHECKING:
    from tb.stimgen.world import Route, World

__all__ = ["CATEGORIES", "Req", "RequestState", "RequestWeights", "random_request"]

# (sid, ssv, ssid, addr, context whose TLB entries the lookup may use, or None)
_Target = tuple[int, int, int, int, Context | None]


@dataclass(frozen=True)
class Req(TransReq):
    """One translation request with its label; rnw=0 (write) implies ind=0."""

    kind: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.rnw and self.ind:
            raise ValueError("a write (RnW=0) cannot be an instruction fetch (InD=1)")
        if not 0 <= self.addr < 1 << 64:
            raise ValueError(f"address {self.addr:#x} is not a 64-bit value")

    @property
    def category(self) -> str:
        return self.kind.split("/", 1)[0]


@dataclass(frozen=True)
class RequestWeights:
    """Relative weight of each request category, and the access-type mix."""

    mapped: float = 40  # inside a leaf of the route's context
    repeat: float = 14  # a recent address again: TLB hits, also via other SIDs/SSIDs
    hole: float = 8  # at a deliberately faulting descriptor (invalid, reserved, eabt, size)
    unmapped: float = 5  # no descriptor, or one a mutation removed
    above_ia: float = 4  # VA[55:IA] non-zero, top byte 0 or not
    tbi: float = 6  # mapped VA with another top byte (TBIx=1 translates, 0 faults)
    upper_half: float = 3  # VA[55]=1: the TTB1 half (disabled by EPD1=1, or walked)
    bad_sid: float = 5  # no STE, beyond LOG2SIZE, invalid/reserved/aborting L1STD, span
    ssid_out_of_range: float = 4  # SSV=1, SSID >= 2^S1CDMax (incl. S1CDMax=0)
    ssv0: float = 4  # SSV=0 on a stream with S1CDMax>0: S1DSS decides
    ssid0_dss: float = 2  # SSV=1, SSID=0 with S1DSS=SSID0 (reserved for non-PASID traffic)
    ssid_no_cd: float = 3  # SSID in range, but no CD / L1CD invalid or aborting
    other_stream: float = 6  # bypass, abort, reserved Config, V=0, ILLEGAL, CD fetch abort
    foreign_global: float = 3  # in another context's global range, the same or the other ASET
    p_read: float = 0.6
    p_instr: float = 0.25  # of reads
    p_priv: float = 0.5
    p_bad_route: float = 0.1  # mapped traffic through a CD/STE path that faults first
    # With IDR0.ATS: an ATS Translation Request instead (the same target; Execute, Privileged
    # and No-Write drawn), or an ATS-Translated transaction at a PA (the stream, no PASID)
    p_ats: float = 0.12
    p_translated: float = 0.05

    def categories(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if not f.name.startswith("p_")}

    @cached_property
    def draw_table(self) -> tuple[list[str], list[float]]:
        """The categories with a weight, and their cumulative weights, for one draw."""
        cats = {n: v for n, v in self.categories().items() if v > 0}
        return list(cats), list(accumulate(cats.values()))


CATEGORIES = tuple(RequestWeights().categories())
_DEFAULT_WEIGHTS = RequestWeights()


@dataclass
class RequestState:
    """Recently used (route key, VA) pairs, for repeats; lives in the World."""

    recent: deque[tuple[int, int, int, int, int]] = field(
        default_factory=lambda: deque(maxlen=48))  # sid, ssv, ssid, asid, va


def random_request(world: World, rng: random.Random,
                   weights: RequestWeights | None = None) -> Req:
    """A request of a category drawn by ``weights``; impossible categories fall back to
    ``mapped``, then ``bad_sid``."""
    w = weights or _DEFAULT_WEIGHTS
    names, cum = w.draw_table
    cat = rng.choices(names, cum_weights=cum)[0]
    for name in (cat, "mapped", "bad_sid"):
        for _ in range(8):
            got = _GENERATORS[name](world, rng, w)
            if got is None:
                break
            label, (sid, ssv, ssid, addr, ctx) = got
            if name != "foreign_global" and ctx is not None and world.foreign_global(ctx, addr):
                continue
            if name in ("mapped", "repeat") and ctx is not None:
                world.request_state.recent.append((sid, ssv, ssid, ctx.asid, addr & ~(PAGE - 1)))
            if world.cfg.ATS:
                u = rng.random()
                if u < w.p_ats:
                    return Req(sid, ssv, ssid, addr, 1, rng.randrange(2), rng.randrange(2),
                               ats=1, nw=rng.randrange(2), kind=label + "+ats")
                if u < w.p_ats + w.p_translated:
                    # a PA: mostly within the OAS, sometimes beyond what the SMMU can emit
                    pa = addr & ((1 << 48) - 1) if rng.random() < 0.95 else addr | 1 << 52
                    return Req(sid, 0, 0, pa, rng.randrange(2), 0, 0, at=1,
                               kind="translated/" + label.split("/", 1)[0])
            rnw = int(rng.random() < w.p_read)
            ind = int(bool(rnw) and rng.random() < w.p_instr)
            return Req(sid, ssv, ssid, addr, rnw, ind, int(rng.random() < w.p_priv), kind=label)
    sid = rng.randrange(1 << world.cfg.SIDSIZE)  # nothing to aim at: any SID
    return Req(sid, 0, 0, rng.getrandbits(48), 1, 0, 1, kind="bad_sid/any")


# -- helpers ---------------------------------------------------------------------------------
def _in_record(rng: random.Random, va: int, size: int) -> int:
    """An address inside [va, va+size): mostly its first pages, so entries get reused."""
    pages = size // PAGE
    page = rng.randrange(min(4, pages)) if rng.random() < 0.6 else rng.randrange(pages)
    return va + page * PAGE + rng.randrange(PAGE)


def _routes(world: World, rng: random.Random, w: RequestWeights, need,
            key: str | None = None) -> list[Route]:
    """Routes whose context satisfies ``need``; good ones unless a bad one is wanted.
    ``key`` names ``need`` for a cache on the World: contexts change only where its routes
    are recomputed (World.mutate, write_stream), so the split stays valid while
    ``world.routes()`` returns the same list."""
    routes = world.routes()
    cache = world.__dict__.setdefault("_route_split", {})
    got = cache.get(key) if key is not None else None
    if got is None or got[0] is not routes:
        rs = [r for r in routes if need(world.context_of(r))]
        got = (routes, [r for r in rs if r.ok], [r for r in rs if not r.ok])
        if key is not None:
            cache[key] = got
    _, good, bad = got
    return bad if bad and (not good or rng.random() < w.p_bad_route) else good


def _leaf_target(world: World, rng: random.Random, w: RequestWeights,
                 kind: str) -> tuple[Route, Context, int] | None:
    """A route plus an address in one of its context's leaves (kind=leaves) or holes."""
    def has(c: Context) -> bool:
        # (asked of every route per request: no list of the records is built)
        if c.kind == "ttb_eabt":
            return False
        if kind == "leaves":
            return any(t.leaves for t in c.tables)
        return any(t.holes for t in c.tables)

    rs = _routes(world, rng, w, has, key=kind)
    if not rs:
        return None
    r = rng.choice(rs)
    ctx = world.context_of(r)
    recs = ctx.mapped() if kind == "leaves" else ctx.holes()
    rec = rng.choice(recs)
    return r, ctx, _in_record(rng, rec.va, rec.size)


def _labelled(label: str, r: Route, addr: int, ctx: Context | None) -> tuple[str, _Target]:
    return label, (r.sid, r.ssv, r.ssid, addr, ctx)


# -- categories ------------------------------------------------------------------------------
def _mapped(world: World, rng: random.Random, w: RequestWeights):
    got = _leaf_target(world, rng, w, "leaves")
    if got is None:
        return None
    r, ctx, addr = got
    return _labelled("mapped" if r.ok else "mapped/bad_route", r, addr, ctx)


def _repeat(world: World, rng: random.Random, w: RequestWeights):
    recent = world.request_state.recent
    if not recent:
        return None
    sid, ssv, ssid, asid, page = rng.choice(list(recent))
    addr = page + rng.randrange(PAGE)
    if rng.random() < 0.5:  # the same ASID through another stream or substream
        same = [r for r in world.routes() if r.ok and world.context_of(r).asid == asid]
        if same:
            r = rng.choice(same)
            return _labelled("repeat/other_route", r, addr, world.context_of(r))
    ctx = next((c for c in world.contexts if c.asid == asid), None)
    return "repeat", (sid, ssv, ssid, addr, ctx)


def _hole(world: World, rng: random.Random, w: RequestWeights):
    got = _leaf_target(world, rng, w, "holes")
    if got is None:
        return None
    r, ctx, addr = got
    kind = next(h.kind for h in ctx.holes() if h.va <= addr < h.va + h.size)
    return _labelled(f"hole/{kind}", r, addr, ctx)


def _unmapped(world: World, rng: random.Random, w: RequestWeights):
    rs = _routes(world, rng, w, lambda c: c.kind == "normal", key="normal")
    if not rs:
        return None
    r = rng.choice(rs)
    ctx = world.context_of(r)
    retired = world.retired.get(ctx.index, [])
    if retired and rng.random() < 0.5:
        return _labelled("unmapped/retired", r, rng.choice(retired) + rng.randrange(PAGE), ctx)
    cpt = ctx.pt1 if ctx.pt1 is not None and rng.random() < 0.4 else ctx.pt
    for _ in range(8):
        va = cpt.va_base | rng.randrange(1 << cpt.ia)
        if not any(rec.va <= va < rec.va + rec.size
                   for rec in (*cpt.leaves.values(), *cpt.holes.values())):
            return _labelled("unmapped/upper" if cpt.upper else "unmapped", r, va, ctx)
    return None


def _mapped_or_random(world: World, rng: random.Random, w: RequestWeights,
                      need=lambda c: True) -> tuple[Route, Context, int] | None:
    got = _leaf_target(world, rng, w, "leaves")
    if got is not None and need(got[1]):
        return got
    rs = _routes(world, rng, w, need)
    if not rs:
        return None
    r = rng.choice(rs)
    ctx = world.context_of(r)
    return r, ctx, rng.randrange(1 << ctx.ia)


def _above_ia(world: World, rng: random.Random, w: RequestWeights):
    got = _mapped_or_random(world, rng, w)
    if got is None:
        return None
    r, ctx, va = got
    if va >> 55 & 1 and ctx.pt1 is not None:
        # a TTB1 address with a zero among VA[54:IA]
        ia = ctx.pt1.ia
        zeros = rng.randrange(1, 1 << (55 - ia)) << ia
        top = rng.randrange(256) if rng.random() < 0.3 else 0xFF
        return _labelled("above_ia/upper", r, (va & VA56 & ~zeros) | top << 56, ctx)
    high = rng.randrange(1, 1 << (55 - ctx.ia)) << ctx.ia
    top = rng.randrange(1, 256) << 56 if rng.random() < 0.3 else 0
    return _labelled("above_ia" + ("/top_byte" if top else ""), r, va | high | top, ctx)


def _tbi_of(ctx: Context, va: int) -> tuple[str, int]:
    """(name, value) of the TBIx bit of the half ``va`` is in."""
    return ("tbi1", ctx.template.TBI1) if va >> 55 & 1 else ("tbi0", ctx.template.TBI0)


def _tbi(world: World, rng: random.Random, w: RequestWeights):
    want = rng.randrange(2)
    got = _leaf_target(world, rng, w, "leaves")
    for _ in range(4):  # prefer the TBIx setting drawn, so both values are covered
        if got is not None and _tbi_of(got[1], got[2])[1] == want:
            break
        got = _leaf_target(world, rng, w, "leaves")
    if got is None:
        return None
    r, ctx, va = got
    name, tbi = _tbi_of(ctx, va)
    # any top byte but the one the range check wants (0x00 for TTB0, 0xFF for TTB1)
    top = rng.randrange(255) if name == "tbi1" else rng.randrange(1, 256)
    return _labelled(f"tbi/{name}={tbi}", r, (va & VA56) | top << 56, ctx)


def _upper_half(world: World, rng: random.Random, w: RequestWeights):
    got = _mapped_or_random(world, rng, w)
    if got is None:
        return None
    r, ctx, va = got
    pt1 = ctx.pt1
    if pt1 is not None and rng.random() < 0.6:
        # inside the TTB1 range: mostly next to a leaf (mapped or not), else anywhere
        recs = [*pt1.leaves.values(), *pt1.holes.values()]
        if recs and rng.random() < 0.7:
            rec = rng.choice(recs)
            addr = rec.va + rng.randrange(-2, 3) * PAGE + rng.randrange(PAGE)
            addr = pt1.va_base | (addr % (1 << pt1.ia))
        else:
            addr = pt1.va_base | rng.randrange(1 << pt1.ia)
        if ctx.template.TBI1 and rng.random() < 0.3:
            addr = (addr & VA56) | rng.randrange(256) << 56
        return _labelled("upper_half/ttb1", r, addr, ctx)
    # sign-extended like a kernel VA, or VA[55]=1 under a random top byte; VA[54:48] stay
    # zero, which no TTB1 range (T1SZ >= 16) contains
    va &= (1 << 48) - 1
    sign_ext = rng.random() < 0.5
    addr = va | 0x1FF << 55 if sign_ext else va | 1 << 55 | rng.randrange(256) << 56
    label = "upper_half" if pt1 is None else "upper_half/ttb1_range"
    return _labelled(label, r, addr & ((1 << 64) - 1), ctx)


def _any_addr(world: World, rng: random.Random) -> int:
    leaves = [lf for c in world.contexts for lf in c.mapped()]
    if leaves and rng.random() < 0.7:
        lf = rng.choice(leaves)
        return _in_record(rng, lf.va, lf.size)
    return rng.getrandbits(rng.choice((32, 48, 64)))


def _any_ssid(world: World, rng: random.Random) -> tuple[int, int]:
    if world.cfg.SSIDSIZE and rng.random() < 0.5:
        return 1, rng.randrange(1 << world.cfg.SSIDSIZE)
    return 0, 0


def _bad_sid(world: World, rng: random.Random, w: RequestWeights):
    st = world.strtab
    sidsize = world.cfg.SIDSIZE
    options: list[tuple[str, int]] = []
    if st.log2size < sidsize:
        options.append(("beyond_log2size", rng.randrange(1 << st.log2size, 1 << sidsize)))
    pool = [s for s in world.sid_pool() if s not in world.streams]
    if pool:
        options.append(("no_ste", rng.choice(pool)))
    if st.two_level:
        mask = (1 << st.split) - 1
        for _ in range(4):
            idx = rng.randrange(st.n_l1)
            e = st.l1.get(idx)
            if e is None or e.span == 0 or e.kind in ("reserved", "eabt", "fuzz"):
                sid = idx << st.split | rng.randrange(mask + 1)
                options.append((st.sid_status(sid), sid))
                break
        small = [e for e in st.l1.values() if 0 < e.span <= st.split]
        if small:
            e = rng.choice(small)
            low = rng.randrange(1 << (e.span - 1), mask + 1)
            options.append(("beyond_span", e.index << st.split | low))
    bad_streams = [s for s in world.streams if st.sid_status(s) != "ok"]
    if bad_streams:  # streams hidden by an L1STD mutation
        sid = rng.choice(bad_streams)
        options.append((st.sid_status(sid), sid))
    if not options:
        return None
    detail, sid = rng.choice(options)
    ssv, ssid = _any_ssid(world, rng)
    return f"bad_sid/{detail}", (sid, ssv, ssid, _any_addr(world, rng), None)


def _translate_streams(world: World, pred=lambda s: True) -> list:
    return [s for _, s in sorted(world.streams.items())
            if s.kind == "translate" and s.cdt is not None
            and world.strtab.sid_status(s.sid) == "ok" and pred(s)]


def _ssid_out_of_range(world: World, rng: random.Random, w: RequestWeights):
    ssidsize = world.cfg.SSIDSIZE
    sts = _translate_streams(world, lambda s: s.cdt.s1cdmax < ssidsize or s.cdt.s1cdmax == 0)
    if not sts:
        return None
    s = rng.choice(sts)
    lo = 1 << s.cdt.s1cdmax if s.cdt.s1cdmax else 0
    hi = 1 << ssidsize  # SSIDs wider than IDR1.SSIDSIZE cannot be presented
    ssid = rng.randrange(lo, hi) if rng.random() < 0.7 else min(lo, hi - 1)
    detail = "s1cdmax0" if s.cdt.s1cdmax == 0 else "ssid_ge_max"
    return f"ssid_out_of_range/{detail}", (s.sid, 1, ssid, _any_addr(world, rng), None)


def _ssv0(world: World, rng: random.Random, w: RequestWeights):
    sts = _translate_streams(world, lambda s: s.cdt.s1cdmax > 0)
    if not sts:
        return None
    s = rng.choice(sts)
    dss = s.ste.S1DSS
    slot = s.cdt.slots.get(0)
    ctx = None
    if dss == S1DefaultSubstream.SSID0 and slot is not None:
        ctx = world.contexts[slot.ctx]
        leaves = ctx.mapped()
        if leaves:
            lf = rng.choice(leaves)
            addr = _in_record(rng, lf.va, lf.size)
        else:
            addr = rng.randrange(1 << ctx.ia)
    else:
        addr = _any_addr(world, rng)
    name = {0: "terminate", 1: "bypass", 2: "ssid0", 3: "reserved"}[dss]
    return f"ssv0/{name}", (s.sid, 0, 0, addr, ctx)


def _ssid0_dss(world: World, rng: random.Random, w: RequestWeights):
    sts = _translate_streams(
        world, lambda s: s.cdt.s1cdmax > 0 and s.ste.S1DSS == S1DefaultSubstream.SSID0)
    if not sts:
        return None
    s = rng.choice(sts)
    return "ssid0_dss", (s.sid, 1, 0, _any_addr(world, rng), None)


def _ssid_no_cd(world: World, rng: random.Random, w: RequestWeights):
    sts = _translate_streams(world, lambda s: s.cdt.s1cdmax > 0)
    if not sts:
        return None
    s = rng.choice(sts)
    cdt = s.cdt
    bad_l1 = [e for e in cdt.l1.values() if e.kind != "ok" or not e.valid]
    if bad_l1 and rng.random() < 0.5:
        e = rng.choice(bad_l1)
        ssid = (e.index << cdt.leaf_bits | rng.randrange(1 << cdt.leaf_bits)) \
            & ((1 << cdt.s1cdmax) - 1)
        return f"ssid_no_cd/{cdt.ssid_status(ssid)}", (s.sid, 1, ssid, _any_addr(world, rng),
                                                      None)
    for _ in range(8):
        ssid = rng.randrange(1, 1 << cdt.s1cdmax)
        if ssid not in cdt.slots:
            return f"ssid_no_cd/{cdt.ssid_status(ssid)}", (s.sid, 1, ssid,
                                                          _any_addr(world, rng), None)
    return None


def _other_stream(world: World, rng: random.Random, w: RequestWeights):
    sts = [s for _, s in sorted(world.streams.items()) if s.kind != "translate"]
    if not sts:
        return None
    s = rng.choice(sts)
    ssv, ssid = _any_ssid(world, rng)
    if s.cdt is not None and s.cdt.slots and rng.random() < 0.6:
        slot = rng.choice(list(s.cdt.slots.values()))
        ssv, ssid = (0, 0) if s.cdt.s1cdmax == 0 else (1, slot.ssid)
    return f"other_stream/{s.kind}", (s.sid, ssv, ssid, _any_addr(world, rng), None)


def _foreign_global(world: World, rng: random.Random, w: RequestWeights):
    ranges = world.global_ranges
    if not ranges:
        return None
    # Mostly a page the owner used lately, so that its global entry is likely in the TLB.
    # (Each recent page is compared with its ASID's ranges only, taken in their order.)
    asids = [c.asid for c in world.contexts]
    by_asid: dict[int, list[tuple[int, int, int]]] = {}
    for r in ranges:
        by_asid.setdefault(asids[r[2]], []).append(r)
    hot = []
    for _s, _v, _i, asid, page in world.request_state.recent:
        own = by_asid.get(asid)
        if own:
            va = page & VA56
            hot += [(page, owner) for lo, hi, owner in own if lo <= va < hi]
    if hot and rng.random() < 0.8:
        page, owner = rng.choice(hot)
        addr = page + rng.randrange(PAGE)
    else:
        lo, hi, owner = rng.choice(ranges)
        addr = _in_record(rng, lo, hi - lo)
        if addr >> 55 & 1:  # a TTB1 range (VA[55:0]): sign-extend as its owner maps it
            addr |= 0xFF << 56
    rs = [r for r in world.routes() if r.ok and world.context_of(r).index != owner]
    if not rs:
        return None
    r = rng.choice(rs)
    ctx = world.context_of(r)
    same = ctx.template.ASET == world.contexts[owner].template.ASET
    return _labelled(f"foreign_global/{'same' if same else 'other'}_aset", r, addr, ctx)


_GENERATORS = {
    "mapped": _mapped, "repeat": _repeat, "hole": _hole, "unmapped": _unmapped,
    "above_ia": _above_ia, "tbi": _tbi, "upper_half": _upper_half, "bad_sid": _bad_sid,
    "ssid_out_of_range": _ssid_out_of_range, "ssv0": _ssv0, "ssid0_dss": _ssid0_dss,
    "ssid_no_cd": _ssid_no_cd, "other_stream": _other_stream, "foreign_global": _foreign_global,
}
assert set(_GENERATORS) == set(CATEGORIES)
