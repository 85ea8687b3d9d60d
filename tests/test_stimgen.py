"""The constrained-random stimulus generator (tb/stimgen): determinism, legality, coverage.

Structures are re-read from memory and decoded with models.arch independently of the
generator's own record, so a record that drifted from memory cannot hide a bad encoding.
"""

from __future__ import annotations

import dataclasses
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.arch import commands as C
from models.arch import pgtable as pt
from models.arch.cd import CD, L1CD, IPSize, TG1Granule
from models.arch.geometry import input_bits, level_shift, start_level, table_entries
from models.arch.registers import STRTAB_BASE, STRTAB_BASE_CFG, StallModel, STLevel, StrtabFmt
from models.arch.ste import L1STD, STE, StreamConfig
from models.memory import PhysicalMemory
from models.smmu.config import SmmuConfig
from tb.stimgen import CATEGORIES, MUTATION_KINDS, World, single_stream
from tb.stimgen.contexts import ASID_FIELDS, VA56, illegal_cd

# The translation pipeline's feature set (SmmuConfig's XLATE, now DEFAULT), spelled out so
# the test does not depend on which named configuration carries it.
TARGET = SmmuConfig(S1P=1, CD2L=1, STALL_MODEL=StallModel.TERMINATE_ONLY, TERM_MODEL=0,
                   ST_LEVEL=STLevel.TWO_LEVEL, SIDSIZE=16, SSIDSIZE=16)
WINDOW = (0x4000_0000, 0x4000_0000 + (64 << 20))
SEEDS = range(6)


def make(seed: int, cfg: SmmuConfig = TARGET) -> World:
    return World(random.Random(seed), PhysicalMemory(48), cfg, WINDOW)


def in_window(addr: int, size: int = 1) -> bool:
    return WINDOW[0] <= addr and addr + size <= WINDOW[1]


def in_fault(w: World, addr: int) -> bool:
    return w.fault_base <= addr < w.fault_base + w.fault_size


# -- determinism -------------------------------------------------------------------------------
def run(seed: int, n: int = 300) -> tuple[World, list, list]:
    w = make(seed)
    rng = random.Random(seed * 7 + 1)
    reqs, muts = [], []
    for i in range(n):
        reqs.append(w.random_request(rng))
        if i % 25 == 24:
            m = w.mutate(rng)
            muts.append((m.kind, m.writes, tuple(c.to_int() for c in m.commands)))
    return w, reqs, muts


@pytest.mark.parametrize("seed", [0, 3])
def test_same_seed_gives_identical_memory_and_requests(seed: int) -> None:
    a, b = make(seed), make(seed)
    assert (a.strtab_base, a.strtab_base_cfg) == (b.strtab_base, b.strtab_base_cfg)
    assert a.snapshot() == b.snapshot()
    (wa, ra, ma), (wb, rb, mb) = run(seed), run(seed)
    assert [(r, r.kind) for r in ra] == [(r, r.kind) for r in rb]
    assert ma == mb
    assert wa.snapshot() == wb.snapshot()
    assert make(seed + 100).snapshot() != a.snapshot()


def test_same_seed_gives_identical_memory_in_another_process() -> None:
    """A seed reruns identically in a new process too (a failing seed is rerun in one): no
    draw may depend on something that differs between processes, such as hash() of None."""
    code = ("import hashlib, sys; from tests.test_stimgen import make; "
            "sys.stdout.write(hashlib.sha256(b''.join(m for _, m in make(3).snapshot()))"
            ".hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent.parent).stdout
               for _ in range(2)}
    assert len(digests) == 1, digests


# -- legality and placement, re-read from memory ---------------------------------------------
def read(w: World, addr: int, n: int) -> bytes:
    return w.mem.peek(addr, n)


