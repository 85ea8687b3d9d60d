"""The watchdog of every pyuvm RTL test: nothing the SMMU accepted may wait forever.

What the architecture promises, checked every ``period`` cycles (one timer wake, never a
per-cycle coroutine):

- every translation the driver loaded (a translation, an ATS Translation Request, an
  ATS-Translated transaction) is answered within ``xlate_bound`` cycles, unless the RTL
  legitimately holds it: a stall whose record the scoreboard has matched (its STAG in
  ``held``), or any transaction while the event queue cannot take a record (section 3.12.2: a
  stall's record waits for space). The bound restarts when a held transaction is let go;
- the command queue makes progress: with CMDQEN acknowledged, CONS != PROD and no
  GERROR.CMDQ_ERR active, CONS moves within ``cmd_bound`` cycles (a CMD_SYNC completes, or
  the command raises CERROR_* and halts the queue);
- with a PCIe endpoint attached (the PRI port driven), every page request offered is taken,
  and every page request group whose last request was taken gets its PRG response (an
  automatic one, or the driver's CMD_PRI_RESP), within ``pri_bound`` cycles;
- every write to CR0 and IRQ_CTRL is acknowledged (CR0ACK / IRQ_CTRLACK equal to what was
  written, section 6.3.2) and every GBPA write with Update=1 completes (Update reads 0)
  within ``ack_bound`` cycles.

A violation fails the test with one message that names the stuck transaction or register and
the SMMU's port and queue state. The directed cocotb tests (tb/directed) bound their own waits
(tb/bfm/xlate_port.py, the harness's polls). The bounds are far above what the random tests
see (the watchdog logs the longest wait of each kind): a violation is a hang, not a slow path.
"""

from __future__ import annotations

from collections.abc import Callable

from cocotb.triggers import Timer
from pyuvm import uvm_subscriber

from models.arch import registers as R
from models.arch.commands import decode_command
from models.smmu.config import SmmuConfig
from models.smmu.regfile import RegisterFile
from tb.bfm.smmu_bfm import CLK_PERIOD_NS, RESP_OKAY
from tb.env.config import env_cfg

PERIOD = 1_000        # cycles between checks
XLATE_BOUND = 20_000  # cycles from loading a translation to its response
CMD_BOUND = 20_000    # cycles CONS may stand still with commands to consume
ACK_BOUND = 2_000     # cycles from a CR0/IRQ_CTRL/GBPA write to its acknowledgement
PRI_BOUND = 20_000    # cycles from offering a page request to its handshake, and from a
                      # group's last request to its PRG response

_UPDATE = R.GBPA.field("Update").mask
_CMDQEN = R.CR0.field("CMDQEN").mask
_CMDQ_ERR = R.GERROR.field("CMDQ_ERR").mask
_QPTR = R.CMDQ_PROD.field("WR").mask
_OFF_CR0 = R.OFFSETS["CR0"]
_OFF_IRQ = R.OFFSETS["IRQ_CTRL"]
_OFF_GBPA = R.OFFSETS["GBPA"]


class WatchdogError(AssertionError):
    """Something the SMMU accepted is stuck."""


