"""The DVM port's driver (``dvm_*``, BTM=1): the CPU's broadcast TLB invalidations, one
handshake each, then a DVM sync, which the SMMU takes only once no translation may still use
an entry they invalidated (docs/port-contract.md).

Like :class:`tb.bfm.pri_port.PriPort`: inputs change on the falling edge, and a handshake is
"valid and ready seen, settled, at a falling edge", completing at the following rising edge
(``dvm_ready`` depends on ``dvm_op``, so it is read once the inputs have settled). Python waits
on clock edges only while an operation is being handed over.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from tb.bfm.raw import RawVector

# dvm_op encodings (rtl/smmu_dvm.sv)
DVM_OPS = {"VAE1IS": 0, "VALE1IS": 1, "ASIDE1IS": 2, "VMALLE1IS": 3}
DVM_SYNC = 4
VA_MASK = (1 << 44) - 1  # dvm_va carries VA[55:12]


class DvmBfm:
    def __init__(self, dut) -> None:
        self.dut = dut
        self._tb_cycle = RawVector(dut.tb_cycle)  # the cycle count responses are stamped with
        dut.dvm_valid.value = 0
        self.sent: Counter[str] = Counter()
        self.sync_cycles: list[int] = []  # per DVM sync: from its offer to its acceptance
        # told (the cycle the sync was taken in, as translation responses are stamped; the
        # operations it completed) after each sync
        self.listeners: list[Callable[[int, list[tuple[str, int, int, bool]]], None]] = []

    async def send(self, ops: list[tuple[str, int, int, bool]]) -> None:
        """Broadcast ``(op, asid, va, e2h)`` for each of ``ops`` (op: a DVM_OPS name; e2h: the
        EL2&0 form a kernel at EL2 issues), then a DVM sync; returns once the sync was taken."""
        for op, asid, va, e2h in ops:
            if op not in DVM_OPS:
                raise ValueError(f"DVM operation {op!r}: the port takes {sorted(DVM_OPS)}")
            await self._handshake(DVM_OPS[op], asid, (va >> 12) & VA_MASK, e2h)
            self.sent[op + ("/EL2" if e2h else "")] += 1
        t0 = self._tb_cycle.read()
        now = await self._handshake(DVM_SYNC, 0, 0)
        self.sync_cycles.append(now - t0)
        self.sent["SYNC"] += 1
        for fn in self.listeners:
            fn(now, ops)

    async def _handshake(self, op: int, asid: int, va: int, e2h: bool = False) -> int:
        """One operation; returns the cycle of its handshake."""
        d = self.dut
        await FallingEdge(d.clk)
        d.dvm_op.value = op
        d.dvm_asid.value = asid
        d.dvm_va.value = va
        d.dvm_e2h.value = int(e2h)
        d.dvm_valid.value = 1
        while True:
            await ReadOnly()
            if int(d.dvm_ready.value):
                break
            await FallingEdge(d.clk)
        cycle = self._tb_cycle.read()  # what the wrapper files for a handshake at this edge
        await RisingEdge(d.clk)
        await FallingEdge(d.clk)
        d.dvm_valid.value = 0
        return cycle
