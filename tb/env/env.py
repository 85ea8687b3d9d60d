"""The pyuvm environment: one agent per DUT port in use, the scoreboard, shared memory."""

from __future__ import annotations

import os

import cocotb
from pyuvm import uvm_env

from models.memory import FrameAllocator, PhysicalMemory
from tb.agents.reg_agent import RegAgent
from tb.agents.xlate_agent import XlateAgent
from tb.bfm.monitors import CmdqConsMonitor, EvtqProdMonitor
from tb.bfm.smmu_bfm import SmmuBfm
from tb.bfm.xlate_bfm import XlateBfm
from tb.dut_config import CONFIGS
from tb.env.config import SmmuEnvConfig, set_env_cfg
from tb.env.coverage import RegCoverage, XlateCoverage
from tb.env.reg_scoreboard import RegScoreboard
from tb.env.watchdog import Watchdog
from tb.env.xlate_scoreboard import XlateScoreboard
from tb.platform.model import DMA_WINDOW


class SmmuEnv(uvm_env):
    def build_phase(self) -> None:
        params = os.environ.get("SMMU_PARAMS", "default")
        self.seed = int(os.environ.get("SMMU_SEED", cocotb.RANDOM_SEED))
        self.cfg = CONFIGS[params]
        self.mem = PhysicalMemory(pa_bits=self.cfg.pa_bits)
        self.dma = FrameAllocator(self.mem, *DMA_WINDOW)
        # The batch register engine unless SMMU_REGPORT=cocotbext (tests/test_rtl.py compares
        # the two); the directed tests keep cocotbext-axi's master (tb/directed/harness.py).
        self.bfm = SmmuBfm(cocotb.top, self.mem,
                           regport=os.environ.get("SMMU_REGPORT", "batch"))
        self.xbfm = XlateBfm(cocotb.top)
        self.env_cfg = SmmuEnvConfig(smmu=self.cfg, seed=self.seed, mem=self.mem, dma=self.dma,
                                     bfm=self.bfm, xbfm=self.xbfm,
                                     tag_w=len(cocotb.top.t_req_tag))
        set_env_cfg(self.env_cfg)
        self.regs = RegAgent("regs", self)
        self.reg_sb = RegScoreboard("reg_scoreboard", self)
        self.xlate = XlateAgent("xlate", self)
        self.scoreboard = XlateScoreboard("xlate_scoreboard", self)
        self.reg_cov = RegCoverage("reg_coverage", self)
        self.xlate_cov = XlateCoverage("xlate_coverage", self)
        self.watchdog = Watchdog("watchdog", self)
        self.env_cfg.xlate_sb = self.scoreboard
        self.env_cfg.watchdog = self.watchdog

    def connect_phase(self) -> None:
        self.regs.ap.connect(self.reg_sb.analysis_export)
        self.regs.ap.connect(self.reg_cov.analysis_export)
        self.regs.ap.connect(self.scoreboard.reg_tap.analysis_export)
        self.xlate.ap.connect(self.scoreboard.xlate_tap.analysis_export)
        self.xlate.ap.connect(self.xlate_cov.analysis_export)
        # the scoreboard matches stall records with the requests still in flight
        self.scoreboard.inflight = self.xlate.driver.inflight
        self.regs.ap.connect(self.watchdog.analysis_export)
        self.watchdog.inflight = self.xlate.driver.inflight
        self.watchdog.held = self.scoreboard.stalls.held_items
        self.cmdq_cons = CmdqConsMonitor(cocotb.top, self.bfm.cycle, self.scoreboard.on_cmdq_cons)
        self.evtq_prod = EvtqProdMonitor(cocotb.top, self.bfm.cycle,
                                         self.scoreboard.on_eventq_prod)
