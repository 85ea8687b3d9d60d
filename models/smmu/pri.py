"""PRI queue producer and PRG responses (reference fault-paths.md §1.4, smmuv3.md §7).

The endpoint side of PCIe PRI, as a port of the model: a Page Request (PPR) comes in with
:meth:`PriQueue.page_request` and is written to the PRI queue in memory, or answered at once;
PRG Responses go out, in order, to ``PriQueue.responses`` (and to ``on_response``), each
either automatic or the effect of a CMD_PRI_RESP (:meth:`PriQueue.command_response`).

Queue writes follow the event queue's pointer rules with two differences (§8.1): an overflow
inhibits every write until software acknowledges it (CONS.OVACKFLG = PROD.OVFLG), and what
cannot be written is answered automatically instead of being lost silently:

- queue full, or an overflow not yet acknowledged: the PPR is not written; an L=1 PPR gets
  Success (a Stop marker nothing, an L=0 PPR nothing). Its PASID: none without one; with
  one, the same PASID where IDR3.PPS=1, else the PASID iff STE.PPAR, and Failure without a
  PASID where the STE cannot be read or used (SMMUEN=0, StreamID out of range, fetch abort,
  ILLEGAL STE);
- the queue disabled (effective PRIQEN=0: CR0ACK.PRIQEN and SMMUEN) or GERROR.PRIQ_ABT_ERR
  active: nothing is written, and every PPR, L=0 or L=1, gets Failure without a PASID (§8.2);
- an external abort writing the entry (taken as synchronous, which §8.2 allows): GERROR.
  PRIQ_ABT_ERR, the entry is lost and its PPR gets Failure without a PASID.

Stop markers never get a response (§8.2), whatever became of them.

CMD_PRI_RESP (§4.5.2) sends a PRG Response with the command's code, StreamID and PRGIndex,
and the PASID iff SSV=1 (software sets SSV where STE.PPAR asks for it); the queue ignores it
with SMMUEN=0 (models/smmu/cmdq.py drops it before it gets here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from models.arch import registers as R
from models.arch.priq import PCIE_PRG_RESPONSE, PriEntry, PriRespCode
from models.memory import ExternalAbort, PhysicalMemory
from models.smmu.config import SmmuConfig
from models.smmu.regfile import RegisterFile

__all__ = ["PrgResponse", "PriQueue"]


@dataclass(frozen=True)
class PrgResponse:
    """A PCIe PRG Response message to the endpoint."""

    sid: int
    prgi: int
    code: PriRespCode
    pasid: int | None  # None: no PASID TLP prefix
    auto: bool  # sent by the SMMU itself (overflow, queue unusable), not by CMD_PRI_RESP

    @property
    def pcie_code(self) -> int:
        """The Response Code field of the PCIe message."""
        return PCIE_PRG_RESPONSE[self.code]


class PriQueue:
    def __init__(self, cfg: SmmuConfig, regs: RegisterFile, mem: PhysicalMemory,
                 ste_ppar: Callable[[int], bool | None]) -> None:
        """``ste_ppar(sid)``: the StreamID's STE.PPAR, or None where the STE cannot be read
        or used."""
        self.cfg = cfg
        self.regs = regs
        self.mem = mem
        self.ste_ppar = ste_ppar
        self.responses: list[PrgResponse] = []
        self.on_response: Callable[[PrgResponse], None] | None = None
        self.stats = {"written": 0, "overflow_dropped": 0, "disabled_dropped": 0,
                      "abort_dropped": 0, "auto_success": 0, "auto_failure": 0,
                      "overflows": 0}

    def _log2size(self) -> int:
        return min(R.PRIQ_BASE.from_int(self.regs.hw_value("PRIQ_BASE")).LOG2SIZE,
                   self.cfg.PRIQS)

    def usable(self) -> bool:
        """Effective PRIQEN and no PRIQ_ABT_ERR waiting for its acknowledgement."""
        cr0 = R.CR0.from_int(self.regs.hw_value("CR0ACK"))
        return bool(cr0.PRIQEN and cr0.SMMUEN) and not (
            self.regs.gerror_active() & R.GERROR.field("PRIQ_ABT_ERR").mask)

    # ---- page requests in ---------------------------------------------------------------
    def page_request(self, ppr: PriEntry) -> bool:
        """One PPR from the endpoint; True if it was written to the queue."""
        if not self.cfg.PRI:
            raise ValueError("a page request to an SMMU without PRI (IDR0.PRI=0)")
        stop = ppr.is_stop_marker
        if not self.usable():
            self.stats["disabled_dropped"] += 1
            if not stop:
                self._auto(ppr, PriRespCode.RESPONSE_FAILURE, None)
            return False
        log2 = self._log2size()
        prod = R.PRIQ_PROD.from_int(self.regs.hw_value("PRIQ_PROD"))
        cons = R.PRIQ_CONS.from_int(self.regs.hw_value("PRIQ_CONS"))
        overflowing = prod.OVFLG != cons.OVACKFLG
        if overflowing or R.q_full(prod.WR, cons.RD, log2):
            if not overflowing:  # entering overflow: every later write is inhibited
                prod.OVFLG ^= 1
                self.regs.hw_set("PRIQ_PROD", prod.to_int())
                self.stats["overflows"] += 1
            self.stats["overflow_dropped"] += 1
            if ppr.Last and not stop:
                self._overflow_response(ppr)
            return False
        base = R.PRIQ_BASE.from_int(self.regs.hw_value("PRIQ_BASE")).ADDR
        addr = R.q_base(base, PriEntry.SIZE, log2) + R.q_index(prod.WR, log2) * PriEntry.SIZE
        try:
            self.mem.write(addr, ppr.to_bytes(), source="smmu-priq")
        except (ExternalAbort, ValueError):
            self.stats["abort_dropped"] += 1
            self.regs.hw_raise_gerror("PRIQ_ABT_ERR")
            if not stop:
                self._auto(ppr, PriRespCode.RESPONSE_FAILURE, None)
            return False
        prod.WR = R.q_inc(prod.WR, log2) & ((2 << log2) - 1)
        self.regs.hw_set("PRIQ_PROD", prod.to_int())
        self.stats["written"] += 1
        return True

    def _overflow_response(self, ppr: PriEntry) -> None:
        if not ppr.SSV:
            self._auto(ppr, PriRespCode.SUCCESS, None)
        elif self.cfg.PPS:
            self._auto(ppr, PriRespCode.SUCCESS, ppr.SubstreamID)
        else:
            ppar = self.ste_ppar(ppr.StreamID)
            if ppar is None:
                self._auto(ppr, PriRespCode.RESPONSE_FAILURE, None)
            else:
                self._auto(ppr, PriRespCode.SUCCESS, ppr.SubstreamID if ppar else None)

    def _auto(self, ppr: PriEntry, code: PriRespCode, pasid: int | None) -> None:
        self.stats["auto_success" if code == PriRespCode.SUCCESS else "auto_failure"] += 1
        self._send(PrgResponse(ppr.StreamID, ppr.PRGIndex, code, pasid, auto=True))

    # ---- PRG responses out --------------------------------------------------------------
    def command_response(self, sid: int, ssv: int, ssid: int, prgi: int,
                         code: PriRespCode) -> None:
        """A consumed CMD_PRI_RESP."""
        self._send(PrgResponse(sid, prgi, PriRespCode(code), ssid if ssv else None, auto=False))

    def _send(self, resp: PrgResponse) -> None:
        self.responses.append(resp)
        if self.on_response is not None:
            self.on_response(resp)

    def irq_pending(self) -> bool:
        """The wired PRI-queue interrupt: enabled and the queue is not empty."""
        irq = R.IRQ_CTRL.from_int(self.regs.hw_value("IRQ_CTRLACK"))
        log2 = self._log2size()
        prod = R.PRIQ_PROD.from_int(self.regs.hw_value("PRIQ_PROD")).WR
        cons = R.PRIQ_CONS.from_int(self.regs.hw_value("PRIQ_CONS")).RD
        return bool(irq.PRIQ_IRQEN) and not R.q_empty(prod, cons, log2)
