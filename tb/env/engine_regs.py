"""What the architecture allows the engine-owned registers to read as, given the last value
the register scoreboard knew and the queues in memory.

CMDQ_CONS (the command consumer), EVENTQ_PROD (the event writer), PRIQ_PROD (the PRI queue
writer) and GERROR change at times
the register model cannot know while their engine runs, so a read is checked against the set
of values reachable from the last known state, and only a value in that set becomes the new
known state:
- CMDQ_CONS.RD moves only towards CMDQ_PROD, past commands that are legal (§4.1.2, §4.1.4);
  CMDQ_CONS.ERR changes only to the error of the command RD stops on (CERROR_ILL from the
  model's decoder, CERROR_ABT for a fetch abort; with ATS, CERROR_ATC_INV_SYNC on a
  CMD_SYNC), and that command is not consumed;
- EVENTQ_PROD.WR advances by at most a queue's worth; OVFLG toggles only when no overflow
  is pending (OVFLG == EVENTQ_CONS.OVACKFLG) and the queue is full (§7.4); PRIQ_PROD alike;
- a GERROR bit toggles only while its error is not active (GERROR[x] == GERRORN[x]) (§7.5),
  only error bits toggle, and CMDQ_ERR only with an erroneous command (or, with ATS, a
  CMD_SYNC) between CONS and PROD.
"""

from __future__ import annotations

from typing import Any

from models.arch import commands as C
from models.arch import registers as R
from models.memory import ExternalAbort, PhysicalMemory
from models.smmu.cmdq import CommandQueue
from models.smmu.config import SmmuConfig
from models.smmu.regfile import RegisterFile

__all__ = ["EngineRegs"]

ERR_MASK = R.CMDQ_CONS.field("ERR").mask
CMDQ_ERR = R.GERROR.field("CMDQ_ERR").mask
RAISABLE = R.GERROR(CMDQ_ERR=1, EVENTQ_ABT_ERR=1, PRIQ_ABT_ERR=1, MSI_CMDQ_ABT_ERR=1,
                    MSI_EVENTQ_ABT_ERR=1, MSI_PRIQ_ABT_ERR=1, MSI_GERROR_ABT_ERR=1,
                    SFM_ERR=1).to_int()


