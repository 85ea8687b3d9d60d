"""Directed tests of the TTB1 half of a CD: walk, range check, TBI1, EPD1, HAD1, legality, and
the caches keeping the two halves apart.

Every expected value is derived by hand from the quoted IHI 0070 text and the Armv8-A VMSA
(4 KiB granule: level 0 resolves VA[47:39], level 1 VA[38:30], level 2 VA[29:21], level 3
VA[20:12]; the initial lookup level is the one whose table resolves VA[IA-1], IA = 64 - TxSZ,
and that table holds only 2^(IA - shift) entries), never from the model or the RTL. The table
builder below spells that rule out itself instead of using models.arch.geometry. Run one with

    .venv/bin/python -m tb.cli.runner --sim verilator --module tb.directed.ttb1 --test <name>

`tests/test_rtl.py::test_rtl_directed_smoke` runs them all on both simulators.
"""

from __future__ import annotations

import os

import cocotb

from models.arch import commands as C
from models.arch import registers as R
from models.arch.events import EventID
from models.arch.pgtable import PageDescriptor, TableDescriptor
from tb.bfm.monitors import MemReadMonitor
from tb.directed.harness import ABORT, OK, Soft, cd, check, s1_ste
from tb.dut_config import CONFIGS

CFG = CONFIGS[os.environ.get("SMMU_PARAMS", "default")]
# A forced stall model needs CD.S=1 and stalls translation faults, which this RTL does not
# build (see tb/directed/conformance.py).
STALL_FORCED = CFG.STALL_MODEL == R.StallModel.STALL_FORCED
TG1_4K = 0b10   # §5.4 CD.TG1: 0b00 Reserved, 0b01 16KB, 0b10 4KB, 0b11 64KB
MASK64 = (1 << 64) - 1


def upper_cd(ttb0: int, ttb1: int, asid: int, t1sz: int = 16, **kw):
    """A CD with both halves enabled: TTB0 as the harness builds it (T0SZ=16), TTB1 4 KiB."""
    fields = {"EPD1": 0, "TG1": TG1_4K, "T1SZ": t1sz, "TTB1": ttb1}
    fields.update(kw)
    return cd(ttb0, asid=asid, **fields)


def start_level(ia: int) -> int:
    """The level whose table resolves VA[IA-1]: L0 above VA[38], L1 above VA[29], else L2."""
    return 0 if ia > 39 else 1 if ia > 30 else 2


def index(va: int, level: int, ia: int) -> int:
    """VA bits a level resolves: VA[shift+8:shift], at the initial level only up to VA[IA-1]."""
    shift = 39 - 9 * level
    width = ia - shift if level == start_level(ia) else 9
    return (va >> shift) & ((1 << width) - 1)


def build(s: Soft, root: int, va: int, pa: int, ia: int, *, level: int = 3,
          table: dict | None = None, **attrs) -> None:
    """Install a leaf for ``va`` below ``root`` (root aligned to its table size)."""
    t = root
    for lvl in range(start_level(ia), level):
        a = t + 8 * index(va, lvl, ia)
        d = s.mem.read64(a)
        if not d & 1:
            nxt = s.alloc()
            d = TableDescriptor(Valid=1, NextTableAddr=nxt, **(table or {})).to_int()
            s.mem.write64(a, d)
        t = TableDescriptor.from_int(d).NextTableAddr
    fields = {"Valid": 1, "AF": 1, "SH": 3, "AttrIndx": 1, "AP": 0b01, **attrs}
    assert level == 3, "pages only"
    s.mem.write64(t + 8 * index(va, 3, ia), PageDescriptor(OutputAddr=pa, **fields).to_int())


async def reads_of(s: Soft, ar: MemReadMonitor, tag: int, addr: int, sid: int, **kw):
    """The response and the memory-port reads the translation made (start, count)."""
    n0 = ar.n
    r = await s.x.xlate(tag=tag, addr=addr, sid=sid, **kw)
    return r, ar.addrs[n0:]


