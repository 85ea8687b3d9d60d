"""The pyuvm environment: one agent per DUT port in use, the scoreboard, shared memory."""

from __future__ import annotations

import os

import cocotb
from pyuvm import ConfigDB, uvm_env

from models.memory import FrameAllocator, PhysicalMemory
from tb.backend_model import DMA_WINDOW
from tb.bfm import SmmuBfm
from tb.bfm_xlate import XlateBfm
from tb.dut_config import CONFIGS
from tb.reg_agent import RegAgent
from tb.reg_predictor import RegPredictor
from tb.xlate_agent import XlateAgent
from tb.xlate_scoreboard import XlateScoreboard


class SmmuEnv(uvm_env):
    def build_phase(self) -> None:
        params = os.environ.get("SMMU_PARAMS", "default")
        self.seed = int(os.environ.get("SMMU_SEED", cocotb.RANDOM_SEED))
        self.cfg = CONFIGS[params]
        self.mem = PhysicalMemory(pa_bits=self.cfg.pa_bits)
        self.dma = FrameAllocator(self.mem, *DMA_WINDOW)
        self.bfm = SmmuBfm(cocotb.top, self.mem)
        for key, val in (("SMMU_CONFIG", self.cfg), ("BFM", self.bfm), ("MEM", self.mem),
                         ("DMA", self.dma), ("SEED", self.seed)):
            ConfigDB().set(None, "*", key, val)
        self.xbfm = XlateBfm(cocotb.top)
        ConfigDB().set(None, "*", "XBFM", self.xbfm)
        ConfigDB().set(None, "*", "TAG_W", len(cocotb.top.t_req_tag))
        self.regs = RegAgent("regs", self)
        self.predictor = RegPredictor("reg_predictor", self)
        self.xlate = XlateAgent("xlate", self)
        self.scoreboard = XlateScoreboard("xlate_scoreboard", self)
        ConfigDB().set(None, "*", "XLATE_SB", self.scoreboard)

    def connect_phase(self) -> None:
        self.regs.ap.connect(self.predictor.analysis_export)
        self.regs.ap.connect(self.scoreboard.reg_tap.analysis_export)
        self.xlate.ap.connect(self.scoreboard.xlate_tap.analysis_export)
