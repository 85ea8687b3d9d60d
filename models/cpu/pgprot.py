"""Linux arm64 user-page protections and memory attributes of the v5.7 era (ref §4.2, §4.4).

The SMMU walks the very page tables the CPU uses, so every bit the kernel puts in a user PTE is
something the SMMU model and RTL must interpret the same way. This module is the one place that
says which bits those are; everything is built from the field declarations of
:mod:`models.arch.pgtable` so no bit position is written twice.

Linux conventions modelled (ref §4.4):
- PTE_WRITE is the hardware DBM bit: "writable" lives there, AP[2] (PTE_RDONLY) only says
  clean (AP[2]=1) or dirty (AP[2]=0). A clean writable user page is AP=0b11 + DBM, dirty AP=0b01.
- pte_mkdirty also sets the software PTE_DIRTY bit (55), so a page dirtied by a write fault
  stays dirty when mprotect later sets AP[2] again; pte_dirty() accepts either form because
  hardware (CPU DBM or SMMU HTTU) only clears AP[2].
- Every user page is nG (ASID-tagged), PXN (the kernel never executes user memory), AF=1
  (Linux sets AF when it installs a PTE instead of taking access-flag faults), SH=ISH and
  AttrIndx = MT_NORMAL.
- A PROT_NONE page keeps its frame behind Valid=0 plus the software PTE_PROT_NONE bit (58).
"""

from __future__ import annotations

from models.arch.pgtable import (
    PTE_AF,
    PTE_DIRTY,
    PTE_PXN,
    PTE_RDONLY,
    PTE_USER,
    PTE_UXN,
    PTE_VALID,
    PTE_WRITE,
    AccessPerm,
    PageDescriptor,
    Shareability,
)

__all__ = [
    "PROT_NONE", "PROT_READ", "PROT_WRITE", "PROT_EXEC", "PROT_MASK",
    "MT_DEVICE_nGnRnE", "MT_DEVICE_nGnRE", "MT_DEVICE_GRE", "MT_NORMAL_NC", "MT_NORMAL",
    "MT_NORMAL_WT", "MAIR_ATTRS", "MAIR_EL1",
    "PTE_PROT_NONE",
    "mk_pte", "pte_dirty", "pte_hw_dirty", "pte_mkclean", "pte_mkdirty", "pte_mkold",
    "pte_mkyoung", "pte_modify", "pte_pa", "pte_present", "pte_user_exec", "pte_user_readable",
    "pte_user_writable", "pte_valid", "pte_wrprotect", "pte_write", "pte_young",
    "vm_get_page_prot",
]

# mmap/mprotect prot bits (uapi asm-generic/mman-common.h); VM_READ/WRITE/EXEC share the values.
PROT_NONE = 0x0
PROT_READ = 0x1
PROT_WRITE = 0x2
PROT_EXEC = 0x4
PROT_MASK = PROT_READ | PROT_WRITE | PROT_EXEC

# arm64 memory types = AttrIndx values (arch/arm64/include/asm/memory.h, v5.7).
MT_DEVICE_nGnRnE = 0
MT_DEVICE_nGnRE = 1
MT_DEVICE_GRE = 2
MT_NORMAL_NC = 3
MT_NORMAL = 4
MT_NORMAL_WT = 5

# MAIR_EL1 attribute byte per AttrIndx: what a shared CD's MAIR field must mirror (ref §8.4).
MAIR_ATTRS: dict[int, int] = {
    MT_DEVICE_nGnRnE: 0x00,
    MT_DEVICE_nGnRE: 0x04,
    MT_DEVICE_GRE: 0x0C,
    MT_NORMAL_NC: 0x44,
    MT_NORMAL: 0xFF,
    MT_NORMAL_WT: 0xBB,
}
MAIR_EL1 = sum(attr << (8 * idx) for idx, attr in MAIR_ATTRS.items())  # 0x0000_BBFF_440C_0400

_SW = PageDescriptor.field("SW")
_OA = PageDescriptor.field("OutputAddr")
PTE_PROT_NONE = 1 << (_SW.lsb + 3)  # bit 58: "present but inaccessible" (Valid=0)

# Bits mprotect replaces (arm64 pte_modify); everything else (OA, AF, dirty, attrs) is kept.
_PTE_MODIFY_MASK = (PTE_USER | PTE_PXN | PTE_UXN | PTE_RDONLY | PTE_PROT_NONE | PTE_VALID
                    | PTE_WRITE)

