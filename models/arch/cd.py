"""Context Descriptor and level-1 CD table descriptor (ref §3).

dw5..dw7 are reserved (write 0); dw4 is AMAIR, which this SMMU ignores but software may write.
"""

from __future__ import annotations

import enum

from models.arch.bitfield import ArchStruct, arch_struct, bits, dw
from models.arch.registers import OAS as IPSize  # CD.IPS is encoded like IDR5.OAS

__all__ = ["CD", "IPSize", "L1CD", "TG0Granule", "TG1Granule"]


class TG0Granule(enum.IntEnum):
    """CD.TG0 (0b11 reserved: an enabled TTB0 with it makes the CD ILLEGAL)."""

    SZ_4K = 0b00
    SZ_64K = 0b01
    SZ_16K = 0b10

    @property
    def size(self) -> int:
        return {0b00: 4 << 10, 0b01: 64 << 10, 0b10: 16 << 10}[self.value]


class TG1Granule(enum.IntEnum):
    """CD.TG1: a different encoding from TG0 (mirrors TCR_EL1.TG1); 0b00 is reserved."""

    SZ_16K = 0b01
    SZ_4K = 0b10
    SZ_64K = 0b11

    @property
    def size(self) -> int:
        return {0b01: 16 << 10, 0b10: 4 << 10, 0b11: 64 << 10}[self.value]


@arch_struct(512)
class CD(ArchStruct):
    # dw0: the TCR-like half, written last and atomically by Linux
    T0SZ: int = dw(0, 5, 0)
    TG0: int = dw(0, 7, 6, enum=TG0Granule)
    IR0: int = dw(0, 9, 8)
    OR0: int = dw(0, 11, 10)
    SH0: int = dw(0, 13, 12)
    EPD0: int = dw(0, 14, 14)
    ENDI: int = dw(0, 15, 15)
    T1SZ: int = dw(0, 21, 16)
    TG1: int = dw(0, 23, 22, enum=TG1Granule)
    IR1: int = dw(0, 25, 24)
    OR1: int = dw(0, 27, 26)
    SH1: int = dw(0, 29, 28)
    EPD1: int = dw(0, 30, 30)
    V: int = dw(0, 31, 31)
    IPS: int = dw(0, 34, 32, enum=IPSize)
    AFFD: int = dw(0, 35, 35)
    WXN: int = dw(0, 36, 36)
    UWXN: int = dw(0, 37, 37)
    TBI0: int = dw(0, 38, 38)
    TBI1: int = dw(0, 39, 39)
    PAN: int = dw(0, 40, 40)
    AA64: int = dw(0, 41, 41)
    HD: int = dw(0, 42, 42)
    HA: int = dw(0, 43, 43)
    S: int = dw(0, 44, 44)
    R: int = dw(0, 45, 45)
    A: int = dw(0, 46, 46)
    ASET: int = dw(0, 47, 47)
    ASID: int = dw(0, 63, 48)
    # dw1
    NSCFG0: int = dw(1, 0, 0)
    HAD0: int = dw(1, 1, 1)
    TTB0: int = dw(1, 51, 4, addr_lo=4)
    # The reference's "PBHA" nibble: per-bit hardware-use enables for TTB0 leaf bits [62:59].
    HWU059: int = dw(1, 60, 60)
    HWU060: int = dw(1, 61, 61)
    HWU061: int = dw(1, 62, 62)
    HWU062: int = dw(1, 63, 63)
    # dw2
    NSCFG1: int = dw(2, 0, 0)
    HAD1: int = dw(2, 1, 1)
    TTB1: int = dw(2, 51, 4, addr_lo=4)
    # dw3, dw4
    MAIR: int = dw(3, 63, 0)
    AMAIR: int = dw(4, 63, 0)

    def problems(self) -> list[str]:
        # Values in a disabled TTBx do not make a CD ILLEGAL (ref §3.5); Linux leaves TG1 = 0
        # with EPD1 = 1, which must not read as a problem.
        disabled = {name for name, epd in (("TG0", self.EPD0), ("TG1", self.EPD1)) if epd}
        out = [p for p in super().problems() if p.split("=", 1)[0] not in disabled]
        if self.HD and not self.HA:
            out.append("HD=1 with HA=0 is reserved (behaves as no HTTU)")
        return out


@arch_struct(64)
class L1CD(ArchStruct):
    """Level-1 CD table descriptor; with 64 KiB leaves L2Ptr[15:12] are RES0 (walker checks)."""

    V: int = bits(0, 0)
    L2Ptr: int = bits(51, 12, addr_lo=12)
