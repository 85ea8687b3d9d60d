"""Directed tests of the PRI queue (parameter sets with IDR0.PRI=1, which advertise IDR3.PPS=1),
with expectations written from the reference (fault-paths.md §1.4, smmuv3.md §7, §9 items 19,
25, 26; SPEC §8.1, §8.2, §4.5.2), not from the model.

Page requests go in on the pr_* pins and PRG responses come out on prg_*; the harness
programs a PRI queue of 2^``log2`` entries at PRIQ and enables it with the other queues.
"""

from __future__ import annotations

import os
import random

import cocotb
from cocotb.triggers import ClockCycles

from models.arch import commands as C
from models.arch import registers as R
from models.arch.priq import PriEntry, PriRespCode
from models.memory import PhysicalMemory
from models.smmu.pri import PriQueue
from models.smmu.regfile import RegisterFile
from tb.bfm.pri_port import PriPort
from tb.directed.harness import Soft
from tb.dut_config import CONFIGS

CFG = CONFIGS[os.environ.get("SMMU_PARAMS", "default")]
PRIQ = 0x0022_0000
SID = 0x21
PASID = 5
VA = 0x7F12_3456_7000


class Pri:
    """The PCIe side (tb/bfm/pri_port.py), with this file's StreamID and PASID as defaults."""

    def __init__(self, dut) -> None:
        self.port = PriPort(dut)
        self.clk = dut.clk

    @property
    def responses(self) -> list:
        return self.port.responses

    async def request(self, prgi: int, last: int, *, ssv: int = 1, r: int = 1, w: int = 0,
                      page: int = VA, sid: int = SID) -> None:
        await self.port.request(sid=sid, prgi=prgi, last=last, page=page, ssv=ssv,
                                ssid=PASID if ssv else 0, r=r, w=w)

    async def settle(self, cycles: int = 40) -> None:
        await ClockCycles(self.clk, cycles)


def success(prgi: int, *, pasid: int | None = PASID, auto: int = 1,
            sid: int = SID) -> tuple[int, ...]:
    return (sid, int(pasid is not None), pasid or 0, prgi, PriRespCode.SUCCESS, auto)


def failure(prgi: int, *, auto: int = 1, sid: int = SID) -> tuple[int, ...]:
    return (sid, 0, 0, prgi, PriRespCode.RESPONSE_FAILURE, auto)


async def setup(dut, log2: int = 2, *, priqen: bool = True) -> tuple[Soft, Pri]:
    s = Soft(dut)
    await s.start()
    await s.w64("PRIQ_BASE", PRIQ | log2)
    s.priq_log2 = log2  # type: ignore[attr-defined]
    s.pri_cons = 0  # type: ignore[attr-defined]
    await s.w32("IRQ_CTRL", 0x7)
    await s.poll("IRQ_CTRLACK", 0x7)
    if priqen:
        await s.w32("CR0", 0b1111)
        await s.poll("CR0ACK", 0b1111)
    return s, Pri(dut)


async def drain(s: Soft, n: int | None = None, *, ack: bool = True) -> list[PriEntry]:
    """Consume up to ``n`` entries; ``ack`` copies OVFLG into OVACKFLG in the same store."""
    log2 = s.priq_log2  # type: ignore[attr-defined]
    mask = (2 << log2) - 1
    prod = await s.r32("PRIQ_PROD")
    cons = s.pri_cons  # type: ignore[attr-defined]
    out = []
    while (cons & mask) != (prod & mask) and (n is None or len(out) < n):
        idx = cons & ((1 << log2) - 1)
        out.append(PriEntry.from_bytes(s.mem.read(PRIQ + 16 * idx, 16)))
        cons = (cons + 1) & mask
    s.pri_cons = cons  # type: ignore[attr-defined]
    old = await s.r32("PRIQ_CONS")
    ovack = (prod & 0x8000_0000) if ack else (old & 0x8000_0000)
    await s.w32("PRIQ_CONS", cons | ovack)
    return out


def skip_without_pri() -> bool:
    return not CFG.PRI


