"""Reference model: hardware update of the access flag and dirty state (HTTU, SPEC §3.13;
reference fault-paths.md §2.2, smmuv3.md §4.4, §9 items 14 and 15). Expected values are
written from those rules, not read off the model:

- CD.HA: a leaf with AF=0 that would give F_ACCESS gets AF set, with no event (§3.13.2);
- CD.HD with IDR0.HTTU=0b10: a write to a leaf with DBM=1 that is read-only only because of
  AP[2] gets AP[2] cleared (§3.13.3); never AP[2] set, AF cleared or DBM touched;
- without HA (or without HTTU) AF=0 is F_ACCESS, before a permission fault;
- an external abort on the update is F_WALK_EABT;
- the updates are compare-and-swaps of the descriptor.
"""

from __future__ import annotations

import pytest

from models.arch import registers as R
from models.arch.events import EventID
from models.arch.pgtable import PTE_AF, PTE_DBM, PTE_RDONLY, AccessPerm
from models.smmu.config import DEFAULT
from models.smmu.port import PERM_R, PERM_W, Result
from tests.test_smmu_model_helpers import Bench

HTTU = DEFAULT.replace(HTTU=R.HTTU.ACCESS_DIRTY)
SID = 3
VA = 0x12_3456_7000
PA = 0x4_0000_0000


def setup(cfg=HTTU, **cd: int):
    b = Bench(cfg)
    pt = b.pt()
    b.s1_stream(SID, b.cd(pt, **cd))
    return b, pt


def test_ha_sets_af_instead_of_f_access() -> None:
    """§3.13.2: AF=0 with CD.HA=1: the translation succeeds and AF is 1 in memory, nothing
    else in the descriptor changed, no record."""
    b, pt = setup(HA=1)
    addr = pt.map(VA, PA, AF=0)
    before = b.mem.read64(addr)
    r = b.xlate(SID, VA + 0x10)
    assert (r.result, r.pa) == (Result.OK_TRANSLATED, PA + 0x10)
    assert b.mem.read64(addr) == before | PTE_AF
    assert b.events() == []


@pytest.mark.parametrize("cfg", [HTTU, DEFAULT], ids=["no_ha", "no_httu"])
def test_without_ha_af_0_is_f_access_before_a_permission_fault(cfg) -> None:
    """Without CD.HA (or without IDR0.HTTU, where HA must be 0): AF=0 gives F_ACCESS, also for
    a write to a read-only page (the access flag fault comes first, §4.5); memory unchanged."""
    b, pt = setup(cfg)
    addr = pt.map(VA, PA, AF=0, AP=AccessPerm.RO_ALL)
    before = b.mem.read64(addr)
    assert b.xlate(SID, VA, rnw=0).fault == EventID.F_ACCESS
    assert b.mem.read64(addr) == before


def test_hd_clears_ap2_of_a_clean_dbm_page_on_a_write() -> None:
    """§3.13.3: a write to DBM=1, AP[2]=1 with CD.HD: AP[2] cleared (and AF set, with HA), the
    write goes through with W; DBM stays 1. A read of such a page changes nothing."""
    b, pt = setup(HA=1, HD=1)
    addr = pt.map(VA, PA, AP=AccessPerm.RO_ALL, DBM=1)
    before = b.mem.read64(addr)
    r = b.xlate(SID, VA)  # a read: nothing to update
    assert r.result == Result.OK_TRANSLATED and not r.perm & PERM_W
    assert b.mem.read64(addr) == before
    r = b.xlate(SID, VA + 8, rnw=0)
    assert (r.result, r.perm & (PERM_R | PERM_W)) == (Result.OK_TRANSLATED, PERM_R | PERM_W)
    after = b.mem.read64(addr)
    assert after == before & ~PTE_RDONLY and after & PTE_DBM
    assert b.events() == []


def test_no_dirty_update_without_dbm_or_with_aptable_or_without_hd() -> None:
    """Only a page read-only *solely* because of AP[2] with DBM=1 is made writable, and only
    with CD.HD: DBM=0, APTable[1]=1 or HD=0 give F_PERMISSION and leave memory alone."""
    b, pt = setup(HA=1, HD=1)
    no_dbm = pt.map(VA, PA, AP=AccessPerm.RO_ALL, DBM=0)
    assert b.xlate(SID, VA, rnw=0).fault == EventID.F_PERMISSION
    va2 = VA + (1 << 21)  # another level-2 table: APTable[1] on its table descriptor
    table_ro = pt.map(va2, PA + 0x1000, AP=AccessPerm.RO_ALL, DBM=1)
    pt.table_attrs(va2, 2, APTable=0b10)
    assert b.xlate(SID, va2, rnw=0).fault == EventID.F_PERMISSION
    assert not b.mem.read64(no_dbm) & PTE_DBM and b.mem.read64(table_ro) & PTE_RDONLY
    b2, pt2 = setup(HA=1, HD=0)
    addr = pt2.map(VA, PA, AP=AccessPerm.RO_ALL, DBM=1)
    assert b2.xlate(SID, VA, rnw=0).fault == EventID.F_PERMISSION
    assert b2.mem.read64(addr) & PTE_RDONLY


