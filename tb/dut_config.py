"""The HDL parameter sets the RTL is built with, shared by the runner and the tests.

Feature parameters come from ``models.smmu.config.SmmuConfig`` (same names as the IDR
fields); the register tests derive the IDR values they expect from that object through
``models.arch.registers``, never from the RTL, so a wrongly wired IDR field fails.
"""

from __future__ import annotations

from models.smmu.config import (
    BTM_SET,
    DEFAULT,
    FULL,
    HTTU_SET,
    MIXED,
    NOSUB,
    PCIE,
    STALL,
    SmmuConfig,
)

CONFIGS: dict[str, SmmuConfig] = {"default": DEFAULT, "full": FULL, "mixed": MIXED,
                                   "nosub": NOSUB, "stall": STALL, "pcie": PCIE,
                                   "httu": HTTU_SET, "btm": BTM_SET}

# RTL-only knobs (ACK delays and the ATC invalidation timeout in cycles, miss engines), chosen
# differently per set so tests cannot depend on them.
_TIMING: dict[str, dict[str, int]] = {
    "default": {"CR0ACK_DELAY": 4, "GBPA_DELAY": 4, "N_WALK": 16},
    "full": {"CR0ACK_DELAY": 7, "GBPA_DELAY": 2, "N_WALK": 4, "ATC_TIMEOUT": 300},
    "mixed": {"CR0ACK_DELAY": 1, "GBPA_DELAY": 9, "N_WALK": 2, "ATC_TIMEOUT": 170},
    "nosub": {"CR0ACK_DELAY": 4, "GBPA_DELAY": 4, "N_WALK": 8},
    "stall": {"CR0ACK_DELAY": 3, "GBPA_DELAY": 5, "N_WALK": 4},
    "pcie": {"CR0ACK_DELAY": 2, "GBPA_DELAY": 3, "N_WALK": 4, "ATC_TIMEOUT": 2000},
    "httu": {"CR0ACK_DELAY": 5, "GBPA_DELAY": 1, "N_WALK": 6},
    "btm": {"CR0ACK_DELAY": 3, "GBPA_DELAY": 2, "N_WALK": 5},
}

PARAM_SETS: dict[str, dict[str, int]] = {
    name: {**cfg.params(), **_TIMING[name]} for name, cfg in CONFIGS.items()
}

# The RTL's PRI queue never reads the stream table, which is only correct where automatic
# PRG responses need no STE.PPAR (IDR3.PPS=1; docs/port-contract.md).
for _name, _cfg in CONFIGS.items():
    if _cfg.PRI and not _cfg.PPS:
        raise ValueError(f"parameter set {_name}: the RTL builds PRI only with PPS=1")