@cocotb.test(skip=skip_without_pri())
async def page_requests_are_written_in_order(dut):
    """§7.1: each entry carries the request's fields; a PRG of several requests (L on the
    last) interleaved with another keeps its order (§9 item 25); nothing is answered before
    software answers; the PRI queue interrupt is up while entries wait."""
    s, p = await setup(dut, log2=3)
    assert not s.bfm.irq("priq")
    await p.request(1, 0, page=VA)
    await p.request(2, 1, page=VA + 0x5000, r=0, w=1)
    await p.request(1, 1, page=VA + 0x1000)
    await p.settle()
    assert s.bfm.irq("priq")
    got = [(e.StreamID, e.SSV, e.SubstreamID, e.PRGIndex, e.Last, e.R, e.W, e.PageAddr)
           for e in await drain(s)]
    assert got == [(SID, 1, PASID, 1, 0, 1, 0, VA), (SID, 1, PASID, 2, 1, 0, 1, VA + 0x5000),
                   (SID, 1, PASID, 1, 1, 1, 0, VA + 0x1000)], got
    await p.settle()
    assert not s.bfm.irq("priq")
    assert p.responses == []


@cocotb.test(skip=skip_without_pri())
async def cmd_pri_resp_sends_the_prg_response(dut):
    """§4.5.2: CMD_PRI_RESP sends (StreamID, PRGIndex, Resp) with the PASID iff SSV=1, once
    consumed; no CMD_SYNC is needed."""
    s, p = await setup(dut)
    await s.cmds(C.CmdPriResp(SSV=1, SubstreamID=PASID, StreamID=SID, PRGIndex=0x1A5,
                              Resp=PriRespCode.SUCCESS),
                 C.CmdPriResp(StreamID=SID, PRGIndex=3, Resp=PriRespCode.INVALID_REQUEST))
    await p.settle()
    assert p.responses == [(SID, 1, PASID, 0x1A5, PriRespCode.SUCCESS, 0),
                           (SID, 0, 0, 3, PriRespCode.INVALID_REQUEST, 0)], p.responses


@cocotb.test(skip=skip_without_pri())
async def cmd_pri_resp_waits_for_the_response_port(dut):
    """A PRG response the PCIe side does not take holds the command queue once the response
    buffer (4 entries, docs/rtl.md) is full: CONS stays on the fifth CMD_PRI_RESP; nothing is
    lost or reordered."""
    s, p = await setup(dut)
    await p.port.hold_responses(True)
    n = 6  # more than the response buffer holds
    await s.cmds(*(C.CmdPriResp(StreamID=SID, PRGIndex=i, Resp=PriRespCode.SUCCESS)
                   for i in range(n)), wait=False)
    await ClockCycles(dut.clk, 200)
    cons = R.CMDQ_CONS.from_int(await s.r32("CMDQ_CONS"))
    assert (cons.RD, cons.ERR) == (4, 0), cons
    await p.port.hold_responses(False)
    await s.poll("CMDQ_CONS", n, mask=0xFF)
    await p.settle()
    assert [r[3] for r in p.responses] == list(range(n)), p.responses


@cocotb.test(skip=skip_without_pri())
async def overflow_inhibits_every_write_until_acknowledged(dut):
    """§9 item 19, §8.1: a request meeting a full queue toggles OVFLG; "An active overflow
    condition inhibits new entries from being written to the PRI queue" even with room, until
    CONS.OVACKFLG = PROD.OVFLG. L=1 requests are answered Success automatically, with their
    PASID (IDR3.PPS=1: "STE.PPAR is not checked"); L=0 requests and Stop markers get
    nothing."""
    s, p = await setup(dut, log2=2)
    for i in range(4):
        await p.request(1, 0, page=VA + i * 0x1000)
    await p.request(2, 0)            # full: overflow, dropped silently
    await p.request(1, 1)            # answered Success
    await p.request(9, 1, r=0, w=0)  # a Stop marker: nothing
    await p.request(3, 1, ssv=0)     # no PASID: Success without one
    await p.settle()
    prod = R.PRIQ_PROD.from_int(await s.r32("PRIQ_PROD"))
    assert prod.OVFLG == 1 and prod.WR == 4, prod
    assert p.responses == [success(1), success(3, pasid=None)], p.responses
    assert len(await drain(s, 2, ack=False)) == 2   # room now; overflow not acknowledged
    await p.request(4, 1)
    await p.settle()
    assert R.PRIQ_PROD.from_int(await s.r32("PRIQ_PROD")).WR == 4  # still nothing written
    assert p.responses == [success(1), success(3, pasid=None), success(4)], p.responses
    await drain(s)                   # consume up to PROD and acknowledge in the same store
    await p.request(5, 1)
    await p.settle()
    assert [e.PRGIndex for e in await drain(s)] == [5]
    assert p.responses == [success(1), success(3, pasid=None), success(4)], p.responses