def events_of(evs) -> list[tuple[int, int, int]]:
    return [(e.EventID, e.StreamID, e.InputAddr) for e in evs]


@cocotb.test(skip=STALL_FORCED)
async def upper_walk_start_levels(dut):
    """§3.4.1: "For VMSAv8-64 ..., the stage 1 translation table, TTB0 or TTB1, is selected
    based on VA[55]." "Input range checks ... for an input range of N significant bits fail
    unless bits VA[AddrTop:N-1] are identical" (AddrTop = 63 without TBI). §5.4 CD.T1SZ:
    "VA region size covered by TTB1 ... the same encoding as CD.T0SZ". §5.4 CD.TTB1: "Bits
    [(x-1):0] are treated as if all the bits are zero, where x is defined by the required
    alignment of the translation table".

    T1SZ at each start-level boundary (IA = 64 - T1SZ; the initial table resolves
    VA[IA-1:shift] only):
      16: IA 48, L0, 512 entries; VA 0xFFFF_8123_4567_8000, VA[47:39] = 0x102
      24: IA 40, L0,   2 entries; VA 0xFFFF_FF81_2345_6000, VA[39]    = 1 (VA[47:39] = 0x1FF)
      25: IA 39, L1, 512 entries; VA 0xFFFF_FFC1_2345_6000, VA[38:30] = 0x104
      33: IA 31, L1,   2 entries; VA 0xFFFF_FFFF_C123_4000, VA[30]    = 1 (VA[38:30] = 0x1FF)
      34: IA 30, L2, 512 entries; VA 0xFFFF_FFFF_E123_4000, VA[29:21] = 0x109
      39: IA 25, L2,  16 entries; VA 0xFFFF_FFFF_FFA3_4000, VA[24:21] = 0xD (VA[29:21] = 0x1FD),
          and TTB1 programmed 0x40 above its 128-byte aligned table: 0x40 is ignored.
    Each first translation reads the STE, the CD, then the initial table's descriptor at
    TTB1 + 8 * index, then one descriptor per further level. Clearing VA[IA] (for IA 48,
    VA[48]) or VA[63] takes the address out of the range: F_TRANSLATION, recorded (CD.R=1)
    with the input address unmodified (§3.4.1: "All input address bits are recorded
    unmodified in SMMU fault event records")."""
    s = Soft(dut)
    cases = {16: (0xFFFF_8123_4567_8000, 0x102), 24: (0xFFFF_FF81_2345_6000, 0x1),
             25: (0xFFFF_FFC1_2345_6000, 0x104), 33: (0xFFFF_FFFF_C123_4000, 0x1),
             34: (0xFFFF_FFFF_E123_4000, 0x109), 39: (0xFFFF_FFFF_FFA3_4000, 0xD)}
    roots, ctxs = {}, {}
    for sid, (t1sz, (va, _)) in enumerate(cases.items(), start=1):
        roots[t1sz] = s.alloc()
        ttb1 = roots[t1sz] + (0x40 if t1sz == 39 else 0)
        ctxs[sid] = s.alloc()
        s.mem.write(ctxs[sid], upper_cd(s.alloc(), ttb1, asid=sid, t1sz=t1sz).to_bytes())
        s.ste(sid, s1_ste(ctxs[sid]))
        build(s, roots[t1sz], va, 0x8_0000_0000 + sid * 0x1000, 64 - t1sz)
    await s.start()
    ar = MemReadMonitor(dut)
    want_ev = []
    for sid, (t1sz, (va, idx)) in enumerate(cases.items(), start=1):
        ia = 64 - t1sz
        r, rd = await reads_of(s, ar, sid, va + 0x123, sid)
        check(r, OK, pa=0x8_0000_0000 + sid * 0x1000 + 0x123, perm=0b111)
        levels = 4 - start_level(ia)
        assert len(rd) == 2 + levels, (t1sz, [hex(a) for a in rd])
        assert rd[1] == ctxs[sid] and rd[2] == roots[t1sz] + 8 * idx, \
            (t1sz, [hex(a) for a in rd])
        for n, bad in enumerate((va ^ (1 << ia), va & ~(1 << 63))):
            r = await s.x.xlate(tag=100 + 2 * sid + n, addr=bad, sid=sid)
            check(r, ABORT, fault=EventID.F_TRANSLATION)
            want_ev.append((EventID.F_TRANSLATION, sid, bad))
    got = await s.events(len(want_ev))
    assert events_of(got) == want_ev, events_of(got)
    assert all(e.CLASS == 0b10 for e in got)


