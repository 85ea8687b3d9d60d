"""The cache envelope's runs without re-running what cannot differ.

The reference enumeration (:meth:`models.smmu.caches.CacheEnvelope.every_run`) replays the
translation once per combination "cached copy or fresh fetch" at every cache point: a
product over the points, although most combinations end alike. Two shortcuts here give the
same outcomes, and for each outcome the same fills, with far fewer runs:

* :class:`FreshProbe`: one all-fresh run is the whole envelope when every cached copy it
  passes equals what it fetched (nothing changed since it was cached: the common case).
  Its STE and CD stages are remembered across requests (:class:`StageMemo`) while the
  memory they read is unchanged.
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

from models.memory import PhysicalMemory
from models.smmu.port import TransReq
from models.smmu.xlate import FRESH, Outcome, translate

if TYPE_CHECKING:
    from models.smmu.caches import CacheEnvelope

__all__ = ["FreshProbe", "MAX_RUNS", "Path", "StageMemo", "merged_runs"]

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
        self.stages = env.stages
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
        if not self.passed:
            return True
        # A TLB lookup fills under the entry's own key, and with AFFD=1 both the AF=0 entry
        # and its AF=1 copy, which give the same outcome through that CD. Every other kind
        # fills under the key it looked up.
        got: dict[tuple[str, Hashable], list[Any]] = {}
        for kind, key, value in self.fills:
            got.setdefault((kind, None if kind == "TLB" else key), []).append(value)
        for kind, key, cached in self.passed:
            fetched = got.get((kind, None if kind == "TLB" else key), ())
            if not all(c in fetched for c in cached):
                return False
        return True


class _Stage:
    """One stage of an all-fresh run, as it runs (standing in for the lookup and the memory,
    noting what it does) and as remembered: its calls to the lookup in order, the memory it
    read (:meth:`PhysicalMemory.page_versions` and the epoch) and how it ended."""

    __slots__ = (
        "calls",
        "epoch",
        "fault",
        "key",
        "look",
        "mem",
        "pages",
        "state",
        "stop_key",
        "value",
    )
    stages = None  # stages do not nest

    def __init__(self, look: Any, mem: PhysicalMemory, epoch: int) -> None:
        self.look, self.mem, self.epoch = look, mem, epoch
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.pages: list[tuple[int, int]] = []
        self.key: Hashable = None  # where the result is filed; None: nothing to keep
        self.value: Any = None
        self.fault: Outcome | None = None  # the stage ended in this fault's outcome
        self.stop_key: Hashable = None
        self.state: tuple[Any, ...] = ()  # the translation state it left (xlate._Ctx.state)

    def pick(self, kind: str, key: Hashable) -> Any:
        self.calls.append(("pick", (kind, key)))
        return self.look.pick(kind, key)

    def fill(self, kind: str, key: Hashable, value: Any) -> None:
        self.calls.append(("fill", (kind, key, value)))
        self.look.fill(kind, key, value)

    def choose(self, options: tuple[Any, ...]) -> Any:
        self.calls.append(("choose", (options,)))
        return self.look.choose(options)

    def merge(self, state: Hashable) -> None:
        pass  # stage memos serve FreshProbe alone, which has no use for states

    def read(self, addr: int, length: int, *, source: str | None = None) -> bytes:
        # before the read: a faulting read is remembered too (the epoch covers the faults)
        self.pages += self.mem.page_versions(addr, length)
        return self.mem.read(addr, length, source=source)

    def returned(self, key: Hashable, value: Any) -> None:
        self.key, self.value = key, value

    def stopped(self, key: Hashable, outcome: Outcome, stop_key: Hashable) -> None:
        self.key, self.fault, self.stop_key = key, outcome, stop_key


class StageMemo:
    """Stage results of all-fresh runs by stage key (see ``xlate._staged``).

    Only for a lookup whose picks always fetch: then a stage is a function of its key, the
    configuration (fixed for the envelope) and the memory it reads, and its calls to the
    lookup (recorded, replayed on a hit) are the same every time. Entries whose memory
    changed are simply run again.
    """

    LIMIT = 1 << 14  # entries; beyond it the memo starts over

    def __init__(self, mem: PhysicalMemory) -> None:
        self.mem = mem
        self.entries: dict[Hashable, _Stage] = {}

    def clear(self) -> None:
        self.entries.clear()

    def replay(self, c: Any, key: Hashable, stop_key: Hashable
               ) -> tuple[Any, Outcome | None] | None:
        """(value, fault outcome or None) as the stage last gave it, its lookup calls made
        again; None when the stage must run."""
        st = self.entries.get(key)
        if (st is None or not self.mem.unchanged(st.epoch, st.pages)
                or (st.fault is not None and st.stop_key != stop_key)):
            return None
        look = c.look
        for name, args in st.calls:
            getattr(look, name)(*args)
        c.state = st.state
        return st.value, st.fault

    def record(self, c: Any) -> _Stage:
        """Start noting a stage's lookup calls and memory reads: the record stands in for
        ``c.look`` and ``c.mem`` until :meth:`done`."""
        rec = _Stage(c.look, c.mem, self.mem.epoch)
        c.look = c.mem = rec
        return rec

    def done(self, c: Any, rec: _Stage) -> None:
        """Put the lookup and memory back; keep the stage under the key its end named
        (``_Stage.returned``/``stopped``; none when it ended otherwise)."""
        c.look, c.mem = rec.look, rec.mem
        rec.state = c.state
        if rec.key is not None:
            if len(self.entries) >= self.LIMIT:
                self.entries.clear()
            self.entries[rec.key] = rec


class _Cut(Exception):
    """A run reached a state whose continuations are known (internal control flow)."""

    def __init__(self, state: Hashable) -> None:
        super().__init__()
        self.state = state


class Path:
    """One run through the cache points, replaying a prefix of choices then taking option 0.

    ``known`` (states explored to the end) makes a run stop at the first of them it reaches;
    without it every run goes to the end (the reference enumeration)."""

    stages = None  # its picks return cached copies: stage results depend on the cache

    def __init__(self, env: CacheEnvelope, prefix: tuple[int, ...], fresh_first: bool,
                 known: dict[Hashable, list[_Run]] | None = None) -> None:
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
            made_before = len(o.choices)
            o.ends += [(oc, fills[o.fills_before:], chosen[made_before:])
                       for oc, fills, chosen in runs]
        out += runs
        stack.extend((*path.choices[:i], alt)
                     for i in range(len(prefix), len(path.arity))
                     for alt in range(1, path.arity[i]))
    out.sort(key=_reference_order)
    return [(oc, fills) for oc, fills, _ in out]