@cocotb.test(skip=skip_without_pri())
async def a_disabled_queue_answers_failure_to_every_request(dut):
    """§8.2: with the effective PRIQEN=0 "No entries are written to the PRI queue. All
    incoming PPRs cause an automatic PRG Response having ResponseCode == 0b1111", without a
    PASID; no response to a Stop marker."""
    s, p = await setup(dut, priqen=False)
    await p.request(1, 0)
    await p.request(1, 1)
    await p.request(6, 1, r=0, w=0)
    await p.settle()
    assert p.responses == [failure(1), failure(1)], p.responses
    assert R.PRIQ_PROD.from_int(await s.r32("PRIQ_PROD")).WR == 0


@cocotb.test(skip=skip_without_pri())
async def an_aborted_entry_write_raises_priq_abt_err(dut):
    """§8.2: a synchronous abort writing the entry: Response Failure for that request and
    GERROR.PRIQ_ABT_ERR; while it is active nothing is written and every request is answered
    Failure; once acknowledged, writes resume."""
    s, p = await setup(dut)
    fault = s.mem.add_fault(PRIQ, PRIQ + 64, on="w")
    await p.request(1, 0)
    await p.settle()
    gerror = await s.r32("GERROR")
    assert gerror & R.GERROR.field("PRIQ_ABT_ERR").mask, hex(gerror)
    assert s.bfm.irq("gerror")
    assert p.responses == [failure(1)], p.responses
    s.mem.remove_fault(fault)
    await p.request(2, 0)
    await p.settle()
    assert p.responses == [failure(1), failure(2)], p.responses
    assert R.PRIQ_PROD.from_int(await s.r32("PRIQ_PROD")).WR == 0
    await s.w32("GERRORN", gerror)
    await p.request(3, 1)
    await p.settle()
    assert [e.PRGIndex for e in await drain(s)] == [3]
    assert p.responses == [failure(1), failure(2)], p.responses  # nothing for a written one


@cocotb.test(skip=skip_without_pri())
async def automatic_responses_wait_for_the_port_in_order(dut):
    """Automatic responses the PCIe side does not take are kept, in order: the response
    buffer, then its side register, then the requests wait in the request FIFO; none is
    lost or answered twice."""
    _s, p = await setup(dut, priqen=False)
    await p.port.hold_responses(True)
    for i in range(6):
        await p.request(i, 1)
    await p.settle()
    assert p.responses == []
    await p.port.hold_responses(False)
    await p.settle()
    assert p.responses == [failure(i) for i in range(6)], p.responses


@cocotb.test(skip=skip_without_pri())
async def a_stop_marker_with_room_is_written_like_any_request(dut):
    """§9 item 26, §8.1: a Stop PASID marker (SSV=1, L=1, R=W=0) meeting a queue with room is
    written as an entry like any page request, and nothing answers it automatically (only
    software decides what it means)."""
    s, p = await setup(dut, log2=2)
    await p.request(0x40, 1, r=0, w=0, page=VA + 0x3000)
    await p.settle()
    (e,) = await drain(s)
    assert (e.StreamID, e.SSV, e.SubstreamID, e.PRGIndex, e.Last, e.R, e.W, e.PageAddr) == \
        (SID, 1, PASID, 0x40, 1, 0, 0, VA + 0x3000), e
    assert e.is_stop_marker
    assert p.responses == []