class EngineRegs:
    def __init__(self, cfg: SmmuConfig, mem: PhysicalMemory) -> None:
        self.cfg = cfg
        self.mem = mem
        self.decoder = CommandQueue(cfg, RegisterFile(cfg), mem, lambda _cmd: None)
        # Every CMDQ_CONS read is checked against the commands from the last CONS to PROD,
        # so the same few entries are judged again and again: CERROR_ILL is a function of
        # the command's bytes and the SMMU's configuration alone, the geometry of CMDQ_BASE.
        self._ill: dict[bytes, bool] = {}
        self._geom: dict[int, tuple[int, int, int]] = {}
        self._first: tuple[Any, ...] | None = None  # first_error's last answer

    # ---- the command queue ------------------------------------------------------------
    def _cmdq(self, v: dict[str, int]) -> tuple[int, int, int]:
        """(log2size, pointer mask, base address) of the command queue."""
        got = self._geom.get(v["CMDQ_BASE"])
        if got is None:
            base = R.CMDQ_BASE.from_int(v["CMDQ_BASE"])
            shift = min(base.LOG2SIZE, self.cfg.CMDQS)
            got = shift, (2 << shift) - 1, R.q_base(base.ADDR, C.Command.SIZE, shift)
            if len(self._geom) >= 64:
                self._geom.clear()
            self._geom[v["CMDQ_BASE"]] = got
        return got

    def _illegal(self, raw: bytes) -> bool:
        got = self._ill.get(raw)
        if got is None:
            got = self.decoder.illegal(C.decode_command(raw))
            if len(self._ill) >= 4096:
                self._ill.clear()
            self._ill[raw] = got
        return got

    def cmd_error(self, v: dict[str, int], ptr: int) -> int:
        """The CMDQ_CONS.ERR code the command at ``ptr`` raises (0: it is legal)."""
        shift, _m, base = self._cmdq(v)
        try:
            raw = self.mem.read(base + R.q_index(ptr, shift) * C.Command.SIZE, C.Command.SIZE,
                                source="scoreboard")
        except (ExternalAbort, ValueError):
            return R.CmdqErr.CERROR_ABT
        return R.CmdqErr.CERROR_ILL if self._illegal(raw) else 0

    def _atc_sync(self, v: dict[str, int], ptr: int) -> bool:
        """Whether the command at ``ptr`` is a CMD_SYNC that may wait for ATC invalidations
        (IDR0.ATS) and so fail with CERROR_ATC_INV_SYNC (§5.6)."""
        if not self.cfg.ATS:
            return False
        shift, _m, base = self._cmdq(v)
        try:
            raw = self.mem.read(base + R.q_index(ptr, shift) * C.Command.SIZE, C.Command.SIZE,
                                source="scoreboard")
        except (ExternalAbort, ValueError):
            return False
        return isinstance(C.decode_command(raw), C.CmdSync)

    def atc_sync_pending(self, v: dict[str, int], frm: int) -> bool:
        """Whether a CMD_SYNC that may time out waiting for ATC invalidations lies between
        ``frm`` and CMDQ_PROD."""
        shift, m, _base = self._cmdq(v)
        prod, ptr = v["CMDQ_PROD"] & m, frm & m
        while ptr != prod:
            if self._atc_sync(v, ptr):
                return True
            ptr = R.q_inc(ptr, shift) & m
        return False

    def first_error(self, v: dict[str, int], frm: int) -> tuple[int, int] | None:
        """(pointer, code) of the first erroneous command from ``frm`` up to CMDQ_PROD."""
        shift, m, base = self._cmdq(v)
        prod, ptr = v["CMDQ_PROD"] & m, frm & m
        # A CMD_SYNC is polled for several times with the same commands outstanding: the
        # answer stands while the queue's memory is unchanged.
        key = (v["CMDQ_BASE"], ptr, prod)
        memo = self._first
        if memo is not None and memo[0] == key and self.mem.unchanged(memo[1], memo[2]):
            return memo[3]
        epoch = self.mem.epoch
        pages = self.mem.page_versions(base, C.Command.SIZE << shift)
        found = None
        while ptr != prod:
            code = self.cmd_error(v, ptr)
            if code:
                found = ptr, code
                break
            ptr = R.q_inc(ptr, shift) & m
        self._first = (key, epoch, pages, found)
        return found

    def check_cmdq_cons(self, v: dict[str, int], got: int) -> str:
        shift, m, _base = self._cmdq(v)
        prod, last = v["CMDQ_PROD"] & m, v["CMDQ_CONS"]
        if got & ~(m | ERR_MASK):
            return f"CMDQ_CONS {got:#x} has bits above its wrap bit"
        if R.q_used(prod, got & m, shift) > R.q_used(prod, last & m, shift):
            return f"CMDQ_CONS {got:#x} moved away from PROD {prod:#x} (was {last:#x})"
        stop = self.first_error(v, last)
        if stop is not None and R.q_used(prod, got & m, shift) < R.q_used(prod, stop[0], shift):
            return (f"CMDQ_CONS {got:#x} passed the erroneous command at {stop[0]:#x} "
                    f"(error {stop[1]})")
        err = (got & ERR_MASK) >> R.CMDQ_CONS.field("ERR").lsb
        if got & ERR_MASK != last & ERR_MASK:
            want = None if stop is None or stop[0] != got & m else stop[1]
            if err == R.CmdqErr.CERROR_ATC_INV_SYNC and self._atc_sync(v, got & m):
                return ""  # a timeout: whether it happens depends on the endpoints
            if err != want:
                return (f"CMDQ_CONS.ERR became {err:#x} at {got & m:#x}, where the command "
                        f"raises {want or 'no error'}")
        return ""

    # ---- the event queue --------------------------------------------------------------
    def check_eventq_prod(self, v: dict[str, int], got: int) -> str:
        return self._check_outq_prod("EVENTQ", self.cfg.EVENTQS, v, got)

    def check_priq_prod(self, v: dict[str, int], got: int) -> str:
        return self._check_outq_prod("PRIQ", self.cfg.PRIQS, v, got)

    def _check_outq_prod(self, q: str, qs: int, v: dict[str, int], got: int) -> str:
        """An output queue's PROD (the event and PRI queues share the rules, §7.4, §8.2)."""
        prod_r, cons_r = getattr(R, f"{q}_PROD"), getattr(R, f"{q}_CONS")
        shift = min(getattr(R, f"{q}_BASE").from_int(v[f"{q}_BASE"]).LOG2SIZE, qs)
        m = (2 << shift) - 1
        last, cons = prod_r.from_int(v[f"{q}_PROD"]), cons_r.from_int(v[f"{q}_CONS"])
        new = prod_r.from_int(got)
        if R.q_used(new.WR & m, last.WR & m, shift) > 1 << shift:
            return f"{q}_PROD {got:#x} jumped more than a queue from {v[f'{q}_PROD']:#x}"
        if new.OVFLG != last.OVFLG:
            if last.OVFLG != cons.OVACKFLG:
                return (f"{q}_PROD.OVFLG toggled again ({got:#x}) while an overflow was "
                        f"still unacknowledged")
            if not R.q_full(new.WR, cons.RD, shift):
                return f"{q}_PROD.OVFLG toggled ({got:#x}) with the queue not full " \
                       f"(CONS {v[f'{q}_CONS']:#x})"
        return ""

    # ---- global errors ----------------------------------------------------------------
    def check_gerror(self, v: dict[str, int], got: int) -> str:
        toggled = got ^ v["GERROR"]
        if toggled & ~RAISABLE:
            return f"GERROR {got:#x} changed bits that are not errors"
        again = toggled & (v["GERROR"] ^ v["GERRORN"])
        if again:
            return f"GERROR {got:#x} toggled {again:#x} while that error was active"
        if toggled & CMDQ_ERR and self.first_error(v, v["CMDQ_CONS"]) is None and \
                not self.atc_sync_pending(v, v["CMDQ_CONS"]):
            return f"GERROR.CMDQ_ERR toggled ({got:#x}) with no erroneous command pending"
        return ""
