"""The arm64 ASID allocator with the pinning the SVA series adds (ref §8.5).

A shared CD carries the CPU's ASID for the mm so that the CPU's broadcast TLBIs also hit the
SMMU's TLB (BTM). The SMMU cannot follow the CPU's lazy re-allocation, so the SVA code pins the
ASID with :meth:`AsidAllocator.mm_context_get`: a pinned ASID stays the same across rollovers.

How the allocator works (arch/arm64/mm/context.c of the v5.7 era, as the reference describes):
- mm.context.id = generation | ASID; the generation counts in units of 2**asid_bits.
- Switching to an mm whose id is from an older generation allocates anew, preferring the same
  ASID number if it is still free in the current generation.
- When the ASID space is exhausted, a rollover starts a new generation: the allocation map is
  cleared except for pinned ASIDs and the ASID each CPU is running (or had reserved), and
  every CPU must flush its TLB before it next runs a process (``tlb_flush_pending``).
- ASID 0 is never allocated (init_mm / reserved TTBR0).
- KPTI: ASIDs are handed out in pairs, the even one for the kernel mapping and the odd one
  (bit 0 set) for user pages, so there are half as many; mm_context_get returns the odd one,
  because user pages are nG entries tagged with it. (v5.7 chose pairs at build time with
  CONFIG_UNMAP_KERNEL_AT_EL0; here ``CpuFeatures.kpti`` chooses.)

CPUs are modelled only as per-CPU active/reserved ASID slots driven by :meth:`switch_mm`.
Everything runs under one lock, so the lock-free fast path of check_and_switch_context is
taken under it too; its effect (no allocation, no flush check) is kept.
"""

from __future__ import annotations

import threading
from typing import Protocol

from models.cpu.features import CpuFeatures
from models.cpu.mm import MMContext

__all__ = ["AsidAllocator", "HasContext"]


class HasContext(Protocol):
    """Anything with an arm64 mm context (an :class:`models.cpu.mm.MM`)."""

    context: MMContext