def walk_leaves(w: World, ctx_index: int, upper: bool = False
                ) -> Iterator[tuple[int, int, pt.Descriptor]]:
    """(VA, level, descriptor) of every valid block/page reachable from the context's TTB0
    (``upper``: TTB1, VAs sign-extended from VA[IA-1])."""
    ctx = w.contexts[ctx_index]
    txsz = ctx.template.T1SZ if upper else ctx.template.T0SZ
    eff = min(ctx.ips_bits, w.cfg.pa_bits)
    # fuzzed entries (World.fuzz_descriptor: random, anywhere) are neither walked nor yielded
    fuzz = {(h.va, h.level) for t in ctx.tables for h in t.holes.values() if h.kind == "fuzz"}

    def rec(table: int, level: int, va_base: int) -> Iterator[tuple[int, int, pt.Descriptor]]:
        for i in range(table_entries(level, txsz)):
            raw = int.from_bytes(read(w, table + 8 * i, 8), "little")
            if raw == 0:
                continue
            d = pt.decode_descriptor(raw, level)
            va = va_base + (i << level_shift(level))
            if (va & ((1 << 64) - 1), level) in fuzz:
                continue
            if isinstance(d, pt.TableDescriptor):
                nxt = d.NextTableAddr
                assert nxt % 4096 == 0
                if in_fault(w, nxt) or nxt >> eff:
                    continue  # the eabt / address-size holes: never walked further
                assert in_window(nxt, 4096), f"table {nxt:#x} outside the window"
                yield from rec(nxt, level + 1, va)
            elif isinstance(d, pt.LeafDescriptor):
                assert d.Contiguous == 0 and d.DBM == 0 and d.NS == 0
                assert d.problems() == [], d.problems()
                yield va, level, d

    top = ((1 << 64) - (1 << input_bits(txsz))) if upper else 0
    yield from rec(ctx.template.TTB1 if upper else ctx.template.TTB0, start_level(txsz), top)


@pytest.mark.parametrize("seed", SEEDS)
def test_everything_decodes_aligned_in_window(seed: int) -> None:
    w = make(seed)
    assert all(in_window(pa, n) for pa, n in w.alloc.allocations.items())
    base = STRTAB_BASE.from_int(w.strtab_base)
    cfg = STRTAB_BASE_CFG.from_int(w.strtab_base_cfg)
    assert base.RA == 1 and cfg.problems() == [] and cfg.LOG2SIZE <= TARGET.SIDSIZE
    if cfg.FMT == StrtabFmt.TWO_LEVEL:
        assert cfg.SPLIT in (6, 8, 10) and cfg.LOG2SIZE >= cfg.SPLIT
        n_l1 = 1 << (cfg.LOG2SIZE - cfg.SPLIT)
        assert base.ADDR % max(64, 8 * n_l1) == 0 and in_window(base.ADDR, 8 * n_l1)
        spans = Counter()
        for i in range(n_l1):
            l1 = L1STD.from_bytes(read(w, base.ADDR + 8 * i, 8))
            spans[min(l1.Span, cfg.SPLIT + 2)] += 1
            if i in w.strtab.l1 and w.strtab.l1[i].kind == "fuzz":
                continue  # a random L2Ptr, anywhere and unaligned
            if 1 <= l1.Span <= cfg.SPLIT + 1 and not in_fault(w, l1.L2Ptr):
                size = 64 << (l1.Span - 1)
                assert l1.L2Ptr % size == 0 and in_window(l1.L2Ptr, size)
        assert spans[cfg.SPLIT + 1] >= 1
        assert spans[0] >= 1 or len(w.strtab.l1) == n_l1  # unused L1STDs read Span=0
    else:
        assert base.ADDR % (64 << cfg.LOG2SIZE) == 0
    kinds = Counter()
    for sid, s in w.streams.items():
        ste = STE.from_bytes(read(w, s.addr, 64))
        assert ste == s.ste
        kinds[s.kind] += 1
        if s.kind in ("translate", "bypass", "abort", "v0"):
            # S1DSS=0b11 is the one reserved value drawn on purpose (it behaves as 0b00)
            problems = [p for p in ste.problems() if not p.startswith("S1DSS=")]
            assert problems == [], (sid, s.kind, problems)
        if s.kind == "translate":
            assert ste.V == 1 and ste.Config == StreamConfig.S1_TRANS and ste.S1STALLD == 0
            assert ste.S1CDMax <= TARGET.SSIDSIZE
            assert s.cdt is not None and ste.S1ContextPtr == s.cdt.ptr
    assert kinds["translate"] >= 2
    for cdt in w.cd_tables:
        if cdt.two_level:
            assert cdt.ptr % max(64, 8 * cdt.n_l1) == 0
            for e in cdt.l1.values():
                l1 = L1CD.from_bytes(read(w, cdt.l1_addr(e.index), 8))
                assert l1.problems() == []
                if l1.L2Ptr and not in_fault(w, l1.L2Ptr):
                    leaf = 64 << cdt.leaf_bits
                    assert l1.L2Ptr % leaf == 0 and in_window(l1.L2Ptr, leaf)
        else:
            assert cdt.ptr % (64 << cdt.s1cdmax) == 0 and in_window(cdt.ptr, 64 << cdt.s1cdmax)
        for slot in cdt.slots.values():
            cd = CD.from_bytes(read(w, slot.addr, 64))
            assert cd == slot.cd and slot.addr % 64 == 0
            if slot.legal:
                assert cd.problems() == [], cd.problems()
                assert cd.S == 0 and cd.AA64 == 1 and cd.TG0 == 0
                assert 16 <= cd.T0SZ <= 39 and cd.HA == cd.HD == 0
                root = max(64, table_entries(start_level(cd.T0SZ), cd.T0SZ) * 8)
                assert in_fault(w, cd.TTB0) or (cd.TTB0 % root == 0 and in_window(cd.TTB0))
                assert not cd.TTB0 >> min(IPSize(cd.IPS).nbits, TARGET.pa_bits)
                if not cd.EPD1:
                    assert cd.TG1 == TG1Granule.SZ_4K and 16 <= cd.T1SZ <= 39
                    root = max(64, table_entries(start_level(cd.T1SZ), cd.T1SZ) * 8)
                    assert cd.TTB1 % root == 0 and in_window(cd.TTB1)
                    assert not cd.TTB1 >> min(IPSize(cd.IPS).nbits, TARGET.pa_bits)
    for ctx in w.contexts:
        if ctx.kind == "ttb_eabt":
            assert in_fault(w, ctx.template.TTB0)
            continue
        for t in ctx.tables:
            found = {(va, lvl) for va, lvl, _ in walk_leaves(w, ctx.index, t.upper)}
            want = {(lf.va, lf.level) for lf in t.leaves.values()}
            want |= {(h.va, h.level) for h in t.holes.values() if h.kind == "leaf_addr_size"}
            assert found == want
            assert all(t.contains(va) for va, _ in found)
        assert (ctx.pt1 is None) == bool(ctx.template.EPD1)
    assert w.check() == []


