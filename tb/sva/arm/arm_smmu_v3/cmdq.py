"""The driver's command queue: batching, CMD_SYNC completion, command-error recovery.

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c (arm_smmu_cmdq_issue_cmdlist,
arm_smmu_cmdq_skip_err).

Follows the Linux arm-smmu-v3 driver in its single-threaded form: commands are written at the
software-owned PROD, published with one CMDQ_PROD write per batch, and a batch that needs
completion ends with a CMD_SYNC whose consumption is polled on CMDQ_CONS (the "CS=SEV, poll
CONS" completion; MSI-based completion needs IDR0.MSI). A command error (GERROR.CMDQ_ERR) is
repaired as arm_smmu_cmdq_skip_err does: an illegal command is overwritten with a CMD_SYNC,
an abort is retried, and the error is acknowledged through GERRORN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from models.arch import registers as R
from models.arch.commands import CmdSync, Command, SyncCS, decode_command
from tb.sva.platform import Platform, SmmuTimeout

log = logging.getLogger("sva.smmu.cmdq")

CMD_BYTES = Command.SIZE
BATCH_MAX = 64  # Linux CMDQ_BATCH_ENTRIES on 64-bit
STALL_POLLS = 3  # polls of an unmoved CMDQ_CONS before GERROR is read


@dataclass
class CmdqStats:
    by_opcode: dict[str, int] = field(default_factory=dict)
    syncs: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    # batches that found too little space on a fresh CMDQ_CONS read, and the most polls one
    # of them made before the SMMU had consumed enough
    full_waits: int = 0
    full_polls_max: int = 0


class CommandQueue:
    def __init__(self, plat: Platform, base: int, shift: int, *,
                 timeout_ns: float = 200_000.0, poll_ns: float = 20.0) -> None:
        self.plat = plat
        self.base = base
        self.shift = shift
        self.prod = 0          # software copy: index + wrap
        self.cons = 0          # the last CMDQ_CONS read (Linux: cmdq->q.llq.cons)
        self.timeout_ns = timeout_ns
        self.poll_ns = poll_ns
        self.stats = CmdqStats()
        # Called with the error's name (CERROR_ABT, ...) once it is seen and before it is
        # acknowledged: where the platform repairs what caused it. Linux has no such hook; a
        # scenario uses it to end an injected memory fault, as a transient bus error ends,
        # so that the retried fetch succeeds.
        self.on_error: list[Callable[[str], None]] = []

    # ---- queue arithmetic ---------------------------------------------------------------
    def _slot(self, ptr: int) -> int:
        return self.base + R.q_index(ptr, self.shift) * CMD_BYTES

    async def _cons(self) -> int:
        self.cons = await self.plat.mmio_read32(R.OFFSETS["CMDQ_CONS"])
        return self.cons

    async def _wait_space(self, n: int) -> None:
        # As arm_smmu_cmdq_issue_cmdlist: space is judged on the last CONS read (CONS only
        # moves forward, so that view never shows more space than there is), and CMDQ_CONS
        # is read again only when it shows too little (arm_smmu_cmdq_poll_until_not_full).
        if (1 << self.shift) - R.q_used(self.prod, self.cons, self.shift) >= n:
            return
        deadline = self.plat.now_ns() + self.timeout_ns
        last = None
        polls = 0
        while True:
            cons = await self._cons()
            if cons == last:
                await self._check_error()
            last = cons
            if (1 << self.shift) - R.q_used(self.prod, cons, self.shift) >= n:
                if polls:
                    self.stats.full_waits += 1
                    self.stats.full_polls_max = max(self.stats.full_polls_max, polls)
                return
            polls += 1
            if self.plat.now_ns() >= deadline:
                raise SmmuTimeout(f"command queue full: PROD={self.prod:#x} CONS={cons:#x}")
            await self.plat.sleep_ns(self.poll_ns)

    # ---- issue ----------------------------------------------------------------------------
    async def issue(self, cmds: list[Command], *, sync: bool = True) -> None:
        """Submit commands in batches; with ``sync``, return once the SMMU consumed a
        CMD_SYNC placed after the last one (all of them have then taken effect)."""
        cmds = list(cmds)
        if not cmds:
            if sync:
                await self._submit([], sync=True)
            return
        for i in range(0, len(cmds), BATCH_MAX):
            last = i + BATCH_MAX >= len(cmds)
            await self._submit(cmds[i:i + BATCH_MAX], sync=sync and last)

    async def sync(self) -> None:
        await self._submit([], sync=True)

    async def _submit(self, batch: list[Command], *, sync: bool) -> None:
        entries = list(batch) + ([CmdSync(CS=SyncCS.SIG_NONE)] if sync else [])
        if not entries:
            return
        await self._wait_space(len(entries))
        for cmd in entries:
            self.plat.mem.write(self._slot(self.prod), cmd.to_bytes(), source="cpu")
            self.prod = R.q_inc(self.prod, self.shift)
            name = type(cmd).__name__
            self.stats.by_opcode[name] = self.stats.by_opcode.get(name, 0) + 1
        await self.plat.mmio_write32(R.OFFSETS["CMDQ_PROD"], self.prod)
        if sync:
            self.stats.syncs += 1
            await self._wait_consumed(self.prod)

    async def _wait_consumed(self, target: int) -> None:
        """Poll until CONS has passed ``target`` (every entry before it was consumed)."""
        deadline = self.plat.now_ns() + self.timeout_ns
        last, still = None, 0
        while True:
            cons = await self._cons()
            if R.q_empty(target, cons, self.shift):
                return
            # GERROR is only worth a look once the consumer seems to have stopped: CONS
            # unchanged over STALL_POLLS polls, where a CMD_SYNC waiting for walks in flight
            # would otherwise cost two reads per poll. (Linux has its GERROR interrupt
            # handler repair the queue while the CPU polls; this single-threaded driver
            # looks itself.)
            still = still + 1 if cons == last else 0
            last = cons
            if still >= STALL_POLLS and await self._check_error():
                last, still = None, 0
                continue
            if self.plat.now_ns() >= deadline:
                raise SmmuTimeout(f"CMD_SYNC timeout: PROD={target:#x} CONS={cons:#x}")
            await self.plat.sleep_ns(self.poll_ns)

    # ---- errors ---------------------------------------------------------------------------
    async def _check_error(self) -> bool:
        """Handle an active CMDQ_ERR; returns True when one was repaired."""
        gerror = await self.plat.mmio_read32(R.OFFSETS["GERROR"])
        gerrorn = await self.plat.mmio_read32(R.OFFSETS["GERRORN"])
        bit = R.GERROR.field("CMDQ_ERR").mask
        if not (gerror ^ gerrorn) & bit:
            return False
        # CONS again, as arm_smmu_cmdq_skip_err reads it: the error may have been raised
        # after the poll's read (an ATC invalidation timeout expires while the SYNC waits),
        # which then showed no ERR.
        self.skip_err(await self._cons())
        await self.plat.mmio_write32(R.OFFSETS["GERRORN"], gerrorn ^ bit)
        return True

    def skip_err(self, cons: int) -> None:
        """Linux arm_smmu_cmdq_skip_err: repair the queue at CONS before the error is
        acknowledged; an aborted fetch or an ATC timeout is simply retried."""
        err = R.CMDQ_CONS.from_int(cons).ERR
        name = R.CmdqErr(err).name if err in R.CmdqErr._value2member_map_ else f"ERR_{err:#x}"
        self.stats.errors[name] = self.stats.errors.get(name, 0) + 1
        for fn in self.on_error:
            fn(name)
        if err in (R.CmdqErr.CERROR_NONE, R.CmdqErr.CERROR_ABT, R.CmdqErr.CERROR_ATC_INV_SYNC):
            # As Linux, the entry is not read (after an abort the memory may abort the CPU
            # too) nor touched: CERROR_NONE names no command to skip.
            log.error("command queue error %s at CONS=%#x: retrying", name, cons)
            return
        slot = self._slot(cons & ((2 << self.shift) - 1))
        bad = decode_command(self.plat.mem.read(slot, CMD_BYTES, source="cpu"))
        log.error("command queue error %s at CONS=%#x: %s", name, cons, bad)
        # Skip the offending command by turning it into a harmless CMD_SYNC.
        self.plat.mem.write(slot, CmdSync(CS=SyncCS.SIG_NONE).to_bytes(), source="cpu")
