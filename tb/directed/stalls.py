"""Directed tests of the SMMU's AXI ports under back-pressure (the default parameter set).

Elsewhere the bus models take every beat at once: the memory port's slave is always ready
for read and write addresses and write data, and the register port's master presents a
write's address and data in the same cycle. Here they are paused at random (a fixed seed)
with `SmmuBfm.stall`, and the results must be what they are without stalls:

- register writes whose address and data arrive in different cycles, in either order,
  land as written (`smmu_axil_slave` holds the half that came first);
- translation walks, command fetches and event-record writes complete, with the results and
  records derived by hand, while the memory port's AR, AW and W channels stall, so the read
  arbiter holds a request the memory has not taken while the command queue waits for it,
  and the event queue writer waits for AWREADY and WREADY.

`make cov` shows these paths reached (docs/rtl-coverage.md). Run one with

    .venv/bin/python -m tb.cli.runner --sim verilator --module tb.directed.stalls --test <name>
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import cocotb

from models.arch import commands as C
from models.arch import registers as R
from models.arch.events import EventID
from tb.directed.harness import ABORT, OK, Soft, basic, check


def pauses(seed: int, p: float) -> Iterator[bool]:
    """Paused in a fraction ``p`` of the cycles, at random."""
    rng = random.Random(seed)
    while True:
        yield rng.random() < p


class HeldHalves:
    """Counts the cycles in which the register slave holds a write's address (data missing)
    and those in which it holds the data (address missing)."""

    def __init__(self, s: Soft) -> None:
        self.s = s
        self.aw = self.w = 0
        self.task = cocotb.start_soon(self._run())

    async def _run(self) -> None:
        while True:
            await self.s.bfm.edge()
            self.aw += self.s.bfm.peek("u_axil.aw_held")
            self.w += self.s.bfm.peek("u_axil.w_held")


@cocotb.test()
async def register_write_address_and_data_apart(dut):
    """AW before W and W before AW: every write lands as written (read back), bring-up too."""
    s = Soft(dut, regport="cocotbext")  # cocotbext-axi's own channel pauses
    s.bfm.stall("regs.aw", pauses(1, 0.5))
    s.bfm.stall("regs.w", pauses(2, 0.5))
    held = HeldHalves(s)
    await s.start(smmuen=0)                      # CR0/IRQ_CTRL acknowledged: they landed
    for i in range(24):
        base = 0x0040_0000 + (i << 12)
        await s.w64("STRTAB_BASE", base)
        assert await s.r32("STRTAB_BASE") == base
        cfg = R.STRTAB_BASE_CFG(LOG2SIZE=i % 16).to_int()
        await s.w32("STRTAB_BASE_CFG", cfg)
        assert await s.r32("STRTAB_BASE_CFG") == cfg
    held.task.cancel()
    dut._log.info("address held alone %d cycles, data held alone %d cycles", held.aw, held.w)
    assert held.aw and held.w, (held.aw, held.w)


@cocotb.test()
async def memory_port_backpressure(dut):
    """Walks, command fetches and event writes with AR, AW, W (and R, B) stalling at random:
    every response and event record as without stalls, every command consumed."""
    s, ttb = await basic(dut)
    base = 0x0000_4000_0000_0000
    mapped = {base + (i << 21) + (i << 12): 0x8_0000_0000 + (i << 12) for i in range(16)}
    for va, pa in mapped.items():
        s.map(ttb, va, pa)
    unmapped = [base + (1 << 39) + (i << 21) for i in range(8)]   # another L0 entry: absent
    for ch, p, seed in (("mem.ar", 0.6, 3), ("mem.aw", 0.5, 4), ("mem.w", 0.5, 5),
                        ("mem.r", 0.3, 6), ("mem.b", 0.3, 7)):
        s.bfm.stall(ch, pauses(seed, p))
    for rnd in range(3):
        reqs = [{"tag": 32 * rnd + i, "addr": va + 8 * rnd, "sid": 1}
                for i, va in enumerate([*mapped, *unmapped])]
        send = cocotb.start_soon(s.x.send(reqs))
        await s.bfm.clocks(4)
        # invalidations of an ASID nobody uses, while the walks read memory
        await s.cmds(*(C.CmdTlbiNhAsid(ASID=99) for _ in range(3)), C.CmdSync(), wait=False)
        await send
        await s.x.wait([q["tag"] for q in reqs], timeout=20000)
        for q in reqs:
            va = q["addr"] - 8 * rnd
            if va in mapped:
                check(s.x.rsps[q["tag"]], OK, pa=mapped[va] + 8 * rnd)
            else:
                check(s.x.rsps[q["tag"]], ABORT, fault=EventID.F_TRANSLATION)
        n = 1 << s.cmdq_log2
        await s.poll("CMDQ_CONS", s.cmd_prod, mask=2 * n - 1, n=2000)
        ev = await s.events(len(unmapped))
        got = sorted((e.EventID, e.StreamID, e.InputAddr) for e in ev)
        assert got == [(EventID.F_TRANSLATION, 1, va + 8 * rnd) for va in unmapped], got
    assert await s.r32("GERROR") == 0


@cocotb.test(timeout_time=200, timeout_unit="us")   # a lost write would hang its B wait
async def register_writes_overlapping(dut):
    """Several register writes in flight at once, their addresses held back: the data of each
    must wait in the slave until its own address arrives, never be taken over or dropped
    (AXI4-Lite: a write completes with one AW and one W). Every register reads back what was
    written to it."""
    s = Soft(dut, regport="cocotbext")  # cocotbext-axi's own channel pauses
    await s.start(smmuen=0)
    s.bfm.stall("regs.aw", pauses(7, 0.8))
    for rnd in range(8):
        vals = {"STRTAB_BASE": 0x0040_1000 ^ rnd << 6,
                "STRTAB_BASE_CFG": R.STRTAB_BASE_CFG(LOG2SIZE=9 + rnd).to_int(),
                "CR2": R.CR2(RECINVSID=rnd & 1).to_int(), "GERROR_IRQ_CFG1": rnd}
        writes = [cocotb.start_soon(s.bfm.write(R.OFFSETS[n], v.to_bytes(4, "little")))
                  for n, v in vals.items()]
        for w in writes:
            assert await w == 0
        for n, v in vals.items():
            if n != "GERROR_IRQ_CFG1":                       # MSI only: RES0 here
                assert await s.r32(n) == v, (n, hex(v))
