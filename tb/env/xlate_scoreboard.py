"""Translation scoreboard: every RTL response and every event record against the model.

The model (``models.smmu.smmu.SmmuModel``) predicts the set of outcomes the architecture
allows for a request, given what the SMMU may still hold in its caches; the RTL's response
must be one of them. The model learns the register state and the invalidation commands from
the register agent and the commands from the command queue in memory as the RTL consumes
them (`tb.env.cmdq_consumer`: an invalidation is certain from its CMD_SYNC's completion on,
§4.7.3). Event records are compared once they are architecturally visible (after a
CMD_SYNC), as multisets, since concurrent walks may record in either order.

Stalled transactions (CD.S=1, the stall model): a transaction the RTL holds has no response
yet; its record (Stall=1) is matched with a request still in flight whose prediction holds a
stall with that record (the STAG is the RTL's choice: any value, checked for uniqueness
among held transactions), and the transaction is held from then on. The commands the RTL
consumes end it: CMD_RESUME with Ac=1 makes its eventual response a new arrival's (predicted
when it comes), with Ac=0 an abort (Ab=1 or TERM_MODEL=1) or RAZ/WI, CMD_STALL_TERM and
SMMUEN=0 an abort; a terminated transaction's response carries the fault that stalled it and
nothing else. A response never matches a predicted stall. The book of held and ended
stalls, and how twins (transactions whose stalls write the same record) are told apart, is
`tb.env.stall_book`.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import NamedTuple

from pyuvm import uvm_component, uvm_subscriber

from models.arch import commands as C
from models.arch import registers as R
from models.arch.events import Event, EventID, decode_event
from models.arch.pgtable import PTE_AF, PTE_DBM, PTE_RDONLY
from models.smmu.port import RESP_FIELDS, Result, TransResp
from models.smmu.smmu import SmmuModel
from tb.agents.reg_agent import RegItem
from tb.agents.xlate_agent import TransItem
from tb.bfm.smmu_bfm import RESP_OKAY
from tb.env.cmdq_consumer import CmdqConsumer
from tb.env.config import env_cfg
from tb.env.coverage import event_bin, flush_reg_coverage
from tb.env.stall_book import StallBook


def same(resp: TransResp, rsp: dict[str, int]) -> bool:
    """Whether the RTL's response equals a model response in every field: the port contract
    gives each field a value for every result (0 where it means nothing), so a stray PA or
    attribute on an abort is a mismatch too."""
    return (resp.result == rsp["result"] and resp.pa == rsp["pa"] and resp.perm == rsp["perm"]
            and resp.attr == rsp["attr"] and resp.sh == rsp["sh"]
            and resp.fault == rsp["fault"])


# `same` names every response field.
assert RESP_FIELDS == ("result", "pa", "perm", "attr", "sh", "fault")


def _result_key(item: TransItem, resp: TransResp) -> str:
    """How a checked response is counted: its result, or for an ATS request the Translation
    Completion it encodes, for an ATS-Translated transaction its result under "translated_"."""
    if item.ats:
        if resp.result == Result.ABORT:
            return "ats_UR" if resp.fault in (0, EventID.F_BAD_ATS_TREQ) else "ats_CA"
        return "ats_SUCCESS" if resp.perm else "ats_NO_ACCESS"
    name = resp.result.name
    return f"translated_{name}" if item.at else name


class _Dvm(NamedTuple):
    """A broadcast TLBI as SmmuModel.dvm takes it."""

    op: str
    asid: int
    start: int
    e2h: bool


_STAG_MASK = Event.field("STAG").mask
_STALL_BIT = Event.field("Stall").mask


class _Tap(uvm_subscriber):
    """Forwards one analysis stream to a scoreboard method."""

    def set_sink(self, fn) -> None:
        self.fn = fn

    def write(self, item) -> None:
        self.fn(item)


class XlateScoreboard(uvm_component):
    def build_phase(self) -> None:
        self.cfg = env_cfg(self).smmu
        self.mem = env_cfg(self).mem
        self.seed = env_cfg(self).seed
        self.model = SmmuModel(self.cfg, self.mem, predictor=True)
        self.reg_tap = _Tap("reg_tap", self)
        self.xlate_tap = _Tap("xlate_tap", self)
        self.checked = 0
        self.by_result: Counter[str] = Counter()
        self.stale_accepted = 0
        self.errors: list[str] = []
        self.expected_events: list[tuple[frozenset[int | None], TransItem]] = []
        self.events_checked = 0
        self.error_bins: Counter[tuple[str, object]] = Counter()  # coverage: EventIDs seen
        self.cmdq = CmdqConsumer(self.mem, self._queue, self._apply_command)
        self.stalls = StallBook()
        self.stalls_checked = 0
        self.serviced_latency: list[int] = []        # cycles, acceptance to final response
        self.carry_events: list[int] = []            # records seen before their response
        self.evtq_seen = 0                           # EVENTQ_PROD.WR looked at so far
        self.stall_seen: Counter[int] = Counter()    # stall records checked as written
        self.widened = 0  # records matched only after widening (a looser check: reported)
        self.inflight: dict[int, TransItem] = {}     # the translation driver's, by tag
        # The latest descriptor-sized stores to memory, by the CPU or by the SMMU's HTTU
        # updates (not its queue writes): (store count after it, address, old, new). A walk
        # in flight across one may have read either value.
        self.word_stores: deque[tuple[int, int, int, int]] = deque(maxlen=4096)
        self.mem.watch_words(self._on_word_store)
        self.read_before_a_store = 0
        # HTTU: the updates the SMMU stored (through the memory port's bus model), by kind
        self.httu_counts: Counter[str] = Counter()
        port = env_cfg(self).bfm.memport
        if hasattr(port, "update_listeners"):
            port.update_listeners.append(self.on_httu_update)
        # BTM: broadcast TLBIs completed by a DVM sync, (its cycle, the operations), applied
        # to the model for responses after that cycle
        self.dvm_pending: list[tuple[int, list[tuple[str, int, int, bool]]]] = []
        env_cfg(self).bfm.dvm.listeners.append(
            lambda cycle, ops: self.dvm_pending.append((cycle, ops)))

    def connect_phase(self) -> None:
        self.reg_tap.set_sink(self.on_reg)
        self.xlate_tap.set_sink(self.on_trans)

    def _error(self, msg: str) -> None:
        self.errors.append(msg)
        self.logger.error("%s (seed %s)", msg, self.seed)

    # ---- register side: configuration and commands ------------------------------------
    def on_reg(self, item: RegItem) -> None:
        if not item.write or item.resp != RESP_OKAY or len(item.data) != 4 or item.addr % 4:
            return
        self.model.regs.write(item.addr, item.value)
        if item.addr == R.OFFSETS["CR0"] and not R.CR0.from_int(item.value).SMMUEN:
            # SMMUEN 1->0: every stalled transaction is marked for abort.
            for key in self.stalls:
                self.stalls.end(key, Result.ABORT)

    def _apply_command(self, cmd) -> None:
        """A consumed command: stall commands end held transactions, the rest go to the
        model."""
        if isinstance(cmd, C.CmdResume):
            key = (cmd.StreamID, cmd.STAG)
            if key in self.stalls:
                term = Result.ABORT if cmd.Ab or self.cfg.TERM_MODEL else Result.RAZ_WI
                self.stalls.end(key, "retry" if cmd.Ac else term)
        elif isinstance(cmd, C.CmdStallTerm):
            for key in [k for k in self.stalls if k[0] == cmd.StreamID]:
                self.stalls.end(key, Result.ABORT)
        else:
            self.model.apply_command(cmd)

    def _queue(self) -> tuple[int, int]:
        base = R.CMDQ_BASE.from_int(self.model.regs.v["CMDQ_BASE"])
        return base.ADDR, min(base.LOG2SIZE, self.cfg.CMDQS)

    def on_cmdq_cons(self, cycle: int, cons: int) -> None:
        """The consumer pointer moved (tb.bfm.monitors.CmdqConsMonitor). With the queue
        disabled only software moves it (queue set-up): nothing was consumed."""
        if R.CR0.from_int(self.model.regs.v["CR0"]).CMDQEN:
            self.cmdq.observe(cycle, cons, self.model.regs.v["CMDQ_PROD"])
        else:
            self.cmdq.resync(cons)

    def on_eventq_prod(self, cycle: int, prod: int) -> None:
        """EVENTQ_PROD moved (tb.bfm.monitors.EvtqProdMonitor): the records it passed are
        visible. Stall records are checked now, with the commands consumed before this cycle
        applied: by the time software drains them the configuration may have changed."""
        base = R.EVENTQ_BASE.from_int(self.model.regs.v["EVENTQ_BASE"])
        log2 = min(base.LOG2SIZE, self.cfg.EVENTQS)
        mask = (2 << log2) - 1
        wr = prod & mask
        if (wr - self.evtq_seen) & mask > 1 << log2:  # software set it (queue set-up)
            self.evtq_seen = wr
            return
        self.cmdq.settle(before=cycle)
        ptr = self.evtq_seen
        while ptr != wr:
            addr = R.q_base(base.ADDR, Event.SIZE, log2) + R.q_index(ptr, log2) * Event.SIZE
            raw = int.from_bytes(self.mem.peek(addr, Event.SIZE), "little")
            if raw & _STALL_BIT:
                self._stall_record(decode_event(raw), raw)
                self.stall_seen[raw] += 1
            ptr = R.q_inc(ptr, log2) & mask
        self.evtq_seen = wr

    # ---- translations --------------------------------------------------------------------
    def on_trans(self, item: TransItem) -> None:
        assert item.rsp is not None
        self.cmdq.settle(before=item.t_done)
        self.checked += 1
        held, h = self.stalls.settle(item, lambda resp: same(resp, item.rsp))
        if held:
            self._error(f"{item}: answered while held (no CMD_RESUME, CMD_STALL_TERM or "
                        "SMMUEN=0 ended it)")
            return
        if h is not None and h.end != "retry":
            # A terminated stall: its result and the fault that stalled it, nothing else.
            if not same(h.want(), item.rsp):
                self._error(f"{item}: a terminated stall must answer {h.want()}")
            self.by_result[f"stall_{h.end.name}"] += 1
            return
        if h is not None:  # retried: from its first acceptance to this response
            self.serviced_latency.append(item.t_done - item.t_accept)
        while self.dvm_pending and self.dvm_pending[0][0] < item.t_done:
            _, ops = self.dvm_pending.pop(0)
            self.model.dvm([_Dvm(*op) for op in ops])
        req = item.req
        runs = self.model.predict_runs(req)
        outcomes = list(dict.fromkeys(oc for oc, _ in runs if not oc.stall))
        matching = [oc for oc in outcomes if same(oc.resp, item.rsp)]
        if not matching and self.word_stores and self.word_stores[-1][0] > item.mem_stores:
            runs, outcomes, matching = self._before_stores(item, runs, outcomes)
        if not matching:
            allowed = "; ".join(str(o.resp) for o in outcomes)
            self._error(f"{item}: not an allowed outcome; allowed: {allowed}")
            return
        # Cached and fresh copies may agree on the response yet differ in the record (e.g. a
        # stale CD.R): any of their records, or none where one of them records nothing, is
        # acceptable, and the model may hold every one of them from now on.
        self.model.commit_runs(req, runs, matching)
        self.stale_accepted += outcomes.index(matching[0]) > 0
        self.by_result[_result_key(item, matching[0].resp)] += 1
        options = frozenset(oc.key()[1] for oc in matching)  # the records, encoded once
        if options != {None}:
            self.expected_events.append((options, item))  # named only if it fails

    def _on_word_store(self, n: int, addr: int, old: int, new: int, source: str | None,
                       cas: bool) -> None:
        if cas or not (source or "").startswith("smmu"):
            self.word_stores.append((n, addr, old, new))

    def on_httu_update(self, addr: int, old: int, new: int) -> None:
        """An exclusive write the SMMU made: only the flags of §3.13 may change (smmuv3.md
        §4.4): AF set, AP[2] cleared on a DBM=1 descriptor; never AF cleared, AP[2] set or
        DBM (or anything else) touched."""
        flags = PTE_AF | PTE_RDONLY
        what = f"HTTU update at {addr:#x}: {old:#018x} -> {new:#018x}"
        if new == old or (new ^ old) & ~flags:
            self._error(f"{what} changes more than AF and AP[2], or nothing")
        elif old & PTE_AF and not new & PTE_AF:
            self._error(f"{what} clears AF")
        elif new & PTE_RDONLY and not old & PTE_RDONLY:
            self._error(f"{what} sets AP[2]")
        elif (old & ~new & PTE_RDONLY) and not old & PTE_DBM:
            self._error(f"{what} clears AP[2] of a descriptor with DBM=0")
        self.httu_counts["af"] += bool(new & ~old & PTE_AF)
        self.httu_counts["dirty"] += bool(old & ~new & PTE_RDONLY)

    def _before_stores(self, item: TransItem, runs, outcomes):
        """The predictions with memory as it was at each descriptor-sized store made since
        ``item`` was loaded (by the CPU: a PTE cleared, write-protected, made writable again,
        before or after its TLBI; by the SMMU: an HTTU update, §3.13.4), added to the current
        one: its walk may have read any of those states (the response is checked later than
        it was given, so stores after it count too). At most the latest 16 states."""
        window = [(addr, old, new) for n, addr, old, new in self.word_stores
                  if n > item.mem_stores][-16:]
        now = {addr: self.mem.peek(addr, 8) for addr, _, _ in window}
        try:
            for addr, old, _ in reversed(window):
                self.mem.poke(addr, old.to_bytes(8, "little"))
            for addr, _, new in window:
                runs = runs + self.model.predict_runs(item.req)
                self.mem.poke(addr, new.to_bytes(8, "little"))
        finally:
            for addr, raw in now.items():
                self.mem.poke(addr, raw)
        outcomes = list(dict.fromkeys(oc for oc, _ in runs if not oc.stall))
        matching = [oc for oc in outcomes if same(oc.resp, item.rsp)]
        self.read_before_a_store += bool(matching)
        return runs, outcomes, matching

    def check_events(self, records: list, *, lossy: bool = False, final: bool = True) -> None:
        """Match the records drained since the last call with the predicted ones: each
        prediction is a set of acceptable records (None: recording nothing is acceptable).
        Records of concurrent walks may come in any order, so matching ignores order.
        ``lossy``: an event-queue write aborted in this stretch (GERROR.EVENTQ_ABT_ERR), after
        which records are discarded until the error is acknowledged (§7.2.1): predicted
        records may be missing, but every record present must still be predicted.
        ``final=False``: a drain with no CMD_SYNC before it (an interrupt thread), where a
        record may show before its transaction's response was checked, or after: what does
        not match yet is kept for the next call. Stall records are matched at once."""
        self.cmdq.settle()
        raws = [r.to_int() for r in records]
        self.events_checked += len(raws)
        for raw in raws:
            if (b := event_bin(raw)) is not None:
                self.error_bins[b] += 1
        got = Counter(r for r in raws if not r & _STALL_BIT)
        for rec, raw in zip(records, raws, strict=True):
            if not raw & _STALL_BIT:
                continue
            if self.stall_seen[raw]:  # checked when it was written
                self.stall_seen[raw] -= 1
            else:
                self._stall_record(rec, raw)
        got.update(self.carry_events)
        self.carry_events = []
        pending, self.expected_events = self.expected_events, []
        # Certain records first, then the ones with alternatives.
        pending.sort(key=lambda e: (None in e[0], len(e[0])))
        for options, origin in pending:
            hit = next((raw for raw in options if raw is not None and got[raw]), None)
            if hit is not None:
                got[hit] -= 1
            elif not final:
                self.expected_events.append((options, origin))  # its record may still come
            elif None not in options and not lossy:
                self._error(f"missing event record for {origin}: "
                            + " or ".join(f"{r:#066x}" for r in options if r is not None))
        for raw, n in (+got).items():
            if final:
                self._error(f"unexpected event record x{n}: {raw:#066x}")
            else:
                self.carry_events += [raw] * n

    def _stall_record(self, rec, raw: int) -> None:
        """A Stall=1 record: the transaction it names is in flight, the model predicts that
        it stalls with this record (STAG aside), and no held transaction has this STAG."""
        sid, stag, addr, rnw = rec.StreamID, rec.STAG, rec.InputAddr, rec.RnW
        ssv, ssid = rec.SSV, rec.SubstreamID
        self.stalls_checked += 1
        if (sid, stag) in self.stalls:
            self._error(f"stall record {raw:#066x}: STAG {stag} of StreamID {sid:#x} is "
                        f"already held by {self.stalls.held[sid, stag].item}")
            return
        want = raw & ~_STAG_MASK
        key = (sid, addr, rnw, ssv, ssid)
        for widened in (False, True):
            if widened:
                self._widen_with_inflight()
            for it in self.inflight.values():
                if (it.sid, it.addr, it.rnw, it.ssv, it.ssid if it.ssv else 0) != key or \
                        not self.stalls.may_stall(it) or it.ats or it.at:
                    continue
                runs = self.model.predict_runs(it.req)
                stalls = [oc for oc, _ in runs if oc.stall and oc.key()[1] == want]
                if stalls:
                    self.model.commit_runs(it.req, runs, stalls)
                    self.stalls.hold((sid, stag), it, int(rec.EventID), want)
                    return
        self._error(f"stall record {raw:#066x} names no transaction in flight that the "
                    "model predicts to stall so")

    def _widen_with_inflight(self) -> None:
        """A record is written when its transaction faults, but the fills it may have met come
        with other transactions' responses, which back-pressure can hold back: one still in
        flight may have walked and filled the caches first (e.g. a read-only entry of the same
        ASID through another stream's tables, which turns a translation fault into a
        permission fault). From a record that matches nothing otherwise on, every fill an
        unanswered, unheld transaction could have made counts as possibly cached."""
        self.widened += 1
        for it in self.inflight.values():
            if id(it) not in self.stalls.held_items and it.rsp is None:
                runs = self.model.predict_runs(it.req)
                self.model.commit_runs(it.req, runs, [oc for oc, _ in runs])

    def extract_phase(self) -> None:
        flush_reg_coverage(self.error_bins)

    def check_phase(self) -> None:
        self.cmdq.settle()
        # Every stall needs exactly one CMD_RESUME or CMD_STALL_TERM; every record seen must
        # have been predicted by then.
        for (sid, stag), h in self.stalls.items():
            self._error(f"{h.item} still held at the end (StreamID {sid:#x}, STAG {stag})")
        for raw in self.carry_events:
            self._error(f"unexpected event record {raw:#066x}")
        if self.stalls_checked:
            self.logger.info("translation scoreboard: %d stall records matched, %d of them "
                             "after widening with unanswered transactions' fills; %d "
                             "re-associated between twins by their responses",
                             self.stalls_checked, self.widened, self.stalls.swapped)
        self.logger.info("translation scoreboard: %d responses checked %s, %d stale-cache "
                         "outcomes accepted, %d event records checked, %d commands consumed "
                         "(CMDQ_CONS moved by software %d times), %d errors",
                         self.checked, dict(self.by_result), self.stale_accepted,
                         self.events_checked, self.cmdq.consumed, self.cmdq.moved_by_software,
                         len(self.errors))
        if self.httu_counts or self.read_before_a_store:
            self.logger.info("translation scoreboard: HTTU updates %s, %d outcomes accepted "
                             "as read before a descriptor store made in flight",
                             dict(self.httu_counts), self.read_before_a_store)
        # Only the random register test moves CMDQ_CONS by hand; anywhere translations are
        # checked, a move the window logic could not explain would drop invalidations.
        assert not (self.checked and self.cmdq.moved_by_software), \
            f"CMDQ_CONS moved {self.cmdq.moved_by_software} times other than towards PROD " \
            f"(seed {self.seed})"
        assert not self.errors, f"{len(self.errors)} translation mismatches, first: " \
                                f"{self.errors[0]} (seed {self.seed})"
