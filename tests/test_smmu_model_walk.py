"""Reference model: stage-1 walks, faults and permissions (reference §9 items 11-13, 16, 17)."""

from __future__ import annotations

import pytest

from models.arch import registers as R
from models.arch.events import EventClass, EventID, make_event
from models.arch.pgtable import AccessPerm, Shareability
from models.arch.ste import StreamWorld
from models.smmu.config import DEFAULT
from models.smmu.port import PERM_R, PERM_W, PERM_X, Result
from tests.test_smmu_model_helpers import Bench, PageTable

OK, ABORT, RAZ = Result.OK_TRANSLATED, Result.ABORT, Result.RAZ_WI
SID = 4


def setup(t0sz: int = 16, cfg=DEFAULT, ste: dict | None = None, **cd: int
          ) -> tuple[Bench, PageTable]:
    b = Bench(cfg)
    pt = b.pt(t0sz)
    b.s1_stream(SID, b.cd(pt, T0SZ=t0sz, **cd), **(ste or {}))
    return b, pt


def xlate_event(eid: EventID, va: int, *, rnw: int = 1, ind: int = 0, pnu: int = 0) -> int:
    return make_event(eid, StreamID=SID, RnW=rnw, InD=ind, PnU=pnu, CLASS=EventClass.IN,
                      InputAddr=va).to_int()


def descriptor_reads(b: Bench) -> int:
    return sum(1 for a in b.mem.take_log() if a.op == "r" and a.size == 8)


# ---- walks ----------------------------------------------------------------------------------
@pytest.mark.parametrize("t0sz,va,levels", [
    (16, 0x0000_7FAB_CDEF_1234, 4),  # 48-bit VA: L0..L3
    (25, 0x0000_007F_1234_5678, 3),  # 39-bit VA: L1..L3
    (34, 0x0000_0000_3ABC_D123, 2),  # 30-bit VA: L2..L3
    (39, 0x0000_0000_01FF_F0F0, 2),  # 25-bit VA: L2 with 16 entries
])
def test_walk_levels(t0sz: int, va: int, levels: int) -> None:
    b, pt = setup(t0sz)
    pt.map(va & ~0xFFF, 0x5_4321_0000, AttrIndx=3, SH=Shareability.OSH)
    b.mem.enable_log()
    r = b.xlate(SID, va)
    assert (r.result, r.pa, r.attr, r.sh) == (OK, 0x5_4321_0000 | (va & 0xFFF), 0x44, 0b10)
    assert descriptor_reads(b) == levels
    beyond = va | (1 << (64 - t0sz))  # first VA bit above IA
    assert b.xlate(SID, beyond).fault == EventID.F_TRANSLATION


def test_blocks() -> None:
    b, pt = setup()
    pt.map(0x4000_0000, 0x8_0000_0000, level=1)
    pt.map(0x20_0000_0000 + 0x60_0000, 0x1234_0000_0000 | 0x20_0000, level=2)
    assert b.xlate(SID, 0x7654_3210).pa == 0x8_3654_3210
    assert b.xlate(SID, 0x20_0000_0000 + 0x7F_FFFF).pa == 0x1234_003F_FFFF


def test_tbi() -> None:
    b, pt = setup(TBI0=1)
    pt.map(0x1000, 0x9000)
    assert b.xlate(SID, 0xAB00_0000_0000_1010).pa == 0x9010
    b2, pt2 = setup(TBI0=0)
    pt2.map(0x1000, 0x9000)
    r = b2.xlate(SID, 0xAB00_0000_0000_1010)
    assert (r.result, r.fault) == (ABORT, EventID.F_TRANSLATION)
    assert [e.to_int() for e in b2.events()] == [xlate_event(EventID.F_TRANSLATION,
                                                             0xAB00_0000_0000_1010)]


def test_upper_range_epd1_and_ttb1() -> None:
    b, pt = setup()
    pt.map(0xFFFF_8000_0000_1000 & ((1 << 48) - 1), 0x9000)
    assert b.xlate(SID, 0xFFFF_8000_0000_1000).fault == EventID.F_TRANSLATION  # EPD1=1
    b2 = Bench()
    upper = b2.pt()
    upper.map(0xFFFF_8000_0000_1000, 0x9000)
    b2.s1_stream(SID, b2.cd(b2.pt(), EPD1=0, T1SZ=16, TG1=0b10, TTB1=upper.root))
    assert b2.xlate(SID, 0xFFFF_8000_0000_1234).pa == 0x9234
    assert b2.xlate(SID, 0xFF7F_8000_0000_1234).fault == EventID.F_TRANSLATION


def test_disabled_ttb1_with_t1sz_below_8_and_tbi1() -> None:
    """§5.4: T1SZ is "IGNORED if the effective value of CD.EPD1 == 1", TBI1 is not, so
    EPD1=1, T1SZ=0, TBI1=1 is a legal CD; an upper address takes F_TRANSLATION (§5.4.1.1)."""
    b, _pt = setup(T1SZ=0, TBI1=1)
    for addr in (0xFFFF_8000_0000_1000, 0x00FF_8000_0000_1000, 0x0080_0000_0000_1000):
        assert b.xlate(SID, addr).fault == EventID.F_TRANSLATION