@cocotb.test(skip=STALL_FORCED)
async def tbi1_top_byte(dut):
    """§5.4 CD.TBI1: "Top Byte Ignore for TTB1." §3.4.1: "When TBI is enabled, AddrTop ==
    55, which means that VA[63:56] are ignored ... only VA[55:N-1] must be identical". The
    half is chosen by VA[55] whatever the top byte, and each half obeys its own TBIx.

    SID 1: TBI0=0, TBI1=1. SID 2: TBI0=1, TBI1=0. Both: T0SZ=T1SZ=16, upper page
    0xFFFF_8000_0000_5000 -> 0x9_0000_5000, lower page 0x5000 -> 0xA_0000_5000.
      SID 1: 0x5A<<56 | 0xFF_8000_0000_5008 (TTB1, top byte ignored)     -> OK 0x9_0000_5008
             0x00FF_8000_0000_5008 (VA[55]=1, top byte 0x00)            -> OK 0x9_0000_5008
             0xFF80_8000_0000_5008 (VA[55:48] = 0x80: not all ones)     -> F_TRANSLATION
             0x5A00_0000_0000_5008 (TTB0, no TBI0)                       -> F_TRANSLATION
      SID 2: 0x5AFF_8000_0000_5008 (TTB1, no TBI1)                       -> F_TRANSLATION
             0xFFFF_8000_0000_5008                                       -> OK 0x9_0000_5008
             0x5A00_0000_0000_5008 (TTB0, TBI0)                          -> OK 0xA_0000_5008"""
    s = Soft(dut)
    ttb0, ttb1 = s.alloc(), s.alloc()
    upper, lower = 0xFFFF_8000_0000_5000, 0x5000
    build(s, ttb1, upper, 0x9_0000_5000, 48)
    s.map(ttb0, lower, 0xA_0000_5000)
    for sid, (tbi0, tbi1) in ((1, (0, 1)), (2, (1, 0))):
        ctx = s.alloc()
        s.mem.write(ctx, upper_cd(ttb0, ttb1, asid=sid, TBI0=tbi0, TBI1=tbi1).to_bytes())
        s.ste(sid, s1_ste(ctx))
    await s.start()
    cases = [
        (1, 0x5AFF_8000_0000_5008, 0x9_0000_5008),
        (1, 0x00FF_8000_0000_5008, 0x9_0000_5008),
        (1, 0xFF80_8000_0000_5008, None),
        (1, 0x5A00_0000_0000_5008, None),
        (2, 0x5AFF_8000_0000_5008, None),
        (2, 0xFFFF_8000_0000_5008, 0x9_0000_5008),
        (2, 0x5A00_0000_0000_5008, 0xA_0000_5008),
    ]
    want_ev = []
    for tag, (sid, addr, pa) in enumerate(cases, start=1):
        r = await s.x.xlate(tag=tag, addr=addr, sid=sid)
        if pa is None:
            check(r, ABORT, fault=EventID.F_TRANSLATION)
            want_ev.append((EventID.F_TRANSLATION, sid, addr))
        else:
            check(r, OK, pa=pa)
    got = await s.events(len(want_ev))
    assert events_of(got) == want_ev, events_of(got)


