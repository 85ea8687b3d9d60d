"""pytest configuration: which simulators and seeds the RTL items use.

``SIMS`` (space-separated, default "verilator icarus") picks the simulators; ``SEEDS``
(a count, default 2) how many seeds each random test runs with; ``SEED=N`` pins one seed.
"""

from __future__ import annotations

import os


def sims() -> list[str]:
    return os.environ.get("SIMS", "verilator icarus").split()


def seeds() -> list[int]:
    if os.environ.get("SEED"):
        return [int(os.environ["SEED"])]
    return list(range(1, int(os.environ.get("SEEDS", "2")) + 1))
