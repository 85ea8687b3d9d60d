"""The SMMU's ASID space, shared by private DMA domains and process address spaces.

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c (arm_smmu_asid_xa, arm_smmu_ctx_desc)
and arm-smmu-v3-sva.c (arm_smmu_share_asid).

Linux keeps one map (arm_smmu_asid_xa) from ASID to context descriptor. A process's ASID is
chosen by the CPU's allocator, not by the SMMU driver, so binding a process may find its ASID
already used by a private domain: the driver then moves the private domain to a fresh ASID
(live CD update, case 3 of reference §3.4), invalidates the old ASID, and hands it over
(arm_smmu_share_asid, reference §8.5).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


class AsidError(Exception):
    pass


@dataclass
class AsidOwner:
    """One user of an ASID (Linux struct arm_smmu_ctx_desc, the arm_smmu_asid_xa entry): a
    private domain, or the shared context of one mm (the SVA file's ArmSmmuSharedCd)."""

    asid: int
    mm: Any = None               # None: a private domain
    refs: int = 1
    # Rewrites the owner's CDs with its (new) ASID: set by private domains, whose method it
    # is (it stands for Linux's container_of from the ctx_desc to its domain).
    rewrite: Callable[[int], Awaitable[None]] | None = None


class AsidMap:
    def __init__(self, asid_bits: int) -> None:
        self.limit = (1 << asid_bits) - 1
        self.owners: dict[int, AsidOwner] = {}

    def _free_asid(self) -> int:
        """The lowest free ASID in [1, 2^bits - 1] (ASID 0 is never handed out)."""
        for asid in range(1, self.limit + 1):
            if asid not in self.owners:
                return asid
        raise AsidError("no free ASID")

    def alloc_private(self, **kw: Any) -> AsidOwner:
        owner = AsidOwner(asid=self._free_asid(), **kw)
        self.owners[owner.asid] = owner
        return owner

    def insert(self, owner: AsidOwner) -> None:
        if owner.asid in self.owners:
            raise AsidError(f"ASID {owner.asid} already in use")
        if not 0 < owner.asid <= self.limit:
            raise AsidError(f"ASID {owner.asid} outside 1..{self.limit}")
        self.owners[owner.asid] = owner

    def erase(self, asid: int) -> None:
        del self.owners[asid]

    async def share(self, asid: int, mm: Any,
                    tlbi_asid: Callable[[int], Awaitable[None]]) -> AsidOwner | None:
        """Make ``asid`` available to ``mm``'s shared context.

        Returns the existing shared owner (same mm: refcount taken) or None when the ASID
        is now free for the caller to insert. A private owner is moved to a new ASID first.
        """
        owner = self.owners.get(asid)
        if owner is None:
            return None
        if owner.mm is not None:
            if owner.mm is not mm:
                raise AsidError(f"ASID {asid} is shared by another address space")
            owner.refs += 1
            return owner
        # A private domain holds it: give the domain a fresh ASID, live.
        new = self._free_asid()
        self.owners[new] = owner  # reserved before the CD changes
        # Race with unmap (as Linux): publish the new ASID before the CD changes, so that an
        # unmap meanwhile invalidates the ASID the SMMU may start caching entries under;
        # entries under the old one go with the invalidation of the old ASID below.
        owner.asid = new
        if owner.rewrite is not None:
            await owner.rewrite(new)
        # Both ASIDs may tag TLB entries of the domain until the old one is invalidated.
        await tlbi_asid(asid)
        del self.owners[asid]
        return None
