"""Signal level of the translation port: cocotbext-axi valid/ready streams.

`define_stream` gives a source (requests) and a sink (responses) that sample handshakes the
same way on Verilator and Icarus; pause generators add idle cycles and back-pressure.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

from cocotbext.axi.stream import define_stream

from models.smmu.port import REQ_FIELDS, RESP_FIELDS

# t_req_* and t_rsp_* (docs/port-contract.md); t_rsp_walked (IOTLB hit or walk) is not a
# field of the model's response.
TReqBus, TReqTransaction, TReqSource, TReqSink, TReqMonitor = define_stream(
    "TReq",
    signals=["req_tag", *(f"req_{k}" for k in REQ_FIELDS), "req_valid", "req_ready"],
)
TRspBus, TRspTransaction, TRspSource, TRspSink, TRspMonitor = define_stream(
    "TRsp",
    signals=["rsp_tag", *(f"rsp_{k}" for k in RESP_FIELDS), "rsp_walked", "rsp_valid",
             "rsp_ready"],
)


class XlateBfm:
    """Owns the t_req_*/t_rsp_* pins."""

    def __init__(self, dut) -> None:
        self.source = TReqSource(TReqBus.from_prefix(dut, "t"), dut.clk, dut.rst_n,
                                 reset_active_level=False)
        self.sink = TRspSink(TRspBus.from_prefix(dut, "t"), dut.clk, dut.rst_n,
                             reset_active_level=False)
        for lg in (self.source.log, self.sink.log):
            lg.setLevel(logging.WARNING)
        # With SSV=0 the SubstreamID wires mean nothing; when set, they carry noise from this
        # generator instead of 0, so an SMMU that reads them anyway shows it.
        self.ssid_noise: random.Random | None = None

    async def send(self, tag: int, sid: int, ssv: int, ssid: int, addr: int, rnw: int,
                   ind: int, pnu: int) -> None:
        """Queue a request; the source presents it as soon as the port is free."""
        if not ssv and self.ssid_noise is not None:
            ssid = self.ssid_noise.getrandbits(20)
        await self.source.send(TReqTransaction(
            req_tag=tag, req_sid=sid, req_ssv=ssv, req_ssid=ssid, req_addr=addr,
            req_rnw=rnw, req_ind=ind, req_pnu=pnu))

    async def recv(self) -> dict[str, int]:
        t = await self.sink.recv()
        return {k[4:]: int(getattr(t, k)) for k in t._signals}

    def set_request_gaps(self, gen: Iterator[int] | None) -> None:
        self.source.set_pause_generator(gen)

    def set_response_backpressure(self, gen: Iterator[int] | None) -> None:
        self.sink.set_pause_generator(gen)
