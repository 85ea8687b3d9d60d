"""The functional reference SMMUv3: registers, queues, caches and translation, no timing.

Two users:

* the software stack, through the same 32-bit register interface as the RTL
  (``mmio_read32``/``mmio_write32``) and the same memory; translations come from
  ``translate``. By default the model behaves like a caching SMMU (``policy="cached"``: a
  cached copy is used while one exists), so software that forgets an invalidation sees stale
  translations here as it would on hardware; ``policy="fresh"`` always re-reads the tables.
* the RTL scoreboard, through the predictor API: ``predict`` (every legal outcome given what
  may be cached), ``commit`` (the outcome the RTL produced) and ``apply_command`` (a command
  the RTL consumed; invalidations are held back until the following CMD_SYNC, because only
  its completion guarantees them).

The register file is non-lagging: CR0ACK/IRQ_CTRLACK follow at once. The engines run
synchronously: commands are consumed on every CMDQ_PROD, GERRORN or CR0 write. Stalled
transactions (CD.S=1) are held in ``stalls`` until CMD_RESUME or CMD_STALL_TERM ends them.

The PCIe side, with IDR0.ATS and IDR0.PRI: ``ats_translate`` answers Translation Requests
(models/smmu/ats.py); ``page_request`` takes Page Requests into the PRI queue, and PRG
responses go out through ``priq`` (models/smmu/pri.py); CMD_ATC_INV goes out through ``atc``
and a CMD_SYNC waits for its completion (``atc_inv_complete``) or times out
(``atc_inv_timeout``, models/smmu/atc.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

from models.arch import commands as C
from models.arch import registers as R
from models.arch.priq import PriEntry
from models.memory import PhysicalMemory
from models.smmu.atc import AtcInvRequest, AtcInvUnit
from models.smmu.ats import AtsCompletion, AtsReq, completion_from_port
from models.smmu.caches import CacheEnvelope
from models.smmu.cmdq import CommandQueue
from models.smmu.config import SmmuConfig
from models.smmu.evtq import EventQueue
from models.smmu.port import TransReq, TransResp
from models.smmu.pri import PriQueue
from models.smmu.regfile import RegisterFile
from models.smmu.stall import Stalled, StallUnit
from models.smmu.xlate import Outcome, XlateRegs, usable_ste

__all__ = ["SmmuModel"]

_KICK = {R.OFFSETS["CMDQ_PROD"], R.OFFSETS["GERRORN"], R.OFFSETS["CR0"]}
_CR0 = R.OFFSETS["CR0"]


class SmmuModel:
    def __init__(self, cfg: SmmuConfig, mem: PhysicalMemory, *,
                 policy: Literal["cached", "fresh"] = "cached", predictor: bool = False,
                 memo: bool = True) -> None:
        self.cfg = cfg
        # predictor=True: the RTL owns the queues; the scoreboard feeds register writes and
        # consumed commands (apply_command) and the model's own engines never run.
        self.predictor = predictor
        self.mem = mem
        self.policy = policy
        self.regs = RegisterFile(cfg)
        # memo=False: the reference enumeration (every combination replayed), for checking
        self.caches = CacheEnvelope(cfg, mem, self.xlate_regs, memo=memo)
        self.cmdq = CommandQueue(cfg, self.regs, mem, self._command)
        self.evtq = EventQueue(cfg, self.regs, mem)
        self.stalls = StallUnit(cfg.STALL_MAX, cfg.TERM_MODEL)
        self.dvm_applied = 0  # broadcast TLBIs applied (BTM) and ignored (no BTM, CR2.PTM=1)
        self.dvm_ignored = 0
        self.priq = PriQueue(cfg, self.regs, mem, self._ste_ppar)
        self.atc = AtcInvUnit()
        self.cmdq.on_atc_inv = self.atc.issue
        self.cmdq.sync_blocked = lambda: bool(self.atc.outstanding)
        self.cmdq.on_pri_resp = lambda cmd: self.priq.command_response(
            cmd.StreamID, cmd.SSV, cmd.SubstreamID, cmd.PRGIndex, cmd.Resp)
        self._pending: list[Any] = []  # scoreboard-observed invalidations awaiting a SYNC

    # ---- register interface ---------------------------------------------------------------
    def mmio_read32(self, offset: int) -> int:
        return self.regs.expect(offset).value

    def mmio_write32(self, offset: int, value: int) -> None:
        self.regs.write(offset, value)
        if self.predictor:
            return
        if offset == _CR0 and not R.CR0.from_int(self.regs.hw_value("CR0ACK")).CMDQEN:
            # A stopped queue waits for nothing; re-enabled, it executes the SYNC at CONS again
            # (the invalidations sent before still count).
            self.cmdq.waiting_sync = False
        if offset in _KICK:
            self.process_commands()
        if offset == _CR0 and not R.CR0.from_int(self.regs.hw_value("CR0ACK")).SMMUEN:
            self.stalls.terminate_all()
        if self.stalls.held:
            self._retry_waiting()

    def xlate_regs(self) -> XlateRegs:
        v = self.regs.hw_value
        return XlateRegs.from_values(v("CR0ACK"), v("GBPA"), v("CR2"), v("STRTAB_BASE"),
                                     v("STRTAB_BASE_CFG"))

    # ---- engines --------------------------------------------------------------------------
    def process_commands(self) -> int:
        """Consume commands until the queue is empty or a command fails."""
        return self.cmdq.process()

    def accepting(self) -> bool:
        """Whether a new transaction is taken: not while IDR5.STALL_MAX are held."""
        return not self.stalls.full()

    def translate(self, req: TransReq,
                  on_done: Callable[[TransResp], None] | None = None) -> TransResp | None:
        """Translate one transaction deterministically and record its event, if any. A
        transaction that stalls returns None and is held (models/smmu/stall.py); its
        response goes to ``on_done`` once CMD_RESUME or CMD_STALL_TERM ends it. Only offer
        a transaction while ``accepting()``."""
        outcome = self._resolve(req)
        if outcome.stall:
            return self._stall(req, outcome, on_done)
        if outcome.event is not None:
            self.evtq.write(outcome.event)
        return outcome.resp

    def _resolve(self, req: TransReq) -> Outcome:
        """The outcome of ``req``, with its HTTU descriptor updates made (§3.13): each a
        compare-and-swap, so a descriptor another agent changed since the walk read it makes
        the translation start again, as the hardware walks again."""
        for _ in range(8):
            outcome = self.caches.resolve(req, fresh_first=self.policy == "fresh")
            if all(self.mem.cas64(addr, old, new, source="smmu-httu") == old
                   for addr, old, new in outcome.updates):
                return outcome
        raise RuntimeError(f"{req}: a descriptor changed under every one of 8 HTTU updates")

    # ---- BTM: the CPU's broadcast TLB invalidations (§3.17, IDR0.BTM) ------------------------
    def dvm(self, tlbis: list[Any]) -> int:
        """Broadcast TLBIs from the CPU (each with ``op``, ``asid``, ``start``: the
        models.cpu.tlbi.Tlbi shape), complete when this returns (the DVM sync). Applied to
        the TLB entries of shared (ASET=0) contexts only where the SMMU has BTM and
        CR2.PTM=0; ignored otherwise. Returns how many were applied."""
        if not self.cfg.BTM or R.CR2.from_int(self.regs.hw_value("CR2")).PTM:
            self.dvm_ignored += len(tlbis)
            return 0
        # EL2&0 forms (a kernel at EL2 with VHE) match only EL2-E2H entries, which only an SMMU
        # with IDR0.Hyp makes (STE.STRW=EL2-E2H, CR2.E2H)
        el2 = [t for t in tlbis if getattr(t, "e2h", False)]
        if el2 and not self.cfg.HYP:
            self.dvm_ignored += len(el2)
            tlbis = [t for t in tlbis if not getattr(t, "e2h", False)]
        for t in tlbis:
            self.caches.broadcast_tlbi(str(t.op), t.asid, t.start)
        self.dvm_applied += len(tlbis)
        return len(tlbis)

    # ---- stalls (§3.12.2) -----------------------------------------------------------------
    def _stall(self, req: TransReq, outcome: Outcome,
               on_done: Callable[[TransResp], None] | None) -> TransResp | None:
        assert outcome.event is not None
        entry = Stalled(req, outcome.resp.fault, None, on_done)
        if self.evtq.writable():
            entry.stag = self.stalls.alloc_stag()
            if self.evtq.write(dataclasses.replace(outcome.event, STAG=entry.stag)):
                self.stalls.hold(entry)
                return None
            entry.stag = None  # the write aborted: the record is not lost, it waits
        # Full, disabled or after an abort: held with no record (so never an overflow)
        # until the queue is writable again.
        self.stalls.hold(entry)
        self.stalls.stats["record_waits"] += 1
        return None

    def _retry_waiting(self) -> None:
        """Held transactions without a record: retried as newly arrived while the event
        queue is writable."""
        for entry in self.stalls.waiting():
            if not self.evtq.writable():
                return
            self.stalls.release(entry)
            self.stalls.stats["record_retries"] += 1
            self._finish(entry, self.translate(entry.req, entry.on_done))

    @staticmethod
    def _finish(entry: Stalled, resp: TransResp | None) -> None:
        if resp is not None and entry.on_done is not None:
            entry.on_done(resp)

    def resume(self, cmd: C.CmdResume) -> None:
        """CMD_RESUME: retry or terminate the transaction (StreamID, STAG) names, if any."""
        entry = self.stalls.find(cmd.StreamID, cmd.STAG)
        if entry is None:
            self.stalls.stats["resume_no_match"] += 1
            return
        if cmd.Ac:
            self.stalls.release(entry)
            self.stalls.stats["retried"] += 1
            self._finish(entry, self.translate(entry.req, entry.on_done))
        else:
            self.stalls.terminate(entry, self.stalls.termination(bool(cmd.Ab)))

    def _command(self, cmd: Any) -> None:
        """A consumed command other than CMD_SYNC, PRI_RESP and ATC_INV."""
        if isinstance(cmd, C.CmdResume):
            self.resume(cmd)
        elif isinstance(cmd, C.CmdStallTerm):
            self.stalls.terminate_stream(cmd.StreamID)
        else:
            self.caches.invalidate(cmd)

    # ---- ATS (models/smmu/ats.py) ----------------------------------------------------------
    def ats_translate(self, req: AtsReq) -> AtsCompletion:
        """One ATS Translation Request, completed as fault-paths.md §3.1 says: the lookup of
        any transaction (caches, STE and CD checks) with ``TransReq.ats``, whose outcome is
        the completion in the port's encoding (xlate.translate). The F_BAD_ATS_TREQ record,
        the only one an ATS request writes, is in ``event``."""
        if not self.cfg.ATS:
            raise ValueError("an ATS Translation Request to an SMMU without ATS (IDR0.ATS=0)")
        outcome = self._resolve(
            TransReq(sid=req.sid, ssv=req.ssv, ssid=req.ssid if req.ssv else 0, addr=req.addr,
                     rnw=1, ind=req.exe, pnu=req.priv, ats=1, nw=req.nw))
        if outcome.event is not None:
            self.evtq.write(outcome.event)
        return dataclasses.replace(completion_from_port(outcome.resp.fields(), req.priv),
                                   event=outcome.event)

    def translated(self, sid: int, addr: int, rnw: int) -> TransResp:
        """An ATS-Translated transaction at PA ``addr`` (``TransReq.at``): checked against the
        STE with CR0.ATSCHK=1, its record (F_TRANSL_FORBIDDEN, or the STE's configuration
        fault) written."""
        if not self.cfg.ATS:
            raise ValueError("an ATS-Translated transaction to an SMMU without ATS")
        outcome = self._resolve(TransReq(sid=sid, addr=addr, rnw=rnw, at=1))
        if outcome.event is not None:
            self.evtq.write(outcome.event)
        return outcome.resp

    # ---- ATC invalidation (models/smmu/atc.py) ---------------------------------------------
    def atc_inv_complete(self, itag: int, *, ur: bool = False) -> bool:
        """The endpoint's Invalidation Completion (or UR) for ``itag``; a SYNC waiting for it
        may complete now. False if nothing waited for it (late, after a timeout)."""
        done = self.atc.complete(itag, ur=ur)
        if done and self.cmdq.waiting_sync and not self.atc.outstanding:
            self.cmdq.waiting_sync = False
            self.process_commands()
        return done

    def atc_inv_timeout(self) -> list[AtcInvRequest]:
        """The SMMU's ATC-invalidation timeout expired: a SYNC waiting for completions fails
        with CERROR_ATC_INV_SYNC and what it waited for is abandoned."""
        if not self.cmdq.sync_timeout():
            return []
        return self.atc.abandon()

    # ---- PRI (the endpoint's page requests; models/smmu/pri.py) ---------------------------
    def page_request(self, ppr: PriEntry) -> bool:
        """A PCIe Page Request; True if written to the PRI queue. PRG Responses, automatic
        or from CMD_PRI_RESP, go to ``priq.responses`` (and ``priq.on_response``)."""
        return self.priq.page_request(ppr)

    def _ste_ppar(self, sid: int) -> bool | None:
        ste = usable_ste(self.cfg, self.xlate_regs(), self.mem, sid)
        return None if ste is None else bool(ste.PPAR)

    # ---- interrupts (wired, level) --------------------------------------------------------
    @property
    def irq_eventq(self) -> bool:
        return self.evtq.irq_pending()

    @property
    def irq_priq(self) -> bool:
        return bool(self.cfg.PRI) and self.priq.irq_pending()

    @property
    def irq_gerror(self) -> bool:
        irq = R.IRQ_CTRL.from_int(self.regs.hw_value("IRQ_CTRLACK"))
        return bool(irq.GERROR_IRQEN and self.regs.gerror_active())

    @property
    def cmd_sync_irqs(self) -> int:
        """CMD_SYNCs completed with CS=SIG_IRQ (each one pulses the wired interrupt)."""
        return self.cmdq.sync_irqs

    # ---- predictor API (RTL scoreboard) ---------------------------------------------------
    def predict(self, req: TransReq) -> list[Outcome]:
        return self.caches.predict(req)

    def commit(self, req: TransReq, outcome: Outcome) -> None:
        self.caches.commit(req, outcome)

    def predict_runs(self, req: TransReq) -> list[tuple[Outcome, list[Any]]]:
        """Every (outcome, cacheable fills) the caches allow; pass to ``commit_runs``."""
        return self.caches.runs(req)

    def commit_runs(self, req: TransReq, runs: list[tuple[Outcome, list[Any]]],
                    outcomes: list[Outcome]) -> None:
        self.caches.commit_runs(req, runs, outcomes)

    def apply_command(self, cmd: Any) -> None:
        """A command the RTL consumed: its invalidation is certain once a CMD_SYNC completes."""
        if isinstance(cmd, C.CmdSync):
            for pending in self._pending:
                self.caches.invalidate(pending)
            self._pending.clear()
        else:
            self._pending.append(cmd)
