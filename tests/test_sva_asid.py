"""The SMMU driver's ASID map, including seizing a private domain's ASID (reference §8.5)."""

from __future__ import annotations

import asyncio

import pytest

from tb.sva.arm.arm_smmu_v3.asid import AsidError, AsidMap, AsidOwner


def test_private_allocation_skips_zero_and_used():
    m = AsidMap(8)
    assert [m.alloc_private().asid for _ in range(3)] == [1, 2, 3]
    m.erase(2)
    assert m.alloc_private().asid == 2


def test_exhaustion_and_range():
    m = AsidMap(2)  # ASIDs 1..3
    for _ in range(3):
        m.alloc_private()
    with pytest.raises(AsidError, match="no free ASID"):
        m.alloc_private()
    with pytest.raises(AsidError, match="outside"):
        AsidMap(8).insert(AsidOwner(asid=256))


def test_share_free_and_same_mm():
    m = AsidMap(16)
    mm = object()
    assert asyncio.run(m.share(42, mm, _no_tlbi)) is None
    owner = AsidOwner(asid=42, mm=mm)
    m.insert(owner)
    assert asyncio.run(m.share(42, mm, _no_tlbi)) is owner and owner.refs == 2
    with pytest.raises(AsidError, match="another address space"):
        asyncio.run(m.share(42, object(), _no_tlbi))


def test_seizing_a_private_asid_moves_the_domain_then_invalidates():
    m = AsidMap(16)
    order: list[tuple[str, int]] = []

    async def rewrite(new: int) -> None:
        order.append(("rewrite CD0", new))

    async def tlbi(asid: int) -> None:
        order.append(("TLBI_NH_ASID", asid))

    private = m.alloc_private(rewrite=rewrite)        # takes ASID 1
    assert private.asid == 1
    assert asyncio.run(m.share(1, object(), tlbi)) is None
    # The domain moved to the next free ASID; its CD was rewritten before the old ASID was
    # invalidated, and ASID 1 is now free for the process.
    assert private.asid == 2 and m.owners == {2: private}
    assert order == [("rewrite CD0", 2), ("TLBI_NH_ASID", 1)]


def test_seizing_publishes_the_new_asid_before_the_cd_and_the_tlbi():
    """Linux arm_smmu_share_asid, "Race with unmap": the domain's ASID becomes the new one
    before CD 0 is rewritten and the old ASID invalidated, so that an unmap running meanwhile
    invalidates the ASID the SMMU may now cache entries under; entries still tagged with the
    old ASID go with the invalidate-all of the old ASID that follows."""
    m = AsidMap(16)
    seen: list[tuple[str, int]] = []
    private = m.alloc_private()

    async def rewrite(new: int) -> None:
        seen.append(("rewrite", private.asid))   # what a concurrent unmap would target

    async def tlbi(asid: int) -> None:
        seen.append(("tlbi", private.asid))

    private.rewrite = rewrite
    asyncio.run(m.share(1, object(), tlbi))
    assert seen == [("rewrite", 2), ("tlbi", 2)]


async def _no_tlbi(asid: int) -> None:
    raise AssertionError("no invalidation expected")
