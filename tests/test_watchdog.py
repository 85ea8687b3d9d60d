"""The watchdog's rules (tb/env/watchdog.py) on a stand-in SMMU: what counts as stuck, what
counts as legitimately held, and what a violation names. The RTL side (a hang planted in
memory, named on both simulators) is WatchdogTest in tests/test_rtl.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from models.arch import registers as R
from models.arch.commands import CmdSync, SyncCS
from models.memory import PhysicalMemory
from tb.agents.reg_agent import RegItem
from tb.agents.xlate_agent import TransItem
from tb.dut_config import CONFIGS
from tb.env.watchdog import Watchdog

CR0_ON = R.CR0(SMMUEN=1, CMDQEN=1, EVENTQEN=1).to_int()


class Val(int):
    is_resolvable = True


class Sig:
    """A signal handle: ``value`` reads like cocotb's (int(), is_resolvable)."""

    def __init__(self) -> None:
        self._v = Val(0)

    @property
    def value(self) -> Val:
        return self._v

    @value.setter
    def value(self, v: int) -> None:
        self._v = Val(v)


class FakeBfm:
    def __init__(self) -> None:
        self.now = 0
        names = ("evtq_writable", "cmdq_prod_q", "cmdq_cons_q", "cr0_ack", "gerror_active",
                 "irq_ctrlack_q", "gbpa_q", "rq_valid", "eventq_prod_q", "eventq_cons_q",
                 "t_req_valid", "t_req_ready", "t_rsp_valid", "t_rsp_ready", "m_axi_arvalid",
                 "m_axi_arready", "m_axi_rvalid", "m_axi_rready")
        self.rtl = SimpleNamespace(**{n: Sig() for n in names})
        self.rtl.evtq_writable.value = 1

    def cycle(self) -> int:
        return self.now


@pytest.fixture
def wd() -> Watchdog:
    w = Watchdog.__new__(Watchdog)  # no pyuvm hierarchy: the rules only
    bfm = FakeBfm()
    w.setup(bfm, PhysicalMemory(48), CONFIGS["stall"], seed=7)
    w.violations_seen = []  # type: ignore[attr-defined]
    w.on_violation = w.violations_seen.append  # type: ignore[attr-defined]
    return w


def at(w: Watchdog, cycle: int) -> list[str]:
    w.bfm.now = cycle
    before = len(w.violations)
    w.check()
    return w.violations[before:]


def wr32(w: Watchdog, name: str, value: int, cycle: int) -> None:
    w.bfm.now = cycle
    item = RegItem.wr32(R.OFFSETS[name], value)
    item.resp = 0
    w.write(item)


def test_translation_unanswered_past_the_bound_is_named(wd: Watchdog) -> None:
    it = TransItem(sid=5, addr=0x1234_5000)
    it.t_issue = 100
    wd.inflight[3] = it
    assert at(wd, 100 + wd.xlate_bound) == []
    (msg,) = at(wd, 101 + wd.xlate_bound)
    assert "translation tag 3" in msg and "sid=0x5" in msg and "va=0x0000000012345000" in msg
    assert "seed 7" in wd.violations_seen[0] and "1 translations in flight" in \
        wd.violations_seen[0]


def test_held_stall_is_exempt_and_its_bound_restarts_when_let_go(wd: Watchdog) -> None:
    it = TransItem(sid=1, addr=0x4000)
    it.t_issue = 0
    wd.inflight[0] = it
    wd.held.add(id(it))
    assert at(wd, 10 * wd.xlate_bound) == []
    wd.held.discard(id(it))  # CMD_RESUME retried it: it walks again from here
    assert at(wd, 10 * wd.xlate_bound + wd.xlate_bound) == []
    assert at(wd, 11 * wd.xlate_bound + 1) != []