@cocotb.test(skip=STALL_FORCED)
async def epd1_disables_the_upper_walk(dut):
    """§5.4.1.1, the EPDx table: with EPD0=0, EPD1=1 an 0xFFFF... address gives "TLB miss
    causes F_TRANSLATION (translation through TTB1 is disabled)" and an 0x0000... address
    "Translates through TTB0"; with EPD0=1, EPD1=0 an 0xFFFF... address "Translates through
    TTB1" and an 0x0000... address takes F_TRANSLATION. "EPDx == 1 causes TxSZ to be IGNORED
    and an invalid TxSZ value (or an invalid TTBx or TGx value) does not lead to C_BAD_CD":
    SID 1 has TG1=0b00 (Reserved) and T1SZ=0, SID 2 has TG0=0b11 (Reserved) and T0SZ=0.
    The pages are non-global (nG=1), so that neither SID's IOTLB entries serve the other
    (with a TLB hit the architecture allows the access despite EPDx)."""
    s = Soft(dut)
    ttb0, ttb1 = s.alloc(), s.alloc()
    upper, lower = 0xFFFF_8000_0000_7000, 0x7000
    build(s, ttb1, upper, 0x9_0000_7000, 48, nG=1)
    s.map(ttb0, lower, 0xA_0000_7000, nG=1)
    c1, c2 = s.alloc(), s.alloc()
    s.mem.write(c1, upper_cd(ttb0, ttb1, asid=1, EPD1=1, TG1=0b00, T1SZ=0).to_bytes())
    s.mem.write(c2, upper_cd(ttb0, ttb1, asid=2, EPD0=1, TG0=0b11, T0SZ=0).to_bytes())
    s.ste(1, s1_ste(c1))
    s.ste(2, s1_ste(c2))
    await s.start()
    check(await s.x.xlate(tag=1, addr=lower + 8, sid=1), OK, pa=0xA_0000_7008)
    check(await s.x.xlate(tag=2, addr=upper + 8, sid=1), ABORT, fault=EventID.F_TRANSLATION)
    check(await s.x.xlate(tag=3, addr=upper + 8, sid=2), OK, pa=0x9_0000_7008)
    check(await s.x.xlate(tag=4, addr=lower + 8, sid=2), ABORT, fault=EventID.F_TRANSLATION)
    got = await s.events(2)
    assert events_of(got) == [(EventID.F_TRANSLATION, 1, upper + 8),
                              (EventID.F_TRANSLATION, 2, lower + 8)], events_of(got)


