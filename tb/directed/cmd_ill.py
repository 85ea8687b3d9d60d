"""Directed tests of the command decoder's CERROR_ILL checks (reserved bits and values).

For every opcode this SMMU accepts, a legal encoding (opcode only, and every defined bit set)
must execute, and the same command with one reserved bit set must stop the queue with
CERROR_ILL: CMDQ_CONS stays on it with ERR=1 and GERROR.CMDQ_ERR toggles; the test then
replaces it with a CMD_SYNC and acknowledges through GERRORN, and consumption resumes.

Each outcome is checked three ways: the RTL, the reference model
(``models.smmu.cmdq.CommandQueue.illegal`` on the same 16 bytes) and an expectation derived
here from the field layout of ``models.arch.commands`` (a bit no field of the opcode covers is
reserved; SSec=1, SYNC CS=0b11 and PRI_RESP Resp=0b11 are reserved values on this queue).
Run one with

    .venv/bin/python -m tb.cli.runner --sim verilator --module tb.directed.cmd_ill --test <name>
"""

from __future__ import annotations

import os

import cocotb

from models.arch import commands as C
from models.arch import registers as R
from models.memory import PhysicalMemory
from models.smmu.cmdq import CommandQueue
from models.smmu.regfile import RegisterFile
from tb.directed.harness import CMDQ, basic
from tb.dut_config import CONFIGS

CFG = CONFIGS[os.environ.get("SMMU_PARAMS", "default")]
MODEL = CommandQueue(CFG, RegisterFile(CFG), PhysicalMemory(48), lambda _cmd: None)
SSEC = 1 << 10
CMDQ_ERR = R.GERROR.field("CMDQ_ERR").mask
ALL = (1 << C.Command.NBITS) - 1


def layout_mask(op: int) -> int:
    """Bits of a 128-bit command that the opcode's fields define (opcode included)."""
    m = 0
    for f in C.COMMAND_CLASSES[op].FIELDS:
        m |= ((1 << f.width) - 1) << f.lsb
    return m


def feature_ok(op: int) -> bool:
    """Whether this configuration implements the command (reference §5, spec 4.x)."""
    if op in (C.Opcode.RESUME, C.Opcode.STALL_TERM):
        return CFG.STALL_MODEL != R.StallModel.TERMINATE_ONLY
    if op == C.Opcode.PRI_RESP:
        return bool(CFG.PRI)
    if op == C.Opcode.ATC_INV:
        return bool(CFG.ATS)
    if op in (C.Opcode.CFGI_CD, C.Opcode.CFGI_CD_ALL):
        return bool(CFG.S1P)
    if 0x20 <= op <= 0x23:
        return bool(CFG.HYP)
    return op not in (C.Opcode.TLBI_S12_VMALL, C.Opcode.TLBI_S2_IPA)  # no stage 2


def expect_illegal(raw: int) -> bool:
    """CERROR_ILL from the field layout alone (independent of the model's decoder)."""
    op = raw & 0xFF
    if op not in C.COMMAND_CLASSES or not feature_ok(op):
        return True
    if raw & ~layout_mask(op) & ALL or raw & SSEC:
        return True
    if op == C.Opcode.SYNC and (raw >> 12) & 3 == 3:
        return True
    return op == C.Opcode.PRI_RESP and (raw >> 76) & 3 == 3


def model_illegal(raw: int) -> bool:
    return MODEL.illegal(C.decode_command(raw.to_bytes(C.Command.SIZE, "little")))


def full_legal(op: int) -> int:
    """Every defined bit set, except SSec and the reserved enum values (CS/Resp -> 0b10)."""
    raw = (layout_mask(op) & ~0xFF & ~SSEC) | op
    if op == C.Opcode.SYNC:
        raw &= ~(1 << 12)
    if op == C.Opcode.PRI_RESP:
        raw &= ~(1 << 76)
    return raw


def reserved_probes(op: int) -> list[int]:
    """Single reserved bits to set: the lowest and highest of each doubleword, plus SSec."""
    rsv = ~layout_mask(op) & ALL
    bits = set()
    for dw_mask in (rsv & ((1 << 64) - 1), rsv & (((1 << 64) - 1) << 64)):
        if dw_mask:
            bits.add((dw_mask & -dw_mask).bit_length() - 1)
            bits.add(dw_mask.bit_length() - 1)
    return [1 << b for b in sorted(bits)] + [SSEC]


