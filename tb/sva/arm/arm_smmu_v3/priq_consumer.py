"""The driver's PRI queue consumer (the reading half of Linux arm_smmu_priq_thread).

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c (arm_smmu_priq_thread, queue_sync_prod_in,
queue_sync_cons_ovf).

Reads every entry between CONS and PROD, then publishes CONS with OVACKFLG copied from
PROD.OVFLG in the same store (§8.1.1 recovery: consume up to PROD, acknowledge at once), and
reports whether an overflow happened, so that the caller discards partial groups.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from models.arch import registers as R
from models.arch.priq import PriEntry
from tb.sva.platform import Platform

log = logging.getLogger("sva.smmu.priq")

PRI_BYTES = PriEntry.SIZE
_OVF = R.PRIQ_PROD.field("OVFLG").mask


@dataclass
class PriqStats:
    entries: int = 0
    stop_markers: int = 0
    overflows: int = 0


class PriQueue:
    def __init__(self, plat: Platform, base: int, shift: int) -> None:
        self.plat = plat
        self.base = base
        self.shift = shift
        self.cons = 0
        self.stats = PriqStats()

    async def drain(self) -> tuple[list[PriEntry], bool]:
        """Consume every entry the SMMU has published: (entries in queue order, whether the
        queue had overflowed)."""
        prod = await self.plat.mmio_read32(R.OFFSETS["PRIQ_PROD"])
        mask = (2 << self.shift) - 1
        out: list[PriEntry] = []
        while (self.cons & mask) != (prod & mask):
            addr = self.base + R.q_index(self.cons, self.shift) * PRI_BYTES
            out.append(PriEntry.from_bytes(self.plat.mem.read(addr, PRI_BYTES, source="cpu")))
            self.cons = R.q_inc(self.cons, self.shift)
        self.stats.entries += len(out)
        overflow = bool((prod ^ self.cons) & _OVF)
        if overflow:
            self.stats.overflows += 1
            log.warning("PRI queue overflow detected -- requests lost")
        self.cons = (self.cons & mask) | (prod & _OVF)
        if out or overflow:
            await self.plat.mmio_write32(R.OFFSETS["PRIQ_CONS"], self.cons)
        return out, overflow
