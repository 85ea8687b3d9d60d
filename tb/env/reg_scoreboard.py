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


def expected_resp(item: RegItem) -> int:
    if item.addr % 4:
        return RESP_SLVERR
    if item.write and len(item.data) != 4:
        return RESP_SLVERR
    return RESP_OKAY


class RegScoreboard(uvm_subscriber):
    def build_phase(self) -> None:
        self.model = RegisterFile(env_cfg(self).smmu, lagging=True)
        self.seed = env_cfg(self).seed
        self.reads_checked = 0
        self.reads_loose = 0  # checked against "any" (an outcome that depends on timing)
        self.reads_hw = 0     # registers an engine owns, checked for monotonic progress
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
            self._engines_may_move()
            return
        if name is not None:
            verdict = self._hw_owned(name, item.value)
            if verdict is not None:
                self.reads_hw += 1
                if verdict:
                    self._error(f"{verdict} (cycle {item.cycle})")
                self.model.v[name] = item.value
                self.model.indeterminate.discard(name)
                return
        exp = self.model.observe(item.addr, item.value)
        self.reads_checked += 1
        self.reads_loose += exp.any
        if not exp.matches(item.value):
            self._error(f"read {name or 'unmapped'} @ {item.addr:#07x} = {item.value:#010x}, "
                        f"expected {exp} (cycle {item.cycle})")

    # ---- registers the engines own ----------------------------------------------------
    # CMDQ_CONS (command consumer), EVENTQ_PROD (event writer) and GERROR move at times the
    # register model cannot know while their engine runs. Reads of them are checked for
    # what the architecture guarantees (a consumer only advances towards PROD, a producer
    # only advances, only error bits toggle), then adopted as the model's new value.
    _RAISABLE = R.GERROR(CMDQ_ERR=1, EVENTQ_ABT_ERR=1, PRIQ_ABT_ERR=1, MSI_CMDQ_ABT_ERR=1,
                         MSI_EVENTQ_ABT_ERR=1, MSI_PRIQ_ABT_ERR=1, MSI_GERROR_ABT_ERR=1,
                         SFM_ERR=1).to_int()

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
            self.model.indeterminate.update(("CMDQ_CONS", "GERROR"))

    def _engine_on(self, bit: str) -> bool:
        v = self.model.v
        return bool((v["CR0"] | v["CR0ACK"]) & R.CR0.field(bit).mask) or \
            "CR0ACK" in self.model.indeterminate

    def _hw_owned(self, name: str, got: int) -> str | None:
        """None when this read is governed by an engine; else '' if fine or an error."""
        v, cfg = self.model.v, self.model.cfg
        if name == "CMDQ_CONS" and self._engine_on("CMDQEN"):
            shift = min(v["CMDQ_BASE"] & 0x1F, cfg.CMDQS)
            m = (2 << shift) - 1
            prod, last = v["CMDQ_PROD"] & m, v["CMDQ_CONS"] & m
            if "CMDQ_CONS" not in self.model.indeterminate and \
                    R.q_used(prod, got & m, shift) > R.q_used(prod, last, shift):
                return f"CMDQ_CONS {got:#x} moved away from PROD {prod:#x} (was {last:#x})"
            if got & ~(m | R.CMDQ_CONS.field("ERR").mask):
                return f"CMDQ_CONS {got:#x} has bits above its wrap bit"
            return ""
        if name == "EVENTQ_PROD" and self._engine_on("EVENTQEN"):
            shift = min(v["EVENTQ_BASE"] & 0x1F, cfg.EVENTQS)
            m = (2 << shift) - 1
            if R.q_used(got & m, v["EVENTQ_PROD"] & m, shift) > 1 << shift:
                return f"EVENTQ_PROD {got:#x} jumped more than a queue from {v['EVENTQ_PROD']:#x}"
            return ""
        if name == "GERROR" and (self._engine_on("CMDQEN") or self._engine_on("EVENTQEN")):
            if (got ^ v["GERROR"]) & ~self._RAISABLE:
                return f"GERROR {got:#x} changed bits that are not errors"
            return ""
        return None

    def check_phase(self) -> None:
        self.logger.info("register scoreboard: %d reads checked exactly (%d timing-dependent), "
                         "%d engine-owned reads checked for progress, %d writes, %d errors",
                         self.reads_checked, self.reads_loose, self.reads_hw,
                         self.writes_seen, len(self.errors))
        # A predictor that mostly shrugs would pass anything.
        assert self.reads_loose * 20 <= self.reads_checked, "too few exact register checks"
        assert not self.errors, f"{len(self.errors)} register mismatches, first: " \
                                f"{self.errors[0]} (seed {self.seed})"
