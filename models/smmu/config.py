"""The feature set of one SMMU instance, and the ID register values that advertise it.

Field names are the IDR field names of the Arm spec; the RTL's top-level parameters carry the
same names, so one SmmuConfig describes both the model and an RTL build.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from models.arch import registers as R


@dataclass(frozen=True)
class SmmuConfig:
    # IDR0
    S1P: int = 1
    COHACC: int = 1
    BTM: int = 0
    HTTU: int = 0
    HYP: int = 0
    ATS: int = 0
    ASID16: int = 1
    MSI: int = 0
    SEV: int = 0
    PRI: int = 0
    CD2L: int = 1
    STALL_MODEL: int = R.StallModel.TERMINATE_ONLY
    TERM_MODEL: int = 0  # CD.A selects abort or RAZ/WI
    ST_LEVEL: int = R.STLevel.TWO_LEVEL
    # IDR1
    SIDSIZE: int = 16  # 7 or more needs 2-level stream tables (ST_LEVEL)
    SSIDSIZE: int = 16
    PRIQS: int = 7
    EVENTQS: int = 7
    CMDQS: int = 8
    # IDR3
    HAD: int = 0
    PPS: int = 0
    RIL: int = 0
    # IDR5
    OAS: int = R.OAS.PA48
    STALL_MAX: int = 0
    # identification and IMPLEMENTATION DEFINED choices
    IIDR: int = 0
    AIDR: int = 0
    GBPA_ABORT_RESET: int = 0

    def __post_init__(self) -> None:
        # Architectural limits of the IDR1 size fields (ref §1.3).
        for name, hi in (("SIDSIZE", 32), ("SSIDSIZE", 20), ("PRIQS", 19), ("EVENTQS", 19),
                         ("CMDQS", 19)):
            v = getattr(self, name)
            if not 0 <= v <= hi:
                raise ValueError(f"SmmuConfig.{name}={v} outside 0..{hi}")
        # Cross-field rules of the IDRs.
        if self.SIDSIZE >= 7 and self.ST_LEVEL != R.STLevel.TWO_LEVEL:
            raise ValueError("SmmuConfig: SIDSIZE >= 7 requires ST_LEVEL=TWO_LEVEL")
        if self.PRI and not self.ATS:
            raise ValueError("SmmuConfig: PRI requires ATS")
        if self.HYP:
            raise ValueError("SmmuConfig: HYP must be 0 without stage 2 (S2P=0)")
        if self.STALL_MODEL not in R.StallModel._value2member_map_:
            raise ValueError(f"SmmuConfig: STALL_MODEL={self.STALL_MODEL} is reserved")
        if self.STALL_MODEL != R.StallModel.TERMINATE_ONLY and not self.STALL_MAX:
            raise ValueError("SmmuConfig: a stall model needs IDR5.STALL_MAX >= 1 (the "
                             "transactions it can hold)")

    @functools.cached_property
    def pa_bits(self) -> int:
        # cached: every table fetch of the model checks against it
        return R.OAS_BITS[R.OAS(self.OAS)]

    def params(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self, **kw: int) -> SmmuConfig:
        return dataclasses.replace(self, **kw)

    def idr(self) -> dict[str, int]:
        """IDR0..5, IIDR and AIDR as the hardware must present them."""
        return {
            "IDR0": R.IDR0(
                S1P=self.S1P, TTF=R.TTF.AARCH64, COHACC=self.COHACC, BTM=self.BTM,
                HTTU=self.HTTU, HYP=self.HYP, ATS=self.ATS, ASID16=self.ASID16, MSI=self.MSI,
                SEV=self.SEV, PRI=self.PRI, CD2L=self.CD2L, TTENDIAN=R.TTEndian.LITTLE,
                STALL_MODEL=self.STALL_MODEL, TERM_MODEL=self.TERM_MODEL,
                ST_LEVEL=self.ST_LEVEL).to_int(),
            "IDR1": R.IDR1(SIDSIZE=self.SIDSIZE, SSIDSIZE=self.SSIDSIZE,
                           PRIQS=self.PRIQS if self.PRI else 0, EVENTQS=self.EVENTQS,
                           CMDQS=self.CMDQS).to_int(),
            "IDR2": 0,
            "IDR3": R.IDR3(HAD=self.HAD, PPS=self.PPS, RIL=self.RIL).to_int(),
            "IDR4": 0,
            "IDR5": R.IDR5(OAS=self.OAS, GRAN4K=1, STALL_MAX=self.STALL_MAX).to_int(),
            "IIDR": self.IIDR,
            "AIDR": self.AIDR,
        }


# What the RTL implements today: stage 1 with substreams, 2-level stream and CD tables,
# terminate-only stall model with RAZ/WI terminations; no HTTU, BTM, ATS, PRI or MSI yet.
DEFAULT = SmmuConfig()

# Every optional register-file feature on: exercises the feature-gated registers and the IDR
# wiring of every parameter.
FULL = SmmuConfig(
    S1P=1, BTM=1, HTTU=R.HTTU.ACCESS_DIRTY, ATS=1, MSI=1, SEV=1, PRI=1, CD2L=1,
    STALL_MODEL=R.StallModel.STALL_AND_TERMINATE, TERM_MODEL=0, ST_LEVEL=R.STLevel.TWO_LEVEL,
    SIDSIZE=16, SSIDSIZE=20, PRIQS=8, EVENTQS=9, CMDQS=10, HAD=1, PPS=1, RIL=1,
    OAS=R.OAS.PA52, STALL_MAX=32, IIDR=0x5A10143B, AIDR=0x01, GBPA_ABORT_RESET=1,
)

# No substreams (SSIDSIZE=0): the rules that only apply then (STE.S1CDMax and S1Fmt IGNORED,
# every SubstreamID a C_BAD_SUBSTREAMID).
NOSUB = DEFAULT.replace(SSIDSIZE=0)

# The default SMMU with the stall model (IDR0.STALL_MODEL=0b00): stall-capable platform
# devices take I/O page faults through it (tb/scenarios/iopf.py), and the random translation
# test stalls through CDs with S=1. Eight held transactions, a 32-record event queue.
STALL = DEFAULT.replace(STALL_MODEL=R.StallModel.STALL_AND_TERMINATE, STALL_MAX=8, EVENTQS=5)

# HTTU: the default SMMU updating access flags and dirty state (IDR0.HTTU=0b10); the RTL's
# random traffic draws CDs with HA/HD and leaves with AF=0 and DBM on it.
HTTU_SET = DEFAULT.replace(HTTU=R.HTTU.ACCESS_DIRTY)

# And BTM: the SMMU takes the CPU's broadcast TLB invalidations on its DVM port, and the
# driver's mmu notifier sends no TLBI (the SVA scenarios on the RTL, `make sim`).
BTM_SET = HTTU_SET.replace(BTM=1)

# PCIe SVA: the stall model for platform devices and ATS + PRI for PCIe functions on one SMMU
# (tb/scenarios/pcie.py). IDR3.PPS=1: the RTL's PRI queue needs no STE for its automatic
# responses (docs/port-contract.md).
PCIE = STALL.replace(ATS=1, PRI=1, PRIQS=8, PPS=1)

# IDR fields set so that neighbouring bits differ from each other and from DEFAULT/FULL:
# with all three, a miswired or swapped IDR bit shows up in at least one reset-value check.
MIXED = SmmuConfig(
    S1P=1, COHACC=0, BTM=1, HTTU=R.HTTU.ACCESS, ATS=1, ASID16=0, MSI=1, SEV=0, PRI=1, CD2L=0,
    STALL_MODEL=R.StallModel.STALL_FORCED, TERM_MODEL=1, ST_LEVEL=R.STLevel.TWO_LEVEL,
    SIDSIZE=12, SSIDSIZE=7, PRIQS=5, EVENTQS=11, CMDQS=13, HAD=0, PPS=1, RIL=0,
    OAS=R.OAS.PA40, STALL_MAX=5, IIDR=0x12345678, AIDR=0x00, GBPA_ABORT_RESET=0,
)
