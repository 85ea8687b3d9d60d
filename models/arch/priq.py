"""PRI queue entry (ref §7.1) and the CMD_PRI_RESP response code (ref §7.2).

Field names follow the SMMU spec's PRI chapter (Last, W, R, X, Priv), not Linux's macros.
"""

from __future__ import annotations

import enum
from types import MappingProxyType

from models.arch.bitfield import ArchStruct, arch_struct, dw

__all__ = ["LINUX_PAGE_RESP", "PCIE_PRG_RESPONSE", "PriEntry", "PriRespCode"]


class PriRespCode(enum.IntEnum):
    """CMD_PRI_RESP.Resp; 0b11 is reserved and makes the command ILLEGAL (CERROR_ILL).

    Old Linux called these DENY/FAIL/SUCC with the same numbers; the spec names are used here.
    """

    RESPONSE_FAILURE = 0b00
    INVALID_REQUEST = 0b01
    SUCCESS = 0b10


# What the endpoint sees in the PCIe PRG Response message.
PCIE_PRG_RESPONSE = MappingProxyType({
    PriRespCode.SUCCESS: 0b0000,
    PriRespCode.INVALID_REQUEST: 0b0001,
    PriRespCode.RESPONSE_FAILURE: 0b1111,
})

# Linux enum iommu_page_response_code value that the driver translates into each Resp.
LINUX_PAGE_RESP = MappingProxyType({
    PriRespCode.SUCCESS: 0,
    PriRespCode.INVALID_REQUEST: 1,
    PriRespCode.RESPONSE_FAILURE: 2,
})


@arch_struct(128)
class PriEntry(ArchStruct):
    """One Page Request (PPR) as written by the SMMU into the PRI queue."""

    StreamID: int = dw(0, 31, 0)
    SubstreamID: int = dw(0, 51, 32)  # UNKNOWN when SSV == 0
    Priv: int = dw(0, 58, 58)
    X: int = dw(0, 59, 59)
    R: int = dw(0, 60, 60)
    W: int = dw(0, 61, 61)
    Last: int = dw(0, 62, 62)
    SSV: int = dw(0, 63, 63)
    PRGIndex: int = dw(1, 8, 0)
    PageAddr: int = dw(1, 63, 12, addr_lo=12)

    @property
    def is_stop_marker(self) -> bool:
        # A Stop PASID marker always carries a PASID: LWR == 0b100 without one is a plain PPR.
        return bool(self.SSV and self.Last and not self.R and not self.W)