class AsidAllocator:
    """The system-wide ASID state plus ``nr_cpus`` CPUs that can run an mm each."""

    def __init__(self, features: CpuFeatures | None = None) -> None:
        f = features or CpuFeatures()
        self.asid_bits = f.asid_bits
        self.kpti = f.kpti
        self.nr_cpus = f.nr_cpus
        self.first_version = 1 << f.asid_bits  # ASID_FIRST_VERSION: one generation step
        self.num_user_asids = self.first_version >> 1 if self.kpti else self.first_version
        if self.num_user_asids - 1 <= self.nr_cpus:
            raise ValueError(f"{self.num_user_asids} ASID slots cannot serve {self.nr_cpus} CPUs")
        # Room for every CPU's reserved ASID, ASID #0, and one free slot after a rollover.
        self.max_pinned_asids = self.num_user_asids - self.nr_cpus - 2
        self.generation = self.first_version
        self.asid_map: set[int] = set()  # allocated indices in the current generation
        self.pinned_asid_map: set[int] = set()
        self.nr_pinned_asids = 0
        self.active_asids = [0] * self.nr_cpus  # context id each CPU runs (0 after rollover)
        self.reserved_asids = [0] * self.nr_cpus  # kept for a CPU across a rollover
        self.tlb_flush_pending: set[int] = set()
        self.current: list[HasContext | None] = [None] * self.nr_cpus
        self.local_flushes: list[int] = []  # CPUs that did local_flush_tlb_all, in order
        self.rollovers = 0
        self._cur_idx = 1
        self._lock = threading.RLock()

    # -- encodings --------------------------------------------------------------------------
    @property
    def asid_mask(self) -> int:
        """Bits of a context id that hold the ASID (the rest is the generation)."""
        return self.first_version - 1

    def asid2idx(self, asid: int) -> int:
        asid &= self.asid_mask
        return asid >> 1 if self.kpti else asid

    def idx2asid(self, idx: int) -> int:
        return (idx << 1 if self.kpti else idx) & self.asid_mask

    def gen_match(self, context_id: int) -> bool:
        """The id belongs to the current generation."""
        return context_id & ~self.asid_mask == self.generation

    @staticmethod
    def context_id(mm: HasContext) -> int:
        return mm.context.id

    def asid(self, mm: HasContext) -> int:
        """ASID(mm): the ASID part of the context id (even/kernel ASID under KPTI)."""
        return mm.context.id & self.asid_mask

    # -- context switch ---------------------------------------------------------------------
    def switch_mm(self, cpu: int, mm: HasContext) -> int:
        """check_and_switch_context: make ``cpu`` run ``mm``; returns the ASID it runs with."""
        if not 0 <= cpu < self.nr_cpus:
            raise ValueError(f"no CPU {cpu} (nr_cpus={self.nr_cpus})")
        with self._lock:
            ctx = mm.context.id
            old_active = self.active_asids[cpu]
            if old_active and self.gen_match(ctx):
                self.active_asids[cpu] = ctx  # fast path: cmpxchg on the per-CPU slot
            else:
                if not self.gen_match(ctx):
                    ctx = self._new_context(mm)
                    mm.context.id = ctx
                if cpu in self.tlb_flush_pending:
                    self.tlb_flush_pending.discard(cpu)
                    self.local_flushes.append(cpu)
                self.active_asids[cpu] = ctx
            self.current[cpu] = mm
            return ctx & self.asid_mask

    def _check_update_reserved_asid(self, asid: int, newasid: int) -> bool:
        """Move every CPU's reservation of ``asid`` to the new generation's ``newasid``."""
        hit = False
        for cpu in range(self.nr_cpus):
            if self.reserved_asids[cpu] == asid:
                hit = True
                self.reserved_asids[cpu] = newasid
        return hit

    def _new_context(self, mm: HasContext) -> int:
        asid = mm.context.id
        if asid:
            newasid = self.generation | (asid & self.asid_mask)
            if self._check_update_reserved_asid(asid, newasid):
                return newasid  # still live on some CPU across the rollover
            if mm.context.pinned:
                return newasid  # pinned: its index survives rollovers in pinned_asid_map
            idx = self.asid2idx(asid)
            if idx not in self.asid_map:
                self.asid_map.add(idx)  # same number, new generation
                return newasid
        idx = self._find_free(self._cur_idx)
        if idx is None:
            self.generation += self.first_version
            self._flush_context()
            idx = self._find_free(1)
            assert idx is not None, "max_pinned_asids guarantees a free ASID after rollover"
        self.asid_map.add(idx)
        self._cur_idx = idx
        return self.idx2asid(idx) | self.generation

    def _find_free(self, start: int) -> int | None:
        for idx in range(start, self.num_user_asids):
            if idx not in self.asid_map:
                return idx
        return None

    def _flush_context(self) -> None:
        """Rollover: keep pinned and per-CPU ASIDs, everyone flushes before running again."""
        self.rollovers += 1
        self.asid_map = set(self.pinned_asid_map)
        for cpu in range(self.nr_cpus):
            asid, self.active_asids[cpu] = self.active_asids[cpu], 0
            if asid == 0:  # this CPU has not run anything since the previous rollover
                asid = self.reserved_asids[cpu]
            self.asid_map.add(self.asid2idx(asid))
            self.reserved_asids[cpu] = asid
        self.tlb_flush_pending = set(range(self.nr_cpus))

    # -- pinning for SVA --------------------------------------------------------------------
    def mm_context_get(self, mm: HasContext) -> int:
        """Pin the mm's ASID (refcounted) and return it, or 0 when too many are pinned.

        An mm from an old generation gets a fresh ASID first. Under KPTI the user (odd) ASID
        is returned, as the SMMU must match the nG user entries.
        """
        with self._lock:
            ctx = mm.context.id
            if mm.context.pinned:
                mm.context.pinned += 1
            elif self.nr_pinned_asids >= self.max_pinned_asids:
                return 0
            else:
                if not self.gen_match(ctx):
                    ctx = self._new_context(mm)
                    mm.context.id = ctx
                self.nr_pinned_asids += 1
                self.pinned_asid_map.add(self.asid2idx(ctx))
                mm.context.pinned = 1
        asid = ctx & self.asid_mask
        if asid and self.kpti:
            asid |= 1
        return asid

    def mm_context_put(self, mm: HasContext) -> None:
        """Drop a pin; the last one lets the ASID be recycled at a later rollover."""
        with self._lock:
            if mm.context.pinned <= 0:
                raise ValueError("mm_context_put without a matching mm_context_get")
            mm.context.pinned -= 1
            if mm.context.pinned == 0:
                self.pinned_asid_map.discard(self.asid2idx(mm.context.id))
                self.nr_pinned_asids -= 1
