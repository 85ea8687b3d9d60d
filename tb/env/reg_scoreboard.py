"""Register scoreboard: every access on the register port checked against the model.

The expected values come from ``models.smmu.regfile`` (architecture) and
``models.smmu.config`` (the IDRs the build must advertise), never from the RTL.
"""

from __future__ import annotations

from pyuvm import uvm_subscriber

from models.arch import registers as R
from models.smmu.regfile import RegisterFile
from tb.agents.reg_agent import RegItem
from tb.bfm.smmu_bfm import RESP_OKAY, RESP_SLVERR
from tb.env.config import env_cfg
from tb.env.engine_regs import EngineRegs


def expected_resp(item: RegItem) -> int:
    if item.addr % 4:
        return RESP_SLVERR
    if item.write and len(item.data) != 4:
        return RESP_SLVERR
    return RESP_OKAY


# Engine-owned registers a read is checked against: the EngineRegs check, and the engines
# (CR0 bits) of which one must be on for the register to move.
_HW_CHECKS = {"CMDQ_CONS": ("check_cmdq_cons", ("CMDQEN",)),
              "EVENTQ_PROD": ("check_eventq_prod", ("EVENTQEN",)),
              "PRIQ_PROD": ("check_priq_prod", ("PRIQEN",)),
              "GERROR": ("check_gerror", ("CMDQEN", "EVENTQEN", "PRIQEN"))}
# What those checks read: each must be known.
_HW_KNOWN = frozenset({"CMDQ_CONS", "CMDQ_PROD", "CMDQ_BASE", "GERROR", "GERRORN",
                       "EVENTQ_PROD", "EVENTQ_CONS", "EVENTQ_BASE", "PRIQ_PROD", "PRIQ_CONS",
                       "PRIQ_BASE"})


class RegScoreboard(uvm_subscriber):
    def build_phase(self) -> None:
        self.model = RegisterFile(env_cfg(self).smmu, lagging=True)
        self.engines = EngineRegs(env_cfg(self).smmu, env_cfg(self).mem)
        self.moved: set[str] = set()  # indeterminate only by the engines' progress
        # §7.2.1: no record is written while EVENTQ_ABT_ERR is unacknowledged. Once a GERROR
        # read shows it active, EVENTQ_PROD must read the same until GERRORN is written.
        self.abt_active = False
        self.abt_prod: int | None = None
        self.seed = env_cfg(self).seed
        self.reads_checked = 0
        self.reads_loose = 0  # checked against "any" (an outcome that depends on timing)
        self.reads_hw = 0     # registers an engine owns
        self.reads_hw_checked = 0  # ... checked against what the engines may have done
        self.writes_seen = 0
        self.errors: list[str] = []

    def _error(self, msg: str) -> None:
        self.errors.append(msg)
        self.logger.error("%s (seed %s)", msg, self.seed)

    def write(self, item: RegItem) -> None:
        want = expected_resp(item)
        if item.resp != want:
            self._error(f"{item}: response {item.resp}, expected {want}")
            return
        name, _hi = self.model._name(item.addr)
        if want != RESP_OKAY:
            return
        if item.write:
            self.writes_seen += 1
            self.model.write(item.addr, item.value)
            if name == "GERRORN":
                self.abt_active, self.abt_prod = False, None
            if name in self.model.indeterminate:
                self.moved.discard(name)  # a guarded write of unknown outcome
            self._engines_may_move()
            return
        if name is not None:
            verdict = self._hw_owned(name, item.value)
            if verdict is not None:
                self.reads_hw += 1
                if verdict:
                    self._error(f"{verdict} (cycle {item.cycle})")
                    return
                self.model.v[name] = item.value
                self.model.indeterminate.discard(name)
                self.moved.discard(name)
                self._abt_progress(name, item)
                return
        exp = self.model.observe(item.addr, item.value)
        self.reads_checked += 1
        self.reads_loose += exp.any
        if not exp.matches(item.value):
            self._error(f"read {name or 'unmapped'} @ {item.addr:#07x} = {item.value:#010x}, "
                        f"expected {exp} (cycle {item.cycle})")

    # ---- registers the engines own ----------------------------------------------------
    # CMDQ_CONS (command consumer), EVENTQ_PROD (event writer) and GERROR move at times the
    # register model cannot know while their engine runs. A read of one is checked against
    # the values the architecture allows from the last known state and the queues in memory
    # (tb.env.engine_regs: CONS only past legal commands and ERR only with the command it
    # stops on, one OVFLG toggle per overflow and none while one is pending, GERROR bits only
    # while not active); only a value that passed becomes the model's known state.

    def _abt_progress(self, name: str, item: RegItem) -> None:
        v = self.model.v
        abt = R.GERROR.field("EVENTQ_ABT_ERR").mask
        if name == "GERROR" and (v["GERROR"] ^ v["GERRORN"]) & abt:
            self.abt_active = True
        elif name == "EVENTQ_PROD" and self.abt_active:
            wr = item.value & R.EVENTQ_PROD.field("WR").mask
            if self.abt_prod is None:
                self.abt_prod = wr
            elif wr != self.abt_prod:
                self._error(f"EVENTQ_PROD advanced to {wr:#x} from {self.abt_prod:#x} while "
                            f"EVENTQ_ABT_ERR was unacknowledged (cycle {item.cycle})")

    def _engines_may_move(self) -> None:
        """After a write: if the command consumer may now run with commands pending, what it
        does to CMDQ_CONS and GERROR is unknown until read, even if it is disabled again
        before then."""
        v = self.model.v
        shift = min(v["CMDQ_BASE"] & 0x1F, self.model.cfg.CMDQS)
        pending = not R.q_empty(v["CMDQ_PROD"], v["CMDQ_CONS"], shift)
        halted = "GERROR" not in self.model.indeterminate and \
            (v["GERROR"] ^ v["GERRORN"]) & R.GERROR.field("CMDQ_ERR").mask
        if self._engine_on("CMDQEN") and pending and not halted:
            for name in ("CMDQ_CONS", "GERROR"):
                if name not in self.model.indeterminate:
                    self.moved.add(name)
                self.model.indeterminate.add(name)

    def _engine_on(self, bit: str) -> bool:
        v = self.model.v
        return bool((v["CR0"] | v["CR0ACK"]) & R.CR0.field(bit).mask) or \
            "CR0ACK" in self.model.indeterminate

    def _hw_owned(self, name: str, got: int) -> str | None:
        """None when this read is not governed by an engine; else '' if fine or an error."""
        if name not in _HW_CHECKS:
            return None
        check, engines = _HW_CHECKS[name]
        if not any(self._engine_on(e) for e in engines):
            return None
        # The check needs the software-owned side known, and the last value of the engine-
        # owned ones known up to the engine's own progress (`moved`), not a guarded write
        # whose outcome depended on timing.
        if (self.model.indeterminate - self.moved) & _HW_KNOWN:
            return ""
        self.reads_hw_checked += 1
        return getattr(self.engines, check)(self.model.v, got)

    def check_phase(self) -> None:
        self.logger.info("register scoreboard: %d reads checked exactly (%d timing-dependent), "
                         "%d engine-owned reads (%d checked against the engines' rules), "
                         "%d writes, %d errors", self.reads_checked, self.reads_loose,
                         self.reads_hw, self.reads_hw_checked, self.writes_seen,
                         len(self.errors))
        # A predictor that mostly shrugs would pass anything.
        assert self.reads_loose * 20 <= self.reads_checked, "too few exact register checks"
        assert not self.errors, f"{len(self.errors)} register mismatches, first: " \
                                f"{self.errors[0]} (seed {self.seed})"