class Watchdog(uvm_subscriber):
    """Subscribes to the register agent (the writes it must see acknowledged); the env hands
    it the translation driver's in-flight table and the scoreboard's held stalls."""

    def build_phase(self) -> None:
        cfg = env_cfg(self)
        self.setup(cfg.bfm, cfg.mem, cfg.smmu, cfg.seed)

    def setup(self, bfm, mem, smmu: SmmuConfig, seed: int) -> None:
        """``bfm``: cycle() and rtl (smmu_top's signals)."""
        self.bfm = bfm
        self.rtl = bfm.rtl
        self.mem = mem
        self.seed = seed
        self.stall_capable = smmu.STALL_MODEL != R.StallModel.TERMINATE_ONLY
        # Non-lagging: its CR0ACK/IRQ_CTRLACK are what the RTL's must become, and its queue
        # registers locate the command at CONS.
        self.regs = RegisterFile(smmu, lagging=False)
        self.inflight: dict = {}          # tag -> TransItem (the driver's)
        self.held: set[int] = set()       # id() of the items the scoreboard holds
        self.period, self.xlate_bound = PERIOD, XLATE_BOUND
        self.cmd_bound, self.ack_bound = CMD_BOUND, ACK_BOUND
        self.pri_bound = PRI_BOUND
        self.pcie = None  # the PRI port's BFM (tb/bfm/pcie_bfm.py), once a sequence drives it
        # what a violation does: raise (the test fails), or a self-test's recorder
        self.on_violation: Callable[[str], None] = self._raise
        self._released: dict[int, int] = {}  # id(item) -> last cycle it was held
        self._acks: dict[str, tuple[int, int]] = {}  # ack register -> (wanted, write cycle)
        self._cons: tuple[int, int] | None = None  # (CONS, first cycle seen at this value)
        self.longest = {"translation": 0, "command": 0, "ack": 0, "page_request": 0}
        self.violations: list[str] = []

    def write(self, item) -> None:
        """A completed register access (the register agent's analysis port)."""
        if not item.write or item.resp != RESP_OKAY or len(item.data) != 4 or item.addr % 4:
            return
        v = item.value
        self.regs.write(item.addr, v)
        now = self.bfm.cycle()
        if item.addr == _OFF_CR0:
            self._acks["CR0ACK"] = (v & self.regs.cr0_mask, now)
        elif item.addr == _OFF_IRQ:
            self._acks["IRQ_CTRLACK"] = (v & self.regs.irq_mask, now)
        elif item.addr == _OFF_GBPA and v & _UPDATE:
            self._acks["GBPA"] = (0, now)

    async def run_phase(self) -> None:
        while True:
            await Timer(self.period * CLK_PERIOD_NS, unit="ns")
            self.check()

    # ---- the checks -----------------------------------------------------------------------
    def _peek(self, name: str) -> int:
        return int(getattr(self.rtl, name).value)

    def check(self) -> None:
        now = self.bfm.cycle()
        for msg in (self._translations(now) + self._commands(now) + self._ack_checks(now)
                    + self._page_requests(now)):
            self.violations.append(msg)
            self.on_violation(f"watchdog: {msg} (seed {self.seed}); {self.state()}")

    def _translations(self, now: int) -> list[str]:
        if not self.inflight:
            self._released.clear()
            return []
        waiting = self.stall_capable and not self._peek("evtq_writable")
        released = {}
        stuck = []
        for tag, it in self.inflight.items():
            key = id(it)
            if key in self.held or waiting:
                released[key] = now
                continue
            since = max(it.t_issue, self._released.get(key, 0))
            released[key] = self._released.get(key, 0)
            age = now - since
            self.longest["translation"] = max(self.longest["translation"], age)
            if age > self.xlate_bound:
                stuck.append(f"translation tag {tag} ({it}) loaded at cycle {it.t_issue} "
                             f"unanswered for {age} cycles (bound {self.xlate_bound})")
        self._released = released
        return stuck[:4]

    def _commands(self, now: int) -> list[str]:
        prod = self._peek("cmdq_prod_q") & _QPTR
        cons = self._peek("cmdq_cons_q") & _QPTR
        busy = (self._peek("cr0_ack") & _CMDQEN and prod != cons
                and not self._peek("gerror_active") & _CMDQ_ERR)
        if not busy or (self.stall_capable and not self._peek("evtq_writable")):
            self._cons = None
            return []
        if self._cons is None or self._cons[0] != cons:
            self._cons = (cons, now)
            return []
        age = now - self._cons[1]
        self.longest["command"] = max(self.longest["command"], age)
        if age <= self.cmd_bound:
            return []
        return [f"command queue stuck for {age} cycles (bound {self.cmd_bound}) at CONS "
                f"{cons:#x} (PROD {prod:#x}): {self._command_at(cons)}"]

    def _command_at(self, cons: int) -> str:
        base = R.CMDQ_BASE.from_int(self.regs.v["CMDQ_BASE"])
        log2 = min(base.LOG2SIZE, self.regs.cfg.CMDQS)
        addr = base.ADDR + (cons & ((1 << log2) - 1)) * 16
        try:
            return f"{decode_command(self.mem.read(addr, 16))!r} at {addr:#x}"
        except Exception as exc:  # a name for the message, whatever is there
            return f"an undecodable command at {addr:#x} ({exc})"

    def _page_requests(self, now: int) -> list[str]:
        if self.pcie is None:
            return []
        out = []
        offered = self.pcie.pr_offered_at
        if offered is not None:
            age = now - offered
            self.longest["page_request"] = max(self.longest["page_request"], age)
            if age > self.pri_bound:
                out.append(f"page request offered at cycle {offered} not taken after {age} "
                           f"cycles (bound {self.pri_bound})")
        for (sid, prgi), at in list(self.pcie.awaiting_response.items()):
            age = now - at
            self.longest["page_request"] = max(self.longest["page_request"], age)
            if age > self.pri_bound:
                out.append(f"page request group sid={sid:#x} PRGI={prgi:#x}, last request "
                           f"taken at cycle {at}, has no PRG response after {age} cycles "
                           f"(bound {self.pri_bound})")
        return out[:4]

    def _ack_checks(self, now: int) -> list[str]:
        out = []
        for reg, (want, at) in list(self._acks.items()):
            got = self._peek({"CR0ACK": "cr0_ack", "IRQ_CTRLACK": "irq_ctrlack_q",
                              "GBPA": "gbpa_q"}[reg])
            if reg == "GBPA":
                got &= _UPDATE
            if got == want:
                self.longest["ack"] = max(self.longest["ack"], now - at)
                del self._acks[reg]
            elif now - at > self.ack_bound:
                what = "GBPA.Update still set" if reg == "GBPA" else \
                    f"{reg} {got:#010x}, written {want:#010x}"
                out.append(f"register write at cycle {at} not acknowledged after {now - at} "
                           f"cycles (bound {self.ack_bound}): {what}")
        return out

    def state(self) -> str:
        """The SMMU's port and queue state, for a violation's message."""
        def p(name: str) -> str:
            v = getattr(self.rtl, name).value
            return f"{int(v):#x}" if v.is_resolvable else str(v)

        return (f"cycle {self.bfm.cycle()}: t_req valid/ready {p('t_req_valid')}/"
                f"{p('t_req_ready')}, t_rsp valid/ready {p('t_rsp_valid')}/{p('t_rsp_ready')}, "
                f"engines asking memory {p('rq_valid')}, memory AR valid/ready "
                f"{p('m_axi_arvalid')}/{p('m_axi_arready')}, R valid/ready {p('m_axi_rvalid')}/"
                f"{p('m_axi_rready')}, CR0ACK {p('cr0_ack')}, GERROR active "
                f"{p('gerror_active')}, CMDQ PROD/CONS {p('cmdq_prod_q')}/{p('cmdq_cons_q')}, "
                f"EVENTQ PROD/CONS {p('eventq_prod_q')}/{p('eventq_cons_q')} (writable "
                f"{p('evtq_writable')}), {len(self.inflight)} translations in flight, "
                f"{len(self.held)} held")

    def _raise(self, msg: str) -> None:
        self.logger.error(msg)
        raise WatchdogError(msg)

    def report_phase(self) -> None:
        self.logger.info("watchdog: longest waits seen at its checks (every %d cycles) %s; "
                         "bounds: translation %d, command %d, ack %d, page request %d",
                         self.period, self.longest, self.xlate_bound, self.cmd_bound,
                         self.ack_bound, self.pri_bound)
