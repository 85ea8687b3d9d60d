"""The memory port's bus model: the wrapper's batch memory engine (tb/hdl/smmu_tb.sv).

The engine takes every AR, AW and W handshake into a ring and kicks; this model wakes on the
kick (in the handshake's time step, never on a plain clock edge), serves the accesses from
``MemoryTarget`` and files R beats and B responses into the engine's R and B rings, which it
plays back from the next edge. The timing is cocotbext-axi's AxiSlave's as the testbench used
it (tb/bfm/axi_mem.py), which ``make test`` checks by running `make bench` under both and
comparing every cycle count (tests/test_rtl.py):

* the first R beat of a read two cycles after its AR handshake at the earliest, a burst's
  beats back to back, bursts never interleaved, served in the order of their ARs;
* a read that the target holds (``MemoryTarget.hold``) waits for the hold, reading memory
  then, while later reads go past it (the SMMU takes read data of different IDs in any order,
  docs/port-contract.md);
* a write's bytes stored in the time step of its last W beat, its B two cycles later; writes
  served one at a time in order, so a held write holds every later one;
* an access the memory model refuses (an injected fault) answers SLVERR;
* with a latency set (``set_latency``: a fixed number of cycles plus a uniformly drawn
  extra, for reads and for writes, from a seed), each read's first beat and each write's B
  wait that much longer, in order: a read drawn shorter than one before it waits behind it;
* exclusive accesses (AxLOCK, the SMMU's HTTU updates, section 3.15: atomicity through an
  exclusive monitor on a coherent port): an exclusive read of one beat answers EXOKAY and
  arms the monitor of its ID; an exclusive write answers EXOKAY and stores, as one
  compare-and-swap of ``PhysicalMemory``, only if that monitor is armed for its address and
  nothing stored into the same 4 KiB page since (the monitor's granule; a store elsewhere in
  the page fails it too, which the SMMU answers by reading again). Otherwise OKAY, nothing
  stored. cocotbext-axi 0.1.28's slave has no monitor: it answers OKAY to an exclusive read,
  which the SMMU reports as an external abort on the update rather than update non-atomically.

cocotbext-axi's per-channel coroutines woke on every edge while a channel was busy, about
half of the testbench's coroutine resumptions in random traffic (docs/profile.md).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

import cocotb
from cocotb.triggers import Event, ReadWrite

from tb.bfm.raw import PauseMask, RawVector, drain
from tb.bfm.wake import SimWake

RING = 256
BEAT = 8  # bytes per beat (64-bit data)
FULL_STRB = (1 << BEAT) - 1
RESP_OKAY, RESP_EXOKAY, RESP_SLVERR = 0, 1, 2
# tbm_pause bits, by SmmuBfm.stall's channel names
PAUSE_BIT = {"mem.ar": 0, "mem.r": 1, "mem.aw": 2, "mem.w": 3, "mem.b": 4}


def _level(sig) -> int:
    """A pointer's value; 0 where it was never written (X at time zero)."""
    v = sig.value
    return int(v) if v.is_resolvable else 0


class Addr(NamedTuple):
    """An AR or AW ring entry."""

    addr: int
    len: int
    size: int
    id: int
    lock: int = 0

    @staticmethod
    def unpack(v: int) -> Addr:
        return Addr(v & 0xFFFF_FFFF_FFFF, v >> 48 & 0xFF, v >> 56 & 0x7, v >> 64 & 0xFF,
                    v >> 72 & 1)

    def beats(self) -> list[int]:
        """The beat addresses of an INCR burst (the only kind the SMMU issues)."""
        step = 1 << self.size
        start = self.addr & -step
        if not self.len:  # (most bursts are one beat: a descriptor, a command)
            return [start & -BEAT]
        return [(start + i * step) & -BEAT for i in range(self.len + 1)]


