"""Event queue producer (reference §1.5, §6): the SMMU side of EVENTQ_PROD/CONS.

The SMMU writes the 32-byte record at PROD, makes it visible, then advances PROD. A record
that finds the queue full is discarded and EVENTQ_PROD.OVFLG toggles, unless an overflow is
already pending (OVFLG != EVENTQ_CONS.OVACKFLG), so software sees one overflow per
acknowledgement. An abort writing the record raises GERROR.EVENTQ_ABT_ERR and the record is
lost (PROD does not move); until software acknowledges the error, records are discarded
(§7.2.1, §7.5). The base is aligned to the queue's size (§6.3.29). Records produced while
the queue (CR0ACK.EVENTQEN) or the SMMU is disabled are discarded: nobody is reading.

A stall record (Stall=1) is never discarded and never signals an overflow (§3.12.2, §7.4):
the model writes one only where ``writable()``, and otherwise keeps the stalled transaction
until the queue is writable again (models/smmu/stall.py).
"""

from __future__ import annotations

from models.arch import registers as R
from models.arch.events import Event
from models.memory import ExternalAbort, PhysicalMemory
from models.smmu.config import SmmuConfig
from models.smmu.regfile import RegisterFile

__all__ = ["EventQueue"]


class EventQueue:
    def __init__(self, cfg: SmmuConfig, regs: RegisterFile, mem: PhysicalMemory) -> None:
        self.cfg = cfg
        self.regs = regs
        self.mem = mem
        self.written = 0  # records made visible
        self.dropped = 0  # records discarded (disabled queue, overflow, abort)

    def _log2size(self) -> int:
        return min(R.EVENTQ_BASE.from_int(self.regs.hw_value("EVENTQ_BASE")).LOG2SIZE,
                   self.cfg.EVENTQS)

    def enabled(self) -> bool:
        cr0 = R.CR0.from_int(self.regs.hw_value("CR0ACK"))
        return bool(cr0.EVENTQEN and cr0.SMMUEN)

    def usable(self) -> bool:
        """Enabled, and no EVENTQ_ABT_ERR waiting for its acknowledgement."""
        return self.enabled() and not (
            self.regs.gerror_active() & R.GERROR.field("EVENTQ_ABT_ERR").mask)

    def writable(self) -> bool:
        """Whether a record could be written now: usable, with space."""
        if not self.usable():
            return False
        prod = R.EVENTQ_PROD.from_int(self.regs.hw_value("EVENTQ_PROD"))
        cons = R.EVENTQ_CONS.from_int(self.regs.hw_value("EVENTQ_CONS"))
        return not R.q_full(prod.WR, cons.RD, self._log2size())

    def write(self, event: Event) -> bool:
        """Try to append one record; True if it became visible."""
        if not self.enabled():
            self.dropped += 1
            return False
        if self.regs.gerror_active() & R.GERROR.field("EVENTQ_ABT_ERR").mask:
            # §7.2.1: not writable while an EVENTQ_ABT_ERR is unacknowledged (and, unlike a
            # full queue, no overflow is signalled: §7.4)
            self.dropped += 1
            return False
        log2 = self._log2size()
        prod = R.EVENTQ_PROD.from_int(self.regs.hw_value("EVENTQ_PROD"))
        cons = R.EVENTQ_CONS.from_int(self.regs.hw_value("EVENTQ_CONS"))
        if R.q_full(prod.WR, cons.RD, log2):
            self.dropped += 1
            if prod.OVFLG == cons.OVACKFLG:  # no overflow pending: signal this one
                prod.OVFLG ^= 1
                self.regs.hw_set("EVENTQ_PROD", prod.to_int())
            return False
        base = R.EVENTQ_BASE.from_int(self.regs.hw_value("EVENTQ_BASE")).ADDR
        addr = R.q_base(base, Event.SIZE, log2) + R.q_index(prod.WR, log2) * Event.SIZE
        try:
            self.mem.write(addr, event.to_bytes(), source="smmu-evtq")
        except (ExternalAbort, ValueError):
            self.dropped += 1
            self.regs.hw_raise_gerror("EVENTQ_ABT_ERR")
            return False
        prod.WR = R.q_inc(prod.WR, log2) & ((2 << log2) - 1)
        self.regs.hw_set("EVENTQ_PROD", prod.to_int())
        self.written += 1
        return True

    def irq_pending(self) -> bool:
        """The wired event-queue interrupt: enabled and the queue is not empty."""
        irq = R.IRQ_CTRL.from_int(self.regs.hw_value("IRQ_CTRLACK"))
        log2 = self._log2size()
        prod = R.EVENTQ_PROD.from_int(self.regs.hw_value("EVENTQ_PROD")).WR
        cons = R.EVENTQ_CONS.from_int(self.regs.hw_value("EVENTQ_CONS")).RD
        return bool(irq.EVENTQ_IRQEN) and not R.q_empty(prod, cons, log2)