@cocotb.test(skip=STALL_FORCED)
async def ttb1_fields_make_the_cd_illegal(dut):
    """§5.4 CD.TG1: "Use of an unsupported size or Reserved value is ILLEGAL, except this
    field is IGNORED if the effective value of CD.EPD1 == 1" (0b00 Reserved; 16KB and 64KB
    unsupported: SMMU_IDR5.GRAN16K = GRAN64K = 0, read below). CD.T0SZ (T1SZ has "the same
    encoding"): "If SMMU_IDR3.STT == 0, the maximum valid value is 39 ... Otherwise, the
    minimum valid value is 16"; a value outside is ILLEGAL from SMMUv3.1 and CONSTRAINED
    UNPREDICTABLE (ILLEGAL, or clamped) in SMMUv3.0, where this SMMU takes ILLEGAL
    (docs/port-contract.md). CD.TTB1: "it is ILLEGAL for the address in this field to be
    outside the range described by the effective IPS value of the CD". §5.4.1.1 table: with
    EPD1=0 an invalid T1SZ gives C_BAD_CD for 0x0000... addresses too, so every CD here is
    tried with a TTB0 address and an upper one. The control CD (TG1=0b10, T1SZ=39, TTB1 in
    range) translates."""
    s = Soft(dut)
    ttb0, ttb1 = s.alloc(), s.alloc()
    s.map(ttb0, 0x3000, 0xA_0000_3000)
    bad = {
        1: {"TG1": 0b00}, 2: {"TG1": 0b01}, 3: {"TG1": 0b11},
        4: {"T1SZ": 15}, 5: {"T1SZ": 40},
        6: {"IPS": 2, "TTB1": 1 << 40},          # 40-bit IPS
        7: {"TTB1": 1 << 48},                    # IPS 0b101 (48 bits), OAS 48 or more
    }
    for sid, kw in bad.items():
        ctx = s.alloc()
        s.mem.write(ctx, upper_cd(ttb0, ttb1, asid=sid, **kw).to_bytes())
        s.ste(sid, s1_ste(ctx))
    ctx = s.alloc()
    s.mem.write(ctx, upper_cd(ttb0, ttb1, asid=9, t1sz=39).to_bytes())
    s.ste(9, s1_ste(ctx))
    await s.start()
    idr5 = R.IDR5.from_int(await s.r32("IDR5"))
    assert (idr5.GRAN4K, idr5.GRAN16K, idr5.GRAN64K) == (1, 0, 0), idr5
    want = []
    tag = 0
    for sid in bad:
        for addr in (0x3008, 0xFFFF_FFFF_FFA3_4008):
            tag += 1
            check(await s.x.xlate(tag=tag, addr=addr, sid=sid), ABORT, fault=EventID.C_BAD_CD)
            want.append((EventID.C_BAD_CD, sid))
    check(await s.x.xlate(tag=50, addr=0x3008, sid=9), OK, pa=0xA_0000_3008)
    got = await s.events(len(want))
    assert [(e.EventID, e.StreamID) for e in got] == want, got


async def twin_halves(s: Soft, lo: int, hi: int, glo: int, ghi: int, *,
                      asid: int) -> tuple[int, int]:
    """SID 1 with both halves: two non-global pages at ``lo`` (TTB0, PAs 0xA_...) and ``hi``
    (TTB1, 0xB_...), a global page at ``glo`` (0xC_...) and ``ghi`` (0xD_...); SMMU on.
    Returns (TTB0, TTB1)."""
    ttb0, ttb1 = s.alloc(), s.alloc()
    for i in range(2):
        s.map(ttb0, lo + 0x1000 * i, 0xA_0000_0000 + 0x1000 * i, nG=1)
        build(s, ttb1, hi + 0x1000 * i, 0xB_0000_0000 + 0x1000 * i, 48, nG=1)
    s.map(ttb0, glo, 0xC_0000_0000, nG=0)
    build(s, ttb1, ghi, 0xD_0000_0000, 48, nG=0)
    ctx = s.alloc()
    s.mem.write(ctx, upper_cd(ttb0, ttb1, asid=asid).to_bytes())
    s.ste(1, s1_ste(ctx))
    await s.start()
    return ttb0, ttb1


@cocotb.test(skip=STALL_FORCED)
async def halves_cached_apart(dut):
    """§3.4.1: VA[55] selects TTB0 or TTB1, so 0x0000_7F12_3456_7000 and
    0xFFFF_7F12_3456_7000 (the same VA[47:12], T0SZ = T1SZ = 16) are different pages of one
    ASID, walked from different tables; a cached translation of one must never answer the
    other (nG=1 pair, then an nG=0 pair: a global entry still belongs to its VA). Expected
    PAs come from the tables. The read counts are this implementation's (docs/rtl.md): a
    cold walk from a cached context reads 4 descriptors, an IOTLB hit none, a page next to
    one walked before reads 1 (its level-2 chain is in the walk cache, per half), and a page
    in another 2 MiB region of the same 1 GiB region reads 2 (its level-1 chain, per half)."""
    s = Soft(dut)
    lo, hi = 0x0000_7F12_3456_7000, 0xFFFF_7F12_3456_7000
    glo, ghi = 0x0000_7F12_3480_0000, 0xFFFF_7F12_3480_0000   # another 2 MiB region
    await twin_halves(s, lo, hi, glo, ghi, asid=1)
    ar = MemReadMonitor(dut)
    steps = [  # (address, PA, reads)
        (lo + 0x10, 0xA_0000_0010, 6),           # STE, CD, 4 levels
        (hi + 0x10, 0xB_0000_0010, 4),
        (lo + 0x20, 0xA_0000_0020, 0),
        (hi + 0x20, 0xB_0000_0020, 0),
        (hi + 0x1030, 0xB_0000_1030, 1),
        (lo + 0x1030, 0xA_0000_1030, 1),
        (glo + 0x40, 0xC_0000_0040, 2),
        (ghi + 0x40, 0xD_0000_0040, 2),
        (glo + 0x50, 0xC_0000_0050, 0),
        (ghi + 0x50, 0xD_0000_0050, 0),
    ]
    for tag, (addr, pa, n) in enumerate(steps, start=1):
        r, rd = await reads_of(s, ar, tag, addr, 1)
        check(r, OK, pa=pa)
        assert len(rd) == n, (hex(addr), [hex(a) for a in rd])
    assert await s.events() == []