class BatchAxiMemory:
    """Serves the SMMU's memory port from a MemoryTarget through the wrapper's rings."""

    def __init__(self, dut, target, next_edge_cycle: Callable[[], int]) -> None:
        """``next_edge_cycle``: the engine's tb_cycle as the next rising edge sees it
        (SmmuBfm.next_edge_cycle), where a beat filed now is loaded at the earliest."""
        self.dut = dut
        self.target = target
        self._ar = [RawVector(dut.tbm_ar_q[i]) for i in range(RING)]
        self._aw = [RawVector(dut.tbm_aw_q[i]) for i in range(RING)]
        self._w = [RawVector(dut.tbm_w_q[i]) for i in range(RING)]
        self._r = [RawVector(dut.tbm_r_q[i]) for i in range(RING)]
        self._b = [RawVector(dut.tbm_b_q[i]) for i in range(RING)]
        self._r_rp = RawVector(dut.tbm_r_rp)
        self._r_wp_h, self._b_wp_h = RawVector(dut.tbm_r_wp), RawVector(dut.tbm_b_wp)
        # The rings outlive a test (several cocotb tests share one simulation) and a reset:
        # start from where the engine stands.
        self._ar_rp = _level(dut.tbm_ar_wp)
        self._aw_rp = _level(dut.tbm_aw_wp)
        self._w_rp = _level(dut.tbm_w_wp)
        self._r_wp = self._r_told = _level(dut.tbm_r_wp)
        self._r_rp_seen = self._r_wp  # the engine's R read pointer as last read
        self._b_wp = self._b_told = _level(dut.tbm_b_wp)
        self._aws: deque[Addr] = deque()         # AW taken, its W beats not all in yet
        self._wbeats: list[tuple[int, int]] = []  # (data, strb) of the W burst coming in
        self._wbursts: deque[list[tuple[int, int]]] = deque()  # complete, AW not yet in
        self._writes: deque[tuple[Addr, list[tuple[int, int]]]] = deque()  # behind a hold
        self._write_task = None
        # exclusive monitors by ID: (address, data read, memory epoch, page versions)
        self._monitor: dict[int, tuple[int, int, int, tuple]] = {}
        self.exclusive = {"reads": 0, "stored": 0, "failed": 0}
        # each store an exclusive write made goes to these: (address, old, new)
        self.update_listeners: list[Callable[[int, int, int], None]] = []
        self.pauses = PauseMask(dut.tbm_pause, PAUSE_BIT)
        self.set_random_pauses((), 0, 0.0, 1)
        self._next_edge_cycle = next_edge_cycle
        self._latency: tuple[random.Random, int, int, int, int] | None = None
        dut.tbm_lat_en.value = 0
        dut.tbm_r_wp.value = self._r_wp
        dut.tbm_b_wp.value = self._b_wp
        dut.tbm_en.value = 1
        self._wake = SimWake(dut.tbm_kick, self._serve)
        self._wps = RawVector(dut.tbm_wps)

    def set_pause(self, channel: str, on: bool) -> None:
        self.pauses.set(channel, on)

    def set_random_pauses(self, channels, seed: int, p: float, max_run: int) -> None:
        """Pause each of ``channels`` (SmmuBfm.stall's names) at random, independently: each
        cycle a run starts with probability ``p`` and lasts 1..max_run cycles (a power of two
        up to 8). The engine's LFSRs play them, so no Python wakes per cycle."""
        if max_run not in (1, 2, 4, 8):
            raise ValueError(f"max_run {max_run}: the engine takes 1, 2, 4 or 8")
        dut = self.dut
        dut.tbm_rnd_en.value = sum(1 << PAUSE_BIT[ch] for ch in channels)
        dut.tbm_rnd_seed.value = seed & 0xFFFF
        dut.tbm_rnd_p.value = min(255, round(p * 256))
        dut.tbm_rnd_runmask.value = max_run - 1

    def set_latency(self, seed: int, read: int = 0, read_jitter: int = 0, write: int = 0,
                    write_jitter: int = 0) -> None:
        """A read's data ``read`` + U(0..read_jitter) cycles later than the engine's own
        timing, a write's B ``write`` + U(0..write_jitter) later; all zero: none (the engine's
        timing exactly)."""
        lat = (read, read_jitter, write, write_jitter)
        if min(lat) < 0 or max(lat) >= 1 << 20:
            raise ValueError(f"memory latency {lat}: cycles from 0 to 2^20 - 1")
        self._latency = (random.Random(seed), *lat) if any(lat) else None
        self.dut.tbm_lat_en.value = int(self._latency is not None)

    @property
    def latency(self) -> tuple[int, int, int, int]:
        """(read, read jitter, write, write jitter) in cycles, as set."""
        return tuple(self._latency[1:]) if self._latency else (0, 0, 0, 0)  # type: ignore

    def _due(self, write: bool) -> int:
        """The cycle a beat filed now may be presented from (0 without a latency: unused)."""
        if self._latency is None:
            return 0
        rng, r, rj, w, wj = self._latency
        fixed, jitter = (w, wj) if write else (r, rj)
        extra = fixed + (rng.randint(0, jitter) if jitter else 0)
        # filed in this time step, the beat is loaded at the next rising edge at the earliest,
        # where the engine compares tb_cycle with its due cycle
        return (self._next_edge_cycle() + extra) & 0xFFFF_FFFF

    def _serve(self) -> None:
        """On a kick: every AR, AW and W handshake since the last one."""
        v = self._wps.read()
        self._ar_rp = drain(self._ar, self._ar_rp, v & 0xFF,
                            lambda e: self._read(Addr.unpack(e)))
        self._aw_rp = drain(self._aw, self._aw_rp, v >> 8 & 0xFF,
                            lambda e: self._aws.append(Addr.unpack(e)))
        self._w_rp = drain(self._w, self._w_rp, v >> 16, self._take_w)
        # AXI lets a W burst complete before its AW: writes are paired in order.
        while self._aws and self._wbursts:
            aw, beats = self._aws.popleft(), self._wbursts.popleft()
            if len(beats) != aw.len + 1:
                raise AssertionError(f"memory port: {len(beats)} W beats for AWLEN {aw.len}")
            self._write(aw, beats)
        self._commit()

    def _take_w(self, v: int) -> None:
        self._wbeats.append((v & 0xFFFF_FFFF_FFFF_FFFF, v >> 64 & 0xFF))
        if v >> 72 & 1:
            self._wbursts.append(self._wbeats)
            self._wbeats = []

    def _commit(self) -> None:
        """Hand the beats filed so far to the engine, which plays them from the next edge:
        written at once, as the ring entries, so only after the current edge's processes ran
        (where a kick wakes us, or after ReadWrite, where a released hold resumes)."""
        if self._r_wp != self._r_told:
            self._r_wp_h.write_now(self._r_wp)
            self._r_told = self._r_wp
        if self._b_wp != self._b_told:
            self._b_wp_h.write_now(self._b_wp)
            self._b_told = self._b_wp

    # ---- reads -------------------------------------------------------------------------
    def _read(self, ar: Addr) -> None:
        beats = ar.beats()
        gate = self._held(beats)
        if gate is None:
            self._send_r(ar, beats)
        else:
            cocotb.start_soon(self._held_read(ar, beats, gate))

    async def _held_read(self, ar: Addr, beats: list[int], gate: list[Event]) -> None:
        for ev in gate:
            await ev.wait()
        # Whatever task released the hold may run before the edge's processes (Icarus runs
        # a RisingEdge waiter first): the beat must not show a cycle early.
        await ReadWrite()
        self._send_r(ar, beats)
        self._commit()

    def _send_r(self, ar: Addr, beats: list[int]) -> None:
        read = self.target.mem.read
        source = self.target.source
        # The engine's read pointer is read only once the beats filed since it was last read
        # could fill half the ring (the port contract keeps far fewer in flight).
        if (self._r_wp - self._r_rp_seen) % RING + len(beats) >= RING // 2:
            self._r_rp_seen = self._r_rp.read()
        if (self._r_wp - self._r_rp_seen) % RING + len(beats) >= RING:
            raise AssertionError("memory port: R ring overflow (more read data in flight "
                                 f"than {RING - 1} beats)")
        last = len(beats) - 1
        blob = None
        if last and self.target.mem.log is None and beats[last] - beats[0] == BEAT * last:
            # One read for the whole burst where no access log counts beats; a burst that
            # touches a fault is read beat by beat, so only the faulting beats answer SLVERR.
            try:
                blob = read(beats[0], BEAT * (last + 1), source=source)
            except Exception:
                blob = None
        r_id = ar.id << 67 | self._due(False) << 75
        if ar.lock:
            self._exclusive_read(ar, beats, r_id)
            return
        for i, a in enumerate(beats):
            if blob is not None:
                data, resp = int.from_bytes(blob[i * BEAT:(i + 1) * BEAT], "little"), RESP_OKAY
            else:
                try:
                    data = int.from_bytes(read(a, BEAT, source=source), "little")
                    resp = RESP_OKAY
                except Exception:
                    data, resp = 0, RESP_SLVERR
            self._r[self._r_wp].write_now(data | resp << 64 | (i == last) << 66 | r_id)
            self._r_wp = (self._r_wp + 1) % RING

    def _exclusive_read(self, ar: Addr, beats: list[int], r_id: int) -> None:
        mem = self.target.mem
        if len(beats) != 1 or ar.size != 3 or ar.addr % BEAT:
            raise AssertionError(f"memory port: exclusive read of more than one aligned beat: "
                                 f"{ar}")
        a = beats[0]
        epoch, versions = mem.epoch, mem.page_versions(a, BEAT)
        try:
            data = int.from_bytes(mem.read(a, BEAT, source=self.target.source), "little")
            resp = RESP_EXOKAY
            self._monitor[ar.id] = (a, data, epoch, versions)
            self.exclusive["reads"] += 1
        except Exception:
            data, resp = 0, RESP_SLVERR
            self._monitor.pop(ar.id, None)
        self._r[self._r_wp].write_now(data | resp << 64 | 1 << 66 | r_id)
        self._r_wp = (self._r_wp + 1) % RING

    def exclusive_at(self, addr: int) -> bool:
        """Whether an exclusive read of ``addr`` holds a monitor (a test that races the
        SMMU's update waits for this)."""
        return any(m[0] == addr for m in self._monitor.values())

    def _exclusive_store(self, aw: Addr, beats: list[tuple[int, int]]) -> int:
        """An exclusive write: EXOKAY and stored if the monitor of its ID still holds."""
        mem = self.target.mem
        if len(beats) != 1 or beats[0][1] != 0xFF or aw.addr % BEAT:
            raise AssertionError(f"memory port: exclusive write of more than one whole "
                                 f"aligned beat: {aw}")
        mon = self._monitor.pop(aw.id, None)
        if mon is None or mon[0] != aw.addr or not mem.unchanged(mon[2], mon[3]):
            self.exclusive["failed"] += 1
            return RESP_OKAY
        try:
            old = mem.cas64(aw.addr, mon[1], beats[0][0], source=self.target.source)
        except Exception:
            return RESP_SLVERR
        if old != mon[1]:  # (cannot happen: nothing was stored into the page since)
            raise AssertionError(f"memory port: exclusive monitor missed a store at "
                                 f"{aw.addr:#x}")
        self.exclusive["stored"] += 1
        for fn in self.update_listeners:
            fn(aw.addr, mon[1], beats[0][0])
        return RESP_EXOKAY

    # ---- writes ------------------------------------------------------------------------
    def _write(self, aw: Addr, beats: list[tuple[int, int]]) -> None:
        if self._write_task is not None or (self.target.holds
                                            and self._held(aw.beats()) is not None):
            self._writes.append((aw, beats))
            if self._write_task is None:
                self._write_task = cocotb.start_soon(self._held_writes())
            return
        self._store(aw, beats)

    async def _held_writes(self) -> None:
        while self._writes:
            aw, beats = self._writes[0]
            gate = self._held(aw.beats())
            for ev in gate or ():
                await ev.wait()
            await ReadWrite()  # (as for a held read)
            self._writes.popleft()
            self._store(aw, beats)
            self._commit()
        self._write_task = None

    def _store(self, aw: Addr, beats: list[tuple[int, int]]) -> None:
        write = self.target.mem.write
        source = self.target.source
        resp = RESP_OKAY
        if aw.lock:
            resp = self._exclusive_store(aw, beats)
            beats = []
        for a, (data, strb) in zip(aw.beats() if beats else (), beats, strict=True):
            raw = data.to_bytes(BEAT, "little")
            i = 0
            try:
                if strb == FULL_STRB:  # every lane: the SMMU's writes are whole beats
                    write(a, raw, source=source)
                    continue
                while i < BEAT:  # each run of enabled byte lanes, as cocotbext-axi writes
                    if strb >> i & 1:
                        j = i
                        while j < BEAT and strb >> j & 1:
                            j += 1
                        write(a + i, raw[i:j], source=source)
                        i = j
                    else:
                        i += 1
            except Exception:
                resp = RESP_SLVERR
        self._b[self._b_wp].write_now(resp | aw.id << 2 | self._due(True) << 10)
        self._b_wp = (self._b_wp + 1) % RING

    def _held(self, beats: list[int]) -> list[Event] | None:
        """The holds still closed over any of these beats, or None."""
        holds = self.target.holds
        if not holds:
            return None
        holds[:] = [h for h in holds if not h[2].is_set()]
        got = [ev for lo, hi, ev in holds if any(lo <= a < hi for a in beats)]
        return got or None
