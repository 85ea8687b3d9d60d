"""Random changes to a World's memory, with the commands that make each change visible.

A mutation is applied to memory (through the backdoor, as the CPU would) before it is
returned; the caller issues ``commands`` and a CMD_SYNC. With probability ``p_omit`` the
commands are withheld (``invalidated=False``, the needed ones kept in ``needed``): the SMMU
may then keep using what it cached, and the scoreboard must accept old or new behaviour.

Invalidation choices follow the architecture's scope rules (ref §5.2, §3.3, §2.4): a leaf
change needs a TLBI covering the VA (TLBI_NH_ASID never reaches global entries); a table
descriptor change needs every VA below it, so it uses TLBI_NH_ALL / TLBI_NSNH_ALL; an L1CD
going invalid needs the L1CD and every CD beneath it; an L1STD change needs its whole span.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.arch import commands as C
from models.arch.cd import CD, L1CD
from models.arch.geometry import DESC_BYTES, PAGE, level_size
from models.arch.pgtable import PTE_NG
from models.arch.ste import L1STD, STE, StreamConfig
from tb.stimgen.contexts import GRANULE_4K_BITS, cd_for, new_leaf_raw, pick_va, table_attrs
from tb.stimgen.pagetable import Leaf, PageTable

if TYPE_CHECKING:
    from tb.stimgen.contexts import Context
    from tb.stimgen.streams import CdSlot, CdTable, Stream
    from tb.stimgen.world import World

__all__ = ["MUTATION_KINDS", "MemWrite", "Mutation", "MutationWeights", "mutate"]


@dataclass(frozen=True)
class MemWrite:
    addr: int
    old: bytes
    new: bytes


@dataclass(frozen=True)
class Mutation:
    """What changed (already in memory) and how to tell the SMMU."""

    kind: str
    detail: str
    writes: tuple[MemWrite, ...]
    commands: tuple[C.Command, ...]  # to issue, then CMD_SYNC (empty when omitted)
    invalidated: bool  # False: the needed invalidation was deliberately withheld
    needed: tuple[C.Command, ...] = ()  # what the change requires, issued or not
    sid: int | None = None
    ssid: int | None = None
    asid: int | None = None
    va: int | None = None


@dataclass
class MutationWeights:
    remap: float = 18  # leaf gets a new output address
    perm: float = 14  # leaf AP / UXN / PXN / AF / AttrIndx / SH
    unmap: float = 10  # leaf becomes invalid
    map: float = 10  # new leaf where nothing was (needs no invalidation)
    unmap_table: float = 4  # a table descriptor becomes invalid
    cd_ar: float = 10  # CD.A / CD.R
    cd_valid: float = 6  # CD.V
    cd_retarget: float = 5  # CD becomes a copy of another context (new ASID)
    ste: float = 10  # STE Config / V / S1DSS / PRIVCFG / INSTCFG
    l1cd: float = 5  # L1CD.V
    l1std: float = 4  # L1STD.Span 0 <-> valid
    p_omit: float = 0.1  # withhold the invalidation
    tlbi: dict[str, float] = field(default_factory=lambda: {
        "va": 55, "asid": 15, "vaa": 5, "all": 15, "nsnh": 10})
    cfgi: dict[str, float] = field(default_factory=lambda: {
        "exact": 70, "sid_all": 15, "all": 15})

    def kinds(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in MUTATION_KINDS}


MUTATION_KINDS = ("remap", "perm", "unmap", "map", "unmap_table", "cd_ar", "cd_valid",
                  "cd_retarget", "ste", "l1cd", "l1std")


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    names = [n for n in weights if weights[n] > 0]
    return rng.choices(names, [weights[n] for n in names])[0]


class _Recorder:
    """Collects old bytes before a mutator writes, new bytes after."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.regions: list[tuple[int, int, bytes]] = []

    def touch(self, addr: int, size: int) -> None:
        self.regions.append((addr, size, self.world.mem.peek(addr, size)))

    def writes(self) -> tuple[MemWrite, ...]:
        peek = self.world.mem.peek
        return tuple(MemWrite(a, old, peek(a, n)) for a, n, old in self.regions)


@dataclass
class _Change:
    kind: str
    detail: str
    needed: list[C.Command]
    sid: int | None = None
    ssid: int | None = None
    asid: int | None = None
    va: int | None = None


