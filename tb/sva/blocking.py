"""Running the driver's coroutines from synchronous callers (mmu notifier callbacks).

Mirrors: nothing in Linux (model infrastructure: Linux's notifier callbacks simply sleep).

The CPU model changes page tables synchronously and calls the mmu notifiers in the middle
(after clearing PTEs, before freeing pages), like Linux where ->invalidate_range may block on
CMD_SYNC. The driver's command queue is async because the RTL backend awaits simulator time.

:func:`run_sync` completes a coroutine before returning: a platform that can block the calling
thread on a coroutine (under cocotb: a thread started with ``cocotb.bridge`` resuming the
coroutine in the simulator) provides ``block_on``; otherwise the coroutine is stepped
directly, which works for every backend whose awaits never suspend (the functional model).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class WouldSuspend(RuntimeError):
    """A synchronous callback needed simulator time but the platform cannot block."""


def run_sync(plat: Any, coro: Coroutine[Any, Any, T]) -> T:
    block_on = getattr(plat, "block_on", None)
    if block_on is not None:
        result: T = block_on(coro)
        return result
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise WouldSuspend(
        "the driver had to wait for the platform inside a synchronous mmu notifier callback; "
        "this backend needs a Platform.block_on(coroutine) hook")
