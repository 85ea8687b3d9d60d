"""Register scoreboard: every access on the register port checked against the model.

The expected values come from ``models.smmu.regfile`` (architecture) and
``models.smmu.config`` (the IDRs the build must advertise), never from the RTL.
"""

from __future__ import annotations

from cocotb_coverage.coverage import CoverPoint
from pyuvm import ConfigDB, uvm_subscriber

from models.arch import registers as R
from models.smmu.regfile import RegisterFile
from tb.bfm import RESP_OKAY, RESP_SLVERR
from tb.reg_agent import RegItem

_NAMES = sorted(R.REGISTERS)


@CoverPoint("smmu.regs.access", xf=lambda name, op: (name, op),
            bins=[(n, op) for n in _NAMES for op in ("read", "write")])
def _sample_access(name: str, op: str) -> None:
    """Which registers were read and written (one bin per register and direction)."""


@CoverPoint("smmu.regs.bad_access", xf=lambda kind: kind,
            bins=["misaligned_read", "misaligned_write", "partial_write", "unmapped"])
def _sample_bad(kind: str) -> None:
    """The ways an access can miss a register."""


def expected_resp(item: RegItem) -> int:
    if item.addr % 4:
        return RESP_SLVERR
    if item.write and len(item.data) != 4:
        return RESP_SLVERR
    return RESP_OKAY


class RegPredictor(uvm_subscriber):
    def build_phase(self) -> None:
        self.model = RegisterFile(ConfigDB().get(self, "", "SMMU_CONFIG"), lagging=True)
        self.seed = ConfigDB().get(self, "", "SEED")
        self.reads_checked = 0
        self.reads_loose = 0  # checked against "any" (an outcome that depends on timing)
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
            _sample_bad("misaligned_" + ("write" if item.write else "read") if item.addr % 4
                        else "partial_write")
            return
        if name is None:
            _sample_bad("unmapped")
        else:
            _sample_access(name, "write" if item.write else "read")
        if item.write:
            self.writes_seen += 1
            self.model.write(item.addr, item.value)
            return
        exp = self.model.observe(item.addr, item.value)
        self.reads_checked += 1
        self.reads_loose += exp.any
        if not exp.matches(item.value):
            self._error(f"read {name or 'unmapped'} @ {item.addr:#07x} = {item.value:#010x}, "
                        f"expected {exp} (cycle {item.cycle})")

    def check_phase(self) -> None:
        self.logger.info("register scoreboard: %d reads checked (%d timing-dependent), "
                         "%d writes, %d errors", self.reads_checked, self.reads_loose,
                         self.writes_seen, len(self.errors))
        # A predictor that mostly shrugs would pass anything.
        assert self.reads_loose * 20 <= self.reads_checked, "too few exact register checks"
        assert not self.errors, f"{len(self.errors)} register mismatches, first: " \
                                f"{self.errors[0]} (seed {self.seed})"
