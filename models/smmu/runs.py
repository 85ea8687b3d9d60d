"""The cache envelope's runs without re-running what cannot differ.

The reference enumeration (:meth:`models.smmu.caches.CacheEnvelope.every_run`) replays the
translation once per combination "cached copy or fresh fetch" at every cache point: a
product over the points, although most combinations end alike. Two shortcuts here give the
same outcomes, and for each outcome the same fills, with far fewer runs:

* :class:`FreshProbe`: one all-fresh run is the whole envelope when every cached copy it
  passes equals what it fetched (nothing changed since it was cached: the common case).
* :func:`merged_runs`: otherwise, the runs are enumerated depth first, and a run that
  reaches a state (``Lookup.merge``) another run already explored to the end stops there
  and takes that run's continuations instead of exploring them again.

Both rest on the translation being a function of (configuration, registers, memory,
request, the values the cache points return), with memory and caches unchanged while one
request is enumerated.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models.smmu.port import TransReq
from models.smmu.xlate import FRESH, Outcome, translate

if TYPE_CHECKING:
    from models.smmu.caches import CacheEnvelope

__all__ = ["FreshProbe", "MAX_RUNS", "Path", "merged_runs"]

Fill = tuple[str, Hashable, Any]
Run = tuple[Outcome, list[Fill]]
MAX_RUNS = 4096  # a guard against a runaway enumeration, far above any test's needs


class FreshProbe:
    """The all-fresh run, noting the cached copies it passed by.

    If every cached copy at every cache point the run reaches equals what the run fetched
    there, choosing a cached copy changes nothing downstream (the cache stays the same during
    an enumeration), so every combination gives this run's outcome, and its fills are a
    subset of this run's (a fresh fetch in the same state fills the same value).
    """

    def __init__(self, env: CacheEnvelope) -> None:
        self.env = env
        self.fills: list[Fill] = []
        self.passed: list[tuple[str, Hashable, list[Any]]] = []
        self.alone = True  # no CONSTRAINED UNPREDICTABLE choice offered alternatives

    def pick(self, kind: str, key: Hashable) -> Any:
        cached = self.env.candidates(kind, key)
        if cached:
            self.passed.append((kind, key, cached))
        return FRESH

    def choose(self, options: tuple[Any, ...]) -> Any:
        if len(options) > 1:
            self.alone = False
        return options[0]

    def fill(self, kind: str, key: Hashable, value: Any) -> None:
        self.fills.append((kind, key, value))

    def merge(self, state: Hashable) -> None:
        pass

    def single(self) -> bool:
        """Whether this run stands for every combination (see the class)."""
        if not self.alone:
            return False
        for kind, key, cached in self.passed:
            # A TLB lookup fills under the entry's own key, and with AFFD=1 both the AF=0
            # entry and its AF=1 copy, which give the same outcome through that CD. Every
            # other kind fills under the key it looked up.
            got = [v for k, fkey, v in self.fills if k == kind and (kind == "TLB" or fkey == key)]
            if not all(c in got for c in cached):
                return False
        return True


class _Cut(Exception):
    """A run reached a state whose continuations are known (internal control flow)."""

    def __init__(self, state: Hashable) -> None:
        super().__init__()
        self.state = state


class Path:
    """One run through the cache points, replaying a prefix of choices then taking option 0.

    ``known`` (states explored to the end) makes a run stop at the first of them it reaches;
    without it every run goes to the end (the reference enumeration)."""

    def __init__(self, env: CacheEnvelope, prefix: tuple[int, ...], fresh_first: bool,
                 known: dict[Hashable, list[Run]] | None = None) -> None:
        self.env = env
        self.choices = list(prefix)
        self.arity: list[int] = []
        self.fresh_first = fresh_first
        self.fills: list[Fill] = []
        self.known = known
        self.states: list[tuple[Hashable, int, int]] = []  # (state, choices made, fills made)

    def pick(self, kind: str, key: Hashable) -> Any:
        cached = list(reversed(self.env.candidates(kind, key)))  # newest first
        return self.choose(tuple([FRESH, *cached] if self.fresh_first else [*cached, FRESH]))

    def choose(self, options: tuple[Any, ...]) -> Any:
        pos = len(self.arity)
        if pos == len(self.choices):
            self.choices.append(0)
        self.arity.append(len(options))
        return options[self.choices[pos]]

    def fill(self, kind: str, key: Hashable, value: Any) -> None:
        self.fills.append((kind, key, value))

    def merge(self, state: Hashable) -> None:
        if self.known is None:
            return
        self.states.append((state, len(self.arity), len(self.fills)))
        if state in self.known:
            raise _Cut(state)


@dataclass
class _Open:
    """A state whose continuations are being explored: the runs sharing its choices."""

    state: Hashable
    choices: tuple[int, ...]  # the choices made before reaching it
    fills_before: int
    ends: list[_Run] = field(default_factory=list)  # the runs' parts after the state


# (outcome, fills, choices): a run, or the part of one after a state
_Run = tuple[Outcome, list[Fill], tuple[int, ...]]


def _reference_order(run: _Run) -> tuple[tuple[int, int], ...]:
    """Where the reference enumeration yields a run: it takes option 0 everywhere first,
    then below each point in turn, shallowest first, every other option."""
    return tuple((i, c) for i, c in enumerate(run[2]) if c)


def merged_runs(env: CacheEnvelope, req: TransReq) -> list[Run]:
    """The reference enumeration's runs, each state's continuations explored once.

    Depth first with the deepest alternatives first, so the runs below a state (those
    sharing the choices made before it) come one after the other: once the enumeration
    leaves them, the state is known, and a later run reaching it splices its continuations
    onto its own fills and choices so far instead of going on. The runs come back in the
    reference's order, so that committing them files the cache's versions in the same order
    (the newest copies are the first outcome's)."""
    regs = env.regs()
    known: dict[Hashable, list[_Run]] = {}
    open_: list[_Open] = []  # nested: each one's runs include the next one's
    out: list[_Run] = []
    stack: list[tuple[int, ...]] = [()]
    n = 0
    while stack:
        prefix = stack.pop()
        while open_ and prefix[:len(open_[-1].choices)] != open_[-1].choices:
            done = open_.pop()
            known[done.state] = done.ends
        path = Path(env, prefix, False, known)
        try:
            outcome = translate(env.cfg, regs, env.mem, req, path)
            runs = [(outcome, path.fills, tuple(path.choices[:len(path.arity)]))]
            reached = path.states
        except _Cut as cut:
            *reached, (_, depth, before) = path.states
            head, made = path.fills[:before], tuple(path.choices[:depth])
            runs = [(oc, head + fills, made + chosen) for oc, fills, chosen in known[cut.state]]
        n += 1
        if n > MAX_RUNS:
            raise RuntimeError(f"cache envelope: more than {MAX_RUNS} combinations")
        # States reached after the replayed prefix are new; earlier ones are already open.
        for state, depth, before in reached:
            if depth >= len(prefix) and state not in known:
                open_.append(_Open(state, tuple(path.choices[:depth]), before))
        for o in open_:
            cut = len(o.choices)
            o.ends += [(oc, fills[o.fills_before:], chosen[cut:]) for oc, fills, chosen in runs]
        out += runs
        stack.extend((*path.choices[:i], alt)
                     for i in range(len(prefix), len(path.arity))
                     for alt in range(1, path.arity[i]))
    out.sort(key=_reference_order)
    return [(oc, fills) for oc, fills, _ in out]
