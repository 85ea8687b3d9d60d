"""Register-port agent: transactions on the AXI4-Lite slave, driven through SmmuBfm.

The driver is the agent's observation point: each completed item (address, data, response)
is published on the agent's analysis port for the register scoreboard and coverage.
"""

from __future__ import annotations

from pyuvm import (
    uvm_agent,
    uvm_analysis_port,
    uvm_driver,
    uvm_sequence_item,
)

from tb.agents.sequencer import DirectSequencer
from tb.env.config import env_cfg


class RegItem(uvm_sequence_item):
    """One register access. ``data`` is bytes so partial and misaligned accesses are legal
    stimulus; ``value`` is the 32-bit little-endian view."""

    def __init__(self, name: str = "reg_item", *, write: bool = False, addr: int = 0,
                 data: bytes = b"", length: int = 4) -> None:
        super().__init__(name)
        self.write = write
        self.addr = addr
        self.data = data
        self.length = length if not write else len(data)
        self.resp: int | None = None
        self.cycle: int = 0

    @classmethod
    def rd(cls, addr: int, length: int = 4) -> RegItem:
        return cls("rd", write=False, addr=addr, length=length)

    @classmethod
    def wr32(cls, addr: int, value: int) -> RegItem:
        return cls("wr", write=True, addr=addr, data=(value & 0xFFFF_FFFF).to_bytes(4, "little"))

    @property
    def value(self) -> int:
        return int.from_bytes(self.data, "little")

    def __str__(self) -> str:
        op = "W" if self.write else "R"
        return f"{op} {self.addr:#07x} len={len(self.data) or self.length} " \
               f"data={self.data.hex() or '-'} resp={self.resp}"


class RegDriver(uvm_driver):
    def build_phase(self) -> None:
        self.ap = uvm_analysis_port("ap", self)
        self.bfm = env_cfg(self).bfm

    async def run_phase(self) -> None:
        while True:
            item: RegItem = await self.seq_item_port.get_next_item()
            if item.write:
                item.resp = await self.bfm.write(item.addr, item.data)
            else:
                item.data, item.resp = await self.bfm.read(item.addr, item.length)
            item.cycle = self.bfm.cycle()
            self.ap.write(item)
            self.seq_item_port.item_done()


class RegAgent(uvm_agent):
    def build_phase(self) -> None:
        self.seqr = DirectSequencer("seqr", self)
        self.driver = RegDriver("driver", self)
        env_cfg(self).reg_seqr = self.seqr

    def connect_phase(self) -> None:
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.ap = self.driver.ap