class _ModelPriq:
    """The reference PRI queue (models/smmu/pri.py) programmed as ``setup`` programs the
    RTL's, in memory of its own: what the fuzz compares with."""

    def __init__(self, log2: int) -> None:
        self.regs = RegisterFile(CFG)
        self.mem = PhysicalMemory(48)
        self.q = PriQueue(CFG, self.regs, self.mem, lambda _sid: None)  # PPS=1: no STE read
        self.log2 = log2
        self.cons = 0
        for name, v in (("PRIQ_BASE", PRIQ | log2), ("IRQ_CTRL", 0x7), ("CR0", 0b1111)):
            self.regs.write(R.OFFSETS[name], v)

    def responses(self) -> list[tuple[int, ...]]:
        return [(r.sid, int(r.pasid is not None), r.pasid or 0, r.prgi, r.code, int(r.auto))
                for r in self.q.responses]

    def drain(self, ack: bool) -> list[PriEntry]:
        mask = (2 << self.log2) - 1
        prod = self.regs.hw_value("PRIQ_PROD")
        out = []
        while (self.cons & mask) != (prod & mask):
            idx = self.cons & ((1 << self.log2) - 1)
            out.append(PriEntry.from_bytes(self.mem.read(PRIQ + 16 * idx, 16)))
            self.cons = (self.cons + 1) & mask
        old = self.regs.hw_value("PRIQ_CONS")
        ovack = (prod & 0x8000_0000) if ack else (old & 0x8000_0000)
        self.regs.write(R.OFFSETS["PRIQ_CONS"], self.cons | ovack)
        return out


FUZZ_BURSTS = 24


@cocotb.test(skip=skip_without_pri())
async def random_page_requests_against_the_model(dut):
    """Fuzz: bursts of 1 to 8 page requests with random fields (StreamID, a PASID or none,
    R/W/X/Priv, PRGIndex, page, Last; Stop markers among them) into a 4-entry queue, drained
    after each burst, an overflow acknowledged or left standing: the entries the RTL writes
    and the PRG responses it sends are the reference model's, in order, burst by burst."""
    s, p = await setup(dut, log2=2)
    model = _ModelPriq(2)
    rng = random.Random(cocotb.RANDOM_SEED)
    sent = written = 0
    for burst in range(FUZZ_BURSTS):
        for _ in range(rng.randint(1, 8)):
            ssv = rng.randrange(2)
            f = {"sid": rng.getrandbits(CFG.SIDSIZE), "ssv": ssv,
                 "ssid": rng.getrandbits(CFG.SSIDSIZE) if ssv else 0,
                 "prgi": rng.getrandbits(9), "last": rng.randrange(2),
                 "page": rng.getrandbits(52) << 12, "priv": rng.randrange(2),
                 "x": rng.randrange(2)}
            stop = ssv and f["last"] and rng.random() < 0.2
            f["r"], f["w"] = (0, 0) if stop else (rng.randrange(2), rng.randrange(2))
            await p.port.request(**f)
            model.q.page_request(PriEntry(StreamID=f["sid"], SSV=ssv, SubstreamID=f["ssid"],
                                          PRGIndex=f["prgi"], Last=f["last"], R=f["r"],
                                          W=f["w"], X=f["x"], Priv=f["priv"],
                                          PageAddr=f["page"]))
            sent += 1
        await p.settle()
        ack = rng.random() < 0.7
        got, want = await drain(s, ack=ack), model.drain(ack)
        assert got == want, f"burst {burst}: entries {got}, the model's {want}"
        written += len(got)
        assert p.responses == model.responses(), \
            f"burst {burst}: responses {p.responses}, the model's {model.responses()}"
    dut._log.info("%d random page requests: %d written, %d automatic responses", sent,
                  written, len(p.responses))
    assert written and p.responses, "the draw should give both outcomes"
