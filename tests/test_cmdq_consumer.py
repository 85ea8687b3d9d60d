"""The scoreboard's invalidation window (tb/env/cmdq_consumer.py), without a simulator.

§4.7.3: a CMD_SYNC's completion guarantees that the invalidations before it have taken
effect and that every transaction translated with an entry they targeted has completed. So a
response completing in or before the cycle the consumer pointer passed the SYNC may still
come from the old entry; one completing after it may not.
"""

from __future__ import annotations

from models.arch import registers as R
from models.arch.commands import CmdSync, CmdTlbiNhAsid
from models.memory import PhysicalMemory
from tb.env.cmdq_consumer import CmdqConsumer

BASE, SHIFT = 0x4000, 2  # a 4-entry queue


def _setup():
    mem = PhysicalMemory(48)
    seen: list = []
    q = CmdqConsumer(mem, lambda: (BASE, SHIFT), seen.append)
    return mem, q, seen


def _put(mem: PhysicalMemory, idx: int, cmd) -> None:
    mem.write(BASE + 16 * idx, cmd.to_bytes())  # 16-byte commands (§4.1)


def test_commands_reach_the_model_only_after_the_cycle_they_were_consumed_in() -> None:
    mem, q, seen = _setup()
    _put(mem, 0, CmdTlbiNhAsid(ASID=5))
    _put(mem, 1, CmdSync())
    q.observe(100, 2, 2)           # CONS passed both at cycle 100
    q.settle(before=100)         # a response completing at cycle 100: old entries allowed
    assert seen == []
    q.settle(before=101)         # completing at 101: the invalidation is certain
    assert [type(c) for c in seen] == [CmdTlbiNhAsid, CmdSync]


def test_commands_are_read_when_consumed_not_when_settled() -> None:
    mem, q, seen = _setup()
    _put(mem, 0, CmdTlbiNhAsid(ASID=5))
    q.observe(10, 1, 1)
    _put(mem, 0, CmdTlbiNhAsid(ASID=6))  # software reuses the slot
    q.settle()
    assert seen == [CmdTlbiNhAsid(ASID=5)]


def test_wrap_and_error_field() -> None:
    mem, q, seen = _setup()
    for i, asid in enumerate((1, 2, 3)):
        _put(mem, i, CmdTlbiNhAsid(ASID=asid))
    q.observe(1, 3, 3)
    _put(mem, 3, CmdTlbiNhAsid(ASID=4))
    _put(mem, 0, CmdSync())
    wrapped = R.q_inc(R.q_inc(3, SHIFT), SHIFT)   # index 1, wrap bit set
    q.observe(2, wrapped | (1 << 24), wrapped)            # ERR bits do not move the pointer
    q.settle()
    assert [getattr(c, "ASID", None) for c in seen] == [1, 2, 3, 4, None]
    q.observe(3, wrapped | (2 << 24), wrapped)            # only ERR changed: nothing consumed
    q.settle()
    assert len(seen) == 5


def test_a_move_not_towards_prod_is_not_consumption() -> None:
    mem, q, seen = _setup()
    _put(mem, 0, CmdSync())
    q.observe(1, 3, 1)     # beyond PROD: software wrote CONS
    q.resync(3)
    q.observe(2, 2, 1)     # backwards
    q.settle()
    assert seen == [] and q.moved_by_software == 2 and q.cons == 2
