"""Translation scoreboard: every RTL response and every event record against the model.

The model (``models.smmu.smmu.SmmuModel``) predicts the set of outcomes the architecture
allows for a request, given what the SMMU may still hold in its caches; the RTL's response
must be one of them. The model learns the register state and the invalidation commands from
the register agent and the commands from the command queue in memory as the RTL consumes
them (`tb.env.cmdq_consumer`: an invalidation is certain from its CMD_SYNC's completion on,
§4.7.3). Event records are compared once they are architecturally visible (after a
CMD_SYNC), as multisets, since concurrent walks may record in either order.
"""

from __future__ import annotations

from collections import Counter

from pyuvm import uvm_component, uvm_subscriber

from models.arch import registers as R
from models.smmu.port import RESP_FIELDS, TransResp
from models.smmu.smmu import SmmuModel
from tb.agents.reg_agent import RegItem
from tb.agents.xlate_agent import TransItem
from tb.bfm.smmu_bfm import RESP_OKAY
from tb.env.cmdq_consumer import CmdqConsumer
from tb.env.config import env_cfg


def same(resp: TransResp, rsp: dict[str, int]) -> bool:
    """Whether the RTL's response equals a model response in every field: the port contract
    gives each field a value for every result (0 where it means nothing), so a stray PA or
    attribute on an abort is a mismatch too."""
    return (resp.result == rsp["result"] and resp.pa == rsp["pa"] and resp.perm == rsp["perm"]
            and resp.attr == rsp["attr"] and resp.sh == rsp["sh"]
            and resp.fault == rsp["fault"])


# `same` names every response field.
assert RESP_FIELDS == ("result", "pa", "perm", "attr", "sh", "fault")


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
        self.cmdq = CmdqConsumer(self.mem, self._queue, self.model.apply_command)

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

    # ---- translations --------------------------------------------------------------------
    def on_trans(self, item: TransItem) -> None:
        assert item.rsp is not None
        self.cmdq.settle(before=item.t_done)
        req = item.req
        runs = self.model.predict_runs(req)
        outcomes = list(dict.fromkeys(oc for oc, _ in runs))
        self.checked += 1
        matching = [oc for oc in outcomes if same(oc.resp, item.rsp)]
        if not matching:
            allowed = "; ".join(str(o.resp) for o in outcomes)
            self._error(f"{item}: not an allowed outcome; allowed: {allowed}")
            return
        # Cached and fresh copies may agree on the response yet differ in the record (e.g. a
        # stale CD.R): any of their records, or none where one of them records nothing, is
        # acceptable, and the model may hold every one of them from now on.
        self.model.commit_runs(req, runs, matching)
        self.stale_accepted += outcomes.index(matching[0]) > 0
        self.by_result[str(matching[0].resp.result.name)] += 1
        options = frozenset(oc.key()[1] for oc in matching)  # the records, encoded once
        if options != {None}:
            self.expected_events.append((options, item))  # named only if it fails

    def check_events(self, records: list, *, lossy: bool = False) -> None:
        """Match the records drained since the last call with the predicted ones: each
        prediction is a set of acceptable records (None: recording nothing is acceptable).
        Records of concurrent walks may come in any order, so matching ignores order.
        ``lossy``: an event-queue write aborted in this stretch (GERROR.EVENTQ_ABT_ERR), after
        which records are discarded until the error is acknowledged (§7.2.1): predicted
        records may be missing, but every record present must still be predicted."""
        self.cmdq.settle()
        got = Counter(r.to_int() for r in records)
        self.events_checked += len(records)
        pending, self.expected_events = self.expected_events, []
        # Certain records first, then the ones with alternatives.
        pending.sort(key=lambda e: (None in e[0], len(e[0])))
        for options, origin in pending:
            hit = next((raw for raw in options if raw is not None and got[raw]), None)
            if hit is not None:
                got[hit] -= 1
            elif None not in options and not lossy:
                self._error(f"missing event record for {origin}: "
                            + " or ".join(f"{r:#066x}" for r in options if r is not None))
        for raw, n in (+got).items():
            self._error(f"unexpected event record x{n}: {raw:#066x}")

    def check_phase(self) -> None:
        self.cmdq.settle()
        self.logger.info("translation scoreboard: %d responses checked %s, %d stale-cache "
                         "outcomes accepted, %d event records checked, %d commands consumed "
                         "(CMDQ_CONS moved by software %d times), %d errors",
                         self.checked, dict(self.by_result), self.stale_accepted,
                         self.events_checked, self.cmdq.consumed, self.cmdq.moved_by_software,
                         len(self.errors))
        # Only the random register test moves CMDQ_CONS by hand; anywhere translations are
        # checked, a move the window logic could not explain would drop invalidations.
        assert not (self.checked and self.cmdq.moved_by_software), \
            f"CMDQ_CONS moved {self.cmdq.moved_by_software} times other than towards PROD " \
            f"(seed {self.seed})"
        assert not self.errors, f"{len(self.errors)} translation mismatches, first: " \
                                f"{self.errors[0]} (seed {self.seed})"