def test_epd0() -> None:
    b, pt = setup(EPD0=1)
    pt.map(0x1000, 0x9000)
    assert b.xlate(SID, 0x1000).fault == EventID.F_TRANSLATION


# ---- 11. translation faults -----------------------------------------------------------------
VA = 0x0000_1234_5678_9000


@pytest.mark.parametrize("case", ["L0", "L1", "L2", "L3", "L0 block", "L3 type 01"])
def test_translation_fault(case: str) -> None:
    b, pt = setup()
    if case != "L0":
        neighbour = {"L1": 1 << 30, "L2": 1 << 21, "L3": 1 << 12}.get(case, 1 << 12)
        pt.map(VA ^ neighbour, 0x9000)  # the tables down to the level exist
    if case == "L0 block":
        pt.set_raw(VA, 0, 0x40_0000_0000 | 0x401)
    if case == "L3 type 01":
        pt.set_raw(VA, 3, 0x8000 | 0x401)
    r = b.xlate(SID, VA | 0x10, rnw=0, pnu=1)
    assert (r.result, r.pa, r.fault) == (ABORT, 0, EventID.F_TRANSLATION)
    assert [e.to_int() for e in b.events()] == [
        xlate_event(EventID.F_TRANSLATION, VA | 0x10, rnw=0, pnu=1)]


# ---- 13. address size and walk aborts -------------------------------------------------------
def test_output_address_beyond_ips() -> None:
    b, pt = setup(IPS=R.OAS.PA32)
    pt.map(0x1000, 0x1_0000_0000)
    pt.map(0x2000, 0xFFFF_F000)
    assert b.xlate(SID, 0x2000).pa == 0xFFFF_F000
    r = b.xlate(SID, 0x1000)
    assert (r.result, r.fault) == (ABORT, EventID.F_ADDR_SIZE)
    assert [e.to_int() for e in b.events()] == [xlate_event(EventID.F_ADDR_SIZE, 0x1000)]


def test_effective_ips_is_min_with_oas() -> None:
    b, pt = setup(cfg=DEFAULT.replace(OAS=R.OAS.PA40), IPS=R.OAS.PA48)
    pt.map(0x1000, 1 << 40)
    pt.map(0x2000, (1 << 40) - 0x1000)
    assert b.xlate(SID, 0x1000).fault == EventID.F_ADDR_SIZE
    assert b.xlate(SID, 0x2000).pa == (1 << 40) - 0x1000


def test_table_address_beyond_ips() -> None:
    b, pt = setup(IPS=R.OAS.PA32)
    pt.map(0x1000, 0x9000)
    raw = b.mem.read64(pt.desc_addr(0x1000, 1))
    pt.set_raw(0x1000, 1, raw | (1 << 33))
    assert b.xlate(SID, 0x1000).fault == EventID.F_ADDR_SIZE


@pytest.mark.parametrize("r_bit", [0, 1])
def test_walk_external_abort(r_bit: int) -> None:
    b, pt = setup(R=r_bit, A=0)
    pt.map(0x1000, 0x9000)
    addr = pt.desc_addr(0x1000, 2)
    b.mem.add_fault(addr, addr + 8)
    r = b.xlate(SID, 0x1008, rnw=0)
    # F_WALK_EABT is not a translation-class fault: always an abort and always recorded.
    assert (r.result, r.fault) == (ABORT, EventID.F_WALK_EABT)
    want = make_event(EventID.F_WALK_EABT, StreamID=SID, RnW=0, CLASS=EventClass.TT,
                      InputAddr=0x1008, FetchAddr=addr).to_int()
    assert [e.to_int() for e in b.events()] == [want]


# ---- 14 (no HTTU). access flag --------------------------------------------------------------
def test_access_flag() -> None:
    b, pt = setup()
    pt.map(0x1000, 0x9000, AF=0, AP=AccessPerm.RO_ALL)
    assert b.xlate(SID, 0x1000).fault == EventID.F_ACCESS
    assert b.xlate(SID, 0x1000, rnw=0).fault == EventID.F_ACCESS  # wins over F_PERMISSION
    b2, pt2 = setup(AFFD=1)
    pt2.map(0x1000, 0x9000, AF=0)
    assert b2.xlate(SID, 0x1000).pa == 0x9000


# ---- 16. permissions ------------------------------------------------------------------------
R_, W_, X_ = PERM_R, PERM_W, PERM_X
# Hand-derived from reference §4.3: (AP, privileged) -> {X, W, R} granted.
BASE = {(0b00, 1): R_ | W_ | X_, (0b01, 1): R_ | W_, (0b10, 1): R_ | X_, (0b11, 1): R_ | X_,
        (0b00, 0): X_, (0b01, 0): R_ | W_ | X_, (0b10, 0): X_, (0b11, 0): R_ | X_}
