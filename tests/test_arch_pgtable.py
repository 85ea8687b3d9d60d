"""Descriptor kinds by level (ref §4.1/§4.2) and the Linux PTE bit names."""

from __future__ import annotations

import pytest

from models.arch import pgtable as pt

# (low two bits, level) -> kind, straight from the walk-geometry table of the reference.
KINDS = {
    (0b00, 0): pt.InvalidDescriptor, (0b10, 0): pt.InvalidDescriptor,
    (0b01, 0): pt.ReservedDescriptor, (0b11, 0): pt.TableDescriptor,
    (0b01, 1): pt.L1BlockDescriptor, (0b11, 1): pt.TableDescriptor,
    (0b01, 2): pt.L2BlockDescriptor, (0b11, 2): pt.TableDescriptor,
    (0b01, 3): pt.ReservedDescriptor, (0b11, 3): pt.PageDescriptor,
    **{(low, lvl): pt.InvalidDescriptor for low in (0b00, 0b10) for lvl in (1, 2, 3)},
}


@pytest.mark.parametrize(("low", "level"), list(KINDS))
def test_descriptor_kind_by_level(low: int, level: int) -> None:
    raw = 0x0000_1234_5600_0000 | low
    d = pt.decode_descriptor(raw, level)
    assert type(d) is KINDS[low, level]
    reserved = isinstance(d, pt.ReservedDescriptor)
    assert any("reserved descriptor" in p for p in d.problems()) is reserved


def test_l0_block_and_l3_type01_are_reported_not_raised() -> None:
    for level in (0, 3):
        d = pt.decode_descriptor(0x4000_0000 | 0b01 | 1 << 10, level)
        assert isinstance(d, pt.ReservedDescriptor)
        assert d.to_int() == 0x4000_0000 | 0b01 | 1 << 10
        assert d.problems() == ["reserved descriptor encoding (L0 block or L3 type 0b01)"]


def test_invalid_descriptor_keeps_software_bits() -> None:
    d = pt.decode_descriptor(0xFFFF_FFFF_FFFF_FFFE, 2)
    assert isinstance(d, pt.InvalidDescriptor)
    assert d.Ignored == (0xFFFF_FFFF_FFFF_FFFE >> 1)
    assert d.problems() == []


@pytest.mark.parametrize(("cls", "bit"), [
    (pt.L1BlockDescriptor, 12), (pt.L1BlockDescriptor, 29), (pt.L2BlockDescriptor, 20),
    (pt.L2BlockDescriptor, 48), (pt.PageDescriptor, 50), (pt.TableDescriptor, 48),
    (pt.TableDescriptor, 51)])
def test_res0_bits_are_reported(cls: type[pt.LeafDescriptor], bit: int) -> None:
    level = {pt.L1BlockDescriptor: 1, pt.L2BlockDescriptor: 2, pt.PageDescriptor: 3,
             pt.TableDescriptor: 1}[cls]
    low = 0b11 if cls in (pt.PageDescriptor, pt.TableDescriptor) else 0b01
    d = pt.decode_descriptor(low | 1 << bit, level)
    assert type(d) is cls
    assert d.problems() == [f"reserved bits set: {1 << bit:#x}"]


def test_bad_level_or_width_raises() -> None:
    for level in (-1, 4):
        with pytest.raises(ValueError):
            pt.decode_descriptor(3, level)
    with pytest.raises(ValueError):
        pt.decode_descriptor(1 << 64, 3)


def test_defaults_and_spans() -> None:
    assert pt.TableDescriptor(Valid=1, NextTableAddr=0x1000).to_int() == 0x1003
    assert pt.PageDescriptor(Valid=1, OutputAddr=0x5000).to_int() == 0x5003
    assert pt.L2BlockDescriptor(Valid=1, OutputAddr=0x20_0000).to_int() == 0x20_0001
    assert pt.L1BlockDescriptor.span() == 1 << 30
    assert pt.L2BlockDescriptor.span() == 1 << 21
    assert pt.PageDescriptor.span() == 1 << 12
    assert isinstance(pt.decode_descriptor(1, 1), pt.BlockDescriptor)
    assert isinstance(pt.decode_descriptor(1, 2), pt.BlockDescriptor)
    assert not isinstance(pt.decode_descriptor(3, 3), pt.BlockDescriptor)
    with pytest.raises(ValueError, match="OutputAddr"):
        pt.L2BlockDescriptor(OutputAddr=0x1000).to_int()


def test_linux_pte_constants() -> None:
    assert pt.PTE_VALID == 1 << 0
    assert pt.PTE_USER == 1 << 6
    assert pt.PTE_RDONLY == 1 << 7
    assert pt.PTE_AF == 1 << 10
    assert pt.PTE_NG == 1 << 11
    assert pt.PTE_WRITE == pt.PTE_DBM == 1 << 51
    assert pt.PTE_PXN == 1 << 53
    assert pt.PTE_UXN == 1 << 54
    assert pt.PTE_DIRTY == 1 << 55
    assert pt.PTE_SPECIAL == 1 << 56


def test_clean_and_dirty_user_pages() -> None:
    clean = pt.PageDescriptor(Valid=1, AP=pt.AccessPerm.RO_ALL, DBM=1, AF=1, nG=1,
                              OutputAddr=0x8000)
    raw = clean.to_int()
    assert raw & (pt.PTE_USER | pt.PTE_RDONLY | pt.PTE_WRITE) == (
        pt.PTE_USER | pt.PTE_RDONLY | pt.PTE_WRITE)
    dirty = pt.decode_descriptor(raw & ~pt.PTE_RDONLY, 3)
    assert isinstance(dirty, pt.PageDescriptor)
    assert dirty.AP == pt.AccessPerm.RW_ALL
    assert dirty.named("AP") == "RW_ALL"


def test_reserved_shareability_is_reported() -> None:
    assert pt.decode_descriptor(0b11 | 0b01 << 8, 3).problems() == ["SH=0x1 is reserved"]
