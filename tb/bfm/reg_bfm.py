"""The register port's bus model: the wrapper's batch register engine (tb/hdl/smmu_tb.sv).

``read`` and ``write`` behave as cocotbext-axi's AxiLiteMaster's (the same split of an access
into 32-bit words with strobes, the first word at the access's own address, the worst response
of its words, the same results) and keep its timing: each channel's word is presented from the
first edge after the call, B and R are always taken, and the call returns in the time step of
the last word's B or R handshake. ``make test`` compares every `make bench` cycle count under
both (tests/test_rtl.py). An access costs one wake of this model's coroutine and one of the
caller; cocotbext-axi's master and its five stream coroutines took about fifteen resumptions
(docs/profile.md). Channel pauses (``SmmuBfm.stall("regs.aw", ...)``) hold a channel's next
word back in the cycles they are set.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from cocotb.triggers import Event

from tb.bfm.mem_bfm import _level
from tb.bfm.raw import PauseMask, RawVector, drain
from tb.bfm.wake import SimWake

RING = 256
LANES = 4
PROT = 0b010  # cocotbext-axi's default AxiProt.NONSECURE
PAUSE_BIT = {"regs.aw": 0, "regs.w": 1, "regs.ar": 2}


class WriteResp(NamedTuple):
    address: int
    length: int
    resp: int


class ReadResp(NamedTuple):
    address: int
    data: bytes
    resp: int


def _words(address: int, length: int) -> list[tuple[int, int, int]]:
    """(AxADDR, first byte lane, end lane) per 32-bit word of an access, as cocotbext-axi's
    AxiLiteMaster splits it."""
    if length <= 0:
        raise ValueError(f"a register access of {length} bytes")
    word = address - address % LANES
    start = address % LANES
    end = (address + length - 1) % LANES + 1
    cycles = (length + start + LANES - 1) // LANES
    return [(address if k == 0 else word + k * LANES, start if k == 0 else 0,
             end if k == cycles - 1 else LANES) for k in range(cycles)]


class _Pending:
    __slots__ = ("address", "done", "got", "length", "result", "words")

    def __init__(self, address: int, length: int, words: int) -> None:
        self.address, self.length, self.words = address, length, words
        self.got: list[int] = []
        self.done = Event()
        self.result: WriteResp | ReadResp | None = None


class BatchAxiLiteMaster:
    """Drives the SMMU's register port through the wrapper's rings."""

    def __init__(self, dut) -> None:
        self.dut = dut
        self._wr = [RawVector(dut.tbr_wr_q[i]) for i in range(RING)]
        self._rd = [RawVector(dut.tbr_rd_q[i]) for i in range(RING)]
        self._b = [RawVector(dut.tbr_b_q[i]) for i in range(RING)]
        self._r = [RawVector(dut.tbr_r_q[i]) for i in range(RING)]
        # The rings outlive a test (several cocotb tests share one simulation).
        self._wr_wp = _level(dut.tbr_wr_wp)
        self._rd_wp = _level(dut.tbr_rd_wp)
        self._b_rp = _level(dut.tbr_b_wp)
        self._r_rp = _level(dut.tbr_r_wp)
        self._writes: deque[_Pending] = deque()
        self._reads: deque[_Pending] = deque()
        dut.tbr_wr_wp.value = self._wr_wp
        dut.tbr_rd_wp.value = self._rd_wp
        self.pauses = PauseMask(dut.tbr_pause, PAUSE_BIT)
        dut.tbr_en.value = 1
        self._wps = RawVector(dut.tbr_wps)
        self._wake = SimWake(dut.tbr_kick, self._serve)

    def set_pause(self, channel: str, on: bool) -> None:
        self.pauses.set(channel, on)

    async def write(self, address: int, data: bytes) -> WriteResp:
        data = bytes(data)
        words = _words(address, len(data))
        pos = 0
        for addr, start, stop in words:
            val = strb = 0
            for j in range(start, stop):
                val |= data[pos] << 8 * j
                strb |= 1 << j
                pos += 1
            self._wr[self._wr_wp].write_now(addr | val << 32 | strb << 64 | PROT << 68)
            self._wr_wp = (self._wr_wp + 1) % RING
        self.dut.tbr_wr_wp.value = self._wr_wp
        op = _Pending(address, len(data), len(words))
        self._writes.append(op)
        await op.done.wait()
        assert isinstance(op.result, WriteResp)
        return op.result

    async def read(self, address: int, length: int) -> ReadResp:
        words = _words(address, length)
        for addr, _start, _stop in words:
            self._rd[self._rd_wp].write_now(addr | PROT << 32)
            self._rd_wp = (self._rd_wp + 1) % RING
        self.dut.tbr_rd_wp.value = self._rd_wp
        op = _Pending(address, length, len(words))
        self._reads.append(op)
        await op.done.wait()
        assert isinstance(op.result, ReadResp)
        return op.result

    def _serve(self) -> None:
        """On a kick: every B and R entry filed since the last one."""
        v = self._wps.read()
        self._b_rp = drain(self._b, self._b_rp, v & 0xFF, self._complete_write)
        self._r_rp = drain(self._r, self._r_rp, v >> 8, self._complete_read)

    @staticmethod
    def _word_done(ops: deque[_Pending], entry: int, what: str) -> _Pending | None:
        """File one word's answer with the oldest access; that access once all its words
        are in (else None)."""
        if not ops:
            raise AssertionError(f"register port: {what} with no access in flight")
        op = ops[0]
        op.got.append(entry)
        if len(op.got) < op.words:
            return None
        ops.popleft()
        return op

    def _complete_write(self, resp: int) -> None:
        op = self._word_done(self._writes, resp, "a write response")
        if op is not None:
            op.result = WriteResp(op.address, op.length, _worst(op.got))
            op.done.set()

    def _complete_read(self, entry: int) -> None:
        op = self._word_done(self._reads, entry, "read data")
        if op is not None:
            data = bytearray()
            for (_addr, start, stop), v in zip(_words(op.address, op.length), op.got,
                                               strict=True):
                data += (v & 0xFFFF_FFFF).to_bytes(LANES, "little")[start:stop]
            op.result = ReadResp(op.address, bytes(data), _worst([v >> 32 for v in op.got]))
            op.done.set()


def _worst(resps: list[int]) -> int:
    """The access's response: cocotbext-axi keeps the last word's response that is not OKAY."""
    out = 0
    for r in resps:
        if r != 0:
            out = r
    return out