class Raw:
    """A 16-byte command entry given as a 128-bit integer (what Soft.cmds writes)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def to_bytes(self) -> bytes:
        return self.value.to_bytes(C.Command.SIZE, "little")


async def submit(s, raw: int) -> bool:
    """Queue one command; returns whether the RTL raised CERROR_ILL (and recovers from it)."""
    n = 1 << s.cmdq_log2
    idx = s.cmd_prod & (2 * n - 1)
    g0 = await s.r32("GERROR")
    assert g0 & CMDQ_ERR == (await s.r32("GERRORN")) & CMDQ_ERR, "CMDQ error outstanding"
    await s.cmds(Raw(raw), wait=False)
    for _ in range(200):
        cons = R.CMDQ_CONS.from_int(await s.r32("CMDQ_CONS"))
        g = await s.r32("GERROR")
        if (g ^ g0) & CMDQ_ERR:
            break
        if cons.RD & (2 * n - 1) == s.cmd_prod:
            return False
    else:
        raise AssertionError(f"command {raw:#034x}: neither consumed nor an error")
    # halted on it: CONS on the command, ERR = CERROR_ILL, GERROR.CMDQ_ERR toggled
    assert cons.RD & (2 * n - 1) == idx, (hex(cons.RD), idx)
    assert cons.ERR == R.CmdqErr.CERROR_ILL, cons
    assert s.bfm.irq("gerror") == 1
    await s.bfm.clocks(20)
    assert (await s.r32("CMDQ_CONS")) & (2 * n - 1) == idx, "CONS moved past an error"
    # software replaces it with a CMD_SYNC and acknowledges; the queue then drains
    s.mem.write(CMDQ + C.Command.SIZE * (idx & (n - 1)), C.CmdSync().to_bytes())
    await s.w32("GERRORN", g)
    await s.poll("CMDQ_CONS", s.cmd_prod, mask=2 * n - 1)
    assert (await s.r32("GERROR")) & CMDQ_ERR == (await s.r32("GERRORN")) & CMDQ_ERR
    assert s.bfm.irq("gerror") == 0
    return True


async def check_cmd(s, raw: int, want: bool) -> None:
    """RTL, model and layout-derived expectation all agree on whether `raw` is ILLEGAL."""
    layout = expect_illegal(raw)
    model = model_illegal(raw)
    assert layout == want, f"{raw:#034x}: layout says illegal={layout}, test wants {want}"
    assert model == want, f"{raw:#034x}: model says illegal={model}, layout says {want}"
    rtl = await submit(s, raw)
    assert rtl == want, f"{raw:#034x}: RTL illegal={rtl}, model and layout say {want}"


async def check_opcodes(s, ops: list[int]) -> None:
    for op in ops:
        assert op in ACCEPTED, f"{op:#x} is not accepted by this configuration"
        default = C.COMMAND_CLASSES[op]().to_int()
        full = full_legal(op)
        await check_cmd(s, default, False)
        await check_cmd(s, full, False)
        for bit in reserved_probes(op):
            await check_cmd(s, default | bit, True)
            await check_cmd(s, full | bit, True)
    # the queue still works after all of it
    await s.sync()


ACCEPTED = [op for op in sorted(C.COMMAND_CLASSES) if feature_ok(op)]


# ---------------------------------------------------------------------------------------------
@cocotb.test()
async def accepted_opcodes(dut):
    """The accepted opcodes, from the configuration by hand and from the model, agree."""
    by_model = [op for op in sorted(C.COMMAND_CLASSES)
                if not model_illegal(C.COMMAND_CLASSES[op]().to_int())]
    assert by_model == ACCEPTED, ([hex(o) for o in by_model], [hex(o) for o in ACCEPTED])
    if CFG == CONFIGS["default"]:
        assert ACCEPTED == [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x11, 0x12, 0x13, 0x30,
                            0x46], ACCEPTED
    dut._log.info("accepted opcodes: %s", [hex(o) for o in ACCEPTED])


@cocotb.test()
async def prefetch_reserved_bits(dut):
    """PREFETCH_CONFIG / PREFETCH_ADDR."""
    s, _ttb = await basic(dut)
    await check_opcodes(s, [op for op in ACCEPTED if op in (0x01, 0x02)])


@cocotb.test()
async def cfgi_reserved_bits(dut):
    """CFGI_STE, CFGI_STE_RANGE, CFGI_CD, CFGI_CD_ALL."""
    s, _ttb = await basic(dut)
    await check_opcodes(s, [op for op in ACCEPTED if 0x03 <= op <= 0x06])


@cocotb.test()
async def tlbi_reserved_bits(dut):
    """TLBI_NH_*, TLBI_NSNH_ALL (and TLBI_EL2_* with Hyp)."""
    s, _ttb = await basic(dut)
    await check_opcodes(s, [op for op in ACCEPTED if 0x10 <= op <= 0x30])


@cocotb.test()
async def other_reserved_bits(dut):
    """ATC_INV, PRI_RESP, RESUME, STALL_TERM where the configuration has them."""
    ops = [op for op in ACCEPTED if op in (0x40, 0x41, 0x44, 0x45)]
    if not ops:
        dut._log.info("none of ATC_INV/PRI_RESP/RESUME/STALL_TERM in this configuration")
    s, _ttb = await basic(dut)
    await check_opcodes(s, ops)
    if C.Opcode.PRI_RESP in ops:
        await check_cmd(s, C.Opcode.PRI_RESP | (3 << 76), True)       # Resp = 0b11


@cocotb.test()
async def sync_reserved_bits_and_cs(dut):
    """CMD_SYNC: reserved bits, and CS=0b11 is a reserved value; CS=0b00..0b10 are legal."""
    s, _ttb = await basic(dut)
    await check_opcodes(s, [C.Opcode.SYNC])
    for cs in range(4):
        await check_cmd(s, C.Opcode.SYNC | (cs << 12), cs == 3)
    # MSIAddr[55:52] is kept reserved (PA at most 52 bits)
    await check_cmd(s, C.Opcode.SYNC | (1 << (64 + 52)), True)
    await check_cmd(s, C.Opcode.SYNC | (1 << (64 + 51)), False)


@cocotb.test()
async def absent_and_unknown_opcodes(dut):
    """Commands of absent features and undefined opcodes are ILLEGAL even when well formed."""
    s, _ttb = await basic(dut)
    absent = [op for op in sorted(C.COMMAND_CLASSES) if op not in ACCEPTED]
    for op in absent:
        await check_cmd(s, C.COMMAND_CLASSES[op]().to_int(), True)
        await check_cmd(s, full_legal(op), True)
    for op in (0x00, 0x07, 0x14, 0x24, 0x29, 0x42, 0x47, 0x7F, 0xFF):
        assert op not in C.COMMAND_CLASSES
        await check_cmd(s, op, True)
    await s.sync()
