"""Command queue entries (ref §5): one 128-bit class per opcode, plus a never-raising decoder.

Each class only declares the fields its command has, so bits that belong to another command
(e.g. an SSV bit on CFGI_CD) are reported as reserved by ``problems()``: that is how a model
sees a command that must raise CERROR_ILL. SSec is declared on the StreamID-addressed commands
that may be issued on a Secure queue; ATC_INV and PRI_RESP are Non-secure only (spec 4.5).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar, cast

from models.arch.bitfield import ArchStruct, arch_struct, bits, dw
from models.arch.priq import PriRespCode

__all__ = [
    "CmdAtcInv", "CmdCfgiCd", "CmdCfgiCdAll", "CmdCfgiSte", "CmdCfgiSteRange", "CmdPrefetchAddr",
    "CmdPrefetchConfig", "CmdPriResp", "CmdResume", "CmdStallTerm", "CmdSync", "CmdTlbiEl2All",
    "CmdTlbiEl2Asid", "CmdTlbiEl2Va", "CmdTlbiEl2Vaa", "CmdTlbiNhAll", "CmdTlbiNhAsid",
    "CmdTlbiNhVa", "CmdTlbiNhVaa", "CmdTlbiNsnhAll", "CmdTlbiS12Vmall", "CmdTlbiS2Ipa",
    "Command", "COMMAND_CLASSES", "Opcode", "ResumeAction", "SyncCS", "UnknownCommand",
    "cfgi_all", "decode_command",
]


class Opcode(enum.IntEnum):
    PREFETCH_CONFIG = 0x01
    PREFETCH_ADDR = 0x02
    CFGI_STE = 0x03
    CFGI_STE_RANGE = 0x04  # CFGI_ALL is this opcode with Range = 31; 0x07 is undefined
    CFGI_CD = 0x05
    CFGI_CD_ALL = 0x06
    TLBI_NH_ALL = 0x10
    TLBI_NH_ASID = 0x11
    TLBI_NH_VA = 0x12
    TLBI_NH_VAA = 0x13
    TLBI_EL2_ALL = 0x20
    TLBI_EL2_ASID = 0x21
    TLBI_EL2_VA = 0x22
    TLBI_EL2_VAA = 0x23
    TLBI_S12_VMALL = 0x28
    TLBI_S2_IPA = 0x2A
    TLBI_NSNH_ALL = 0x30
    ATC_INV = 0x40
    PRI_RESP = 0x41
    RESUME = 0x44
    STALL_TERM = 0x45
    SYNC = 0x46


class SyncCS(enum.IntEnum):
    """CMD_SYNC.CS; 0b11 is reserved (CERROR_ILL)."""

    SIG_NONE = 0b00
    SIG_IRQ = 0b01
    SIG_SEV = 0b10


class ResumeAction(enum.IntEnum):
    """What a CMD_RESUME does, derived from its Ac and Ab bits.

    The values equal Linux's 2-bit RESP encoding of dw0[13:12] (Ac is bit 12, Ab bit 13), but
    the spec defines two independent bits: Ac=1 retries and Ab is then ignored, so there is no
    reserved combination to report.
    """

    TERMINATE = 0  # Ac=0, Ab=0: complete with RAZ/WI
    RETRY = 1  # Ac=1
    ABORT = 2  # Ac=0, Ab=1


# -- field declarations shared by several commands --------------------------------------------
def _opcode(op: Opcode) -> Any:
    return dw(0, 7, 0, enum=Opcode, default=op)


def _ssec() -> Any:
    return dw(0, 10, 10)


def _ssv() -> Any:
    return dw(0, 11, 11)


def _ssid() -> Any:
    return dw(0, 31, 12)


def _sid() -> Any:
    return dw(0, 63, 32)


def _num() -> Any:
    return dw(0, 16, 12)


def _scale() -> Any:
    return dw(0, 24, 20)


def _vmid() -> Any:
    return dw(0, 47, 32)


def _asid() -> Any:
    return dw(0, 63, 48)


def _leaf() -> Any:
    return dw(1, 0, 0)


def _ttl() -> Any:
    return dw(1, 9, 8)


def _tg() -> Any:
    return dw(1, 11, 10)


def _addr() -> Any:
    return dw(1, 63, 12, addr_lo=12)


class Command(ArchStruct):
    """Base of every command class; ``OPCODE`` is the default of its ``Opcode`` field."""

    NBITS = 128  # every command queue entry, whatever its opcode
    SIZE = NBITS // 8
    OPCODE: ClassVar[int]
    Opcode: int


COMMAND_CLASSES: dict[int, type[Command]] = {}
_C = TypeVar("_C", bound=Command)


def _command(cls: type[_C]) -> type[_C]:
    """arch_struct(128) plus registration under the opcode that the class's Opcode defaults to."""
    cls = cast(type[_C], arch_struct(Command.NBITS)(cls))
    (op,) = (f.default for f in dataclasses.fields(cls) if f.name == "Opcode")
    if op in COMMAND_CLASSES:
        raise TypeError(f"{cls.__name__}: opcode {op:#x} already used")
    cls.OPCODE = op
    COMMAND_CLASSES[op] = cls
    return cls


