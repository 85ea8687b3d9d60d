"""Run translation vectors on any backend through the software stack.

The backend supplies a Platform (registers, memory, time) and a ``translate`` coroutine for
one request; everything else (bring-up, tables, invalidation, event collection, result
format) is shared, so the model and the RTL produce comparable result lines.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from models.arch.cd import CD
from models.arch.commands import CmdTlbiNsnhAll, cfgi_all
from models.arch.events import EventID
from models.arch.ste import STE, StreamConfig
from models.smmu.port import Result, perm_str
from tb.replay.vectors import HARNESS_WINDOW, Vector, VectorError, build_cd, build_ste, s1cdmax_for
from tb.sva.arm.arm_smmu_v3.device import ArmSmmuV3
from tb.sva.arm.arm_smmu_v3.evtq import EventQueue
from tb.sva.platform import Platform

MAX_S1CDMAX = 10  # the CD table is linear: 64 KiB at most
_ADDR_FIELDS = ("InputAddr", "IPA", "FetchAddr")

# translate(sid, ssv, ssid, va, rnw, ind, pnu) -> response fields of docs/port-contract.md
Translate = Callable[[int, int, int, int, int, int, int], Awaitable[dict[str, int]]]


def _event_json(ev: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": int(ev.EventID), "name": ev.named("EventID")}
    for k, v in ev.as_dict().items():
        if k != "EventID":
            out[k] = f"{v:#x}" if k in _ADDR_FIELDS else v
    return out


def result_json(rsp: dict[str, int], events: list[Any]) -> dict[str, Any]:
    result = Result(rsp["result"])
    res = result.name
    if result.ok:
        out: dict[str, Any] = {"ok": True, "result": res, "pa": f"{rsp['pa']:#x}"}
        if result == Result.OK_TRANSLATED:
            out.update(perm=perm_str(rsp["perm"]), attr=f"{rsp['attr']:#04x}", sh=rsp["sh"])
    else:
        fault = rsp["fault"]
        name = EventID(fault).name if fault in EventID._value2member_map_ else f"{fault:#x}"
        out = {"ok": False, "result": res, "fault": name,
               "event": _event_json(events[0]) if events else None}
    if len(events) > (0 if out["ok"] else 1):
        out["extra_events"] = [_event_json(e) for e in events[0 if out["ok"] else 1:]]
    return out


class Replay:
    """One SMMU, brought up once; vectors run one after another with caches invalidated
    between them."""

    def __init__(self, plat: Platform, translate: Translate) -> None:
        self.plat = plat
        self.translate = translate
        self.smmu = ArmSmmuV3(plat)

    async def start(self) -> None:
        await self.smmu.device_reset()
        self.evtq = EventQueue(self.plat, self.smmu.evtq.base, self.smmu.evtq.shift)

    async def run(self, v: Vector) -> dict[str, Any]:
        f = self.smmu.features
        assert f is not None
        if v.sid >> f.sid_bits:
            raise VectorError(f"line {v.line}.sid: {v.sid:#x} needs more than the SMMU's "
                              f"{f.sid_bits} StreamID bits")
        s1cdmax = s1cdmax_for(v)
        if s1cdmax > MAX_S1CDMAX:
            raise VectorError(f"line {v.line}: the harness builds a linear CD table of at "
                              f"most 2^{MAX_S1CDMAX} CDs; S1CDMax/SSID need {s1cdmax} bits")
        mem = self.plat.mem
        for pa, word in v.memory.items():
            mem.write64(pa, word, source="cpu")
        cd_table = self.plat.dma.alloc(CD.SIZE << s1cdmax)
        cd: CD = build_cd(v)
        if (v.ssid or 0) >> s1cdmax == 0:  # an SSID beyond the table is the SMMU's to reject
            mem.write(cd_table + CD.SIZE * (v.ssid or 0), cd.to_bytes(), source="cpu")
        ste_pa = self.smmu.ste_addr(v.sid)
        ste: STE = build_ste(v, cd_table, s1cdmax)
        mem.write(ste_pa, ste.to_bytes(), source="cpu")
        await self.smmu.cmdq_drv.issue([cfgi_all(), CmdTlbiNsnhAll()])

        mem.enable_log()
        mem.take_log()
        results = []
        for r in v.requests:
            rsp = await self.translate(v.sid, int(v.ssid is not None), v.ssid or 0, r.va,
                                       r.rnw, r.ind, r.pnu)
            # The record of a terminated transaction is only guaranteed visible once a
            # CMD_SYNC issued after it completes (reference §5.3).
            await self.smmu.cmdq_drv.sync()
            results.append(result_json(rsp, await self.evtq.drain()))
        # What the SMMU stored outside its own structures: the HTTU flag updates, each a
        # compare-and-swap whose log keeps the old word, so the word as it stands is reported
        writes = {f"{a.addr:#x}": (a.data if a.op == "w" else mem.peek(a.addr, 8)).hex()
                  for a in mem.take_log()
                  if (a.op == "w" or (a.op == "cas" and a.swapped))
                  and (a.source or "").startswith("smmu")
                  and not HARNESS_WINDOW[0] <= a.addr < HARNESS_WINDOW[1]}
        mem.disable_log()

        # Leave nothing of this vector behind for the next one.
        for pa in v.memory:
            mem.write64(pa, 0, source="cpu")
        mem.write(ste_pa, STE(V=1, Config=StreamConfig.ABORT, SHCFG=1).to_bytes(), source="cpu")
        self.plat.dma.free(cd_table)
        return {"name": v.name, "results": results, "memory_writes": writes}
