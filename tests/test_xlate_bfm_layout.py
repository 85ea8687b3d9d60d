"""The translation BFM's spelled-out response decode agrees with the ring layout table."""

from __future__ import annotations

import random

from tb.bfm.xlate_bfm import _RSP, RSP_KEYS, unpack_rsp


def test_unpack_rsp_follows_the_layout() -> None:
    rng = random.Random(7)
    for _ in range(200):
        fields = {k: rng.getrandbits(w) for k, (_lsb, w) in _RSP.items()}
        v = 0
        for k, (lsb, _w) in _RSP.items():
            v |= fields[k] << lsb
        got = unpack_rsp(v)
        assert got.fields == {k: fields[k] for k in RSP_KEYS}
        assert (got.accepted, got.done) == (fields["accepted"], fields["done"])
