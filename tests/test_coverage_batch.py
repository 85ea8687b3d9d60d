"""The translation coverage sampled in a batch counts exactly what per-item sampling counts."""

from __future__ import annotations

import random
from collections import Counter

from cocotb_coverage.coverage import coverage_db

from models.arch import registers as R
from models.smmu.port import Result
from tb.agents.reg_agent import RegItem
from tb.agents.xlate_agent import TransItem
from tb.env.coverage import (
    FAULTS,
    REG_POINTS,
    XLATE_ITEMS,
    TranslationBatch,
    _access,
    _sample,
    _Sampled,
    flush_reg_coverage,
    reg_bin,
    sample_reg,
)


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


REG_ITEMS = tuple(REG_POINTS.values())


def _reg_snapshot() -> dict[str, dict]:
    return {n: dict(coverage_db[n].detailed_coverage) for n in REG_ITEMS}


def test_register_batch_counts_equal_per_item_counts() -> None:
    """RegCoverage counts each access by bin and samples in extract_phase: the same hits as
    sampling every access, malformed ones included."""
    rng = random.Random(2)
    offsets = sorted(R.OFFSETS.values())
    items = []
    for _ in range(400):
        addr = rng.choice(offsets) + rng.choice((0, 0, 0, 1, 2, 0x7000))
        items.append(RegItem(write=True, addr=addr, data=bytes(rng.choice((4, 4, 2))))
                     if rng.random() < 0.5 else RegItem(addr=addr))
    before = _reg_snapshot()
    for it in items:
        sample_reg(*reg_bin(it))
    per_item = _delta(before, _reg_snapshot())
    assert sum(sum(d.values()) for d in per_item.values()) == len(items)
    assert per_item["smmu.regs.bad_access"]["unmapped"] > 0

    pending: Counter = Counter(reg_bin(it) for it in items)
    before = _reg_snapshot()
    flush_reg_coverage(pending)
    assert _delta(before, _reg_snapshot()) == per_item
    assert not pending