def test_hd_needs_httu_access_dirty() -> None:
    """CD.HD is ILLEGAL with IDR0.HTTU=0b01 (C_BAD_CD): no dirty update there."""
    b, pt = setup(DEFAULT.replace(HTTU=R.HTTU.ACCESS), HA=1, HD=1)
    pt.map(VA, PA, AP=AccessPerm.RO_ALL, DBM=1)
    assert b.xlate(SID, VA, rnw=0).fault == EventID.C_BAD_CD


def test_a_page_forbidden_even_so_is_f_permission_without_update() -> None:
    """AF=0 on a page the request may not use at all: F_PERMISSION, and this SMMU leaves AF
    as it was (whether it is set is UNKNOWN, §3.13.2)."""
    b, pt = setup(HA=1)
    addr = pt.map(VA, PA, AF=0, AP=AccessPerm.RW_PRIV)  # no EL0 access
    before = b.mem.read64(addr)
    assert b.xlate(SID, VA, pnu=0).fault == EventID.F_PERMISSION
    assert b.mem.read64(addr) == before


def test_an_external_abort_on_the_update_is_f_walk_eabt() -> None:
    """An external abort on the flag update is F_WALK_EABT with the descriptor's address
    (smmuv3.md §4.4); the descriptor is unchanged."""
    b, pt = setup(HA=1)
    addr = pt.map(VA, PA, AF=0)
    before = b.mem.read64(addr)
    b.mem.add_fault(addr, addr + 8, on="w")
    r = b.xlate(SID, VA)
    assert r.fault == EventID.F_WALK_EABT
    (ev,) = b.events()
    assert (ev.EventID, ev.FetchAddr) == (EventID.F_WALK_EABT, addr)
    assert b.mem.read64(addr) == before


def test_the_update_is_a_compare_and_swap_and_the_tlb_holds_the_updated_entry() -> None:
    """The update swaps the descriptor the walk read: if the CPU changed it in between, the
    SMMU walks again (here: the CPU set AF itself, so nothing more is written). After a
    dirty update the cached entry is writable; before it, only readable."""
    b, pt = setup(HA=1, HD=1)
    addr = pt.map(VA, PA, AP=AccessPerm.RO_ALL, DBM=1)
    assert not b.xlate(SID, VA).perm & PERM_W  # cached read-only
    b.mem.write64(addr, b.mem.read64(addr))  # the CPU touches it: the stamp moves
    assert b.xlate(SID, VA, rnw=0).perm & PERM_W
    assert not b.mem.read64(addr) & PTE_RDONLY
    b.mem.enable_log()
    assert b.xlate(SID, VA, rnw=0).perm & PERM_W  # now from the TLB: no update
    log = [a for a in b.mem.take_log() if a.op in ("w", "cas")]
    assert log == []


def test_affd_is_ignored_with_ha() -> None:
    """§5.4 CD.AFFD: "If HA == 1, this flag is IGNORED": AF=0 is still set by the SMMU."""
    b, pt = setup(HA=1, AFFD=1)
    addr = pt.map(VA, PA, AF=0)
    before = b.mem.read64(addr)
    assert b.xlate(SID, VA).result == Result.OK_TRANSLATED
    assert b.mem.read64(addr) == before | PTE_AF


def test_hd_without_ha_is_no_httu() -> None:
    """§5.4 CD.HA: {HD, HA} = 0b10 "behaves as though this field is 0 and CD.HD is 0": AF=0
    is F_ACCESS and a write to a clean DBM page F_PERMISSION, memory unchanged."""
    b, pt = setup(HD=1)
    no_af = pt.map(VA, PA, AF=0)
    clean = pt.map(VA + 0x1000, PA + 0x1000, AP=AccessPerm.RO_ALL, DBM=1)
    before = (b.mem.read64(no_af), b.mem.read64(clean))
    assert b.xlate(SID, VA).fault == EventID.F_ACCESS
    assert b.xlate(SID, VA + 0x1000, rnw=0).fault == EventID.F_PERMISSION
    assert (b.mem.read64(no_af), b.mem.read64(clean)) == before
