"""What the CPU's ID registers and kernel configuration say, as far as an SMMU must match it."""

from __future__ import annotations

from dataclasses import dataclass

from models.arch.geometry import GRANULE

# ID_AA64MMFR0_EL1.PARange encodings -> physical address bits.
PARANGE_BITS = {0: 32, 1: 36, 2: 40, 3: 42, 4: 44, 5: 48, 6: 52}


@dataclass(frozen=True)
class CpuFeatures:
    parange: int = 5          # ID_AA64MMFR0_EL1.PARange: 48-bit PA
    asid_bits: int = 16       # 16 if ID_AA64MMFR0_EL1.ASIDBits != 0, else 8
    page_size: int = GRANULE
    va_bits: int = 48
    vhe: bool = False         # kernel runs at EL2 with E2H
    # ID_AA64MMFR1_EL1.HAFDBS: 0 none, 1 hardware access flag, 2 access flag and dirty state
    hafdbs: int = 0
    kpti: bool = False
    nr_cpus: int = 4

    @property
    def pa_bits(self) -> int:
        return PARANGE_BITS[self.parange]
