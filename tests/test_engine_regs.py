"""The register scoreboard's rules for the engine-owned registers (tb/env/engine_regs.py),
each shown to accept what the architecture allows and to reject what it does not."""

from __future__ import annotations

from models.arch import commands as C
from models.arch import registers as R
from models.memory import PhysicalMemory
from models.smmu.config import DEFAULT
from models.smmu.regfile import RegisterFile
from tb.env.engine_regs import EngineRegs

CMDQ = 0x10_0000
ILL = R.CmdqErr.CERROR_ILL
ERR_LSB = R.CMDQ_CONS.field("ERR").lsb


def rig(cmds: list) -> tuple[EngineRegs, dict[str, int]]:
    mem = PhysicalMemory(48)
    for i, c in enumerate(cmds):
        mem.write(CMDQ + 16 * i, c.to_bytes())
    v = dict(RegisterFile(DEFAULT).v)
    v["CMDQ_BASE"] = R.CMDQ_BASE(ADDR=CMDQ, LOG2SIZE=4).to_int()
    v["CMDQ_PROD"] = len(cmds)
    return EngineRegs(DEFAULT, mem), v


def test_cons_moves_only_past_legal_commands() -> None:
    e, v = rig([C.CmdSync(), C.CmdSync(CS=0b11), C.CmdSync()])    # CS=0b11: CERROR_ILL
    assert e.check_cmdq_cons(v, 1) == ""
    assert "passed the erroneous command" in e.check_cmdq_cons(v, 2)
    assert e.check_cmdq_cons(v, 1 | ILL << ERR_LSB) == ""          # halted on it
    assert "CMDQ_CONS.ERR became" in e.check_cmdq_cons(v, 0 | ILL << ERR_LSB)
    assert "CMDQ_CONS.ERR became" in e.check_cmdq_cons(v, 1 | 2 << ERR_LSB)  # wrong code
    v["CMDQ_CONS"] = 2
    assert "moved away from PROD" in e.check_cmdq_cons(v, 1)


def test_gerror_toggles_once_and_only_with_an_error() -> None:
    e, v = rig([C.CmdSync(), C.CmdSync()])
    cmdq_err = R.GERROR.field("CMDQ_ERR").mask
    assert "no erroneous command" in e.check_gerror(v, cmdq_err)
    e, v = rig([C.CmdSync(CS=0b11)])
    assert e.check_gerror(v, cmdq_err) == ""
    v["GERROR"] = cmdq_err                                          # active, unacknowledged
    assert "while that error was active" in e.check_gerror(v, 0)
    assert "not errors" in e.check_gerror(v, cmdq_err | 1 << 1)     # bit 1 is reserved
    abt = R.GERROR.field("EVENTQ_ABT_ERR").mask
    assert e.check_gerror(v, cmdq_err | abt) == ""


def test_overflow_flag_toggles_once_per_full_queue() -> None:
    e, v = rig([])
    v["EVENTQ_BASE"] = R.EVENTQ_BASE(ADDR=0x20_0000, LOG2SIZE=2).to_int()   # 4 records
    ovf = R.EVENTQ_PROD.field("OVFLG").mask
    assert "not full" in e.check_eventq_prod(v, 2 | ovf)
    assert e.check_eventq_prod(v, 4) == ""                          # full, no overflow yet
    v["EVENTQ_PROD"] = 4
    assert e.check_eventq_prod(v, 4 | ovf) == ""                    # first overflow
    v["EVENTQ_PROD"] = 4 | ovf
    assert "toggled again" in e.check_eventq_prod(v, 4)             # not acknowledged
    v["EVENTQ_CONS"] = R.EVENTQ_CONS(RD=4, OVACKFLG=1).to_int()     # drained and acked
    assert e.check_eventq_prod(v, 4 | ovf) == ""


def test_the_first_erroneous_command_follows_the_queues_memory() -> None:
    """The scoreboard remembers its last answer for the same pointers; a command rewritten
    in place (the queue's memory changed) is judged again, and so is a longer queue."""
    e, v = rig([C.CmdSync(), C.CmdSync()])
    assert e.first_error(v, 0) is None
    e.mem.write(CMDQ + 16, C.CmdSync(CS=0b11).to_bytes())            # CS=0b11: CERROR_ILL
    assert e.first_error(v, 0) == (1, ILL)
    e.mem.write(CMDQ + 16, C.CmdSync().to_bytes())
    assert e.first_error(v, 0) is None
    e.mem.write(CMDQ + 32, C.CmdSync(CS=0b11).to_bytes())
    v["CMDQ_PROD"] = 3
    assert e.first_error(v, 0) == (2, ILL)
    assert e.first_error(v, 3) is None