# -- prefetch and configuration invalidation ---------------------------------------------------
@_command
class CmdPrefetchConfig(Command):
    Opcode: int = _opcode(Opcode.PREFETCH_CONFIG)
    SSec: int = _ssec()
    SSV: int = _ssv()
    SubstreamID: int = _ssid()
    StreamID: int = _sid()


@_command
class CmdPrefetchAddr(Command):
    Opcode: int = _opcode(Opcode.PREFETCH_ADDR)
    SSec: int = _ssec()
    SSV: int = _ssv()
    SubstreamID: int = _ssid()
    StreamID: int = _sid()
    Size: int = dw(1, 4, 0)
    Addr: int = _addr()


@_command
class CmdCfgiSte(Command):
    Opcode: int = _opcode(Opcode.CFGI_STE)
    SSec: int = _ssec()
    StreamID: int = _sid()
    Leaf: int = _leaf()


@_command
class CmdCfgiSteRange(Command):
    Opcode: int = _opcode(Opcode.CFGI_STE_RANGE)
    SSec: int = _ssec()
    StreamID: int = _sid()
    Range: int = dw(1, 4, 0)


def cfgi_all() -> CmdCfgiSteRange:
    """CMD_CFGI_ALL: not an opcode of its own, but CFGI_STE_RANGE covering all 2^32 StreamIDs."""
    return CmdCfgiSteRange(Range=31)


@_command
class CmdCfgiCd(Command):
    Opcode: int = _opcode(Opcode.CFGI_CD)
    SSec: int = _ssec()
    SubstreamID: int = _ssid()
    StreamID: int = _sid()
    Leaf: int = _leaf()


@_command
class CmdCfgiCdAll(Command):
    Opcode: int = _opcode(Opcode.CFGI_CD_ALL)
    SSec: int = _ssec()
    StreamID: int = _sid()


# -- TLB invalidation --------------------------------------------------------------------------
@_command
class CmdTlbiNhAll(Command):
    Opcode: int = _opcode(Opcode.TLBI_NH_ALL)
    VMID: int = _vmid()


@_command
class CmdTlbiNhAsid(Command):
    Opcode: int = _opcode(Opcode.TLBI_NH_ASID)
    VMID: int = _vmid()
    ASID: int = _asid()


@_command
class CmdTlbiNhVa(Command):
    Opcode: int = _opcode(Opcode.TLBI_NH_VA)
    NUM: int = _num()
    SCALE: int = _scale()
    VMID: int = _vmid()
    ASID: int = _asid()
    Leaf: int = _leaf()
    TTL: int = _ttl()
    TG: int = _tg()
    Addr: int = _addr()


@_command
class CmdTlbiNhVaa(Command):
    Opcode: int = _opcode(Opcode.TLBI_NH_VAA)
    NUM: int = _num()
    SCALE: int = _scale()
    VMID: int = _vmid()
    Leaf: int = _leaf()
    TTL: int = _ttl()
    TG: int = _tg()
    Addr: int = _addr()


@_command
class CmdTlbiEl2All(Command):
    Opcode: int = _opcode(Opcode.TLBI_EL2_ALL)


@_command
class CmdTlbiEl2Asid(Command):
    Opcode: int = _opcode(Opcode.TLBI_EL2_ASID)
    ASID: int = _asid()


@_command
class CmdTlbiEl2Va(Command):
    Opcode: int = _opcode(Opcode.TLBI_EL2_VA)
    NUM: int = _num()
    SCALE: int = _scale()
    ASID: int = _asid()
    Leaf: int = _leaf()
    TTL: int = _ttl()
    TG: int = _tg()
    Addr: int = _addr()


@_command
class CmdTlbiEl2Vaa(Command):
    Opcode: int = _opcode(Opcode.TLBI_EL2_VAA)
    NUM: int = _num()
    SCALE: int = _scale()
    Leaf: int = _leaf()
    TTL: int = _ttl()
    TG: int = _tg()
    Addr: int = _addr()


