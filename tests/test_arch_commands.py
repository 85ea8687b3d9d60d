"""Command decoding: dispatch, unknown opcodes, reserved contents, convenience constructors."""

from __future__ import annotations

import pytest

from models.arch import commands as c
from models.arch.priq import PriRespCode


def test_decode_accepts_bytes_int_and_words() -> None:
    cmd = c.CmdCfgiCd(SubstreamID=0x12345, StreamID=0xDEAD_BEEF, Leaf=1)
    raw = cmd.to_int()
    assert raw == 0x05 | 0x12345 << 12 | 0xDEAD_BEEF << 32 | 1 << 64
    for form in (raw, cmd.to_bytes(), bytearray(cmd.to_bytes()), cmd.to_words(),
                 tuple(cmd.to_words())):
        assert c.decode_command(form) == cmd


@pytest.mark.parametrize("opcode", [0x00, 0x07, 0x08, 0x14, 0x29, 0x42, 0x47, 0x80, 0xFF])
def test_unknown_opcode_decodes_and_is_reported(opcode: int) -> None:
    raw = opcode | 0xABCD << 32 | 0x1234 << 100
    cmd = c.decode_command(raw)
    assert isinstance(cmd, c.UnknownCommand)
    assert cmd.Opcode == opcode
    assert cmd.raw == raw
    assert cmd.to_bytes() == raw.to_bytes(16, "little")
    assert cmd.problems() == [f"Opcode={opcode:#x} is reserved"]


def test_malformed_containers_raise() -> None:
    with pytest.raises(ValueError):
        c.decode_command(bytes(15))
    with pytest.raises(ValueError):
        c.decode_command([0, 0, 0])
    with pytest.raises(ValueError):
        c.decode_command(1 << 128)


@pytest.mark.parametrize(("raw", "name"), [
    (0x05 | 1 << 11, "SSV on CFGI_CD"),
    (0x03 | 1 << 12, "SubstreamID on CFGI_STE"),
    (0x03 | 1 << 65, "dw1 above Leaf"),
    (0x40 | 1 << 10, "SSec on ATC_INV"),
    (0x46 | 1 << 116, "MSIAddr above bit 51"),
    (0x2A | 1 << 116, "IPA above bit 51"),
    (0x30 | 1 << 8, "anything on TLBI_NSNH_ALL"),
])
def test_reserved_bits_in_known_commands_are_reported(raw: int, name: str) -> None:
    cmd = c.decode_command(raw)
    assert not isinstance(cmd, c.UnknownCommand)
    assert cmd.problems() and cmd.problems()[0].startswith("reserved bits set"), name


def test_reserved_enum_values_are_reported() -> None:
    assert c.decode_command(0x46 | 0b11 << 12).problems() == ["CS=0x3 is reserved"]
    assert c.decode_command(0x41 | 0b11 << 76).problems() == ["Resp=0x3 is reserved"]
    assert c.decode_command(0x41 | 0b10 << 76).named("Resp") == "SUCCESS"


def test_cfgi_all_is_cfgi_ste_range_31() -> None:
    cmd = c.cfgi_all()
    assert type(cmd) is c.CmdCfgiSteRange
    assert cmd.to_words() == [0x04, 31]
    assert c.decode_command(cmd.to_bytes()) == cmd


@pytest.mark.parametrize(("action", "ac", "ab"), [
    (c.ResumeAction.TERMINATE, 0, 0), (c.ResumeAction.RETRY, 1, 0), (c.ResumeAction.ABORT, 0, 1)])
def test_resume_action(action: c.ResumeAction, ac: int, ab: int) -> None:
    cmd = c.CmdResume.make(7, 0x55, action)
    assert (cmd.Ac, cmd.Ab, cmd.StreamID, cmd.STAG) == (ac, ab, 7, 0x55)
    assert cmd.to_words() == [0x44 | ac << 12 | ab << 13 | 7 << 32, 0x55]
    assert cmd.action is action
    # Linux's RESP encoding of dw0[13:12] is the action's value
    assert (cmd.to_words()[0] >> 12) & 3 == action


def test_resume_retry_ignores_ab() -> None:
    cmd = c.decode_command(0x44 | 0b11 << 12)
    assert isinstance(cmd, c.CmdResume)
    assert cmd.action is c.ResumeAction.RETRY
    assert cmd.problems() == []


def test_sync_and_pri_resp_examples() -> None:
    sync = c.CmdSync(CS=c.SyncCS.SIG_IRQ, MSH=3, MSIAttr=0xF, MSIData=0, MSIAddr=0x8000_1230)
    assert sync.to_words() == [0x46 | 1 << 12 | 3 << 22 | 0xF << 24, 0x8000_1230]
    resp = c.CmdPriResp(SSV=1, SubstreamID=5, StreamID=0x100, PRGIndex=0x1FF,
                        Resp=PriRespCode.INVALID_REQUEST)
    assert resp.to_words() == [0x41 | 1 << 11 | 5 << 12 | 0x100 << 32, 0x1FF | 1 << 12]


def test_tlbi_va_full_address() -> None:
    cmd = c.CmdTlbiNhVa(ASID=0x42, Leaf=1, Addr=0xFFFF_8000_1234_5000)
    assert cmd.to_words() == [0x12 | 0x42 << 48, 1 | 0xFFFF_8000_1234_5000]
    with pytest.raises(ValueError, match="Addr"):
        c.CmdTlbiNhVa(Addr=0x1234_5800).to_int()


def test_registry_covers_every_opcode_once() -> None:
    assert set(c.COMMAND_CLASSES) == set(c.Opcode)
    for op, cls in c.COMMAND_CLASSES.items():
        assert cls.OPCODE == op
