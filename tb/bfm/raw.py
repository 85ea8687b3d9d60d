"""Raw access to wide testbench-ring signals, for the batch ports of tb/hdl/smmu_tb.sv.

cocotb's ``handle.value`` builds a LogicArray from the simulator's bit string on every read
(about 7 us for a 156-bit ring entry) and formats one on every write. The ring entries the
batch ports exchange are plain bit vectors that are always fully written before they are read,
so they go through the simulator handle's bit-string calls directly: one ``int(s, 2)`` per
read, one format per write. Only signals of the testbench wrapper's rings, and registers a
monitor reads on every change (``read_resolved``: None while X or Z), go through here;
everything else uses cocotb's API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cocotb.handle import _GPISetAction

_DEPOSIT = _GPISetAction.DEPOSIT.value


class RawVector:
    """One wide signal or array element, read and written as an int."""

    __slots__ = ("_fmt", "_get", "_set")

    def __init__(self, handle: Any) -> None:
        gpi = handle._handle
        self._get = gpi.get_signal_val_binstr
        self._set = gpi.set_signal_val_binstr
        self._fmt = f"0{len(handle)}b"

    def read(self) -> int:
        return int(self._get(), 2)

    def read_resolved(self) -> int | None:
        """The value, or None if any bit is X or Z (before reset on Icarus)."""
        try:
            return int(self._get(), 2)
        except ValueError:
            return None

    def write_now(self, value: int) -> None:
        """Deposit at once, not at the next ReadWrite phase as cocotb schedules it. Only for
        ring entries the engine ignores until a pointer, written through cocotb afterwards,
        tells it they are there."""
        self._set(_DEPOSIT, format(value, self._fmt))


def drain(ring: Sequence[RawVector], rp: int, wp: int, take: Callable[[int], None]) -> int:
    """Pass every entry of ``ring`` from ``rp`` up to ``wp`` to ``take``, in order; returns
    the new read pointer."""
    n = len(ring)
    while rp != wp:
        take(ring[rp].read())
        rp = (rp + 1) % n
    return rp


class PauseMask:
    """A wrapper input with one pause bit per channel (tbm_pause, tbr_pause): a channel's
    valid or ready is held back in the cycles its bit is set."""

    def __init__(self, signal: Any, bits: dict[str, int]) -> None:
        self.signal, self.bits, self.mask = signal, bits, 0
        signal.value = 0

    def set(self, channel: str, on: bool) -> None:
        bit = 1 << self.bits[channel]
        self.mask = (self.mask | bit) if on else (self.mask & ~bit)
        self.signal.value = self.mask