@_command
class CmdTlbiS12Vmall(Command):
    Opcode: int = _opcode(Opcode.TLBI_S12_VMALL)
    VMID: int = _vmid()


@_command
class CmdTlbiS2Ipa(Command):
    Opcode: int = _opcode(Opcode.TLBI_S2_IPA)
    NUM: int = _num()
    SCALE: int = _scale()
    VMID: int = _vmid()
    Leaf: int = _leaf()
    TTL: int = _ttl()
    TG: int = _tg()
    IPA: int = dw(1, 51, 12, addr_lo=12)


@_command
class CmdTlbiNsnhAll(Command):
    Opcode: int = _opcode(Opcode.TLBI_NSNH_ALL)


# -- ATS / PRI / stall responses and SYNC ------------------------------------------------------
@_command
class CmdAtcInv(Command):
    Opcode: int = _opcode(Opcode.ATC_INV)
    Global: int = dw(0, 9, 9)
    SSV: int = _ssv()
    SubstreamID: int = _ssid()
    StreamID: int = _sid()
    Size: int = dw(1, 5, 0)  # span 4 KiB * 2^Size; 52 = everything
    Addr: int = _addr()


@_command
class CmdPriResp(Command):
    Opcode: int = _opcode(Opcode.PRI_RESP)
    SSV: int = _ssv()
    SubstreamID: int = _ssid()
    StreamID: int = _sid()
    PRGIndex: int = dw(1, 8, 0)
    Resp: int = dw(1, 13, 12, enum=PriRespCode)


@_command
class CmdResume(Command):
    Opcode: int = _opcode(Opcode.RESUME)
    SSec: int = _ssec()
    Ac: int = dw(0, 12, 12)
    Ab: int = dw(0, 13, 13)
    StreamID: int = _sid()
    STAG: int = dw(1, 15, 0)

    @property
    def action(self) -> ResumeAction:
        if self.Ac:
            return ResumeAction.RETRY
        return ResumeAction.ABORT if self.Ab else ResumeAction.TERMINATE

    @classmethod
    def make(cls, stream_id: int, stag: int, action: ResumeAction) -> CmdResume:
        return cls(StreamID=stream_id, STAG=stag, Ac=int(action == ResumeAction.RETRY),
                   Ab=int(action == ResumeAction.ABORT))


@_command
class CmdStallTerm(Command):
    Opcode: int = _opcode(Opcode.STALL_TERM)
    SSec: int = _ssec()
    StreamID: int = _sid()


@_command
class CmdSync(Command):
    Opcode: int = _opcode(Opcode.SYNC)
    CS: int = dw(0, 13, 12, enum=SyncCS)
    MSH: int = dw(0, 23, 22)
    MSIAttr: int = dw(0, 27, 24)
    MSIData: int = dw(0, 63, 32)
    # The spec allows [55:2]; with a PA of at most 52 bits [55:52] are kept reserved.
    MSIAddr: int = dw(1, 51, 2, addr_lo=2)


@arch_struct(Command.NBITS)
class UnknownCommand(ArchStruct):
    """A command whose opcode is not defined: everything but the opcode is kept opaque.

    ``problems()`` always names the opcode, because it is never in :class:`Opcode`.
    """

    Opcode: int = dw(0, 7, 0, enum=Opcode)
    Body: int = bits(127, 8)  # right-aligned

    @property
    def raw(self) -> int:
        return self.to_int()


AnyCommand = Command | UnknownCommand


def decode_command(raw: bytes | bytearray | int | Sequence[int]) -> AnyCommand:
    """Decode a 16-byte entry (bytes, a 128-bit int, or two 64-bit words, dw0 first).

    Unknown opcodes give an :class:`UnknownCommand`; only a malformed *container* (wrong length,
    too wide) raises, since that is a caller bug, not data the SMMU could be handed.
    """
    if isinstance(raw, (bytes, bytearray)):
        if len(raw) != UnknownCommand.SIZE:
            raise ValueError(f"UnknownCommand: need {UnknownCommand.SIZE} bytes, got {len(raw)}")
        value = int.from_bytes(raw, "little")
    elif isinstance(raw, int):
        value = raw
    else:
        if len(raw) != 2:
            raise ValueError(f"a command is 2 64-bit words, got {len(raw)}")
        value = UnknownCommand.from_words(list(raw)).to_int()
    if value < 0 or value >> 128:
        raise ValueError(f"command {value:#x} does not fit in 128 bits")
    cls: type[AnyCommand] = COMMAND_CLASSES.get(value & 0xFF, UnknownCommand)
    return cls.from_int(value)