def test_nasty_structures_appear_across_seeds() -> None:
    holes, streams, cds, l1cd = Counter(), Counter(), Counter(), Counter()
    globals_ = 0
    for seed in range(24):
        w = make(seed)
        holes.update(h.kind for c in w.contexts for h in c.holes())
        streams.update(s.kind for s in w.streams.values())
        cds.update("legal" if s.legal else "illegal" for s in w.all_cds())
        l1cd.update(e.kind for cdt in w.cd_tables for e in cdt.l1.values())
        globals_ += sum(lf.is_global for c in w.contexts for lf in c.mapped())
    assert set(holes) >= {"invalid", "l0_block", "l3_type01", "table_eabt", "leaf_addr_size",
                          "table_addr_size"}
    assert set(streams) >= {"translate", "bypass", "illegal", "v0", "cd_eabt"}
    assert cds["illegal"] > 0 and set(l1cd) >= {"ok", "v0", "eabt"} and globals_ > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_cds_sharing_an_asid_agree(seed: int) -> None:
    w, _, _ = run(seed, 400)  # mutations included
    assert w.asid_conflicts() == []
    by_asid: dict[int, dict[str, int]] = {}
    for slot in w.all_cds():
        cd = CD.from_bytes(read(w, slot.addr, 64))
        fields = {n: getattr(cd, n) for n in ASID_FIELDS}
        assert by_asid.setdefault(cd.ASID, fields) == fields, f"ASID {cd.ASID:#x}"
    ctx_asids = {c.asid for c in w.contexts}
    assert all(s.cd.ASID not in ctx_asids for s in w.all_cds() if not s.legal)


