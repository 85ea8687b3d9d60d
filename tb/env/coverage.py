"""Functional coverage (cocotb-coverage) as its own subscribers, apart from the checking.

`make cov` merges what these sample over runs; RegAccessTest requires the malformed-access
point complete. The scoreboards judge, these only count: they sample every completed item, so
an item a scoreboard rejects is counted too, and its test fails.
"""

from __future__ import annotations

from collections import Counter

from cocotb_coverage.coverage import CoverCross, CoverPoint, coverage_db
from pyuvm import uvm_subscriber

from models.arch import registers as R
from models.arch.events import EventID
from models.smmu.port import Result
from models.smmu.regfile import RegisterFile
from tb.agents.reg_agent import RegItem
from tb.agents.xlate_agent import TransItem
from tb.bfm.smmu_bfm import RESP_OKAY

_NAMES = sorted(R.REGISTERS)


@CoverPoint("smmu.regs.access", xf=lambda name, op: (name, op),
            bins=[(n, op) for n in _NAMES for op in ("read", "write")])
def _sample_access(name: str, op: str) -> None:
    """Which registers were read and written (one bin per register and direction)."""


@CoverPoint("smmu.regs.bad_access", xf=lambda kind: kind,
            bins=["misaligned_read", "misaligned_write", "partial_write", "unmapped"])
def _sample_bad(kind: str) -> None:
    """The ways an access can miss a register."""


# Error paths. Every EventID this SMMU can record (the model's, models/smmu: no stage 2, no
# TLB or configuration conflict detection, no UUT), each CERROR and each GERROR bit.
ERROR_EVENTS = [e.name for e in (
    EventID.C_BAD_STREAMID, EventID.F_STE_FETCH, EventID.C_BAD_STE, EventID.F_BAD_ATS_TREQ,
    EventID.F_STREAM_DISABLED, EventID.F_TRANSL_FORBIDDEN, EventID.C_BAD_SUBSTREAMID,
    EventID.F_CD_FETCH, EventID.C_BAD_CD, EventID.F_WALK_EABT, EventID.F_TRANSLATION,
    EventID.F_ADDR_SIZE, EventID.F_ACCESS, EventID.F_PERMISSION)]
CERRORS = [e.name for e in R.CmdqErr if e]
GERRORS = ["CMDQ_ERR", "EVENTQ_ABT_ERR", "PRIQ_ABT_ERR", "MSI_CMDQ_ABT_ERR",
           "MSI_EVENTQ_ABT_ERR", "MSI_PRIQ_ABT_ERR", "MSI_GERROR_ABT_ERR", "SFM_ERR"]
_GERROR_MASKS = [(n, R.GERROR.field(n).mask) for n in GERRORS]
_CONS_ERR = R.CMDQ_CONS.field("ERR")


@CoverPoint("smmu.errors.event", xf=lambda name: name, bins=ERROR_EVENTS)
def _sample_event(name: str) -> None:
    """Event records written and checked, by EventID."""


@CoverPoint("smmu.errors.cerror", xf=lambda name: name, bins=CERRORS)
def _sample_cerror(name: str) -> None:
    """Command errors a CMDQ_CONS read showed."""


@CoverPoint("smmu.errors.gerror", xf=lambda name: name, bins=GERRORS)
def _sample_gerror(name: str) -> None:
    """Global errors the SMMU raised: GERROR bits a read shows toggled since the last read
    (software's GERRORN writes acknowledge, they never move GERROR)."""


REG_POINTS = {"bad": "smmu.regs.bad_access", "access": "smmu.regs.access",
              "cerror": "smmu.errors.cerror", "gerror": "smmu.errors.gerror",
              "event": "smmu.errors.event"}
ERROR_POINTS = ("smmu.errors.event", "smmu.errors.cerror", "smmu.errors.gerror")
_EVENT_NAMES = {int(getattr(EventID, n)): n for n in ERROR_EVENTS}


def event_bin(raw: int) -> tuple[str, object] | None:
    """The error-path bin of an event record (its EventID, bits [7:0]), or None."""
    name = _EVENT_NAMES.get(raw & 0xFF)
    return None if name is None else ("event", name)


