"""The translation coverage sampled in a batch counts exactly what per-item sampling counts."""

from __future__ import annotations

import random

from cocotb_coverage.coverage import coverage_db

from models.smmu.port import Result
from tb.agents.xlate_agent import TransItem
from tb.env.coverage import FAULTS, XLATE_ITEMS, TranslationBatch, _access, _sample, _Sampled


def _snapshot() -> dict[str, dict]:
    return {n: dict(coverage_db[n].detailed_coverage) for n in XLATE_ITEMS}


def _delta(before: dict[str, dict], after: dict[str, dict]) -> dict[str, dict]:
    return {n: {b: after[n][b] - before[n].get(b, 0) for b in after[n]} for n in after}


def _items(seed: int, n: int) -> list[TransItem]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        it = TransItem(sid=0, addr=0, rnw=rng.getrandbits(1), ind=rng.getrandbits(1),
                       pnu=rng.getrandbits(1))
        it.rsp = {"result": rng.choice(list(Result)).value,
                  "fault": rng.choice([*FAULTS, 0x7F]), "walked": rng.getrandbits(1)}
        out.append(it)
    return out


def test_batch_counts_equal_per_item_counts() -> None:
    items = _items(1, 500)
    before = _snapshot()
    for it in items:
        assert it.rsp is not None
        _sample(Result(it.rsp["result"]).name, _Sampled(it.rsp["fault"], it.rsp["walked"],
                                                         _access(it)))
    per_item = _delta(before, _snapshot())
    assert sum(per_item["smmu.xlate.result"].values()) == len(items)

    batch = TranslationBatch()
    for it in items:
        batch.add(it)
    before = _snapshot()
    batch.flush()
    assert _delta(before, _snapshot()) == per_item
    assert not batch.pending