VARIANTS = {
    "plain": ({}, {}, BASE),
    "UXN": ({"UXN": 1}, {}, {k: v & ~X_ if not k[1] else v for k, v in BASE.items()}),
    "PXN": ({"PXN": 1}, {}, {k: v & ~X_ if k[1] else v for k, v in BASE.items()}),
    "WXN": ({}, {"WXN": 1}, {**BASE, (0b00, 1): R_ | W_, (0b01, 0): R_ | W_}),
    "PAN": ({}, {"PAN": 1}, {**BASE, (0b01, 1): 0, (0b11, 1): X_}),
}
ACCESSES = {"read": (1, 0, R_), "write": (0, 0, W_), "exec": (1, 1, X_)}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("ap", [0, 1, 2, 3])
@pytest.mark.parametrize("priv", [0, 1])
@pytest.mark.parametrize("access", ACCESSES)
def test_permission_matrix(variant: str, ap: int, priv: int, access: str) -> None:
    leaf, cd, table = VARIANTS[variant]
    b, pt = setup(**cd)
    pt.map(0x3000, 0xC000, AP=ap, **leaf)
    rnw, ind, need = ACCESSES[access]
    granted = table[(ap, priv)]
    r = b.xlate(SID, 0x3040, rnw=rnw, ind=ind, pnu=priv)
    if granted & need:
        assert (r.result, r.pa, r.perm) == (OK, 0xC040, granted)
    else:
        assert (r.result, r.fault) == (ABORT, EventID.F_PERMISSION)
        assert [e.to_int() for e in b.events()] == [
            xlate_event(EventID.F_PERMISSION, 0x3040, rnw=rnw, ind=ind, pnu=priv)]


def test_hierarchical_table_attributes() -> None:
    b, pt = setup()
    pt.map(0x1000, 0x9000, AP=AccessPerm.RW_ALL)
    pt.table_attrs(0x1000, 1, APTable=0b10)  # no write below
    assert b.xlate(SID, 0x1000, rnw=0).fault == EventID.F_PERMISSION
    assert b.xlate(SID, 0x1000).perm == R_ | X_
    pt.table_attrs(0x1000, 1, APTable=0b01, UXNTable=1)  # no EL0 access, no EL0 exec below
    b.smmu.caches.clear()  # table attributes live in cached walks: start cold
    assert b.xlate(SID, 0x1000).fault == EventID.F_PERMISSION
    assert b.xlate(SID, 0x1000, ind=1).fault == EventID.F_PERMISSION
    # Effective AP = 0b00: EL1 read/write, and no longer EL0-writable, so EL1 may execute.
    assert b.xlate(SID, 0x1000, rnw=0, pnu=1).perm == R_ | W_ | X_
    pt.table_attrs(0x1000, 1, APTable=0, UXNTable=0, PXNTable=1)
    b.smmu.caches.clear()
    assert b.xlate(SID, 0x1000, ind=1, pnu=1).fault == EventID.F_PERMISSION


def test_ste_privcfg_instcfg_override() -> None:
    b, pt = setup(ste={"PRIVCFG": 0b11, "INSTCFG": 0b11})
    pt.map(0x1000, 0x9000, AP=AccessPerm.RW_PRIV, UXN=1)
    r = b.xlate(SID, 0x1000, rnw=0, pnu=0)  # forced privileged; writes stay data accesses
    assert (r.result, r.perm) == (OK, R_ | W_ | X_)
    b2, pt2 = setup(ste={"PRIVCFG": 0b10, "INSTCFG": 0b11})
    pt2.map(0x1000, 0x9000, AP=AccessPerm.RW_ALL, UXN=1)
    r = b2.xlate(SID, 0x1000, rnw=1, ind=0, pnu=1)  # forced unprivileged instruction fetch
    assert r.fault == EventID.F_PERMISSION
    assert [e.to_int() for e in b2.events()] == [
        xlate_event(EventID.F_PERMISSION, 0x1000, rnw=1, ind=1, pnu=0)]


# ---- 17. fault behaviour {A, R} -------------------------------------------------------------
@pytest.mark.parametrize("a,r", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_fault_behaviour(a: int, r: int) -> None:
    b, _pt = setup(A=a, R=r)
    resp = b.xlate(SID, 0x5000, rnw=0)
    assert (resp.result, resp.pa, resp.fault) == (ABORT if a else RAZ, 0, EventID.F_TRANSLATION)
    assert len(b.events()) == r


def test_config_faults_ignore_cd_r() -> None:
    b = Bench()
    b.s1_stream(SID, b.cd(None, R=0, A=0, V=0))
    assert b.xlate(SID, 0x1000).result == ABORT
    assert len(b.events()) == 1


def test_el2_streamworld_is_illegal_without_hyp() -> None:
    b, _pt = setup(ste={"STRW": StreamWorld.EL2})
    assert b.xlate(SID, 0).fault == EventID.C_BAD_STE
