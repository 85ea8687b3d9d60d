"""PASID allocation (Linux ioasid, the "shared_pasid" set of the v5 series).

Mirrors: drivers/iommu/ioasid.c (ioasid_alloc, ioasid_free, ioasid_find).

A PASID names an address space system-wide: every device bound to an mm uses the mm's one
PASID. Allocation takes the lowest free value in the caller's [min, max] (xa_alloc), so a
freed PASID is handed out again; freeing is the caller's last step of unbind (reference §8.8).
"""

from __future__ import annotations

from typing import Any

__all__ = ["IoasidError", "IoasidSet"]

PASID_MAX = (1 << 20) - 1


class IoasidError(Exception):
    pass


class IoasidSet:
    def __init__(self) -> None:
        self.used: dict[int, Any] = {}  # PASID -> private data (the mm)
        self.frees = 0

    def alloc(self, lo: int, hi: int, private: Any) -> int:
        """ioasid_alloc: the lowest free PASID in [lo, hi] (-ENOSPC when none is)."""
        hi = min(hi, PASID_MAX)
        for pasid in range(max(lo, 0), hi + 1):
            if pasid not in self.used:
                self.used[pasid] = private
                return pasid
        raise IoasidError(f"no free PASID in [{lo}, {hi}] (-ENOSPC)")

    def free(self, pasid: int) -> None:
        if pasid not in self.used:
            raise IoasidError(f"PASID {pasid} is not allocated")
        del self.used[pasid]
        self.frees += 1

    def find(self, pasid: int) -> Any:
        """ioasid_find: the private data of ``pasid``, or None."""
        return self.used.get(pasid)
