"""The SMMU's caches as an envelope: everything it *may* still hold, and what that permits.

An SMMU may keep configuration and translations it fetched until software invalidates them
(reference §5.2), so after a table changes without invalidation the hardware may legally answer
from the old or the new contents. A single predicted answer cannot check such hardware; the set
of all legal answers can. This module keeps that set's ingredients.

What "may be cached" means here:

* A structure becomes cacheable when a transaction whose outcome was *observed* (``commit``)
  used it after fetching it from memory. Only valid structures are cacheable: a V=0 or ILLEGAL
  STE/CD, an invalid L1STD/L1CD and every translation fault are never remembered, so fixing a
  table makes the next transaction see the fix without invalidation (choice: the reference
  does not require negative caching of invalid structures, and forbidding it keeps the
  envelope tight). A valid STE of an aborting or bypassing stream *is* cacheable.
* Keys are the architecture's: L1STD by the StreamID span it covers, STE by StreamID, L1CD and
  CD by (StreamID, CD-table index), TLB leaves by ASID (or, global with nG=0, by CD.ASET,
  §3.17.1) and the VA block or page they map, walk-cache (intermediate table) entries by
  ASID, level and VA prefix. Every entry belongs to VMID 0 and the NS-EL1 StreamWorld (no
  stage 2, no Hyp).
* A TLB leaf is cacheable once its walk passed the access-flag check (a permission fault does
  not stop it being cached; an F_ACCESS or F_ADDR_SIZE does). Intermediate table descriptors
  are cacheable once read and found valid, even if the walk faulted further down.
* Several versions of one key may be held at once (different TLB entries, a refetch after a
  change): a hit on any of them is legal until an invalidation removes the key.
* Invalidations remove exactly what §5.2 requires (never more): invalidating less than the RTL
  keeps the envelope sound, invalidating more would reject legal hardware.

``predict`` enumerates every combination "cached copy or fresh fetch" at every cache point of
the translation (:mod:`models.smmu.xlate` is the only implementation of the semantics; this
module only chooses). ``commit`` records what the observed outcome implies may now be cached.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any

from models.arch import commands as C
from models.arch.geometry import level_shift, level_size
from models.memory import PhysicalMemory
from models.smmu.config import SmmuConfig
from models.smmu.port import TransReq
from models.smmu.runs import MAX_RUNS, Fill, FreshProbe, Path, StageMemo, merged_runs
from models.smmu.xlate import (
    VA56,
    Outcome,
    TlbEntry,
    TlbTag,
    XlateRegs,
    tlb_tag,
    translate,
)

__all__ = ["CacheEnvelope", "Fill", "UnpredictedOutcome"]

CONFIG_KINDS = ("L1STD", "STE", "L1CD", "CD")
_LEAF_SIZES = tuple((level, level_size(level)) for level in (1, 2, 3))


class UnpredictedOutcome(ValueError):
    """An observed outcome is not among those the architecture allows."""


class CacheEnvelope:
    """Cached STEs, CDs, L1 descriptors and TLB/walk entries the SMMU may still use."""

    def __init__(self, cfg: SmmuConfig, mem: PhysicalMemory,
                 regs: Callable[[], XlateRegs], *, memo: bool = True) -> None:
        self.cfg = cfg
        self.memo = memo
        self.stages = StageMemo(mem)  # the all-fresh runs' stages (models.smmu.runs)
        self.mem = mem
        self.regs = regs
        self.config: dict[str, dict[Hashable, list[Any]]] = {k: {} for k in CONFIG_KINDS}
        self.tlb: dict[tuple[TlbTag, int, int], list[TlbEntry]] = {}
        self.walk: dict[tuple[int, int, int], list[int]] = {}
        # Bumps on every change of what is cached; with the registers, the request and
        # memory's stamp it decides the runs of a request (``runs``).
        self.generation = 0
        self._runs_memo: dict[tuple[TransReq, XlateRegs], list[tuple[Outcome, list[Fill]]]] = {}
        self._runs_stamp: tuple[int, int, int] = (-1, -1, -1)

    # ---- the cache contents ---------------------------------------------------------------
    def candidates(self, kind: str, key: Hashable) -> list[Any]:
        """Cached values that may stand in for a fetch at (kind, key), oldest first."""
        if kind == "TLB":
            asid, aset, va56 = key  # type: ignore[misc]
            out: list[Any] = []
            tags = (asid, tlb_tag(None, aset))
            get = self.tlb.get
            for level, size in _LEAF_SIZES:
                base = va56 & -size  # align_down: this is looked up on every translation
                for tag in tags:
                    out += get((tag, level, base), ())
            return out
        if kind == "WALK":
            return list(self.walk.get(key, []))  # type: ignore[arg-type]
        return list(self.config[kind].get(key, []))

    def add(self, kind: str, key: Hashable, value: Any) -> None:
        store: dict[Any, list[Any]] = (self.tlb if kind == "TLB" else self.walk
                                       if kind == "WALK" else self.config[kind])
        versions = store.setdefault(key, [])
        if versions and versions[-1] == value:
            return  # already the newest: most fills are of what is cached already
        if value in versions:
            versions.remove(value)
        versions.append(value)  # newest last
        self.generation += 1

    def clear(self) -> None:
        self.generation += 1
        for store in self.config.values():
            store.clear()
        self.tlb.clear()
        self.walk.clear()

    def __len__(self) -> int:
        return (sum(len(v) for s in self.config.values() for v in s.values())
                + sum(map(len, self.tlb.values())) + sum(map(len, self.walk.values())))

    # ---- prediction -----------------------------------------------------------------------
    def runs(self, req: TransReq) -> list[tuple[Outcome, list[Fill]]]:
        """(outcome, cacheable fills) for the combinations of cached copies: every outcome
        they can give, and for each outcome every fill a combination giving it makes (runs
        that repeat another's outcome and fills may be left out)."""
        if not self.memo:
            return list(self.every_run(req))
        # A request repeated with nothing changed since (no cache change, no memory store or
        # fault change, the same registers) has the same runs: a stream of hits on one page
        # costs a dict lookup each, not a walk. The translation is a function of exactly
        # these (models.smmu.runs).
        regs = self.regs()
        stamp = (self.generation, *self.mem.stamp)
        if stamp != self._runs_stamp:
            self._runs_memo.clear()
            self._runs_stamp = stamp
        key = (req, regs)
        got = self._runs_memo.get(key)
        if got is not None:
            return got
        probe = FreshProbe(self)
        outcome = translate(self.cfg, regs, self.mem, req, probe)
        got = [(outcome, probe.fills)] if probe.single() else merged_runs(self, req)
        if len(self._runs_memo) < 4096:
            self._runs_memo[key] = got
        return got

    def every_run(self, req: TransReq, *, fresh_first: bool = False
                  ) -> Iterator[tuple[Outcome, list[Fill]]]:
        """Every combination of cached copies, one run each, the newest copies first (the
        reference enumeration)."""
        regs = self.regs()
        stack: list[tuple[int, ...]] = [()]
        n = 0
        while stack:
            prefix = stack.pop()
            path = Path(self, prefix, fresh_first)
            outcome = translate(self.cfg, regs, self.mem, req, path)
            n += 1
            if n > MAX_RUNS:
                raise RuntimeError(f"cache envelope: more than {MAX_RUNS} combinations")
            # Push alternatives in reverse so the natural order (option 0 first) pops first.
            alts = [(*path.choices[:i], alt)
                    for i in range(len(prefix), len(path.arity))
                    for alt in range(1, path.arity[i])]
            stack.extend(reversed(alts))
            yield outcome, path.fills

    def predict(self, req: TransReq) -> list[Outcome]:
        """All acceptable outcomes, without duplicates; the first uses the newest cached copies."""
        seen: dict[Outcome, None] = {}
        for outcome, _fills in self.runs(req):
            seen.setdefault(outcome, None)
        return list(seen)

    def commit(self, req: TransReq, outcome: Outcome) -> None:
        """Record an observed outcome: what it was produced from may be cached from now on."""
        self.commit_runs(req, self.runs(req), [outcome])

    def commit_runs(self, req: TransReq, runs: list[tuple[Outcome, list[Fill]]],
                    outcomes: list[Outcome]) -> None:
        """``commit`` for outcomes observed against runs already enumerated (by the caller's
        prediction), so the enumeration is not repeated. Fills are collected before any is
        added: adding while enumerating would change the choices being replayed."""
        fills = [f for got, run_fills in runs if got in outcomes for f in run_fills]
        if not any(got in outcomes for got, _ in runs):
            raise UnpredictedOutcome(f"{outcomes!r} are not legal outcomes of {req}")
        for fill in fills:
            self.add(*fill)

    def resolve(self, req: TransReq, *, fresh_first: bool = False) -> Outcome:
        """One deterministic outcome (newest cached copies, or fresh fetches), committed."""
        outcome, fills = next(self.every_run(req, fresh_first=fresh_first))
        for fill in fills:
            self.add(*fill)
        return outcome

    # ---- invalidation (§5.2) --------------------------------------------------------------
    def invalidate(self, cmd: Any) -> None:
        """Apply the cache effect of one decoded command (non-invalidations are ignored)."""
        self.generation += 1  # (whether or not it drops anything: cheaper than knowing)
        if isinstance(cmd, C.CmdCfgiSte):
            self._drop_sids(cmd.StreamID, cmd.StreamID + 1, l1=not cmd.Leaf)
        elif isinstance(cmd, C.CmdCfgiSteRange):
            if cmd.Range >= 31:
                for store in self.config.values():
                    store.clear()
            else:
                lo = cmd.StreamID & ~((2 << cmd.Range) - 1)
                self._drop_sids(lo, lo + (2 << cmd.Range), l1=True)
        elif isinstance(cmd, C.CmdCfgiCd):
            sid, ssid = cmd.StreamID, cmd.SubstreamID
            self.config["CD"].pop((sid, ssid), None)
            if not cmd.Leaf:
                self._drop(self.config["L1CD"],
                           lambda k: k[0] == sid and ssid >> k[2] == k[1])
        elif isinstance(cmd, C.CmdCfgiCdAll):
            sid = cmd.StreamID
            for kind in ("CD", "L1CD"):
                self._drop(self.config[kind], lambda k: k[0] == sid)
        elif isinstance(cmd, C.CmdTlbiNsnhAll) or (isinstance(cmd, C.CmdTlbiNhAll)
                                                   and cmd.VMID == 0):
            self.tlb.clear()
            self.walk.clear()
        elif isinstance(cmd, C.CmdTlbiNhAsid) and cmd.VMID == 0:
            asid = cmd.ASID
            self._drop(self.tlb, lambda k: k[0] == asid)  # global entries stay
            self._drop(self.walk, lambda k: k[0] == asid)
        elif isinstance(cmd, (C.CmdTlbiNhVa, C.CmdTlbiNhVaa)) and cmd.VMID == 0:
            self._tlbi_va(cmd)
        # TLBI_EL2_* (Hyp only), stage-2 TLBIs, prefetches, ATC/PRI/stall commands and SYNC
        # do not touch NS-EL1 stage-1 entries or configuration.

    def _tlbi_va(self, cmd: C.CmdTlbiNhVa | C.CmdTlbiNhVaa) -> None:
        lo = cmd.Addr & VA56
        hi, ttl = lo + 1, 0
        if self.cfg.RIL and cmd.TG:
            granule = {1: 12, 2: 14, 3: 16}[cmd.TG]
            hi = lo + (((cmd.NUM + 1) << cmd.SCALE) << granule)
            ttl = cmd.TTL if cmd.TG == 1 else 0
        asid = cmd.ASID if isinstance(cmd, C.CmdTlbiNhVa) else None

        def leaf_hit(k: tuple[TlbTag, int, int]) -> bool:
            tag, level, base = k
            # global entries of either ASET match every ASID (§3.17: ASET plays no part)
            if asid is not None and isinstance(tag, int) and tag != asid:
                return False
            if ttl and level != ttl:
                return False  # a wrong level hint may leave the entry: keep it (envelope)
            return base < hi and lo < base + level_size(level)

        def walk_hit(k: tuple[int, int, int]) -> bool:
            tag, level, prefix = k
            shift = level_shift(level)
            return ((asid is None or tag == asid)
                    and prefix << shift < hi and lo < (prefix + 1) << shift)

        self._drop(self.tlb, leaf_hit)
        if not cmd.Leaf:
            self._drop(self.walk, walk_hit)

    def broadcast_tlbi(self, op: str, asid: int, va: int) -> None:
        """A broadcast TLBI the SMMU received (BTM, §3.17): like the command of the same
        scope, but only TLB entries made through a CD with ASET=0 (shared with the CPU)
        match, except for VMALLE1IS, which reaches every ASET (§5.4 CD.ASET); the walk cache,
        which keeps no ASET, drops what matches the ASID and VA (evicting more is always
        allowed). ``op``: VAE1IS, VALE1IS (VA and ASID, global entries too), ASIDE1IS
        (non-global entries of the ASID), VMALLE1IS (everything)."""
        self.generation += 1
        lo = va & VA56

        def covers(level: int, base: int) -> bool:
            return base <= lo < base + level_size(level)

        if op in ("VAE1IS", "VALE1IS"):
            def key_hit(k: tuple[TlbTag, int, int]) -> bool:
                tag, level, base = k
                return (tag == asid or tag == ("global", 0)) and covers(level, base)
        elif op == "ASIDE1IS":
            def key_hit(k: tuple[TlbTag, int, int]) -> bool:
                return k[0] == asid
        elif op == "VMALLE1IS":
            def key_hit(k: tuple[TlbTag, int, int]) -> bool:
                return True
        else:
            raise ValueError(f"broadcast TLBI {op!r} is not an EL1 stage-1 form this SMMU takes")
        for key in [k for k in self.tlb if key_hit(k)]:
            kept = [e for e in self.tlb[key] if e.aset] if op != "VMALLE1IS" else []
            if kept:
                self.tlb[key] = kept
            else:
                del self.tlb[key]
        if op == "VALE1IS":
            return  # last level only: table entries stay
        if op == "VMALLE1IS":
            self.walk.clear()
        elif op == "ASIDE1IS":
            self._drop(self.walk, lambda k: k[0] == asid)
        else:
            self._drop(self.walk, lambda k: k[0] == asid
                       and k[2] << level_shift(k[1]) <= lo < (k[2] + 1) << level_shift(k[1]))

    def _drop_sids(self, lo: int, hi: int, *, l1: bool) -> None:
        """STEs of StreamIDs [lo, hi), the CDs and L1CDs cached through them, and L1STDs."""
        self._drop(self.config["STE"], lambda sid: lo <= sid < hi)
        for kind in ("CD", "L1CD"):
            self._drop(self.config[kind], lambda k: lo <= k[0] < hi)
        if l1:
            self._drop(self.config["L1STD"],
                       lambda k: k[0] << k[1] < hi and lo < (k[0] + 1) << k[1])

    @staticmethod
    def _drop(store: dict[Any, Any], hit: Callable[[Any], bool]) -> None:
        for key in [k for k in store if hit(k)]:
            del store[key]
