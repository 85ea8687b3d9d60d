"""io-pgtable: the page table a DMA (non-SVA) domain owns (Linux io-pgtable-arm, ARM_64_LPAE_S1).

Mirrors: drivers/iommu/io-pgtable-arm.c (and struct io_pgtable_cfg of include/linux/io-pgtable.h).

AArch64 stage-1 tables, 4 KiB granule, 48-bit input (T0SZ=16: walks start at level 0), built
in DMA memory by the driver and walked by the SMMU through CD 0. Only 4 KiB pages are mapped
(no blocks, so no block splitting on unmap); empty tables are never freed before the table as
a whole, as in Linux. TLB maintenance is the caller's: :meth:`ArmLpaeS1Pgtable.unmap` reports
the range it cleared (Linux's iommu_iotlb_gather) and the domain invalidates it.

PTE attributes follow arm_lpae_prot_to_pte for stage 1: nG always (entries are tagged with the
domain's ASID), AP[1]=1 (EL0 access) unless IOMMU_PRIV, AP[2]=1 when readable but not
writable, XN for IOMMU_NOEXEC, AttrIndx CACHE/DEV/NC from IOMMU_CACHE/IOMMU_MMIO, AF=1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.arch import registers as R
from models.arch.cd import TG0Granule
from models.arch.geometry import GRANULE, LAST_LEVEL, desc_addr
from models.arch.pgtable import (
    AccessPerm,
    PageDescriptor,
    Shareability,
    TableDescriptor,
    decode_descriptor,
)
from models.memory import FrameAllocator, PhysicalMemory

__all__ = [
    "IOMMU_READ", "IOMMU_WRITE", "IOMMU_CACHE", "IOMMU_NOEXEC", "IOMMU_MMIO", "IOMMU_PRIV",
    "ARM_LPAE_MAIR_ATTR_IDX_NC", "ARM_LPAE_MAIR_ATTR_IDX_CACHE", "ARM_LPAE_MAIR_ATTR_IDX_DEV",
    "ArmLpaeS1Pgtable", "IoPgtableCfg", "IotlbGather",
]

# include/linux/iommu.h
IOMMU_READ = 1 << 0
IOMMU_WRITE = 1 << 1
IOMMU_CACHE = 1 << 2
IOMMU_NOEXEC = 1 << 3
IOMMU_MMIO = 1 << 4
IOMMU_PRIV = 1 << 5

# MAIR indices and attributes io-pgtable-arm programs
ARM_LPAE_MAIR_ATTR_IDX_NC = 0
ARM_LPAE_MAIR_ATTR_IDX_CACHE = 1
ARM_LPAE_MAIR_ATTR_IDX_DEV = 2
ARM_LPAE_MAIR_ATTR_IDX_INC_OCACHE = 3
_MAIR_ATTRS = {ARM_LPAE_MAIR_ATTR_IDX_NC: 0x44, ARM_LPAE_MAIR_ATTR_IDX_CACHE: 0xFF,
               ARM_LPAE_MAIR_ATTR_IDX_DEV: 0x04, ARM_LPAE_MAIR_ATTR_IDX_INC_OCACHE: 0xF4}
ARM_LPAE_MAIR = sum(v << (8 * i) for i, v in _MAIR_ATTRS.items())

_TCR_RGN_NC, _TCR_RGN_WBWA = 0b00, 0b01
_OAS_ENCODING = {bits: int(enc) for enc, bits in R.OAS_BITS.items()}


@dataclass
class IoPgtableCfg:
    """struct io_pgtable_cfg as the SMMUv3 driver fills it for a stage-1 domain."""

    ias: int = 48
    oas: int = 48
    coherent_walk: bool = True
    pgsize_bitmap: int = GRANULE
    # Filled by the allocator: what CD 0 must carry (arm_lpae_s1_cfg).
    ttbr: int = 0
    tcr: dict[str, int] = field(default_factory=dict)
    mair: int = ARM_LPAE_MAIR


@dataclass
class IotlbGather:
    """struct iommu_iotlb_gather: the IOVA span whose TLB entries must go (end exclusive)."""

    start: int = -1
    end: int = 0
    pgsize: int = GRANULE

    def add_page(self, iova: int, size: int) -> None:
        self.start = iova if self.start < 0 else min(self.start, iova)
        self.end = max(self.end, iova + size)

    @property
    def empty(self) -> bool:
        return self.start < 0


class ArmLpaeS1Pgtable:
    """io_pgtable_ops: map, unmap, iova_to_phys, free."""

    def __init__(self, mem: PhysicalMemory, alloc: FrameAllocator, cfg: IoPgtableCfg) -> None:
        if cfg.ias != 48:
            raise NotImplementedError("only 48-bit input addresses (start level 0) are modelled")
        if cfg.oas not in _OAS_ENCODING:
            raise ValueError(f"no IPS encoding for a {cfg.oas}-bit output size")
        self.mem = mem
        self.alloc = alloc
        self.cfg = cfg
        self.tables: list[int] = []
        self.pgd = self._new_table()
        rgn = _TCR_RGN_WBWA if cfg.coherent_walk else _TCR_RGN_NC
        cfg.ttbr = self.pgd
        cfg.tcr = {"T0SZ": 64 - cfg.ias, "TG0": TG0Granule.SZ_4K, "IR0": rgn, "OR0": rgn,
                   "SH0": Shareability.ISH if cfg.coherent_walk else Shareability.OSH,
                   "EPD1": 1, "IPS": _OAS_ENCODING[cfg.oas]}

    def _new_table(self) -> int:
        table = self.alloc.alloc(GRANULE, align=GRANULE)
        self.tables.append(table)
        return table

    @staticmethod
    def prot_to_pte(paddr: int, prot: int) -> int:
        """arm_lpae_prot_to_pte for a stage-1 page."""
        if prot & IOMMU_MMIO:
            idx = ARM_LPAE_MAIR_ATTR_IDX_DEV
        elif prot & IOMMU_CACHE:
            idx = ARM_LPAE_MAIR_ATTR_IDX_CACHE
        else:
            idx = ARM_LPAE_MAIR_ATTR_IDX_NC
        ro = bool(prot & IOMMU_READ) and not prot & IOMMU_WRITE
        unpriv = not prot & IOMMU_PRIV
        ap = AccessPerm((int(ro) << 1) | int(unpriv))
        xn = int(bool(prot & IOMMU_NOEXEC))
        sh = Shareability.ISH if prot & IOMMU_CACHE else Shareability.OSH
        return PageDescriptor(Valid=1, OutputAddr=paddr, AttrIndx=idx, AP=ap, SH=sh, AF=1,
                              nG=1, PXN=xn, UXN=xn).to_int()

    def _ptep(self, iova: int, alloc: bool) -> int | None:
        table = self.pgd
        for level in range(LAST_LEVEL):
            slot = desc_addr(table, iova, level)
            desc = decode_descriptor(self.mem.read64(slot, source="cpu"), level)
            if isinstance(desc, TableDescriptor):
                table = desc.NextTableAddr
                continue
            if not alloc:
                return None
            table = self._new_table()
            self.mem.write64(slot, TableDescriptor(Valid=1, NextTableAddr=table).to_int(),
                             source="cpu")
        return desc_addr(table, iova, LAST_LEVEL)

    def _check(self, iova: int, size: int, paddr: int = 0) -> None:
        if (iova | size | paddr) % GRANULE or size <= 0:
            raise ValueError(f"iova {iova:#x}/size {size:#x}/pa {paddr:#x} not 4 KiB aligned")
        if (iova + size) >> self.cfg.ias or (paddr + size) >> self.cfg.oas:
            raise ValueError(f"[{iova:#x}, +{size:#x}) -> {paddr:#x} beyond ias/oas (-ERANGE)")

    def map(self, iova: int, paddr: int, size: int, prot: int) -> None:
        """Map ``size`` bytes; an already mapped page is -EEXIST (what was mapped is undone)."""
        self._check(iova, size, paddr)
        if not prot & (IOMMU_READ | IOMMU_WRITE):
            return  # Linux: no access permission means nothing to map
        for off in range(0, size, GRANULE):
            ptep = self._ptep(iova + off, alloc=True)
            assert ptep is not None
            if self.mem.read64(ptep, source="cpu") & 1:
                if off:
                    self.unmap(iova, off, IotlbGather())
                raise FileExistsError(f"iova {iova + off:#x} already mapped (-EEXIST)")
            self.mem.write64(ptep, self.prot_to_pte(paddr + off, prot), source="cpu")

    def unmap(self, iova: int, size: int, gather: IotlbGather) -> int:
        """Clear PTEs up to the first unmapped page; returns the bytes unmapped."""
        self._check(iova, size)
        done = 0
        while done < size:
            ptep = self._ptep(iova + done, alloc=False)
            if ptep is None or not self.mem.read64(ptep, source="cpu") & 1:
                break
            self.mem.write64(ptep, 0, source="cpu")
            gather.add_page(iova + done, GRANULE)
            done += GRANULE
        return done

    def iova_to_phys(self, iova: int) -> int | None:
        ptep = self._ptep(iova, alloc=False)
        if ptep is None:
            return None
        desc = decode_descriptor(self.mem.read64(ptep, source="cpu"), LAST_LEVEL)
        if not isinstance(desc, PageDescriptor):
            return None
        return desc.OutputAddr | iova % GRANULE

    def free(self) -> None:
        """free_io_pgtable_ops: the caller has invalidated the ASID (tlb_flush_all) first."""
        for table in self.tables:
            self.alloc.free(table)
        self.tables.clear()