def test_full_event_queue_holds_back_stalls_so_nothing_is_stuck(wd: Watchdog) -> None:
    it = TransItem(sid=1, addr=0x4000)
    wd.inflight[0] = it
    wd.bfm.rtl.evtq_writable.value = 0
    assert at(wd, 5 * wd.xlate_bound) == []
    wd.bfm.rtl.evtq_writable.value = 1
    assert at(wd, 5 * wd.xlate_bound + wd.xlate_bound) == []
    assert at(wd, 6 * wd.xlate_bound + 1) != []


def test_cr0_write_not_acknowledged(wd: Watchdog) -> None:
    wr32(wd, "CR0", CR0_ON, 50)
    assert at(wd, 50 + wd.ack_bound) == []
    (msg,) = at(wd, 51 + wd.ack_bound)
    assert f"CR0ACK 0x00000000, written {CR0_ON:#010x}" in msg
    wd.bfm.rtl.cr0_ack.value = CR0_ON
    assert at(wd, 52 + wd.ack_bound) == []
    assert wd._acks == {}


def test_irq_ctrl_and_gbpa_updates_must_complete(wd: Watchdog) -> None:
    wr32(wd, "IRQ_CTRL", R.IRQ_CTRL(GERROR_IRQEN=1).to_int(), 0)
    wr32(wd, "GBPA", R.GBPA(Update=1, ABORT=1).to_int(), 0)
    wd.bfm.rtl.gbpa_q.value = R.GBPA(Update=1, ABORT=1).to_int()
    msgs = at(wd, wd.ack_bound + 1)
    assert len(msgs) == 2 and "IRQ_CTRLACK 0x00000000, written 0x00000001" in msgs[0] \
        and "GBPA.Update still set" in msgs[1], msgs
    wd.bfm.rtl.gbpa_q.value = R.GBPA(ABORT=1).to_int()
    wd.bfm.rtl.irq_ctrlack_q.value = R.IRQ_CTRL(GERROR_IRQEN=1).to_int()
    assert at(wd, wd.ack_bound + 3) == []


def test_command_queue_standing_still_names_the_command(wd: Watchdog) -> None:
    base = 0x10_0000
    wr32(wd, "CMDQ_BASE", base | 4, 0)
    wd.mem.write(base + 2 * 16, CmdSync(CS=SyncCS.SIG_NONE).to_bytes())
    rtl = wd.bfm.rtl
    rtl.cr0_ack.value = CR0_ON
    rtl.cmdq_prod_q.value, rtl.cmdq_cons_q.value = 3, 2
    assert at(wd, 10) == []                      # first seen at this CONS
    assert at(wd, 10 + wd.cmd_bound) == []
    (msg,) = at(wd, 11 + wd.cmd_bound)
    assert "command queue stuck" in msg and "CmdSync" in msg and f"{base + 32:#x}" in msg
    # a halted queue (CERROR, GERROR.CMDQ_ERR active) waits for software: not a hang
    rtl.gerror_active.value = R.GERROR(CMDQ_ERR=1).to_int()
    assert at(wd, 20 * wd.cmd_bound) == []


def test_page_requests_must_be_taken_and_their_groups_answered(wd: Watchdog) -> None:
    pcie = SimpleNamespace(pr_offered_at=None, awaiting_response={})
    wd.pcie = pcie
    assert at(wd, 50_000) == []  # nothing offered, no group waiting
    pcie.pr_offered_at = 1_000
    assert at(wd, 1_000 + wd.pri_bound) == []
    (msg,) = at(wd, 1_001 + wd.pri_bound)
    assert "page request offered at cycle 1000 not taken" in msg
    pcie.pr_offered_at = None
    pcie.awaiting_response[(0x42, 0x1F)] = 30_000
    assert at(wd, 30_000 + wd.pri_bound) == []
    (msg,) = at(wd, 30_001 + wd.pri_bound)
    assert "group sid=0x42 PRGI=0x1f" in msg and "no PRG response" in msg
    del pcie.awaiting_response[(0x42, 0x1F)]  # answered
    assert at(wd, 90_000) == []
