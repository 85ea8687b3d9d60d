"""The env's one configuration object, shared through a single ConfigDB entry.

Components and sequences read it with :func:`env_cfg`; the agents and the env fill in the
handles (sequencers, scoreboard) during the build phase, before any sequence starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyuvm import ConfigDB

from models.memory import FrameAllocator, PhysicalMemory
from models.smmu.config import SmmuConfig

if TYPE_CHECKING:
    from tb.bfm.smmu_bfm import SmmuBfm
    from tb.bfm.xlate_bfm import XlateBfm

KEY = "SMMU_ENV_CFG"


@dataclass
class SmmuEnvConfig:
    smmu: SmmuConfig          # the parameter set the RTL was built with (tb/dut_config.py)
    seed: int                 # SMMU_SEED: every random sequence derives its stream from it
    mem: PhysicalMemory       # the one physical memory the RTL, the stack and the model share
    dma: FrameAllocator       # the DMA window the software stack allocates from
    bfm: SmmuBfm              # clock, reset, register and memory ports
    xbfm: XlateBfm            # the translation port
    tag_w: int                # width of t_req_tag
    reg_seqr: Any = None      # set by RegAgent
    xlate_seqr: Any = None    # set by XlateAgent
    xlate_sb: Any = None      # set by SmmuEnv
    watchdog: Any = None      # set by SmmuEnv


def env_cfg(component: Any = None) -> SmmuEnvConfig:
    return ConfigDB().get(component, "", KEY)


def set_env_cfg(cfg: SmmuEnvConfig) -> None:
    ConfigDB().set(None, "*", KEY, cfg)
