"""MMU notifiers: how secondary MMUs (the SMMU's TLBs and the devices' ATCs) learn that a
process's page tables changed (ref §8.1, §8.6, §8.7).

The MM calls :func:`mmu_notifier_invalidate_range` after it has cleared or changed PTEs and
broadcast the CPU TLBI, but *before* it frees the pages or tables: a secondary MMU must drop its
cached translations while the old page still belongs to the process, otherwise a device could
write into a page that was already given to someone else. :func:`mmu_notifier_release` runs
first thing at process exit (exit_mmap), while every page is still mapped, after which the
subscriptions are unlinked and get no further callbacks.

Two registration styles exist, as in Linux:
- :func:`mmu_notifier_register` / :func:`mmu_notifier_unregister` for a caller-owned object;
  unregistering calls ``release`` if the mm has not exited yet (the secondary MMU must stop).
- :func:`mmu_notifier_get` / :func:`mmu_notifier_put`, the refcounted form the v5 SVA series
  uses for io_mm: one notifier per (ops, mm); the last put unlinks it and frees it through
  ``ops.free_notifier`` only after a grace period, here :func:`mmu_notifier_synchronize`
  (Linux defers it with SRCU so callbacks still running on other CPUs finish first).

Both styles hold an mm_count reference (mmgrab) so the pgd outlives the notifier.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.cpu.mm import MM

__all__ = [
    "MMUNotifier", "MMUNotifierOps",
    "mmu_notifier_get", "mmu_notifier_invalidate_range", "mmu_notifier_put",
    "mmu_notifier_register", "mmu_notifier_release", "mmu_notifier_synchronize",
    "mmu_notifier_unregister",
]


class MMUNotifier:
    """One subscription to an mm's page-table changes; override the callbacks you need."""

    def __init__(self) -> None:
        self.mm: MM | None = None
        self.ops: MMUNotifierOps | None = None  # set when created by mmu_notifier_get
        self.users = 0  # mmu_notifier_get references
        self.linked = False  # on mm.notifier_subscriptions (False once released/unregistered)

    def release(self, mm: MM) -> None:
        """The mm is exiting: stop using its page tables (pages are still mapped now)."""

    def invalidate_range(self, mm: MM, start: int, end: int) -> None:
        """PTEs in ``[start, end)`` changed or were cleared; pages are not yet freed."""


class MMUNotifierOps:
    """The factory side of mmu_notifier_get: identifies the subscriber kind and allocates it."""

    def alloc_notifier(self, mm: MM) -> MMUNotifier:
        raise NotImplementedError

    def free_notifier(self, subscription: MMUNotifier) -> None:
        """Called after the grace period that follows the last :func:`mmu_notifier_put`."""


_lock = threading.RLock()
_deferred: list[MMUNotifier] = []  # put to zero, waiting for the SRCU grace period


def _link(subscription: MMUNotifier, mm: MM) -> None:
    if subscription.linked:
        raise ValueError("notifier is already registered")
    if mm.mm_users <= 0:
        raise ValueError(f"{mm.name}: cannot register a notifier on an exited mm")
    mm.mmgrab()
    subscription.mm = mm
    subscription.linked = True
    mm.notifier_subscriptions.append(subscription)


def _unlink(subscription: MMUNotifier) -> None:
    mm = subscription.mm
    if subscription.linked and mm is not None:
        mm.notifier_subscriptions.remove(subscription)
        subscription.linked = False


def mmu_notifier_register(subscription: MMUNotifier, mm: MM) -> None:
    with _lock, mm.mmap_lock:
        _link(subscription, mm)


def mmu_notifier_unregister(subscription: MMUNotifier, mm: MM) -> None:
    """Unlink; if the mm is still alive, ``release`` runs first so the user stops walking."""
    with _lock, mm.mmap_lock:
        if subscription.mm is not mm:
            raise ValueError(f"notifier is not registered on {mm.name}")
        if subscription.linked:
            subscription.release(mm)
            _unlink(subscription)
        subscription.mm = None
        mm.mmdrop()


def mmu_notifier_get(ops: MMUNotifierOps, mm: MM) -> MMUNotifier:
    """The notifier of ``ops`` on ``mm`` with one more reference; allocated on first use."""
    with _lock, mm.mmap_lock:
        for sub in mm.notifier_subscriptions:
            if sub.ops is ops and sub.users:
                sub.users += 1
                return sub
        sub = ops.alloc_notifier(mm)
        sub.ops = ops
        sub.users = 1
        _link(sub, mm)
        return sub


def mmu_notifier_put(subscription: MMUNotifier) -> None:
    """Drop a get reference; the last one unlinks now and frees after the grace period."""
    with _lock:
        if subscription.users <= 0:
            raise ValueError("mmu_notifier_put without a matching get")
        subscription.users -= 1
        if subscription.users:
            return
        mm = subscription.mm
        if mm is not None:
            with mm.mmap_lock:
                _unlink(subscription)
        _deferred.append(subscription)


def mmu_notifier_synchronize() -> None:
    """End the grace period: run ``free_notifier`` of every put-to-zero notifier, then mmdrop."""
    with _lock:
        pending = list(_deferred)
        _deferred.clear()
    for sub in pending:
        mm = sub.mm
        assert sub.ops is not None
        sub.ops.free_notifier(sub)
        sub.mm = None
        if mm is not None:
            mm.mmdrop()


def mmu_notifier_invalidate_range(mm: MM, start: int, end: int) -> None:
    """Tell every linked subscriber that ``[start, end)`` changed (called by the MM)."""
    for sub in list(mm.notifier_subscriptions):
        sub.invalidate_range(mm, start, end)


def mmu_notifier_release(mm: MM) -> None:
    """exit_mmap's first step: every subscriber's ``release``, then unlink them all."""
    subs = list(mm.notifier_subscriptions)
    for sub in subs:
        sub.release(mm)
    for sub in subs:
        _unlink(sub)
