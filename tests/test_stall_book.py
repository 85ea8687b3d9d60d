"""The scoreboard's stall book (tb.env.stall_book): which transaction a stall record and its
STAG belong to, and how twins whose records are equal are told apart by their responses.

Expected values follow the stall model: CMD_RESUME with Ac=1 retries the transaction, which
may stall again with a new record; with Ac=0 it terminates it (Ab=1: abort, Ab=0: RAZ/WI);
a terminated transaction then completes and never stalls again (SMMUv3 §4.7.1, §3.12.2).
"""

import pytest

from models.smmu.port import Result, TransResp
from tb.env.stall_book import StallBook

F_PERMISSION = 0x13
REC = 0xABC0  # one stall record, STAG aside: the twins below both write it


class Item:
    def __init__(self, name: str) -> None:
        self.name = name
        self.rsp: TransResp | None = None

    def __repr__(self) -> str:
        return self.name


def answered(item: Item, result: Result):
    item.rsp = TransResp(result, fault=F_PERMISSION)
    return lambda resp: resp == item.rsp


def test_a_terminated_transaction_takes_no_new_record():
    book = StallBook()
    a = Item("a")
    book.hold((1, 0), a, F_PERMISSION, REC)
    assert not book.may_stall(a)  # held
    book.end((1, 0), "retry")
    assert book.may_stall(a)      # retried: it may stall again
    book.hold((1, 5), a, F_PERMISSION, REC)
    book.end((1, 5), Result.RAZ_WI)
    assert not book.may_stall(a)  # its response is on its way
    with pytest.raises(ValueError):
        book.hold((1, 6), a, F_PERMISSION, REC)


def test_own_ending_explains_the_response():
    book = StallBook()
    a = Item("a")
    book.hold((1, 0), a, F_PERMISSION, REC)
    book.end((1, 0), Result.ABORT)
    held, h = book.settle(a, answered(a, Result.ABORT))
    assert not held and h is not None and h.end == Result.ABORT
    assert book.swapped == 0 and not book.ended


def test_twins_swap_terminations():
    """Two records booked one way, ended RAZ/WI and abort; the responses came the other way:
    each twin takes the ending its response is."""
    book = StallBook()
    a, b = Item("a"), Item("b")
    book.hold((1, 0), a, F_PERMISSION, REC)
    book.hold((1, 1), b, F_PERMISSION, REC)
    book.end((1, 0), Result.RAZ_WI)
    book.end((1, 1), Result.ABORT)
    held, h = book.settle(a, answered(a, Result.ABORT))
    assert not held and h is not None and h.end == Result.ABORT and h.item is a
    held, h = book.settle(b, answered(b, Result.RAZ_WI))
    assert not held and h is not None and h.end == Result.RAZ_WI and h.item is b
    assert book.swapped == 1


def test_a_held_twin_answering_takes_the_others_ending():
    """a is booked as still held, b as terminated; a answers with b's ending: b is the one
    still held."""
    book = StallBook()
    a, b = Item("a"), Item("b")
    book.hold((1, 0), b, F_PERMISSION, REC)
    book.end((1, 0), Result.ABORT)
    book.hold((1, 3), a, F_PERMISSION, REC)
    held, h = book.settle(a, answered(a, Result.ABORT))
    assert not held and h is not None and h.end == Result.ABORT
    assert book.held[1, 3].item is b and id(b) in book.held_items and id(a) not in book.held_items
    held, _ = book.settle(b, answered(b, Result.ABORT))
    assert held  # b answered while held: the scoreboard's error


def test_no_swap_between_different_records():
    book = StallBook()
    a, b = Item("a"), Item("b")
    book.hold((1, 0), a, F_PERMISSION, REC)
    book.hold((1, 1), b, F_PERMISSION, REC | 1 << 35)  # PnU differs: not twins
    book.end((1, 0), Result.RAZ_WI)
    book.end((1, 1), Result.ABORT)
    held, h = book.settle(a, answered(a, Result.ABORT))
    assert not held and h is not None and h.end == Result.RAZ_WI  # the mismatch stands
    assert book.swapped == 0


def test_answered_while_held_without_a_twin():
    book = StallBook()
    a = Item("a")
    book.hold((1, 0), a, F_PERMISSION, REC)
    held, _ = book.settle(a, answered(a, Result.ABORT))
    assert held