@cocotb.test(skip=STALL_FORCED)
async def tlbi_va_of_one_half(dut):
    """§4.4.2.4 CMD_TLBI_NH_VA: "Invalidate stage 1 NS-EL1 mappings ... for the given VA
    and ASID" (global ones for any ASID); §4.4.2: "The Address parameters of these commands
    are VAs". An upper and a lower page with the same VA[47:12] are both cached, then both
    remapped in memory. A TLBI_NH_VA of the upper VA must remove the upper page's entry
    (the next translation uses the new table contents). The lower entry is another VA: the
    architecture lets an implementation invalidate more, so that it keeps answering with the
    old PA is this implementation's precision (docs/rtl.md), checked here; a TLBI_NH_VA of
    the lower VA then removes it. The same for TLBI_NH_VAA on a global pair. Leaf=0 of the
    upper VA drops the upper walk-cache chain (the neighbour page reads 4 descriptors) and
    keeps the lower one (1 read)."""
    s = Soft(dut)
    lo, hi = 0x0000_4000_1234_5000, 0xFFFF_4000_1234_5000
    glo, ghi = 0x0000_4000_1280_0000, 0xFFFF_4000_1280_0000
    ttb0, ttb1 = await twin_halves(s, lo, hi, glo, ghi, asid=3)
    ar = MemReadMonitor(dut)
    for tag, (addr, pa) in enumerate(((lo, 0xA_0000_0000), (hi, 0xB_0000_0000),
                                      (glo, 0xC_0000_0000), (ghi, 0xD_0000_0000)), start=1):
        check(await s.x.xlate(tag=tag, addr=addr + 8, sid=1), OK, pa=pa + 8)
    # new output addresses in memory for all four pages, no invalidation yet
    s.map(ttb0, lo, 0xE_0000_0000, nG=1)
    build(s, ttb1, hi, 0xF_0000_0000, 48, nG=1)
    s.map(ttb0, glo, 0xE_1000_0000, nG=0)
    build(s, ttb1, ghi, 0xF_1000_0000, 48, nG=0)
    await s.sync(C.CmdTlbiNhVa(ASID=3, Leaf=1, Addr=hi))
    check(await s.x.xlate(tag=11, addr=hi + 8, sid=1), OK, pa=0xF_0000_0008)
    check(await s.x.xlate(tag=12, addr=lo + 8, sid=1), OK, pa=0xA_0000_0008)
    await s.sync(C.CmdTlbiNhVa(ASID=3, Leaf=1, Addr=lo))
    check(await s.x.xlate(tag=13, addr=lo + 8, sid=1), OK, pa=0xE_0000_0008)
    await s.sync(C.CmdTlbiNhVaa(Leaf=1, Addr=ghi))
    check(await s.x.xlate(tag=14, addr=ghi + 8, sid=1), OK, pa=0xF_1000_0008)
    check(await s.x.xlate(tag=15, addr=glo + 8, sid=1), OK, pa=0xC_0000_0008)
    await s.sync(C.CmdTlbiNhVaa(Leaf=1, Addr=glo))
    check(await s.x.xlate(tag=16, addr=glo + 8, sid=1), OK, pa=0xE_1000_0008)
    # walk cache: Leaf=0 on the upper VA
    await s.sync(C.CmdTlbiNhVa(ASID=3, Leaf=0, Addr=hi))
    r, rd = await reads_of(s, ar, 17, hi + 0x1008, 1)
    check(r, OK, pa=0xB_0000_1008)
    assert len(rd) == 4, [hex(a) for a in rd]
    r, rd = await reads_of(s, ar, 18, lo + 0x1008, 1)
    check(r, OK, pa=0xA_0000_1008)
    assert len(rd) == 1, [hex(a) for a in rd]
    assert await s.events() == []


