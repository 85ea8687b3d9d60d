"""Functional coverage (cocotb-coverage) as its own subscribers, apart from the checking.

`make cov` merges what these sample over runs; RegAccessTest requires the malformed-access
point complete. The scoreboards judge, these only count: they sample every completed item, so
an item a scoreboard rejects is counted too, and its test fails.
"""

from __future__ import annotations

from cocotb_coverage.coverage import CoverCross, CoverPoint
from pyuvm import uvm_subscriber

from models.arch import registers as R
from models.arch.events import EventID
from models.smmu.port import Result
from models.smmu.regfile import RegisterFile
from tb.agents.reg_agent import RegItem
from tb.agents.xlate_agent import TransItem

_NAMES = sorted(R.REGISTERS)


@CoverPoint("smmu.regs.access", xf=lambda name, op: (name, op),
            bins=[(n, op) for n in _NAMES for op in ("read", "write")])
def _sample_access(name: str, op: str) -> None:
    """Which registers were read and written (one bin per register and direction)."""


@CoverPoint("smmu.regs.bad_access", xf=lambda kind: kind,
            bins=["misaligned_read", "misaligned_write", "partial_write", "unmapped"])
def _sample_bad(kind: str) -> None:
    """The ways an access can miss a register."""


class RegCoverage(uvm_subscriber):
    """Every register access the register agent completed."""

    def write(self, item: RegItem) -> None:
        if item.addr % 4:
            _sample_bad("misaligned_" + ("write" if item.write else "read"))
            return
        if item.write and len(item.data) != 4:
            _sample_bad("partial_write")
            return
        name, _hi = RegisterFile._name(item.addr)
        if name is None:
            _sample_bad("unmapped")
        else:
            _sample_access(name, "write" if item.write else "read")


RESULTS = [r.name for r in Result]
# The faults a translation can end with (t_rsp_fault), one bin each.
FAULTS = {0: "none", **{int(e): e.name for e in (
    EventID.C_BAD_STREAMID, EventID.F_STE_FETCH, EventID.C_BAD_STE, EventID.F_STREAM_DISABLED,
    EventID.C_BAD_SUBSTREAMID, EventID.F_CD_FETCH, EventID.C_BAD_CD, EventID.F_WALK_EABT,
    EventID.F_TRANSLATION, EventID.F_ADDR_SIZE, EventID.F_ACCESS, EventID.F_PERMISSION)}}
ACCESSES = ["read-user", "read-priv", "exec-user", "exec-priv", "write-user", "write-priv"]


def _access(item: TransItem) -> str:
    kind = "write" if not item.rnw else "exec" if item.ind else "read"
    return f"{kind}-{'priv' if item.pnu else 'user'}"


@CoverPoint("smmu.xlate.result", xf=lambda res, item: res, bins=RESULTS)
@CoverPoint("smmu.xlate.fault", xf=lambda res, item: FAULTS.get(item.rsp["fault"], "other"),
            bins=list(FAULTS.values()))
@CoverPoint("smmu.xlate.access", xf=lambda res, item: _access(item), bins=ACCESSES)
@CoverPoint("smmu.xlate.served", xf=lambda res, item: "walk" if item.rsp["walked"] else "hit",
            bins=["hit", "walk"])
@CoverCross("smmu.xlate.result_x_access", items=["smmu.xlate.result", "smmu.xlate.access"])
def _sample(res: str, item: TransItem) -> None:
    """One completed translation."""


class XlateCoverage(uvm_subscriber):
    """Every completed translation, by the result the RTL gave."""

    def write(self, item: TransItem) -> None:
        assert item.rsp is not None
        _sample(Result(item.rsp["result"]).name, item)
