"""Signal level of the translation port: the wrapper's batch engine (tb/hdl/smmu_tb.sv).

Python never waits on a clock edge here. ``load`` writes a burst of requests into the
wrapper's request ring in one go and moves its write pointer; the engine presents them on
t_req_* in order, each after its gap of idle cycles. ``responses`` wakes when the engine has
filed responses (a value change of tbq_rsp_wp, at most once per cycle) and returns all of them,
each with the cycles of its request's and its own handshake. Response back-pressure is the
engine's LFSR, seeded from here. cocotbext-axi's stream source and sink, which this replaces,
woke on every edge while a port was busy and cost several signal accesses per field; see
docs/profile.md for the figures.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from tb.bfm.raw import RawVector, drain

RING = 256  # entries in each of the wrapper's rings (tbq_req_q, tbq_rsp_q)
# Request entry layout (tb/hdl/smmu_tb.sv): field -> (lsb, width).
_REQ = {"tag": (0, 16), "sid": (16, 32), "ssv": (48, 1), "ssid": (49, 20), "addr": (69, 64),
        "rnw": (133, 1), "ind": (134, 1), "pnu": (135, 1), "ats": (136, 1), "nw": (137, 1),
        "at": (138, 1), "gap": (139, 8)}
_RSP = {"tag": (0, 16), "result": (16, 2), "pa": (18, 52), "perm": (70, 3), "attr": (73, 8),
        "sh": (81, 2), "fault": (83, 8), "walked": (91, 1), "accepted": (92, 32),
        "done": (124, 32)}
# The response fields a TransItem's ``rsp`` carries (models.smmu.port.RESP_FIELDS, tag, walked).
RSP_KEYS = ("tag", "result", "pa", "perm", "attr", "sh", "fault", "walked")


class Req(NamedTuple):
    tag: int
    sid: int
    ssv: int
    ssid: int
    addr: int
    rnw: int
    ind: int
    pnu: int
    ats: int = 0  # an ATS Translation Request: ind is its Execute bit, pnu its Privileged bit
    nw: int = 0   # its No-Write bit
    at: int = 0   # an ATS-Translated transaction: addr is a PA


class Rsp(NamedTuple):
    fields: dict[str, int]  # RSP_KEYS
    accepted: int           # cycle of the request's t_req handshake
    done: int               # cycle of the t_rsp handshake


def pack_req(r: Req, gap: int) -> int:
    return (r.tag | r.sid << 16 | r.ssv << 48 | r.ssid << 49 | r.addr << 69 | r.rnw << 133
            | r.ind << 134 | r.pnu << 135 | r.ats << 136 | r.nw << 137 | r.at << 138
            | gap << 139)


def unpack_rsp(v: int) -> Rsp:
    # Spelled out: a loop over _RSP costs as much as the rest of a hit's BFM work.
    return Rsp({"tag": v & 0xFFFF, "result": v >> 16 & 0x3, "pa": v >> 18 & (1 << 52) - 1,
                "perm": v >> 70 & 0x7, "attr": v >> 73 & 0xFF, "sh": v >> 81 & 0x3,
                "fault": v >> 83 & 0xFF, "walked": v >> 91 & 0x1},
               v >> 92 & 0xFFFF_FFFF, v >> 124 & 0xFFFF_FFFF)


class XlateBfm:
    """Owns the t_req_*/t_rsp_* pins through the batch engine."""

    def __init__(self, dut) -> None:
        self.dut = dut
        dut.tbq_en.value = 1
        dut.tbq_req_wp.value = 0
        dut.tbq_rsp_rp.value = 0
        self.set_wake(1, 1)
        self.set_response_backpressure(0, 0, 0)
        self._req_h = [RawVector(dut.tbq_req_q[i]) for i in range(RING)]
        self._rsp_h = [RawVector(dut.tbq_rsp_q[i]) for i in range(RING)]
        self._wp_raw = RawVector(dut.tbq_rsp_wp)
        self._wp = 0
        self._rsp_rp = 0
        # With SSV=0 the SubstreamID wires mean nothing; when set, they carry noise from this
        # generator instead of 0, so an SMMU that reads them anyway shows it.
        self.ssid_noise: random.Random | None = None
        self._gaps: random.Random | None = None
        self._p_gap = 0.0
        self._max_gap = 0

    @property
    def capacity(self) -> int:
        """Requests that may be loaded and not yet answered at once (the ring keeps one slot
        free to tell full from empty)."""
        return RING - 1

    def load(self, reqs: list[Req]) -> None:
        """Queue requests; the engine presents them in order as soon as the port takes them.
        The caller keeps fewer than ``capacity`` unanswered."""
        noise, gaps = self.ssid_noise, self._gaps
        for r in reqs:
            if not r.ssv and noise is not None:
                r = r._replace(ssid=noise.getrandbits(20))
            gap = 0
            if gaps is not None and gaps.random() < self._p_gap:
                gap = gaps.randint(1, self._max_gap)
            self._req_h[self._wp].write_now(pack_req(r, gap))
            self._wp = (self._wp + 1) % RING
        self.dut.tbq_req_wp.value = self._wp

    def set_wake(self, batch: int, wait: int) -> None:
        """``responses`` returns once ``batch`` responses are unread, or every loaded request
        has its response, or ``wait`` cycles passed with responses unread since the last
        call. A response's cycles are stamped by the engine, so this changes only when
        Python sees it, never what it records; a stimulus that reacts to single responses
        (rather than to a burst's end) sees them up to ``wait`` cycles late."""
        if not (1 <= batch <= self.capacity and 1 <= wait <= 255):
            raise ValueError(f"wake after {batch} responses or {wait} cycles: out of range")
        self.dut.tbq_rsp_batch.value = batch
        self.dut.tbq_rsp_wait.value = wait

    async def responses(self) -> list[Rsp]:
        """Every response filed since the last call; waits for the engine's next wake."""
        wp_h, kick = self._wp_raw, self.dut.tbq_rsp_kick
        wp = wp_h.read()
        while wp == self._rsp_rp:
            await kick.value_change
            wp = wp_h.read()
        out: list[Rsp] = []
        self._rsp_rp = rp = drain(self._rsp_h, self._rsp_rp, wp,
                                  lambda v: out.append(unpack_rsp(v)))
        self.dut.tbq_rsp_rp.value = rp
        return out

    def set_request_gaps(self, rng: random.Random | None, p: float = 0.0,
                         max_gap: int = 1) -> None:
        """Before a request, with probability ``p``, 1..max_gap idle cycles (since the previous
        handshake) on t_req_valid; ``rng`` None: none."""
        self._gaps, self._p_gap, self._max_gap = rng, p, max(1, min(max_gap, 255))

    def set_response_backpressure(self, seed: int, p: float, max_run: int) -> None:
        """t_rsp_ready low in runs: each cycle a run starts with probability ``p`` and lasts
        1..max_run cycles (max_run a power of two up to 8); ``p`` 0: always ready."""
        if max_run not in (0, 1, 2, 4, 8):
            raise ValueError(f"max_run {max_run}: the engine takes 1, 2, 4 or 8")
        self.dut.tbq_bp_seed.value = seed & 0xFFFF
        self.dut.tbq_bp_p.value = min(255, round(p * 256))
        self.dut.tbq_bp_runmask.value = max(max_run - 1, 0)
