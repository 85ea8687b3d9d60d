"""Request gaps and response back-pressure on the translation port, and pauses on every
channel of the memory port, from the test's seed.

A test that only ever sees ready=1 proves little: with back-pressure, responses wait in the
SMMU's response FIFO, and with memory latency walks stay in flight across invalidations,
which is where a CMD_SYNC that completes too early shows (§4.7.3). The translation port's gaps
and back-pressure are the batch engine's (tb/hdl/smmu_tb.sv); the memory port's pauses are the
batch memory engine's LFSRs, or, with cocotbext-axi on the memory port, per-cycle patterns that
SmmuBfm.stall plays run by run. The SubstreamID wires of requests without one (SSV=0) carry
noise.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from tb.bfm.mem_bfm import BatchAxiMemory
from tb.bfm.smmu_bfm import SmmuBfm
from tb.bfm.xlate_bfm import XlateBfm


def _bursty(rng: random.Random, p: float, max_run: int) -> Iterator[bool]:
    """Pauses in runs of 1..max_run cycles, ``p`` of the cycles on average."""
    while True:
        if rng.random() < p / max(1.0, (1 + max_run) / 2):
            yield from [True] * rng.randint(1, max_run)
        else:
            yield False


def stress_translation_port(xbfm: XlateBfm, seed: int, *, p_gap: float = 0.2,
                            p_backpressure: float = 0.3, max_run: int = 8) -> None:
    """Before ``p_gap`` of the requests, 1..max_run idle cycles; t_rsp_ready low about
    ``p_backpressure`` of the cycles, in runs of 1..max_run (the wrapper's LFSR, seeded here)."""
    rng = random.Random(f"port-stress-{seed}")
    xbfm.set_request_gaps(random.Random(rng.random()), p_gap, max_run)
    xbfm.set_response_backpressure(rng.getrandbits(16), p_backpressure / ((1 + max_run) / 2),
                                   max_run)
    xbfm.ssid_noise = random.Random(rng.random())


def stress_memory_port(bfm: SmmuBfm, seed: int, *, p_pause: float = 0.25,
                       max_run: int = 8) -> None:
    """Read-address and write back-pressure, and read-data and write-response latency, in
    bursts of up to ``max_run`` cycles on each channel independently; on the batch memory
    engine, in half of the seeds, a latency model as well (BatchAxiMemory.set_latency)."""
    rng = random.Random(f"memory-stress-{seed}")
    channels = [f"mem.{ch}" for ch in ("ar", "r", "aw", "w", "b")]
    if isinstance(bfm.memport, BatchAxiMemory):
        bfm.memport.set_random_pauses(channels, rng.getrandbits(16),
                                      p_pause / ((1 + max_run) / 2), max_run)
        # and, in half of the runs, a latency: a few cycles fixed plus a random part, so
        # that reads of one walk and of others return later and out of step
        if rng.random() < 0.5:
            bfm.memport.set_latency(rng.getrandbits(16), read=rng.randint(0, 8),
                                    read_jitter=rng.choice((0, 4, 16)),
                                    write=rng.randint(0, 8), write_jitter=rng.choice((0, 4)))
        return
    for ch in channels:
        bfm.stall(ch, _bursty(random.Random(rng.random()), p_pause, max_run))
