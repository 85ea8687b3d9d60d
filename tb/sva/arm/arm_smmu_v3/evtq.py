"""The driver's event queue consumer (Linux arm_smmu_evtq_thread, single-threaded).

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c (arm_smmu_evtq_thread).

Reads every record between CONS and PROD, decodes it, then publishes CONS with OVACKFLG
copied from PROD.OVFLG so that an overflow is acknowledged once the queue was drained.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from models.arch import registers as R
from models.arch.events import AnyEvent, Event, decode_event
from tb.sva.platform import Platform

log = logging.getLogger("sva.smmu.evtq")

EVT_BYTES = Event.SIZE
_OVF = R.EVENTQ_PROD.field("OVFLG").mask


@dataclass
class EvtqStats:
    records: int = 0
    by_id: dict[str, int] = field(default_factory=dict)
    overflows: int = 0


class EventQueue:
    def __init__(self, plat: Platform, base: int, shift: int) -> None:
        self.plat = plat
        self.base = base
        self.shift = shift
        self.cons = 0
        self.stats = EvtqStats()

    async def drain(self) -> list[AnyEvent]:
        """Consume every record the SMMU has published; returns them in queue order."""
        prod = await self.plat.mmio_read32(R.OFFSETS["EVENTQ_PROD"])
        out: list[AnyEvent] = []
        mask = (2 << self.shift) - 1
        while (self.cons & mask) != (prod & mask):
            addr = self.base + R.q_index(self.cons, self.shift) * EVT_BYTES
            ev = decode_event(self.plat.mem.read(addr, EVT_BYTES, source="cpu"))
            out.append(ev)
            name = ev.named("EventID")
            self.stats.by_id[name] = self.stats.by_id.get(name, 0) + 1
            self.cons = R.q_inc(self.cons, self.shift)
        self.stats.records += len(out)
        if (prod ^ self.cons) & _OVF:
            self.stats.overflows += 1
            log.warning("event queue overflowed: records were lost")
        # Acknowledge any overflow together with the new read position.
        self.cons = (self.cons & mask) | (prod & _OVF)
        if out or (prod & _OVF):
            await self.plat.mmio_write32(R.OFFSETS["EVENTQ_CONS"], self.cons)
        return out
