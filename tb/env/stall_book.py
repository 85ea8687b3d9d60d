"""The scoreboard's book of stalled transactions: which one each (StreamID, STAG) holds, and
how the stall commands ended them (the stall model, §3.12.2; CMD_RESUME §4.7.1,
CMD_STALL_TERM §4.7.2).

A stall record names its transaction by what it carries (StreamID, SubstreamID, address,
RnW, PnU, InD, the fault), never by an identity, so two transactions in flight can write the
same record: a privileged and an unprivileged write to one address under STE.PRIVCFG, or two
identical requests. Such twins cannot be told apart when their records come, so a record may
be booked to the wrong twin. Their responses settle it: a response that only a twin's ending
explains swaps the two (`settle`).

No cocotb and no pyuvm here: the book is unit-tested on its own (tests/test_stall_book.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from models.smmu.port import Result, TransResp

Key = tuple[int, int]  # (StreamID, STAG)


@dataclass(eq=False)
class Held:
    """A transaction the RTL holds (stalled), and how commands ended it (None: not yet)."""

    item: Any
    fault: int  # the EventID that stalled it
    rec: int    # its stall record with STAG 0: twins have equal ones
    end: Result | str | None = None  # "retry", or the termination's result

    def terminated(self) -> bool:
        return self.end is not None and self.end != "retry"

    def want(self) -> TransResp:
        """A terminated stall's response: its result and the fault that stalled it, nothing
        else (§4.7.1: a terminated transaction completes with an abort, or RAZ/WI)."""
        assert isinstance(self.end, Result)
        return TransResp(self.end, fault=self.fault)


class StallBook:
    def __init__(self) -> None:
        self.held: dict[Key, Held] = {}
        self.held_items: set[int] = set()  # id() of the held items (the watchdog reads it)
        self.ended: dict[int, Held] = {}   # id(item) -> its latest stall, ended by a command
        self.swapped = 0                   # twins re-associated by their responses

    def __contains__(self, key: Key) -> bool:
        return key in self.held

    def __iter__(self) -> Iterator[Key]:
        return iter(list(self.held))  # a snapshot: ending one while iterating is fine

    def items(self) -> Iterator[tuple[Key, Held]]:
        return iter(self.held.items())

    def may_stall(self, item: Any) -> bool:
        """Whether a new record can be ``item``'s: not held now, and not ended for good (a
        terminated transaction's response is on its way; only a retry stalls again)."""
        if id(item) in self.held_items:
            return False
        e = self.ended.get(id(item))
        return e is None or not e.terminated()

    def hold(self, key: Key, item: Any, fault: int, rec: int) -> None:
        """Book a stall record's transaction. The caller picks one that ``may_stall``; one held
        already, or ended for good, is a scoreboard error and refused here too."""
        assert key not in self.held, key
        if not self.may_stall(item):
            raise ValueError(f"{item} is held or ended for good: it takes no stall record")
        self.held[key] = Held(item, fault, rec)
        self.held_items.add(id(item))

    def end(self, key: Key, end: Result | str) -> None:
        """A CMD_RESUME (``"retry"``, or the termination's result), CMD_STALL_TERM or
        SMMUEN=0 ended the transaction held under ``key``."""
        h = self.held.pop(key)
        self.held_items.discard(id(h.item))
        h.end = end
        self.ended[id(h.item)] = h

    def settle(self, item: Any, answers: Callable[[TransResp], bool]) -> tuple[bool, Held | None]:
        """``item`` answered; ``answers(resp)`` says whether its response is ``resp``.
        Returns whether it is still held (an error: nothing let it go) and its latest ended
        stall (None: it never stalled, or it was never ended), and forgets it. Where its own
        booking does not explain the response and a twin's ending does, they swap first."""
        h = self.ended.get(id(item))
        held = id(item) in self.held_items  # held again after a retry counts as held
        if held or (h is not None and h.terminated() and not answers(h.want())):
            h = self._swap_with_twin(item, answers) or h
            held = id(item) in self.held_items
        self.ended.pop(id(item), None)
        return held, h

    def _swap_with_twin(self, item: Any, answers: Callable[[TransResp], bool]) -> Held | None:
        my_key = next((k for k, h in self.held.items() if h.item is item), None)
        mine = self.held[my_key] if my_key is not None else self.ended.get(id(item))
        if mine is None:
            return None
        for other in self.ended.values():
            if other is mine or not other.terminated() or other.rec != mine.rec or \
                    other.fault != mine.fault or not answers(other.want()):
                continue
            twin = other.item
            mine.item, other.item = twin, item
            self.ended[id(item)] = other
            if my_key is not None:  # the twin is the one still held
                del self.ended[id(twin)]
                self.held_items.discard(id(item))
                self.held_items.add(id(twin))
            else:
                self.ended[id(twin)] = mine
            self.swapped += 1
            return other
        return None