@pytest.mark.parametrize("seed", SEEDS)
def test_global_entries_never_shared_between_asids(seed: int) -> None:
    """A cached nG=0 entry may answer another context's lookup (of the same ASET): no other
    context maps there, and the categories aimed at a context's own tables are not sent there
    (checked when each request is made; a later mutation may map a global range where a
    retired leaf was); the foreign_global category is."""
    w = make(seed)
    rng = random.Random(seed * 7 + 1)
    sent = Counter()
    for i in range(400):
        r = w.random_request(rng)
        keys = {(x.sid, x.ssv, x.ssid): w.context_of(x) for x in w.routes()}
        ctx = keys.get((r.sid, r.ssv, r.ssid))
        if ctx is not None and w.foreign_global(ctx, r.addr):
            sent[r.category] += 1
            assert r.category not in ("mapped", "hole", "unmapped", "tbi"), r
        if i % 25 == 24:
            w.mutate(rng)
    for s, e, owner in w.global_ranges:  # VA[55:0], as TLB entries are tagged
        for ctx in w.contexts:
            if ctx.index != owner:
                recs = (*ctx.mapped(), *ctx.holes())
                assert not any(r.va & VA56 < e and s < (r.va & VA56) + r.size for r in recs)
    assert sent["foreign_global"] > 0, sent


# -- requests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 4])
def test_request_mix_covers_every_category(seed: int) -> None:
    w = make(seed)
    rng = random.Random(seed)
    reqs = [w.random_request(rng) for _ in range(2000)]
    cats = Counter(r.category for r in reqs)
    kinds = Counter(r.kind for r in reqs)
    assert set(cats) == set(CATEGORIES), set(CATEGORIES) - set(cats)
    assert kinds["tbi/tbi0=0"] and kinds["tbi/tbi0=1"]
    assert cats["mapped"] + cats["repeat"] > 0.4 * len(reqs)
    assert any(k.startswith("ssv0/") for k in kinds)
    for r in reqs:
        assert r.rnw or not r.ind
        assert r.sid < 1 << TARGET.SIDSIZE and r.ssid < 1 << TARGET.SSIDSIZE
        assert r.ssv or r.ssid == 0
        if r.kind == "mapped":
            route = next(x for x in w.routes() if (x.sid, x.ssv, x.ssid) == (r.sid, r.ssv,
                                                                                r.ssid))
            ctx = w.context_of(route)
            assert route.ok and any(lf.va <= r.addr < lf.va + lf.size for lf in ctx.mapped())
    pages = Counter((r.sid, r.ssid, r.addr >> 12) for r in reqs if r.category == "mapped")
    assert max(pages.values()) > 1  # the same page is asked for again: TLB hits


