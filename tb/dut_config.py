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

# RTL-only knobs (ACK delays and the ATC invalidation timeout in cycles, miss engines, cache
# sizes), chosen differently per set so tests cannot depend on them. The default set has the
# shipping sizes (smmu_top's defaults); the others are smaller, so that capacity evictions,
# replacement and full merge slots come often in their random traffic, and their Verilator
# models build and run faster (docs/profile.md, "Smaller caches off the default set").
_CACHES = ("CTX_N", "TLB_N", "TLB_WAYS", "TLB_BLK_N", "WALK_N", "WALK_UP_N", "MERGE_N")
_TIMING: dict[str, dict[str, int]] = {
    "default": {"CR0ACK_DELAY": 4, "GBPA_DELAY": 4, "N_WALK": 16},
    "full": {"CR0ACK_DELAY": 7, "GBPA_DELAY": 2, "N_WALK": 4, "ATC_TIMEOUT": 300,
             **dict(zip(_CACHES, (16, 64, 4, 4, 4, 2, 4), strict=True))},
    "mixed": {"CR0ACK_DELAY": 1, "GBPA_DELAY": 9, "N_WALK": 2, "ATC_TIMEOUT": 170,
              **dict(zip(_CACHES, (8, 16, 2, 2, 2, 1, 2), strict=True))},
    "nosub": {"CR0ACK_DELAY": 4, "GBPA_DELAY": 4, "N_WALK": 8,
              **dict(zip(_CACHES, (32, 128, 4, 8, 8, 4, 8), strict=True))},
    "stall": {"CR0ACK_DELAY": 3, "GBPA_DELAY": 5, "N_WALK": 4,
              **dict(zip(_CACHES, (16, 64, 2, 4, 4, 2, 4), strict=True))},
    "pcie": {"CR0ACK_DELAY": 2, "GBPA_DELAY": 3, "N_WALK": 4, "ATC_TIMEOUT": 2000,
             **dict(zip(_CACHES, (16, 32, 4, 4, 4, 2, 4), strict=True))},
    "httu": {"CR0ACK_DELAY": 5, "GBPA_DELAY": 1, "N_WALK": 6,
             **dict(zip(_CACHES, (16, 64, 4, 4, 8, 2, 6), strict=True))},
    "btm": {"CR0ACK_DELAY": 3, "GBPA_DELAY": 2, "N_WALK": 5,
            **dict(zip(_CACHES, (16, 64, 4, 4, 4, 2, 5), strict=True))},
}

PARAM_SETS: dict[str, dict[str, int]] = {
    name: {**cfg.params(), **_TIMING[name]} for name, cfg in CONFIGS.items()
}

# The RTL's PRI queue never reads the stream table, which is only correct where automatic
# PRG responses need no STE.PPAR (IDR3.PPS=1; docs/port-contract.md).
for _name, _cfg in CONFIGS.items():
    if _cfg.PRI and not _cfg.PPS:
        raise ValueError(f"parameter set {_name}: the RTL builds PRI only with PPS=1")
