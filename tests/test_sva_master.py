"""Masters and the StreamID map of the SMMU driver (reference §8.2, §8.12)."""

from __future__ import annotations

import pytest

from tb.sva.arm.arm_smmu_v3.master import Master, StreamMap


def test_ssid_bits_are_the_smaller_of_smmu_and_device():
    m = StreamMap(16, 16, cd2l=True)
    a = Master("dma0", [3], pasid_bits=20)
    b = Master("dma1", [4, 5], pasid_bits=8)
    m.add(a)
    m.add(b)
    assert (a.ssid_bits, b.ssid_bits) == (16, 8)
    assert m.find(5) is b and m.find(6) is None


def test_without_cd2l_substreams_are_capped_at_1024():
    m = StreamMap(16, 20, cd2l=False)
    a = Master("dma0", [1], pasid_bits=20)
    m.add(a)
    assert a.ssid_bits == 10


def test_duplicate_and_out_of_range_sids_are_refused():
    m = StreamMap(8, 16, cd2l=True)
    m.add(Master("a", [7]))
    with pytest.raises(ValueError, match="already belongs to a"):
        m.add(Master("b", [8, 7]))
    assert m.find(8) is None  # nothing of the refused master was recorded
    with pytest.raises(ValueError, match="beyond 8 bits"):
        m.add(Master("c", [256]))


def test_remove():
    m = StreamMap(8, 16, cd2l=True)
    a = Master("a", [1, 2])
    m.add(a)
    m.remove(a)
    assert m.find(1) is None and m.find(2) is None