@cocotb.test(skip=STALL_FORCED)
async def had1_hierarchical_attributes(dut):
    """§5.4 CD.HAD1: "Hierarchical Attribute Disable for the CD.TTB1 region"; CD.HAD0: "The
    presence of this feature can be determined from SMMU_IDR3.HAD; if SMMU_IDR3.HAD == 0,
    this field and CD.HAD1 are IGNORED. Otherwise: When this field is 1, the APTable,
    PXNTable and XNTable/UXNTable fields of table descriptors walked through CD.TTB0 become
    IGNORED" (HAD1: the same for TTB1). VMSA: APTable = 0b10 forbids writes below the table
    descriptor.

    Both halves map a writable, non-global page (the SIDs have their own ASIDs and IOTLB
    entries) under a level-0 table descriptor with APTable=0b10.
    SID 1 has HAD0=0, HAD1=1; SID 2 has HAD0=1, HAD1=0. A privileged write: where the
    half's HADx applies (IDR3.HAD=1 and HADx=1) it is allowed, everywhere else it takes
    F_PERMISSION."""
    s = Soft(dut)
    ttb0, ttb1 = s.alloc(), s.alloc()
    lo, hi = 0x0000_1000_0000_6000, 0xFFFF_1000_0000_6000
    s.map(ttb0, lo, 0xA_0000_6000, AP=0b00, nG=1)
    build(s, ttb1, hi, 0xB_0000_6000, 48, AP=0b00, nG=1)
    for t in (ttb0 + 8 * (lo >> 39 & 0x1FF), ttb1 + 8 * (hi >> 39 & 0x1FF)):
        d = TableDescriptor.from_int(s.mem.read64(t))
        s.mem.write64(t, TableDescriptor(Valid=1, NextTableAddr=d.NextTableAddr,
                                         APTable=0b10).to_int())
    for sid, (had0, had1) in ((1, (0, 1)), (2, (1, 0))):
        ctx = s.alloc()
        s.mem.write(ctx, upper_cd(ttb0, ttb1, asid=sid, HAD0=had0, HAD1=had1).to_bytes())
        s.ste(sid, s1_ste(ctx))
    await s.start()
    had = R.IDR3.from_int(await s.r32("IDR3")).HAD
    want = []
    tag = 0
    for sid, (had0, had1) in ((1, (0, 1)), (2, (1, 0))):
        for addr, pa, hadx in ((lo + 8, 0xA_0000_6008, had0), (hi + 8, 0xB_0000_6008, had1)):
            tag += 1
            r = await s.x.xlate(tag=tag, addr=addr, sid=sid, rnw=0, pnu=1)
            if had and hadx:
                check(r, OK, pa=pa, perm=0b111)
            else:
                check(r, ABORT, fault=EventID.F_PERMISSION)
                want.append((EventID.F_PERMISSION, sid, addr))
    got = await s.events(len(want))
    assert events_of(got) == want, events_of(got)
    dut._log.info("IDR3.HAD=%d", had)
