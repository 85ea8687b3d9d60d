"""Stalled transactions (§3.12.2, §4.7; reference fault-paths.md §1.3): the SMMU side of the
stall model.

A translation-class fault (F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION) through a CD
with S=1 holds its transaction: no response goes out, and an event record with Stall=1 and a
STAG names it to software. Software answers with CMD_RESUME (StreamID, STAG):

- Retry (Ac=1): the transaction is translated again as though it had just arrived, so it may
  complete, stall again with a new record, or be terminated by its new outcome;
- Terminate (Ac=0): Ab=1 aborts it; Ab=0 gives RAZ/WI, unless IDR0.TERM_MODEL=1, where every
  termination aborts;
- a StreamID and STAG that match no stalled transaction: nothing happens.

CMD_STALL_TERM(StreamID) aborts every transaction of that stream still held, and SMMUEN
going to 0 aborts every one ("Every stalled transaction is marked for abort (its STAG can be
reused)", docs/registers-spec-digest.md, CR0ACK). A STAG is not reused while its
transaction is held.

Stall records are never lost (§3.12.2; "Stall records are kept and written later",
EVENTQEN 1->0): a stall that cannot write its record (the event queue full, disabled, with an
EVENTQ_ABT_ERR unacknowledged, or the write aborting) keeps its transaction, with no STAG and
no record, and retries it as newly arrived once the queue is writable again, which writes a
new record (it may differ from the first).

No duplicate suppression (§3.12.2.1 permits it): every stalling transaction has a record.

At most IDR5.STALL_MAX transactions are held; the caller stops offering new transactions
while ``full`` (ingress back-pressure, §3.12.2.3).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from models.smmu.port import Result, TransReq, TransResp

__all__ = ["Stalled", "StallUnit"]

STAG_SPACE = 1 << 16  # the STAG field is 16 bits (event record dw1[15:0])


@dataclass(eq=False)
class Stalled:
    """One held transaction."""

    req: TransReq
    fault: int  # the EventID that stalled it: a termination's response carries it
    stag: int | None  # None while its record waits for a writable event queue
    on_done: Callable[[TransResp], None] | None  # receives the response, once


class StallUnit:
    def __init__(self, stall_max: int, term_model: int) -> None:
        self.stall_max = stall_max
        self.term_model = term_model
        self.held: list[Stalled] = []
        self.stats: Counter[str] = Counter()

    # ---- state ------------------------------------------------------------------------
    def full(self) -> bool:
        """STALL_MAX transactions held (an SMMU that cannot stall holds none, whatever its
        STALL_MAX of 0 says)."""
        return bool(self.held) and len(self.held) >= self.stall_max

    def stags(self) -> set[int]:
        return {s.stag for s in self.held if s.stag is not None}

    def waiting(self) -> list[Stalled]:
        """Held transactions whose record waits for a writable event queue."""
        return [s for s in self.held if s.stag is None]

    def find(self, sid: int, stag: int) -> Stalled | None:
        return next((s for s in self.held if s.stag == stag and s.req.sid == sid), None)

    def alloc_stag(self) -> int:
        """The lowest STAG no held transaction has."""
        used = self.stags()
        return next(t for t in range(STAG_SPACE) if t not in used)

    # ---- changes ------------------------------------------------------------------------
    def hold(self, entry: Stalled) -> None:
        if self.full():
            raise RuntimeError(f"stall unit: more than STALL_MAX={self.stall_max} held")
        if entry.stag is not None and entry.stag in self.stags():
            raise RuntimeError(f"stall unit: STAG {entry.stag} is in use")
        self.held.append(entry)
        self.stats["held"] += 1

    def release(self, entry: Stalled) -> None:
        self.held.remove(entry)

    def terminate(self, entry: Stalled, result: Result) -> None:
        """End a held transaction with ``result`` (ABORT or RAZ_WI)."""
        self.release(entry)
        self.stats[f"terminated_{result.name.lower()}"] += 1
        if entry.on_done is not None:
            entry.on_done(TransResp(result, fault=entry.fault))

    def termination(self, abort: bool) -> Result:
        """CMD_RESUME Ac=0: Ab=1 aborts, Ab=0 is RAZ/WI unless TERM_MODEL=1 (§4.7.1)."""
        return Result.ABORT if abort or self.term_model else Result.RAZ_WI

    def terminate_stream(self, sid: int) -> int:
        """CMD_STALL_TERM: abort every transaction of ``sid``; returns how many."""
        mine = [s for s in self.held if s.req.sid == sid]
        for s in mine:
            self.terminate(s, Result.ABORT)
        return len(mine)

    def terminate_all(self) -> int:
        """SMMUEN=0: abort every held transaction; returns how many."""
        n = len(self.held)
        for s in list(self.held):
            self.terminate(s, Result.ABORT)
        return n
