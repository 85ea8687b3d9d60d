"""A plain function called on every change of a wrapper signal, without a cocotb Task.

`await sig.value_change` costs a trigger, a task resumption and a fresh simulator callback per
wake, several times the work of serving a memory read from the wrapper's rings. ``SimWake``
registers the simulator callback itself and calls a synchronous function, in the time step of
the change, as the awaiting task would have run. Anything that function schedules (a task
started with ``cocotb.start_soon``, an Event set) runs before the callback returns, as after
a trigger. An exception is kept and raised in the test by a cocotb task, so a failure still
fails the test with its traceback.

cocotb (pinned at 2.1.0 in requirements.txt) runs its event loop after every trigger through
``cocotb._event_loop._inst``; that is not public API, and the import below fails loudly if a
later cocotb moves it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cocotb
from cocotb import simulator
from cocotb._event_loop import _inst as _event_loop  # see the module docstring
from cocotb.triggers import Event


class SimWake:
    """Call ``func()`` on every value change of ``signal``, for the rest of the test."""

    def __init__(self, signal: Any, func: Callable[[], None]) -> None:
        self._handle = signal._handle
        self._func = func
        self._cb: Any = None
        self._error: BaseException | None = None
        self._failed = Event()
        self._watch = cocotb.start_soon(self._raise_failure())
        self._arm()

    def _arm(self) -> None:
        self._cb = simulator.register_value_change_callback(
            self._handle, self._fire, simulator.VALUE_CHANGE)
        if self._cb is None:
            raise RuntimeError("SimWake: the simulator refused a value-change callback")

    def _fire(self) -> None:
        # The simulator's value-change callbacks fire once: re-arm before anything else.
        if self._cb is None:
            return
        self._arm()
        try:
            self._func()
        except BaseException as exc:  # handed to the test below
            if self._error is None:
                self._error = exc
                self._failed.set()
        _event_loop.run()

    async def _raise_failure(self) -> None:
        # cocotb ends this task with its test: the callback goes with it, so the bus model of
        # one test never serves the next one's simulation.
        try:
            await self._failed.wait()
        finally:
            self._disarm()
        assert self._error is not None
        raise self._error

    def _disarm(self) -> None:
        if self._cb is not None:
            self._cb.deregister()
            self._cb = None
