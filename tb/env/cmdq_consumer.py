"""When the scoreboard's model learns a command: as the SMMU consumes it, not when it is queued.

§4.7.3 (CMD_SYNC): the completion of a CMD_SYNC guarantees that every invalidation before it
has taken effect, and that every transaction translated with an entry it targeted has
completed. Until that completion the SMMU may still use the old entries; from the PROD write
on it may also stop using them at any time. So the model must hold an invalidation as
*pending* (old and new both allowed, `SmmuModel.apply_command`) from the moment the command
is visible and make it certain exactly when the SYNC after it completes: neither earlier,
which would fail a correct SMMU that still answered from its cache, nor later, which would
accept a stale translation delivered after the SYNC completed.

The completion is the consumer pointer CMDQ_CONS passing the SYNC. The pointer is observed
where it changes (a passive monitor, `tb.bfm.monitors.CmdqConsMonitor`), the consumed commands
are read from memory at that moment (software may reuse the slots as soon as it sees CONS
move), and they are handed to the model only when a response completing after that cycle is
checked: a response completing in the same cycle as the SYNC counts as completed before it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from models.arch import registers as R
from models.arch.commands import Command, decode_command
from models.memory import PhysicalMemory


class CmdqConsumer:
    def __init__(self, mem: PhysicalMemory, queue: Callable[[], tuple[int, int]],
                 apply: Callable[[Any], None]) -> None:
        """``queue()`` gives the command queue's (base address, log2 entries) as programmed;
        ``apply`` hands one consumed command to the model."""
        self.mem = mem
        self.queue = queue
        self.apply = apply
        self.cons = 0                                   # RD (wrap and index) consumed so far
        self._due: deque[tuple[int, list[Any]]] = deque()  # (cycle, commands consumed then)
        self.consumed = 0
        self.moved_by_software = 0

    def observe(self, cycle: int, cons_reg: int, prod_reg: int) -> None:
        """CMDQ_CONS changed to ``cons_reg`` at ``cycle`` with CMDQ_PROD at ``prod_reg``: read
        the commands it passed. A move that is not towards PROD is not consumption (software
        wrote CONS, as the random register test does) and only moves the pointer."""
        base, shift = self.queue()
        mask = (2 << shift) - 1
        rd, prod = cons_reg & mask, prod_reg & mask
        if (rd - self.cons) & mask > (prod - self.cons) & mask:
            self.cons = rd
            self.moved_by_software += 1
            return
        cmds = []
        ptr = self.cons
        while ptr != rd:
            raw = self.mem.peek(base + R.q_index(ptr, shift) * Command.SIZE, Command.SIZE)
            cmds.append(decode_command(raw))
            ptr = R.q_inc(ptr, shift)
        self.cons = rd
        if cmds:
            self._due.append((cycle, cmds))

    def resync(self, cons_reg: int) -> None:
        """Software wrote CMDQ_CONS (queue set-up): nothing was consumed."""
        _base, shift = self.queue()
        self.cons = cons_reg & ((2 << shift) - 1)

    def settle(self, before: int | None = None) -> None:
        """Hand the model every command consumed before cycle ``before`` (all if None)."""
        while self._due and (before is None or self._due[0][0] < before):
            _cycle, cmds = self._due.popleft()
            for cmd in cmds:
                self.apply(cmd)
                self.consumed += 1
