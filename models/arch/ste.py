"""Stream Table Entry and level-1 stream table descriptor (ref §2).

Only dw0..dw3 carry fields in this project; dw4..dw7 are reserved, so anything set there is
reported by :meth:`STE.problems`. The stage-2 fields are declared even though the SMMU here
implements stage 1 only: software writes them (as zero) and decoding must not call them
reserved.
"""

from __future__ import annotations

import enum

from models.arch.bitfield import ArchStruct, arch_struct, bits, dw

__all__ = [
    "ATSMode",
    "L1STD",
    "S1DefaultSubstream",
    "S1Format",
    "STE",
    "StreamConfig",
    "StreamWorld",
]


class StreamConfig(enum.IntEnum):
    """STE.Config. 0b001..0b011 are reserved and behave as ABORT (no event), not C_BAD_STE."""

    ABORT = 0b000
    BYPASS = 0b100
    S1_TRANS = 0b101
    S2_TRANS = 0b110
    NESTED = 0b111


class S1Format(enum.IntEnum):
    """STE.S1Fmt: layout of the CD table; 0b11 is reserved (behaves as LINEAR)."""

    LINEAR = 0b00
    TWO_LEVEL_4K = 0b01
    TWO_LEVEL_64K = 0b10


class S1DefaultSubstream(enum.IntEnum):
    """STE.S1DSS: what a transaction without a SubstreamID gets; 0b11 reserved (= TERMINATE)."""

    TERMINATE = 0b00
    BYPASS = 0b01
    SSID0 = 0b10


class ATSMode(enum.IntEnum):
    """STE.EATS."""

    DISABLED = 0b00
    FULL = 0b01
    SPLIT_STAGE = 0b10


class StreamWorld(enum.IntEnum):
    """STE.STRW for a Non-secure stream (0b01 is the Secure/EL3 world, not reachable here)."""

    NS_EL1 = 0b00
    EL2 = 0b10  # EL2-E2H when SMMU_CR2.E2H == 1


@arch_struct(512)
class STE(ArchStruct):
    # dw0
    V: int = dw(0, 0, 0)
    Config: int = dw(0, 3, 1, enum=StreamConfig)
    S1Fmt: int = dw(0, 5, 4, enum=S1Format)
    # v3.4 widens this to [55:6]; this SMMU has at most a 48/52-bit PA, so [55:52] stay reserved.
    S1ContextPtr: int = dw(0, 51, 6, addr_lo=6)
    S1CDMax: int = dw(0, 63, 59)
    # dw1
    S1DSS: int = dw(1, 1, 0, enum=S1DefaultSubstream)
    S1CIR: int = dw(1, 3, 2)
    S1COR: int = dw(1, 5, 4)
    S1CSH: int = dw(1, 7, 6)
    S2HWU59: int = dw(1, 8, 8)
    S2HWU60: int = dw(1, 9, 9)
    S2HWU61: int = dw(1, 10, 10)
    S2HWU62: int = dw(1, 11, 11)
    DRE: int = dw(1, 12, 12)
    CONT: int = dw(1, 16, 13)
    DCP: int = dw(1, 17, 17)
    PPAR: int = dw(1, 18, 18)
    MEV: int = dw(1, 19, 19)
    S2FWB: int = dw(1, 25, 25)
    S1STALLD: int = dw(1, 27, 27)
    EATS: int = dw(1, 29, 28, enum=ATSMode)
    STRW: int = dw(1, 31, 30, enum=StreamWorld)
    MemAttr: int = dw(1, 35, 32)
    MTCFG: int = dw(1, 36, 36)
    ALLOCCFG: int = dw(1, 40, 37)
    SHCFG: int = dw(1, 45, 44)
    NSCFG: int = dw(1, 47, 46)
    PRIVCFG: int = dw(1, 49, 48)
    INSTCFG: int = dw(1, 51, 50)
    # dw2
    S2VMID: int = dw(2, 15, 0)
    S2T0SZ: int = dw(2, 37, 32)
    S2SL0: int = dw(2, 39, 38)
    S2IR0: int = dw(2, 41, 40)
    S2OR0: int = dw(2, 43, 42)
    S2SH0: int = dw(2, 45, 44)
    S2TG: int = dw(2, 47, 46)
    S2PS: int = dw(2, 50, 48)
    S2AA64: int = dw(2, 51, 51)
    S2ENDI: int = dw(2, 52, 52)
    S2AFFD: int = dw(2, 53, 53)
    S2PTW: int = dw(2, 54, 54)
    S2HD: int = dw(2, 55, 55)
    S2HA: int = dw(2, 56, 56)
    S2S: int = dw(2, 57, 57)
    S2R: int = dw(2, 58, 58)
    # dw3
    S2TTB: int = dw(3, 51, 4, addr_lo=4)


@arch_struct(64)
class L1STD(ArchStruct):
    """Level-1 stream table descriptor: the leaf holds 2^(Span-1) STEs; Span == 0 is invalid.

    Span validity depends on SMMU_STRTAB_BASE_CFG.SPLIT, so it is not an enum: the walker checks it.
    """

    Span: int = bits(4, 0)
    L2Ptr: int = bits(51, 6, addr_lo=6)