def mutate(world: World, rng: random.Random, weights: MutationWeights | None = None) -> Mutation:
    """Apply one random mutation; kinds with nothing to act on are skipped."""
    w = weights or MutationWeights()
    kinds = w.kinds()
    first = _pick(rng, kinds)
    order = [first] + [k for k in MUTATION_KINDS if k != first and kinds[k] > 0]
    rec = _Recorder(world)
    for kind in order:
        change = _MUTATORS[kind](world, rng, w, rec)
        if change is None:
            continue
        omit = bool(change.needed) and rng.random() < w.p_omit
        return Mutation(change.kind, change.detail, rec.writes(),
                        () if omit else tuple(change.needed), not omit, tuple(change.needed),
                        change.sid, change.ssid, change.asid, change.va)
    return Mutation("none", "nothing to mutate", (), (), True)


# -- invalidation builders -------------------------------------------------------------------
def _tlbi_leaf(rng: random.Random, w: MutationWeights, ctx: Context, leaf: Leaf,
               was_global: bool) -> list[C.Command]:
    how = _pick(rng, w.tlbi)
    if how == "asid" and was_global:
        how = "va"  # TLBI_NH_ASID leaves global entries alone
    va = leaf.va + rng.randrange(leaf.size // PAGE) * PAGE  # any VA inside the block hits
    match how:
        case "va":
            return [C.CmdTlbiNhVa(VMID=0, ASID=ctx.asid, Leaf=rng.randrange(2), Addr=va)]
        case "vaa":
            return [C.CmdTlbiNhVaa(VMID=0, Leaf=rng.randrange(2), Addr=va)]
        case "asid":
            return [C.CmdTlbiNhAsid(VMID=0, ASID=ctx.asid)]
        case "all":
            return [C.CmdTlbiNhAll(VMID=0)]
        case _:
            return [C.CmdTlbiNsnhAll()]


def _cfgi_cd(rng: random.Random, w: MutationWeights, cdt: CdTable,
             ssids: list[int], leaf: int = 1) -> list[C.Command]:
    how = _pick(rng, w.cfgi)
    if how == "all":
        return [C.cfgi_all()]
    out: list[C.Command] = []
    for sid in cdt.users:
        if how == "sid_all":
            out.append(C.CmdCfgiCdAll(StreamID=sid))
        else:
            out += [C.CmdCfgiCd(StreamID=sid, SubstreamID=s,
                                Leaf=leaf if leaf == 0 else rng.randrange(2)) for s in ssids]
    return out


# -- page-table mutations --------------------------------------------------------------------
def _pick_leaf(world: World, rng: random.Random) -> tuple[Context, PageTable, Leaf] | None:
    """A leaf of any context's TTB0 or TTB1 table (and that table)."""
    tabs = [(c, t) for c in world.contexts if c.kind != "ttb_eabt" for t in c.tables
            if t.leaves]
    if not tabs:
        return None
    ctx, cpt = rng.choice(tabs)
    return ctx, cpt, rng.choice(list(cpt.leaves.values()))


def _remap(world: World, rng: random.Random, w: MutationWeights, rec: _Recorder):
    got = _pick_leaf(world, rng)
    if got is None:
        return None
    ctx, cpt, leaf = got
    d = leaf.desc
    eff = min(ctx.ips_bits, world.cfg.pa_bits, GRANULE_4K_BITS)
    bits = 48 if rng.random() < world.knobs.contexts.p_oa_anywhere else eff
    oa = rng.randrange(1 << bits) & ~(leaf.size - 1)
    rec.touch(leaf.addr, DESC_BYTES)
    cpt.rewrite(leaf, dataclasses.replace(d, OutputAddr=oa).to_int())
    return _Change("remap", f"context {ctx.index} VA {leaf.va:#x} -> OA {oa:#x}",
                   _tlbi_leaf(rng, w, ctx, leaf, not d.nG), asid=ctx.asid, va=leaf.va)


def _perm(world: World, rng: random.Random, w: MutationWeights, rec: _Recorder):
    got = _pick_leaf(world, rng)
    if got is None:
        return None
    ctx, cpt, leaf = got
    d = leaf.desc
    what = rng.choice(("AP", "UXN", "PXN", "AF", "AttrIndx", "SH"))
    value = {"AP": rng.randrange(4), "AttrIndx": rng.randrange(8),
             "SH": rng.choice((0, 2, 3))}.get(what, 1 - getattr(d, what, 0))
    rec.touch(leaf.addr, DESC_BYTES)
    cpt.rewrite(leaf, dataclasses.replace(d, **{what: value}).to_int())
    return _Change("perm", f"context {ctx.index} VA {leaf.va:#x} {what}={value}",
                   _tlbi_leaf(rng, w, ctx, leaf, not d.nG), asid=ctx.asid, va=leaf.va)


def _unmap(world: World, rng: random.Random, w: MutationWeights, rec: _Recorder):
    got = _pick_leaf(world, rng)
    if got is None:
        return None
    ctx, cpt, leaf = got
    was_global = not leaf.desc.nG
    rec.touch(leaf.addr, DESC_BYTES)
    junk = (rng.getrandbits(63) << 1) if rng.random() < 0.3 else 0  # Valid=0, other bits junk
    cpt.unmap(leaf, junk)
    world.retired.setdefault(ctx.index, []).append(leaf.va)
    return _Change("unmap", f"context {ctx.index} VA {leaf.va:#x} L{leaf.level}",
                   _tlbi_leaf(rng, w, ctx, leaf, was_global), asid=ctx.asid, va=leaf.va)


def _map(world: World, rng: random.Random, w: MutationWeights, rec: _Recorder):
    tabs = [(c, t) for c in world.contexts if c.kind != "ttb_eabt" for t in c.tables]
    if not tabs:
        return None
    ctx, cpt = rng.choice(tabs)
    ck = world.knobs.contexts
    levels = [lv for lv in ck.leaf_levels if lv >= cpt.start]
    level = rng.choices(levels, [ck.leaf_levels[lv] for lv in levels])[0]
    eff = min(ctx.ips_bits, world.cfg.pa_bits)
    for _ in range(8):
        va = pick_va(rng, cpt, level, ck)
        raw = new_leaf_raw(rng, level, eff, ck, global_ok=True)
        if not cpt.is_free(va, level):
            continue
        if not world.va_ok(ctx, va, level_size(level), not raw & PTE_NG):
            continue
        # New tables are zero-filled before the descriptor pointing at them is written, so
        # the SMMU can only see invalid entries there: nothing cached needs invalidating.
        before = set(cpt.tables)
        path = [cpt.lookup_addr(va, lv) for lv in range(cpt.start, level + 1)]
        for a in path:
            if a is not None:
                rec.touch(a, DESC_BYTES)
        leaf = cpt.map(va, level, raw, table_attrs(rng, ck))
        if leaf is None:
            continue
        for t in sorted(set(cpt.tables) - before):
            rec.regions.append((t, PAGE, bytes(PAGE)))
        return _Change("map", f"context {ctx.index} VA {va:#x} L{level}", [],
                       asid=ctx.asid, va=va)
    return None


def _unmap_table(world: World, rng: random.Random, w: MutationWeights, rec: _Recorder):
    cands = [(c, p, t) for c in world.contexts if c.kind != "ttb_eabt" for p in c.tables
             for t in sorted(p.tables) if t != p.root]
    if not cands:
        return None
    ctx, cpt, table = rng.choice(cands)
    level, base = cpt.tables[table]
    parent_entry = cpt.lookup_addr(base, level - 1)
    assert parent_entry is not None
    rec.touch(parent_entry, DESC_BYTES)
    gone = cpt.drop_table(table)
    world.retired.setdefault(ctx.index, []).extend(lf.va for lf in gone)
    # Every invalidation that must drop cached table descriptors (walk caches) for the
    # region: by VA with Leaf=0 (other VAs under the table may legally stay cached), by
    # ASID, or everything.
    pick = rng.random()
    cmd: C.Command
    if pick < 0.3:
        cmd = C.CmdTlbiNhVa(ASID=ctx.asid, Addr=base, Leaf=0)
    elif pick < 0.55:
        cmd = C.CmdTlbiNhAsid(ASID=ctx.asid)
    elif pick < 0.8:
        cmd = C.CmdTlbiNhAll(VMID=0)
    else:
        cmd = C.CmdTlbiNsnhAll()
    return _Change("unmap_table", f"context {ctx.index} L{level} table at VA {base:#x} "
                   f"({len(gone)} leaves)", [cmd], asid=ctx.asid, va=base)


# -- CD mutations ----------------------------------------------------------------------------
def _pick_slot(world: World, rng: random.Random,
               pred: Callable[[CdSlot], bool]) -> tuple[CdTable, CdSlot] | None:
    cands = [(cdt, s) for cdt in world.cd_tables for _, s in sorted(cdt.slots.items())
             if pred(s)]
    return rng.choice(cands) if cands else None


def _cd_change(world: World, rng: random.Random, w: MutationWeights, rec: _Recorder,
               cdt: CdTable, slot: CdSlot, cd, kind: str, detail: str) -> _Change:
    rec.touch(slot.addr, CD.SIZE)
    cdt.update_cd(slot, cd)
    return _Change(kind, detail, _cfgi_cd(rng, w, cdt, [slot.ssid]),
                   sid=cdt.users[0] if cdt.users else None, ssid=slot.ssid, asid=cd.ASID)


def _cd_ar(world: World, rng: random.Random, w: MutationWeights, rec: _Recorder):
    got = _pick_slot(world, rng, lambda s: True)
    if got is None:
        return None
    cdt, slot = got
    a, r = slot.cd.A, slot.cd.R
    # A is pinned where it decides legality: A=0 is ILLEGAL with TERM_MODEL=1, and an
    # "A=0" ILLEGAL CD must stay ILLEGAL for the record to hold.
    pin_a = bool(world.cfg.TERM_MODEL) or slot.reason == "a0_term"
    while (a, r) == (slot.cd.A, slot.cd.R):
        a = slot.cd.A if pin_a else rng.randrange(2)
        r = rng.randrange(2)
    cd = dataclasses.replace(slot.cd, A=a, R=r)
    return _cd_change(world, rng, w, rec, cdt, slot, cd, "cd_ar",
                      f"CD {slot.ssid:#x} @ {slot.addr:#x} A={a} R={r}")


def _cd_valid(world: World, rng: random.Random, w: MutationWeights, rec: _Recorder):
    got = _pick_slot(world, rng, lambda s: True)
    if got is None:
        return None
    cdt, slot = got
    cd = dataclasses.replace(slot.cd, V=1 - slot.cd.V)
    return _cd_change(world, rng, w, rec, cdt, slot, cd, "cd_valid",
                      f"CD {slot.ssid:#x} @ {slot.addr:#x} V={cd.V}")


def _cd_retarget(world: World, rng: random.Random, w: MutationWeights, rec: _Recorder):
    got = _pick_slot(world, rng, lambda s: s.legal)
    if got is None or len(world.contexts) < 2:
        return None
    cdt, slot = got
    ctx = rng.choice([c for c in world.contexts if c.index != slot.ctx])
    cd = cd_for(ctx, a=1 if world.cfg.TERM_MODEL else rng.randrange(2), r=rng.randrange(2))
    slot.ctx = ctx.index
    return _cd_change(world, rng, w, rec, cdt, slot, cd, "cd_retarget",
                      f"CD {slot.ssid:#x} @ {slot.addr:#x} -> context {ctx.index}")


def _l1cd(world: World, rng: random.Random, w: MutationWeights, rec: _Recorder):
    cands = [(cdt, e) for cdt in world.cd_tables if cdt.two_level
             for _, e in sorted(cdt.l1.items()) if e.kind in ("ok", "v0")]
    if not cands:
        return None
    cdt, e = rng.choice(cands)
    rec.touch(cdt.l1_addr(e.index), L1CD.SIZE)
    e.valid = 1 - e.valid
    e.kind = "ok" if e.valid else "v0"
    cdt.write_l1(e)
    first = e.index << cdt.leaf_bits
    span = [s for s in sorted(cdt.slots) if s >> cdt.leaf_bits == e.index]
    probe = first + rng.randrange(1 << cdt.leaf_bits) if cdt.s1cdmax > cdt.leaf_bits else \
        rng.randrange(1 << cdt.s1cdmax)
    needed = _cfgi_cd(rng, w, cdt, [probe], leaf=0)
    if not e.valid and needed and isinstance(needed[0], C.CmdCfgiCd):
        needed += [C.CmdCfgiCd(StreamID=sid, SubstreamID=s, Leaf=1)
                   for sid in cdt.users for s in span]
    return _Change("l1cd", f"L1CD {e.index} of CD table {cdt.ptr:#x} V={e.valid}", needed,
                   sid=cdt.users[0] if cdt.users else None, ssid=probe)


# -- stream-table mutations ------------------------------------------------------------------
def _cfgi_ste(rng: random.Random, w: MutationWeights, sid: int) -> list[C.Command]:
    how = _pick(rng, w.cfgi)
    if how == "all":
        return [C.cfgi_all()]
    if how == "sid_all":
        r = rng.randrange(5)  # 2^(r+1) SIDs, aligned
        return [C.CmdCfgiSteRange(StreamID=sid & ~((2 << r) - 1), Range=r)]
    return [C.CmdCfgiSte(StreamID=sid, Leaf=rng.randrange(2))]


def _ste(world: World, rng: random.Random, w: MutationWeights, rec: _Recorder):
    if not world.streams:
        return None
    st: Stream = rng.choice([s for _, s in sorted(world.streams.items())])
    if world.strtab.ste_addr(st.sid) is None:
        return None
    options = ["v_toggle", "attrs", "base", "bypass", "abort"]
    if st.cdt is not None:
        options.append("illegal")
    what = rng.choice(options)
    ste, kind, reason = st.ste, st.kind, st.reason
    match what:
        case "v_toggle":
            ste = dataclasses.replace(ste, V=1 - ste.V)
            kind = "v0" if not ste.V else _kind_of(st, ste)
        case "attrs" | "base":
            if what == "attrs":  # new overrides / S1DSS become the stream's own STE
                fresh = world.ste_attrs(rng)
                st.base = dataclasses.replace(st.base, **{
                    k: fresh[k] for k in ("PRIVCFG", "INSTCFG", "SHCFG", "MEV")})
                if st.cdt is not None and st.cdt.s1cdmax:
                    st.base = dataclasses.replace(st.base, S1DSS=rng.choice(
                        (0b00, 0b01, 0b10, 0b10)))
            ste, kind, reason = st.base, st.base_kind, ""
        case "bypass" | "abort":
            config = StreamConfig.ABORT if what == "abort" else StreamConfig.BYPASS
            ste, kind, reason = dataclasses.replace(st.base, V=1, Config=config), what, ""
        case _:
            ste, reason = world.illegal_ste(rng, st.base)
            kind = "illegal"
    rec.touch(st.addr, STE.SIZE)
    world.write_stream(st, ste, kind, reason)
    return _Change("ste", f"STE {st.sid:#x} -> {kind} ({what})", _cfgi_ste(rng, w, st.sid),
                   sid=st.sid)


def _kind_of(st: Stream, ste: STE) -> str:
    """Kind of a V=1 STE that is a variant of the stream's own STEs."""
    if st.reason:
        return "illegal"
    if ste.Config == StreamConfig.S1_TRANS:
        return st.base_kind
    return {StreamConfig.BYPASS: "bypass", StreamConfig.ABORT: "abort"}.get(
        ste.Config, "reserved")


def _l1std(world: World, rng: random.Random, w: MutationWeights, rec: _Recorder):
    st = world.strtab
    if not st.two_level:
        return None
    cands = [e for _, e in sorted(st.l1.items())
             if e.table is not None and e.kind in ("full", "small", "invalid")]
    if not cands:
        return None
    e = rng.choice(cands)
    rec.touch(st.l1_addr(e.index), L1STD.SIZE)
    e.span = 0 if e.span else e.table_span
    e.kind = "invalid" if not e.span else ("full" if e.table_span == st.split + 1 else "small")
    st.write_l1(e)
    world._routes = None
    sid = e.index << st.split
    if _pick(rng, w.cfgi) == "all":
        needed: list[C.Command] = [C.cfgi_all()]
    else:
        needed = [C.CmdCfgiSte(StreamID=sid | rng.randrange(1 << st.split), Leaf=0),
                  C.CmdCfgiSteRange(StreamID=sid, Range=st.split - 1)]
    return _Change("l1std", f"L1STD {e.index} Span={e.span}", needed, sid=sid)


_MUTATORS = {
    "remap": _remap, "perm": _perm, "unmap": _unmap, "map": _map, "unmap_table": _unmap_table,
    "cd_ar": _cd_ar, "cd_valid": _cd_valid, "cd_retarget": _cd_retarget, "ste": _ste,
    "l1cd": _l1cd, "l1std": _l1std,
}
assert set(_MUTATORS) == set(MUTATION_KINDS)
