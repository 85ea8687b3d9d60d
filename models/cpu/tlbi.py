"""The TLB invalidations the CPU broadcasts when the kernel changes a process's page tables.

With BTM the SMMU snoops these inner-shareable TLBIs instead of receiving commands (ref §8.6),
so the MM records each one in program order; a BTM model can replay the log to the SMMU TLB
as TLBI_NH_VA / TLBI_NH_ASID. The policy follows arm64's __flush_tlb_range of the v5.7 era:
one TLBI per page, or a single by-ASID TLBI once the range reaches MAX_TLBI_OPS pages; with
KPTI each operation is issued for the kernel ASID (even) and again for the user ASID (odd).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from models.arch.geometry import ENTRIES
from models.memory import PAGE_SIZE

__all__ = ["MAX_TLBI_OPS", "Tlbi", "TlbiOp", "flush_tlb_mm", "flush_tlb_range"]

MAX_TLBI_OPS = ENTRIES  # PTRS_PER_PTE: beyond this many pages, flush the whole ASID
VA_RANGE_END = 1 << 48  # end of the TTB0 half, used as the "range" of a by-ASID TLBI


class TlbiOp(enum.StrEnum):
    """The AArch64 TLBI operations the arm64 user-mm flush paths use."""

    VAE1IS = "VAE1IS"    # by VA and ASID, all levels (walk caches too): tables were freed
    VALE1IS = "VALE1IS"  # by VA and ASID, last level only: only leaf entries changed
    ASIDE1IS = "ASIDE1IS"  # everything tagged with the ASID


@dataclass(frozen=True)
class Tlbi:
    """One broadcast TLBI: ``[start, end)`` is one page for VA forms, the whole TTB0 half for
    ASIDE1IS."""

    op: TlbiOp
    asid: int
    start: int
    end: int
    # issued by a kernel at EL2 with HCR_EL2.{E2H, TGE} = {1, 1} (VHE): the same instruction
    # targets the EL2&0 regime, and the DVM message says so
    e2h: bool = False

    @property
    def leaf_only(self) -> bool:
        return self.op is TlbiOp.VALE1IS


def flush_tlb_mm(asids: Sequence[int]) -> list[Tlbi]:
    """flush_tlb_mm: one ASIDE1IS per ASID the mm's entries may carry."""
    return [Tlbi(TlbiOp.ASIDE1IS, asid, 0, VA_RANGE_END) for asid in asids]


def flush_tlb_range(asids: Sequence[int], start: int, end: int,
                    last_level: bool) -> list[Tlbi]:
    """__flush_tlb_range with a PAGE_SIZE stride over ``[start, end)`` (rounded to pages)."""
    start -= start % PAGE_SIZE
    end = -(-end // PAGE_SIZE) * PAGE_SIZE
    if end <= start:
        return []
    if (end - start) // PAGE_SIZE >= MAX_TLBI_OPS:
        return flush_tlb_mm(asids)
    op = TlbiOp.VALE1IS if last_level else TlbiOp.VAE1IS
    return [Tlbi(op, asid, va, va + PAGE_SIZE)
            for va in range(start, end, PAGE_SIZE) for asid in asids]
