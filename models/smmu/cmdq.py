"""Command queue consumer (reference §1.5, §5): the SMMU side of CMDQ_PROD/CONS.

The model consumes synchronously: every command between CONS and PROD is fetched (16 bytes,
index+wrap pointers), checked, executed in order, and CONS advances past it. Invalidations
take effect at once, so a CMD_SYNC completes as soon as it is consumed; its signal (wired
interrupt count, optional MSI write) happens before CONS moves past it.

Errors (§5.6) stop consumption with CONS on the offending command, CMDQ_CONS.ERR set and
GERROR.CMDQ_ERR toggled (it cannot already be active: the queue does not run while it is).
Consumption resumes once software acknowledges through GERRORN. CERROR_ILL covers unknown
opcodes, reserved bits or field values (e.g. SYNC CS=0b11, PRI_RESP Resp=0b11), SSec=1 on
this Non-secure queue, and commands of features this SMMU lacks (RESUME/STALL_TERM without
stalls, PRI_RESP without PRI, ATC_INV without ATS, CFGI_CD* without stage 1, TLBI_EL2_*
without Hyp, stage-2 TLBIs without stage 2). CERROR_ABT is a bus error fetching a command.
CMDQ_CONS.ERR keeps the last error code after recovery (choice: nothing clears it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models.arch import commands as C
from models.arch import registers as R
from models.memory import ExternalAbort, PhysicalMemory
from models.smmu.config import SmmuConfig
from models.smmu.regfile import RegisterFile

__all__ = ["CommandQueue"]

_EL2 = (C.CmdTlbiEl2All, C.CmdTlbiEl2Asid, C.CmdTlbiEl2Va, C.CmdTlbiEl2Vaa)
_S2 = (C.CmdTlbiS12Vmall, C.CmdTlbiS2Ipa)


class CommandQueue:
    def __init__(self, cfg: SmmuConfig, regs: RegisterFile, mem: PhysicalMemory,
                 invalidate: Callable[[Any], None]) -> None:
        # invalidate: every other consumed command goes there (invalidations, prefetches,
        # CMD_RESUME, CMD_STALL_TERM)
        self.cfg = cfg
        self.regs = regs
        self.mem = mem
        self.invalidate = invalidate
        self.consumed = 0
        self.syncs = 0
        self.sync_irqs = 0  # CMD_SYNC completions signalled with CS=SIG_IRQ
        self.sync_sevs = 0
        self.pri_responses: list[C.CmdPriResp] = []
        self.on_pri_resp: Callable[[C.CmdPriResp], None] | None = None  # the PRI queue's
        # ATC invalidation: a CMD_SYNC waits while ``sync_blocked()`` (earlier ATC_INVs not yet
        # completed); ``waiting_sync`` says the queue stopped at one.
        self.on_atc_inv: Callable[[C.CmdAtcInv], None] | None = None
        self.sync_blocked: Callable[[], bool] = lambda: False
        self.waiting_sync = False
        self.atc_invalidations: list[C.CmdAtcInv] = []

    def illegal(self, cmd: Any) -> bool:
        """Whether a decoded command raises CERROR_ILL on this SMMU."""
        cfg = self.cfg
        if isinstance(cmd, C.UnknownCommand) or cmd.problems() or getattr(cmd, "SSec", 0):
            return True
        if isinstance(cmd, (C.CmdResume, C.CmdStallTerm)):
            return cfg.STALL_MODEL == R.StallModel.TERMINATE_ONLY
        if isinstance(cmd, C.CmdPriResp):
            return not cfg.PRI
        if isinstance(cmd, C.CmdAtcInv):
            return not cfg.ATS
        if isinstance(cmd, (C.CmdCfgiCd, C.CmdCfgiCdAll)):
            return not cfg.S1P
        if isinstance(cmd, _EL2):
            return not cfg.HYP
        if isinstance(cmd, _S2):
            return True  # S2P is always 0 here
        return bool(cfg.RIL and getattr(cmd, "TG", 0) and _reserved_range(cmd))

    def process(self) -> int:
        """Consume until the queue is empty or a command fails; returns commands consumed."""
        regs = self.regs
        if not R.CR0.from_int(regs.hw_value("CR0ACK")).CMDQEN:
            return 0
        if regs.gerror_active() & R.GERROR.field("CMDQ_ERR").mask:
            return 0
        base_reg = R.CMDQ_BASE.from_int(regs.hw_value("CMDQ_BASE"))
        log2 = min(base_reg.LOG2SIZE, self.cfg.CMDQS)
        ptr_mask = (2 << log2) - 1
        prod = regs.hw_value("CMDQ_PROD") & ptr_mask
        cons = R.CMDQ_CONS.from_int(regs.hw_value("CMDQ_CONS"))
        cons.RD &= ptr_mask
        done = 0
        while not R.q_empty(prod, cons.RD, log2):
            addr = R.q_base(base_reg.ADDR, C.Command.SIZE, log2) \
                + R.q_index(cons.RD, log2) * C.Command.SIZE
            try:
                cmd = C.decode_command(self.mem.read(addr, C.Command.SIZE, source="smmu-cmdq"))
            except (ExternalAbort, ValueError):
                self._error(cons, R.CmdqErr.CERROR_ABT)
                break
            if self.illegal(cmd):
                self._error(cons, R.CmdqErr.CERROR_ILL)
                break
            if isinstance(cmd, C.CmdSync) and self.sync_blocked():
                self.waiting_sync = True  # CONS stays at the SYNC
                break
            self._execute(cmd)
            cons.RD = R.q_inc(cons.RD, log2) & ptr_mask
            regs.hw_set("CMDQ_CONS", cons.to_int())
            done += 1
        self.consumed += done
        return done

    def sync_timeout(self) -> bool:
        """The ATC invalidations the SYNC at CONS waits for timed out: CERROR_ATC_INV_SYNC
        with CONS at the SYNC. False if no SYNC was waiting."""
        if not self.waiting_sync:
            return False
        self.waiting_sync = False
        self._error(R.CMDQ_CONS.from_int(self.regs.hw_value("CMDQ_CONS")),
                    R.CmdqErr.CERROR_ATC_INV_SYNC)
        return True

    def _error(self, cons: R.CMDQ_CONS, code: R.CmdqErr) -> None:
        cons.ERR = code
        self.regs.hw_set("CMDQ_CONS", cons.to_int())
        self.regs.hw_raise_gerror("CMDQ_ERR")

    def _execute(self, cmd: Any) -> None:
        smmuen = R.CR0.from_int(self.regs.hw_value("CR0ACK")).SMMUEN
        if isinstance(cmd, C.CmdSync):
            self.syncs += 1
            if cmd.CS == C.SyncCS.SIG_IRQ:
                self.sync_irqs += 1
                if self.cfg.MSI and cmd.MSIAddr:
                    try:
                        self.mem.write32(cmd.MSIAddr, cmd.MSIData, source="smmu-msi")
                    except (ExternalAbort, ValueError):
                        self.regs.hw_raise_gerror("MSI_CMDQ_ABT_ERR")
            elif cmd.CS == C.SyncCS.SIG_SEV and self.cfg.SEV:
                self.sync_sevs += 1
        elif isinstance(cmd, C.CmdPriResp):
            if smmuen:
                self.pri_responses.append(cmd)
                if self.on_pri_resp is not None:
                    self.on_pri_resp(cmd)
        elif isinstance(cmd, C.CmdAtcInv):
            if smmuen:
                self.atc_invalidations.append(cmd)
                if self.on_atc_inv is not None:
                    self.on_atc_inv(cmd)
        else:
            # Invalidations, RESUME and STALL_TERM (SmmuModel._command); prefetches are hints
            # (no-ops).
            self.invalidate(cmd)


def _reserved_range(cmd: Any) -> bool:
    """§4.4.1.1, with IDR3.RIL and TG != 0: "The parameter combination of NUM == 0, SCALE == 0
    and TTL = 0b00 is Reserved. Use of this Reserved combination of parameters causes
    CERROR_ILL"; without IDR5.DS (not implemented) TG == 0b10 with TTL == 0b01 "raises a
    CERROR_ILL, since TTL is treated as 0b00"."""
    ttl = 0 if (cmd.TG == 0b10 and cmd.TTL == 0b01) else cmd.TTL
    return cmd.NUM == 0 and cmd.SCALE == 0 and ttl == 0