# _PAGE_DEFAULT: page type, AF, inner shareable, Normal WBWA memory; valid, user, nG, PXN and
# read-only (clean) for every user mapping, refined by prot below.
_PAGE_USER_BASE = PageDescriptor(
    Valid=1, AttrIndx=MT_NORMAL, AP=AccessPerm.RO_ALL, SH=Shareability.ISH, AF=1, nG=1, PXN=1,
).to_int()


def vm_get_page_prot(prot: int) -> int:
    """PTE attribute bits (no output address) for a shared-anonymous VMA with ``prot``.

    Mirrors arm64's __S000..__S111 table: PAGE_NONE, PAGE_READONLY(_EXEC), PAGE_SHARED(_EXEC).
    Write implies read (AArch64 has no write-only pages), and exec without read still gives a
    readable page (execute-only user mappings were reverted before v5.7).
    """
    if prot & ~PROT_MASK:
        raise ValueError(f"unknown prot bits {prot:#x}")
    if not prot:
        # PAGE_NONE: not valid, not user-accessible, but recognisably "present" to the kernel.
        return (_PAGE_USER_BASE & ~(PTE_VALID | PTE_USER)) | PTE_PROT_NONE | PTE_UXN
    pte = _PAGE_USER_BASE
    if not prot & PROT_EXEC:
        pte |= PTE_UXN
    if prot & PROT_WRITE:
        pte |= PTE_WRITE  # writable but still clean: PTE_RDONLY stays set until the first write
    return pte


def mk_pte(pa: int, pgprot: int) -> int:
    """A PTE mapping the page at ``pa`` with the attributes ``pgprot``."""
    if pgprot & _OA.mask:
        raise ValueError(f"pgprot {pgprot:#x} already holds an output address")
    return pgprot | (_OA.to_raw(pa) << _OA.lsb)


def pte_pa(pte: int) -> int:
    return _OA.from_raw((pte & _OA.mask) >> _OA.lsb)


def pte_valid(pte: int) -> bool:
    return bool(pte & PTE_VALID)


def pte_present(pte: int) -> bool:
    """Valid, or PROT_NONE (still owns a page; Linux's pte_present)."""
    return bool(pte & (PTE_VALID | PTE_PROT_NONE))


def pte_write(pte: int) -> bool:
    return bool(pte & PTE_WRITE)


def pte_hw_dirty(pte: int) -> bool:
    """Dirtied by hardware DBM/HTTU: writable and AP[2] cleared."""
    return bool(pte & PTE_WRITE) and not pte & PTE_RDONLY


def pte_dirty(pte: int) -> bool:
    return bool(pte & PTE_DIRTY) or pte_hw_dirty(pte)


def pte_mkdirty(pte: int) -> int:
    """Mark dirty: software PTE_DIRTY, and AP[2] cleared if the page is writable."""
    pte |= PTE_DIRTY
    if pte & PTE_WRITE:
        pte &= ~PTE_RDONLY
    return pte


def pte_young(pte: int) -> bool:
    return bool(pte & PTE_AF)


def pte_mkyoung(pte: int) -> int:
    return pte | PTE_AF


def pte_mkold(pte: int) -> int:
    """Clear AF: the next access faults (or is flagged by hardware AF/HTTU HA)."""
    return pte & ~PTE_AF


def pte_mkclean(pte: int) -> int:
    """Clean again (write-back done): the next write must fault or be caught by DBM."""
    return (pte & ~PTE_DIRTY) | PTE_RDONLY


def pte_wrprotect(pte: int) -> int:
    """No longer writable (arm64 pte_wrprotect): hardware dirty state kept in PTE_DIRTY first,
    then DBM cleared and AP[2] set, so neither the CPU nor an HTTU agent can write."""
    if pte_hw_dirty(pte):
        pte = pte_mkdirty(pte)
    return (pte & ~PTE_WRITE) | PTE_RDONLY


def pte_modify(pte: int, pgprot: int) -> int:
    """mprotect's update: new permission bits, hardware dirty state folded into PTE_DIRTY."""
    if pte_hw_dirty(pte):
        pte = pte_mkdirty(pte)
    return (pte & ~_PTE_MODIFY_MASK) | (pgprot & _PTE_MODIFY_MASK)


def pte_user_readable(pte: int) -> bool:
    """EL0 may load through it: valid and AP[1] (PTE_USER) set."""
    return pte_valid(pte) and bool(pte & PTE_USER)


def pte_user_writable(pte: int) -> bool:
    """EL0 may store through it without a fault: AP = 0b01 (user, not read-only)."""
    return pte_user_readable(pte) and not pte & PTE_RDONLY


def pte_user_exec(pte: int) -> bool:
    """EL0 may fetch instructions: valid and UXN clear (AP does not matter, ref §4.3)."""
    return pte_valid(pte) and not pte & PTE_UXN