def test_ttb1_contexts_appear() -> None:
    """A share of contexts has EPD1=0 with a TTB1 table of its own (context 0 always), and
    requests, mutations and ILLEGAL CDs reach that half."""
    n_ctx = n_ttb1 = 0
    kinds, muts = Counter(), Counter()
    for seed in range(12):
        w = make(seed)
        ttb1 = [c for c in w.contexts if not c.template.EPD1]
        assert w.contexts[0] in ttb1
        n_ctx += len(w.contexts)
        n_ttb1 += len(ttb1)
        for c in ttb1:
            assert c.pt1 is not None and c.template.TTB1 == c.pt1.root
            assert c.pt1.leaves and all(lf.va >> 55 & 1 for lf in c.pt1.leaves.values())
            assert all(lf.va >> input_bits(c.template.T1SZ) == (1 << c.template.T1SZ) - 1
                       for lf in c.pt1.leaves.values())
        rng = random.Random(seed + 9)
        for i in range(600):
            r = w.random_request(rng)
            route = next((x for x in w.routes() if (x.sid, x.ssv, x.ssid) ==
                          (r.sid, r.ssv, r.ssid)), None)
            upper = route is not None and w.context_of(route).pt1 is not None \
                and r.addr >> 55 & 1
            if upper:
                kinds[r.kind] += 1
            if i % 20 == 19:
                m = w.mutate(rng)
                if m.va is not None and m.va >> 55 & 1:
                    muts[m.kind] += 1
    assert 0.2 <= n_ttb1 / n_ctx <= 0.6, (n_ttb1, n_ctx)
    assert kinds["mapped"] and kinds["upper_half/ttb1"] and kinds["above_ia/upper"], kinds
    assert kinds["tbi/tbi1=0"] and kinds["tbi/tbi1=1"] and kinds["unmapped/upper"], kinds
    assert set(muts) >= {"remap", "perm", "unmap", "map"}, muts
    # ILLEGAL CDs made from a TTB1 context may break that half (§5.4: TG1, T1SZ, TTB1)
    w = make(0)
    base = w.contexts[0].template
    rng = random.Random(3)
    seen = Counter()
    for _ in range(200):
        bad, reason = illegal_cd(rng, TARGET, base, 0x77)
        seen[reason] += 1
        if reason == "tg1":
            assert bad.TG1 != TG1Granule.SZ_4K
        elif reason == "t1sz":
            assert not 16 <= bad.T1SZ <= 39
        elif reason == "ttb1_ips":
            assert bad.TTB1 >> min(IPSize(bad.IPS).nbits, TARGET.pa_bits)
    assert seen["tg1"] and seen["t1sz"] and seen["ttb1_ips"], seen
    epd1 = dataclasses.replace(base, EPD1=1)
    assert not {illegal_cd(rng, TARGET, epd1, 0x77)[1] for _ in range(200)} & {
        "tg1", "t1sz", "ttb1_ips"}


def test_request_weights_select_categories() -> None:
    from tb.stimgen import RequestWeights

    w = make(2)
    only = RequestWeights(**{c: 0 for c in CATEGORIES} | {"upper_half": 1})
    rng = random.Random(0)
    reqs = [w.random_request(rng, only) for _ in range(50)]
    assert {r.category for r in reqs} == {"upper_half"}
    assert all(r.addr >> 55 & 1 for r in reqs)


def test_small_config_without_substreams() -> None:
    cfg = SmmuConfig(S1P=1, SIDSIZE=6, SSIDSIZE=0, ASID16=0, CD2L=0, TERM_MODEL=1,
                     ST_LEVEL=STLevel.LINEAR)
    w = make(5, cfg)
    assert STRTAB_BASE_CFG.from_int(w.strtab_base_cfg).FMT == StrtabFmt.LINEAR
    assert all(s.cdt is None or s.cdt.s1cdmax == 0 for s in w.streams.values())
    assert all(s.cd.ASID < 256 or not s.legal for s in w.all_cds())
    assert all(s.cd.A == 1 for s in w.all_cds() if s.legal)  # A=0 is ILLEGAL here
    rng = random.Random(1)
    for _ in range(300):
        r = w.random_request(rng)
        assert r.sid < 64 and r.ssid == 0
    assert w.check() == []


# -- mutations ---------------------------------------------------------------------------------
def test_mutations_match_their_record() -> None:
    seen = Counter()
    omitted = 0
    for seed in range(4):
        w = make(seed)
        rng = random.Random(seed + 50)
        for _ in range(120):
            m = w.mutate(rng)
            seen[m.kind] += 1
            for wr in m.writes:
                assert w.mem.peek(wr.addr, len(wr.new)) == wr.new
                assert in_window(wr.addr, len(wr.new))
            if m.invalidated:
                assert m.commands == m.needed
            else:
                omitted += 1
                assert m.commands == () and m.needed
            for cmd in m.needed:
                assert C.decode_command(cmd.to_int()).problems() == []
            if m.kind in ("remap", "perm", "unmap"):
                assert m.needed and all(type(c).__name__.startswith("CmdTlbi") for c in m.needed)
                for c in m.needed:
                    if isinstance(c, C.CmdTlbiNhVa):
                        assert c.ASID == m.asid and c.VMID == 0 and c.Addr >= m.va
            if m.kind == "map":
                assert m.needed == () and m.invalidated
            if m.kind in ("cd_ar", "cd_valid", "cd_retarget", "l1cd"):
                assert all(isinstance(c, (C.CmdCfgiCd, C.CmdCfgiCdAll, C.CmdCfgiSteRange))
                           for c in m.needed)
            if m.kind in ("ste", "l1std"):
                assert all(isinstance(c, (C.CmdCfgiSte, C.CmdCfgiSteRange)) for c in m.needed)
            problems = w.check()
            assert problems == [], (m.kind, m.detail, problems)
    assert set(seen) >= set(MUTATION_KINDS) - {"l1std"}
    assert omitted > 0


