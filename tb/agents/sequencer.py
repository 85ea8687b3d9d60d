"""A sequencer that hands items straight to its driver.

pyuvm's ``uvm_sequencer`` passes every item through a task of its own and three events
between the sequence and the driver (``start_item`` waits until the driver asks, the driver
waits until ``finish_item``, the sequence until ``item_done``): six task switches per item.
The register agent makes an item of every register access, and the software stack polls
CMDQ_CONS for each CMD_SYNC, so on random traffic those switches were about a third of all
of cocotb's task resumptions.

Here ``start_item`` returns at once and ``finish_item`` queues the item for the driver and
waits for its ``item_done``: three switches at most, none where the driver finds an item
waiting. Every sequence of this testbench calls the two back to back, so the driver takes
the items in the order their sequences started them, as pyuvm's FIFO grants them, and in the
same simulation time step: the stimulus and every cycle count are unchanged.
"""

from __future__ import annotations

from collections import deque

from cocotb.triggers import Event
from pyuvm import (
    UVMSequenceError,
    uvm_component,
    uvm_seq_item_export,
    uvm_sequence_item,
    uvm_sequencer,
)

__all__ = ["DirectSequencer"]


class _DirectExport(uvm_seq_item_export):
    """The driver's side: the items sequences finished, oldest first."""

    def __init__(self, name: str, parent: uvm_component) -> None:
        super().__init__(name, parent)
        self._pending: deque[uvm_sequence_item] = deque()
        self._nonempty = Event()

    def push(self, item: uvm_sequence_item) -> None:
        self._pending.append(item)
        self._nonempty.set()

    async def get_next_item(self) -> uvm_sequence_item:
        if self.current_item is not None:
            raise UVMSequenceError("You must call item_done() before calling get_next_item again")
        while not self._pending:
            self._nonempty.clear()
            await self._nonempty.wait()
        self.current_item = self._pending.popleft()
        return self.current_item

    async def put_req(self, item: uvm_sequence_item) -> None:
        raise UVMSequenceError("DirectSequencer: items reach the driver through finish_item "
                               "only (put_req's queue is not read)")

    def try_next_item(self) -> tuple[bool, uvm_sequence_item | None]:
        if self.current_item is not None:
            raise UVMSequenceError("You must call item_done() before calling try_next_item again")
        if not self._pending:
            return False, None
        self.current_item = self._pending.popleft()
        return True, self.current_item


class DirectSequencer(uvm_sequencer):
    """``uvm_sequencer`` without the hand-off task (see the module's docstring)."""

    def __init__(self, name: str, parent: uvm_component | None = None) -> None:
        # not uvm_sequencer.__init__, which would make a second child named seq_item_export
        uvm_component.__init__(self, name, parent)
        self.seq_item_export = _DirectExport("seq_item_export", self)

    async def run_phase(self) -> None:
        return

    async def start_item(self, item: uvm_sequence_item) -> None:
        return

    async def finish_item(self, item: uvm_sequence_item) -> None:
        # item_done sets and at once clears the event: this task is woken by the set
        self.seq_item_export.push(item)
        await item.finish_condition.wait()
