"""Translation-port agent: one sequence item per burst of requests, responses matched by tag.

A sequence hands the driver a :class:`TransBurst`; the driver loads its requests into the
batch BFM as tags free up, without waiting for responses, so many translations stay in flight.
The response collector completes each :class:`TransItem` as the BFM reports it, publishes it on
the agent's analysis port (the scoreboard and coverage subscribe), frees its tag, and sets the
burst's ``done`` once all of its items are answered. One pyuvm hand-off per burst, not per
translation: a bare pyuvm item costs about 100 us (docs/profile.md).
"""

from __future__ import annotations

from collections import deque

import cocotb
from cocotb.triggers import Event
from pyuvm import (
    uvm_agent,
    uvm_analysis_port,
    uvm_driver,
    uvm_sequence_item,
)

from models.smmu.port import REQ_FIELDS, TransReq, result_name
from tb.agents.sequencer import DirectSequencer
from tb.bfm.xlate_bfm import Req
from tb.env.config import env_cfg


class TransItem:
    """A request's fields (:class:`TransReq`'s names) and, once answered, ``rsp``: the
    response's t_rsp_* values keyed as the BFM returns them (models.smmu.port.RESP_FIELDS,
    plus ``tag`` and ``walked``); ``t_accept`` and ``t_done`` are the cycles of its request's
    and its response's handshakes, ``t_issue`` the cycle the driver loaded it."""

    __slots__ = (
        "addr",
        "at",
        "ats",
        "burst",
        "ind",
        "mem_stores",
        "nw",
        "pnu",
        "rnw",
        "rsp",
        "sid",
        "ssid",
        "ssv",
        "t_accept",
        "t_done",
        "t_issue",
        "tag",
    )

    def __init__(self, name: str = "trans", *, sid: int = 0, ssv: int = 0, ssid: int = 0,
                 addr: int = 0, rnw: int = 1, ind: int = 0, pnu: int = 0, ats: int = 0,
                 nw: int = 0, at: int = 0) -> None:
        self.sid, self.ssv, self.ssid, self.addr = sid, ssv, ssid, addr
        self.rnw, self.ind, self.pnu = rnw, ind, pnu
        # An ATS Translation Request (docs/port-contract.md): ind is its Execute bit, pnu its
        # Privileged bit, nw No-Write; the response encodes the Translation Completion.
        self.ats, self.nw = ats, nw
        self.at = at  # an ATS-Translated transaction: addr is a PA
        self.tag = -1
        self.rsp: dict[str, int] | None = None
        self.t_issue = 0
        self.t_accept = 0
        self.t_done = 0
        self.mem_stores = 0  # the memory's store count when the driver loaded it
        self.burst: TransBurst | None = None

    @classmethod
    def of(cls, req) -> TransItem:
        """From any object with the request fields (a TransReq, a stimulus generator's Req)."""
        # (spelled out: a dict of the fields per request cost more than the item itself)
        return cls(sid=req.sid, ssv=req.ssv, ssid=req.ssid, addr=req.addr, rnw=req.rnw,
                   ind=req.ind, pnu=req.pnu, ats=req.ats, nw=req.nw, at=req.at)

    @property
    def req(self) -> TransReq:
        return TransReq(self.sid, self.ssv, self.ssid, self.addr, self.rnw, self.ind, self.pnu,
                        self.ats, self.nw, self.at)

    @property
    def latency(self) -> int:
        return self.t_done - self.t_issue

    def __str__(self) -> str:
        acc = ("R" if self.rnw else "W") + ("I" if self.ind else "D") + ("P" if self.pnu else "U")
        if self.at:
            acc = "translated " + acc
        if self.ats:
            acc = "ATS " + ("X" if self.ind else "") + ("P" if self.pnu else "U") + \
                ("NW" if self.nw else "")
        s = (f"sid={self.sid:#x} ssid={self.ssid:#x}{'' if self.ssv else '(nv)'} "
             f"va={self.addr:#018x} {acc}")
        if self.rsp is not None:
            r = self.rsp
            s += (f" -> {result_name(r['result'])} pa={r['pa']:#x} "
                  f"perm={r['perm']:03b} attr={r['attr']:#04x} sh={r['sh']} "
                  f"fault={r['fault']:#04x}")
        return s


class TransBurst(uvm_sequence_item):
    """Requests handed to the driver together; ``done`` is set when every one is answered."""

    def __init__(self, name: str, items: list[TransItem]) -> None:
        super().__init__(name)
        self.items = items
        self.pending = len(items)
        self.done = Event()
        if not items:
            self.done.set()


WAKE_WAIT = 32  # cycles
# TransItem.req passes the request fields in this order.
assert REQ_FIELDS == ("sid", "ssv", "ssid", "addr", "rnw", "ind", "pnu", "ats", "nw", "at")


class XlateDriver(uvm_driver):
    def build_phase(self) -> None:
        self.ap = uvm_analysis_port("ap", self)
        self.bfm = env_cfg(self).xbfm
        self.clock = env_cfg(self).bfm
        self.mem = env_cfg(self).mem
        self.inflight: dict[int, TransItem] = {}
        self.limit = min(1 << env_cfg(self).tag_w, self.bfm.capacity)
        self.free = deque(range(self.limit))
        # Woken once per quarter of the tags (refilled while three quarters are still queued,
        # so a stream of hits never runs dry), at a burst's end, or 32 cycles after the last
        # wake while responses wait: a response then costs a fraction of a wake, not one.
        self.bfm.set_wake(max(1, self.limit // 4), WAKE_WAIT)
        self._freed = Event()
        self._busy = Event()

    async def run_phase(self) -> None:
        cocotb.start_soon(self._collect())
        while True:
            burst: TransBurst = await self.seq_item_port.get_next_item()
            items = burst.items
            i = 0
            while i < len(items):
                while not self.free:
                    self._freed.clear()
                    await self._freed.wait()
                now = self.clock.cycle()
                stores = self.mem.stamp[1]
                n = min(len(self.free), len(items) - i)
                reqs = []
                for it in items[i:i + n]:
                    it.tag = tag = self.free.popleft()
                    it.burst = burst
                    it.t_issue = now
                    it.mem_stores = stores
                    self.inflight[tag] = it
                    reqs.append(Req(tag, it.sid, it.ssv, it.ssid, it.addr, it.rnw, it.ind,
                                    it.pnu, it.ats, it.nw, it.at))
                self.bfm.load(reqs)
                self._busy.set()
                i += n
            self.seq_item_port.item_done()

    async def _collect(self) -> None:
        while True:
            if not self.inflight:
                self._busy.clear()
                await self._busy.wait()
            for rsp in await self.bfm.responses():
                tag = rsp.fields["tag"]
                item = self.inflight.pop(tag, None)
                if item is None:
                    raise AssertionError(f"response with tag {tag} that is not in flight")
                item.rsp = rsp.fields
                item.t_accept = rsp.accepted
                item.t_done = rsp.done
                self.ap.write(item)
                self.free.append(tag)
                burst = item.burst
                assert burst is not None
                burst.pending -= 1
                if not burst.pending:
                    burst.done.set()
            self._freed.set()

    @property
    def outstanding(self) -> int:
        return len(self.inflight)


class XlateAgent(uvm_agent):
    def build_phase(self) -> None:
        self.seqr = DirectSequencer("seqr", self)
        self.driver = XlateDriver("driver", self)
        env_cfg(self).xlate_seqr = self.seqr

    def connect_phase(self) -> None:
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.ap = self.driver.ap
