"""Translation-port agent: requests with tags, responses matched by tag, out of order.

The driver sends a request without waiting for its response, so a sequence can keep many
translations in flight; the response collector completes the item, publishes it on the
agent's analysis port (the scoreboard and coverage subscribe) and frees the tag.
"""

from __future__ import annotations

import cocotb
from cocotb.queue import Queue
from cocotb.triggers import Event
from pyuvm import (
    uvm_agent,
    uvm_analysis_port,
    uvm_driver,
    uvm_sequence_item,
    uvm_sequencer,
)

from models.smmu.port import REQ_FIELDS, TransReq, result_name
from tb.env.config import env_cfg


class TransItem(uvm_sequence_item):
    """A request's fields (:class:`TransReq`'s names) and, once answered, ``rsp``: the
    response's t_rsp_* values keyed as the BFM returns them (models.smmu.port.RESP_FIELDS,
    plus ``tag`` and ``walked``)."""

    def __init__(self, name: str = "trans", *, sid: int = 0, ssv: int = 0, ssid: int = 0,
                 addr: int = 0, rnw: int = 1, ind: int = 0, pnu: int = 0) -> None:
        super().__init__(name)
        self.sid, self.ssv, self.ssid, self.addr = sid, ssv, ssid, addr
        self.rnw, self.ind, self.pnu = rnw, ind, pnu
        self.tag = -1
        self.rsp: dict[str, int] | None = None
        self.t_issue = 0
        self.t_done = 0
        self.done = Event()

    @classmethod
    def of(cls, req) -> TransItem:
        """From any object with the request fields (a TransReq, a stimulus generator's Req)."""
        return cls(**{k: getattr(req, k) for k in REQ_FIELDS})

    @property
    def req(self) -> TransReq:
        return TransReq(**{k: getattr(self, k) for k in REQ_FIELDS})

    @property
    def latency(self) -> int:
        return self.t_done - self.t_issue

    def __str__(self) -> str:
        acc = ("R" if self.rnw else "W") + ("I" if self.ind else "D") + ("P" if self.pnu else "U")
        s = (f"sid={self.sid:#x} ssid={self.ssid:#x}{'' if self.ssv else '(nv)'} "
             f"va={self.addr:#018x} {acc}")
        if self.rsp is not None:
            r = self.rsp
            s += (f" -> {result_name(r['result'])} pa={r['pa']:#x} "
                  f"perm={r['perm']:03b} attr={r['attr']:#04x} sh={r['sh']} "
                  f"fault={r['fault']:#04x}")
        return s


class XlateDriver(uvm_driver):
    def build_phase(self) -> None:
        self.ap = uvm_analysis_port("ap", self)
        self.bfm = env_cfg(self).xbfm
        self.clock = env_cfg(self).bfm
        self.tag_w = env_cfg(self).tag_w
        self.inflight: dict[int, TransItem] = {}
        self.free: Queue[int] = Queue()
        for t in range(1 << self.tag_w):
            self.free.put_nowait(t)

    async def run_phase(self) -> None:
        cocotb.start_soon(self._collect())
        while True:
            item: TransItem = await self.seq_item_port.get_next_item()
            item.tag = await self.free.get()
            self.inflight[item.tag] = item
            item.t_issue = self.clock.cycle()
            await self.bfm.send(item.tag, item.sid, item.ssv, item.ssid, item.addr, item.rnw,
                                item.ind, item.pnu)
            self.seq_item_port.item_done()

    async def _collect(self) -> None:
        while True:
            rsp = await self.bfm.recv()
            item = self.inflight.pop(rsp["tag"], None)
            if item is None:
                raise AssertionError(f"response with tag {rsp['tag']} that is not in flight")
            item.rsp = rsp
            item.t_done = self.clock.cycle()
            self.ap.write(item)
            item.done.set()
            self.free.put_nowait(item.tag)

    @property
    def outstanding(self) -> int:
        return len(self.inflight)


class XlateAgent(uvm_agent):
    def build_phase(self) -> None:
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = XlateDriver("driver", self)
        env_cfg(self).xlate_seqr = self.seqr

    def connect_phase(self) -> None:
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.ap = self.driver.ap