# -- directed ----------------------------------------------------------------------------------
@pytest.mark.parametrize("two_level", [False, True])
def test_directed_single_stream_walks_to_the_page(two_level: bool) -> None:
    mem = PhysicalMemory(48)
    va, pa = 0x0000_7F12_3456_7000, 0x0000_8ABC_DEF0_1000
    s = single_stream(mem, WINDOW, sid=0x123, asid=0x42, two_level=two_level,
                      mappings=((va, pa),), AP=pt.AccessPerm.RW_ALL, UXN=1, nG=1)
    b = STRTAB_BASE.from_int(s.strtab_base)
    cfg = STRTAB_BASE_CFG.from_int(s.strtab_base_cfg)
    if two_level:
        l1 = L1STD.from_bytes(mem.peek(b.ADDR + 8 * (0x123 >> cfg.SPLIT), 8))
        ste_addr = l1.L2Ptr + 64 * (0x123 & ((1 << cfg.SPLIT) - 1))
    else:
        ste_addr = b.ADDR + 64 * 0x123
    assert ste_addr == s.ste_addr
    ste = STE.from_bytes(mem.peek(ste_addr, 64))
    assert ste.problems() == [] and ste.S1ContextPtr == s.cd_addr
    cd = CD.from_bytes(mem.peek(s.cd_addr, 64))
    assert cd.problems() == [] and cd.ASID == 0x42 and cd.T0SZ == 16
    table, level = cd.TTB0, start_level(cd.T0SZ)
    while True:
        idx = (va >> level_shift(level)) & 511
        d = pt.decode_descriptor(int.from_bytes(mem.peek(table + 8 * idx, 8), "little"), level)
        if not isinstance(d, pt.TableDescriptor):
            break
        table, level = d.NextTableAddr, level + 1
    assert level == 3 and isinstance(d, pt.PageDescriptor)
    assert (d.OutputAddr, d.AP, d.UXN, d.AF, d.nG) == (pa, pt.AccessPerm.RW_ALL, 1, 1, 1)
    with pytest.raises(ValueError):
        s.map(va, pa)  # already mapped
    assert s.map(0x20_0000, 0x4000_0000, level=2) % 8 == 0


def test_dropping_a_table_keeps_its_ancestors_that_start_at_the_same_va() -> None:
    """A level-3 table for VA 0x80_0000_0000 starts where its level-2 and level-1 ancestors
    start. Dropping it invalidates the level-2 descriptor that points at it; the ancestors
    stay mapped, in memory and in the record, so later mappings under them can use them."""
    from models.memory.alloc import FrameAllocator
    from tb.stimgen.pagetable import PageTable
    mem = PhysicalMemory(48)
    cpt = PageTable(mem, FrameAllocator(mem, WINDOW[0], WINDOW[1]), 16)  # 48-bit IA, L0 start
    va = 0x80_0000_0000
    assert cpt.map(va, 3, pt.PageDescriptor(Valid=1, OutputAddr=0x1000, AF=1).to_int())
    by_level = {lvl: t for t, (lvl, _b) in cpt.tables.items()}
    assert sorted(by_level) == [0, 1, 2, 3]
    gone = cpt.drop_table(by_level[3])
    assert [lf.va for lf in gone] == [va]
    assert cpt.read(cpt.entry_addr(by_level[2], va, 2)) == 0  # the pointer to it is invalid
    assert set(cpt.tables) == {by_level[0], by_level[1], by_level[2]}
    assert cpt.lookup_addr(va, 2) == cpt.entry_addr(by_level[2], va, 2)
    assert cpt.map(va + 0x1000, 3, pt.PageDescriptor(Valid=1, OutputAddr=0x2000, AF=1).to_int())
    assert by_level[3] not in cpt.tables and cpt.check() == []