class RegCoverage(uvm_subscriber):
    """Every register access the register agent completed; counted by bin and sampled before
    the report, as translations are (TranslationBatch)."""

    def build_phase(self) -> None:
        self.pending: Counter[tuple[str, object]] = Counter()  # (point, bin): hits
        self.gerror = 0  # the last GERROR read: only the SMMU toggles its bits

    def write(self, item: RegItem) -> None:
        b = reg_bin(item)
        self.pending[b] += 1
        if b[0] != "access" or item.resp != RESP_OKAY:
            return
        name, op = b[1]  # type: ignore[misc]
        if op == "write":
            return
        if name == "CMDQ_CONS" and (err := (item.value & _CONS_ERR.mask) >> _CONS_ERR.lsb):
            if err in R.CmdqErr._value2member_map_:
                self.pending["cerror", R.CmdqErr(err).name] += 1
        elif name == "GERROR":
            raised, self.gerror = item.value ^ self.gerror, item.value
            for n, m in _GERROR_MASKS:
                if raised & m:
                    self.pending["gerror", n] += 1

    def extract_phase(self) -> None:
        flush_reg_coverage(self.pending)


def reg_bin(item: RegItem) -> tuple[str, object]:
    """The point ("bad" or "access") and the bin a register access falls in."""
    if item.addr % 4:
        return "bad", "misaligned_" + ("write" if item.write else "read")
    if item.write and len(item.data) != 4:
        return "bad", "partial_write"
    name, _hi = RegisterFile._name(item.addr)
    if name is None:
        return "bad", "unmapped"
    return "access", (name, "write" if item.write else "read")


def sample_reg(point: str, b: object) -> None:
    """Sample one register access's bin through cocotb-coverage."""
    if point == "bad":
        _sample_bad(b)
    elif point == "cerror":
        _sample_cerror(b)
    elif point == "gerror":
        _sample_gerror(b)
    elif point == "event":
        _sample_event(b)
    else:
        _sample_access(*b)  # type: ignore[misc]


def flush_reg_coverage(pending: Counter) -> None:
    """Sample each pending bin once through its point, then add the rest of its hits."""
    for (point, b), n in pending.items():
        ci = coverage_db[REG_POINTS[point]]
        assert ci.at_least == 1  # (as in TranslationBatch.flush)
        sample_reg(point, b)
        for hit in ci.new_hits:
            ci.detailed_coverage[hit] += n - 1
    pending.clear()


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
@CoverPoint("smmu.xlate.access", xf=lambda res, item: item.access, bins=ACCESSES)
@CoverPoint("smmu.xlate.served", xf=lambda res, item: "walk" if item.rsp["walked"] else "hit",
            bins=["hit", "walk"])
@CoverCross("smmu.xlate.result_x_access", items=["smmu.xlate.result", "smmu.xlate.access"])
def _sample(res: str, item: _Sampled) -> None:
    """One completed translation."""


XLATE_ITEMS = ("smmu.xlate.result", "smmu.xlate.fault", "smmu.xlate.access", "smmu.xlate.served",
               "smmu.xlate.result_x_access")


class TranslationBatch:
    """Translations counted by their distinct bin tuple, sampled in ``flush``.

    Sampling one translation through cocotb-coverage's decorators costs about 40 us, as much
    as the scoreboard's check of a hit. ``flush`` samples each distinct tuple once through the
    decorators, which marks its bins covered, then adds its remaining count to the bins that
    sample hit: the hit counts are exactly the per-item ones (tests/test_coverage_batch.py)."""

    def __init__(self) -> None:
        self.pending: Counter[tuple[int, int, str, int]] = Counter()

    def add(self, item: TransItem) -> None:
        rsp = item.rsp
        assert rsp is not None
        self.pending[rsp["result"], rsp["fault"], _access(item), rsp["walked"]] += 1

    def flush(self) -> None:
        items = [coverage_db[n] for n in XLATE_ITEMS]
        # Past the first, hits change only the counts while one hit covers a bin; a larger
        # at_least would need every hit sampled.
        assert all(ci.at_least == 1 for ci in items)
        for (result, fault, access, walked), n in self.pending.items():
            _sample(Result(result).name, _Sampled(fault, walked, access))
            for ci in items:
                for b in ci.new_hits:
                    ci.detailed_coverage[b] += n - 1
        self.pending.clear()


class XlateCoverage(uvm_subscriber):
    """Every completed translation, by the result the RTL gave; sampled in a batch before
    the report."""

    def build_phase(self) -> None:
        self.batch = TranslationBatch()

    def write(self, item: TransItem) -> None:
        self.batch.add(item)

    def extract_phase(self) -> None:
        self.batch.flush()


class _Sampled:
    """What the coverage points read of a translation, for a batch of equal ones."""

    __slots__ = ("access", "rsp")

    def __init__(self, fault: int, walked: int, access: str) -> None:
        self.rsp = {"fault": fault, "walked": walked}
        self.access = access
