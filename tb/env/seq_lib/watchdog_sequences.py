"""The watchdog's own test: two hangs planted in the memory the SMMU reads, each named.

The memory port stops answering (``MemoryTarget.hold``), first the reads of a page table, then
those of the command queue: the SMMU can do nothing but wait, which is what a hang looks like
from outside. The watchdog, with its bounds shortened, must name the stuck translation (its
tag, StreamID and address) and the command at CONS (a CMD_SYNC behind a TLBI); once the
memory answers again both complete, and the translation's result is the mapping's.
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import Timer
from pyuvm import uvm_sequence

from models.arch.commands import CmdTlbiNhAsid
from models.arch.geometry import PAGE
from models.smmu.port import Result
from tb.agents.xlate_agent import TransItem
from tb.bfm.smmu_bfm import CLK_PERIOD_NS
from tb.env.config import env_cfg
from tb.env.seq_lib.xlate_sequences import WORLD_WINDOW, RegSeqHolder, XlateBurstSeq
from tb.env.watchdog import Watchdog
from tb.stimgen.directed import single_stream

VA, PA = 0x4000_1000, 0x8765_4000
BOUND = 1_000  # cycles: the shortened bounds
GIVE_UP = 20 * BOUND


class WatchdogSelfSeq(uvm_sequence):
    def __init__(self, name: str, watchdog: Watchdog) -> None:
        super().__init__(name)
        self.wd = watchdog
        self.caught: list[str] = []   # the violations, as the watchdog reported them
        self.findings: dict[str, str] = {}

    async def _until_caught(self, n: int) -> None:
        waited = 0
        while len(self.caught) < n and waited < GIVE_UP:
            await Timer(self.wd.period * CLK_PERIOD_NS, unit="ns")
            waited += self.wd.period
        assert len(self.caught) >= n, f"the watchdog saw no hang within {GIVE_UP} cycles"

    async def body(self) -> None:
        cfg = env_cfg()
        holder = RegSeqHolder("sw")
        await holder.start_session(cfg.reg_seqr)
        sess = holder.session
        await sess.bring_up()
        setup = single_stream(cfg.mem, WORLD_WINDOW, sid=0, asid=1, mappings=((VA, PA),),
                              AP=0b01)
        await sess.install_world(setup, recinvsid=True)  # type: ignore[arg-type]
        wd = self.wd
        wd.on_violation = self.caught.append
        wd.period, wd.xlate_bound, wd.cmd_bound = 100, BOUND, BOUND
        target = cfg.bfm.target

        # 1. A walk whose first table read never returns.
        root = setup.table.root
        release = target.hold(root, root + PAGE)
        item = TransItem(sid=0, addr=VA + 0x18)
        task = cocotb.start_soon(XlateBurstSeq("held", [item]).start(cfg.xlate_seqr))
        await self._until_caught(1)
        self.findings["translation"] = self.caught[0]
        release.set()
        await task
        assert item.rsp is not None and item.rsp["result"] == Result.OK_TRANSLATED \
            and item.rsp["pa"] == PA + 0x18, f"after the hold: {item}"
        assert f"tag {item.tag} " in self.caught[0] and f"va={VA + 0x18:#018x}" in \
            self.caught[0] and "unanswered" in self.caught[0], self.caught[0]
        del self.caught[1:]  # (one per check while it was held)

        # 2. A command fetch that never returns: CONS stands still under a TLBI and its SYNC.
        q = sess.smmu.cmdq_drv
        release = target.hold(q.base, q.base + (16 << q.shift))
        task = cocotb.start_soon(q.issue([CmdTlbiNhAsid(ASID=1)]))
        await self._until_caught(2)
        self.findings["command"] = self.caught[1]
        release.set()
        await task
        assert "command queue stuck" in self.caught[1] and "CmdTlbiNhAsid" in \
            self.caught[1], self.caught[1]
        holder.release()
