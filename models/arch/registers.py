"""SMMUv3 Non-secure programming-interface registers: offsets and field layouts (ref §1).

Each register is an :class:`ArchStruct`; :data:`REGISTERS` maps names to offsets. 64-bit
registers are also reachable as two 32-bit halves at ``offset`` and ``offset + 4``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from models.arch.bitfield import ArchStruct, arch_struct, bits

PAGE1 = 0x10000


class TTF(enum.IntEnum):
    AARCH32 = 0b01
    AARCH64 = 0b10
    BOTH = 0b11


class HTTU(enum.IntEnum):
    NONE = 0b00
    ACCESS = 0b01
    ACCESS_DIRTY = 0b10
    ACCESS_DIRTY_TABLE = 0b11


class TTEndian(enum.IntEnum):
    MIXED = 0b00
    LITTLE = 0b10
    BIG = 0b11


class StallModel(enum.IntEnum):
    STALL_AND_TERMINATE = 0b00
    TERMINATE_ONLY = 0b01
    STALL_FORCED = 0b10


class STLevel(enum.IntEnum):
    LINEAR = 0b00
    TWO_LEVEL = 0b01


class OAS(enum.IntEnum):
    """IDR5.OAS; CD.IPS and STE.S2PS use the same encoding."""

    PA32 = 0
    PA36 = 1
    PA40 = 2
    PA42 = 3
    PA44 = 4
    PA48 = 5
    PA52 = 6

    @property
    def nbits(self) -> int:
        return (32, 36, 40, 42, 44, 48, 52)[self.value]


OAS_BITS = {o: o.nbits for o in OAS}


class StrtabFmt(enum.IntEnum):
    LINEAR = 0b00
    TWO_LEVEL = 0b01


class CmdqErr(enum.IntEnum):
    CERROR_NONE = 0x00
    CERROR_ILL = 0x01
    CERROR_ABT = 0x02
    CERROR_ATC_INV_SYNC = 0x03


@arch_struct(32)
class IDR0(ArchStruct):
    S2P: int = bits(0, 0)
    S1P: int = bits(1, 1)
    TTF: int = bits(3, 2, enum=TTF)
    COHACC: int = bits(4, 4)
    BTM: int = bits(5, 5)
    HTTU: int = bits(7, 6, enum=HTTU)
    DORMHINT: int = bits(8, 8)
    HYP: int = bits(9, 9)
    ATS: int = bits(10, 10)
    NS1ATS: int = bits(11, 11)
    ASID16: int = bits(12, 12)
    MSI: int = bits(13, 13)
    SEV: int = bits(14, 14)
    ATOS: int = bits(15, 15)
    PRI: int = bits(16, 16)
    VMW: int = bits(17, 17)
    VMID16: int = bits(18, 18)
    CD2L: int = bits(19, 19)
    VATOS: int = bits(20, 20)
    TTENDIAN: int = bits(22, 21, enum=TTEndian)
    ATSRECERR: int = bits(23, 23)
    STALL_MODEL: int = bits(25, 24, enum=StallModel)
    TERM_MODEL: int = bits(26, 26)
    ST_LEVEL: int = bits(28, 27, enum=STLevel)


@arch_struct(32)
class IDR1(ArchStruct):
    SIDSIZE: int = bits(5, 0)
    SSIDSIZE: int = bits(10, 6)
    PRIQS: int = bits(15, 11)
    EVENTQS: int = bits(20, 16)
    CMDQS: int = bits(25, 21)
    ATTR_PERMS_OVR: int = bits(26, 26)
    ATTR_TYPES_OVR: int = bits(27, 27)
    REL: int = bits(28, 28)
    QUEUES_PRESET: int = bits(29, 29)
    TABLES_PRESET: int = bits(30, 30)
    ECMDQ: int = bits(31, 31)


@arch_struct(32)
class IDR2(ArchStruct):
    BA_VATOS: int = bits(9, 0)


@arch_struct(32)
class IDR3(ArchStruct):
    HAD: int = bits(2, 2)
    PPS: int = bits(5, 5)
    STT: int = bits(9, 9)
    RIL: int = bits(10, 10)


@arch_struct(32)
class IDR5(ArchStruct):
    OAS: int = bits(2, 0, enum=OAS)
    GRAN4K: int = bits(4, 4)
    GRAN16K: int = bits(5, 5)
    GRAN64K: int = bits(6, 6)
    VAX: int = bits(11, 10)
    STALL_MAX: int = bits(31, 16)


@arch_struct(32)
class IIDR(ArchStruct):
    Implementer: int = bits(11, 0)
    Revision: int = bits(15, 12)
    Variant: int = bits(19, 16)
    ProductID: int = bits(31, 20)


@arch_struct(32)
class AIDR(ArchStruct):
    ArchMinorRev: int = bits(3, 0)
    ArchMajorRev: int = bits(7, 4)


@arch_struct(32)
class CR0(ArchStruct):
    SMMUEN: int = bits(0, 0)
    PRIQEN: int = bits(1, 1)
    EVENTQEN: int = bits(2, 2)
    CMDQEN: int = bits(3, 3)
    ATSCHK: int = bits(4, 4)
    VMW: int = bits(8, 6)


@arch_struct(32)
class CR1(ArchStruct):
    QUEUE_IC: int = bits(1, 0)
    QUEUE_OC: int = bits(3, 2)
    QUEUE_SH: int = bits(5, 4)
    TABLE_IC: int = bits(7, 6)
    TABLE_OC: int = bits(9, 8)
    TABLE_SH: int = bits(11, 10)


@arch_struct(32)
class CR2(ArchStruct):
    E2H: int = bits(0, 0)
    RECINVSID: int = bits(1, 1)
    PTM: int = bits(2, 2)


@arch_struct(32)
class STATUSR(ArchStruct):
    DORMANT: int = bits(0, 0)


@arch_struct(32)
class GBPA(ArchStruct):
    MemAttr: int = bits(3, 0)
    MTCFG: int = bits(4, 4)
    ALLOCCFG: int = bits(11, 8)
    SHCFG: int = bits(13, 12)
    PRIVCFG: int = bits(17, 16)
    INSTCFG: int = bits(19, 18)
    ABORT: int = bits(20, 20)
    Update: int = bits(31, 31)


@arch_struct(32)
class IRQ_CTRL(ArchStruct):
    GERROR_IRQEN: int = bits(0, 0)
    PRIQ_IRQEN: int = bits(1, 1)
    EVENTQ_IRQEN: int = bits(2, 2)


@arch_struct(32)
class GERROR(ArchStruct):
    CMDQ_ERR: int = bits(0, 0)
    EVENTQ_ABT_ERR: int = bits(2, 2)
    PRIQ_ABT_ERR: int = bits(3, 3)
    MSI_CMDQ_ABT_ERR: int = bits(4, 4)
    MSI_EVENTQ_ABT_ERR: int = bits(5, 5)
    MSI_PRIQ_ABT_ERR: int = bits(6, 6)
    MSI_GERROR_ABT_ERR: int = bits(7, 7)
    SFM_ERR: int = bits(8, 8)


@arch_struct(64)
class IRQ_CFG0(ArchStruct):
    ADDR: int = bits(51, 2, addr_lo=2)


@arch_struct(32)
class IRQ_CFG1(ArchStruct):
    DATA: int = bits(31, 0)


@arch_struct(32)
class IRQ_CFG2(ArchStruct):
    MemAttr: int = bits(3, 0)
    SH: int = bits(5, 4)


@arch_struct(64)
class STRTAB_BASE(ArchStruct):
    ADDR: int = bits(51, 6, addr_lo=6)
    RA: int = bits(62, 62)


@arch_struct(32)
class STRTAB_BASE_CFG(ArchStruct):
    LOG2SIZE: int = bits(5, 0)
    SPLIT: int = bits(10, 6)
    FMT: int = bits(17, 16, enum=StrtabFmt)


@arch_struct(64)
class CMDQ_BASE(ArchStruct):
    LOG2SIZE: int = bits(4, 0)
    ADDR: int = bits(51, 5, addr_lo=5)
    RA: int = bits(62, 62)


@arch_struct(64)
class EVENTQ_BASE(ArchStruct):
    """Also the layout of PRIQ_BASE (output queues carry WA instead of RA)."""

    LOG2SIZE: int = bits(4, 0)
    ADDR: int = bits(51, 5, addr_lo=5)
    WA: int = bits(62, 62)


PRIQ_BASE = EVENTQ_BASE


@arch_struct(32)
class CMDQ_PROD(ArchStruct):
    WR: int = bits(19, 0)


@arch_struct(32)
class CMDQ_CONS(ArchStruct):
    RD: int = bits(19, 0)
    ERR: int = bits(30, 24, enum=CmdqErr)


@arch_struct(32)
class EVENTQ_PROD(ArchStruct):
    """Also the layout of PRIQ_PROD."""

    WR: int = bits(19, 0)
    OVFLG: int = bits(31, 31)


@arch_struct(32)
class EVENTQ_CONS(ArchStruct):
    """Also the layout of PRIQ_CONS."""

    RD: int = bits(19, 0)
    OVACKFLG: int = bits(31, 31)


PRIQ_PROD = EVENTQ_PROD
PRIQ_CONS = EVENTQ_CONS


@dataclass(frozen=True)
class RegDef:
    name: str
    offset: int
    layout: type[ArchStruct]

    @property
    def width(self) -> int:
        return self.layout.NBITS


def _r(name: str, offset: int, layout: type[ArchStruct]) -> RegDef:
    return RegDef(name, offset, layout)


# Non-secure registers by name. EVENTQ/PRIQ PROD and CONS live in page 1 only.
REGISTERS: dict[str, RegDef] = {r.name: r for r in (
    _r("IDR0", 0x000, IDR0), _r("IDR1", 0x004, IDR1), _r("IDR2", 0x008, IDR2),
    _r("IDR3", 0x00C, IDR3), _r("IDR5", 0x014, IDR5),
    _r("IIDR", 0x018, IIDR), _r("AIDR", 0x01C, AIDR),
    _r("CR0", 0x020, CR0), _r("CR0ACK", 0x024, CR0), _r("CR1", 0x028, CR1),
    _r("CR2", 0x02C, CR2), _r("STATUSR", 0x040, STATUSR), _r("GBPA", 0x044, GBPA),
    _r("IRQ_CTRL", 0x050, IRQ_CTRL), _r("IRQ_CTRLACK", 0x054, IRQ_CTRL),
    _r("GERROR", 0x060, GERROR), _r("GERRORN", 0x064, GERROR),
    _r("GERROR_IRQ_CFG0", 0x068, IRQ_CFG0), _r("GERROR_IRQ_CFG1", 0x070, IRQ_CFG1),
    _r("GERROR_IRQ_CFG2", 0x074, IRQ_CFG2),
    _r("STRTAB_BASE", 0x080, STRTAB_BASE), _r("STRTAB_BASE_CFG", 0x088, STRTAB_BASE_CFG),
    _r("CMDQ_BASE", 0x090, CMDQ_BASE), _r("CMDQ_PROD", 0x098, CMDQ_PROD),
    _r("CMDQ_CONS", 0x09C, CMDQ_CONS),
    _r("EVENTQ_BASE", 0x0A0, EVENTQ_BASE),
    _r("EVENTQ_IRQ_CFG0", 0x0B0, IRQ_CFG0), _r("EVENTQ_IRQ_CFG1", 0x0B8, IRQ_CFG1),
    _r("EVENTQ_IRQ_CFG2", 0x0BC, IRQ_CFG2),
    _r("PRIQ_BASE", 0x0C0, PRIQ_BASE),
    _r("PRIQ_IRQ_CFG0", 0x0D0, IRQ_CFG0), _r("PRIQ_IRQ_CFG1", 0x0D8, IRQ_CFG1),
    _r("PRIQ_IRQ_CFG2", 0x0DC, IRQ_CFG2),
    _r("EVENTQ_PROD", PAGE1 + 0x0A8, EVENTQ_PROD), _r("EVENTQ_CONS", PAGE1 + 0x0AC, EVENTQ_CONS),
    _r("PRIQ_PROD", PAGE1 + 0x0C8, PRIQ_PROD), _r("PRIQ_CONS", PAGE1 + 0x0CC, PRIQ_CONS),
)}

OFFSETS: dict[str, int] = {name: r.offset for name, r in REGISTERS.items()}


# ---- queue pointers (ref §1.5): index in [log2size-1:0], wrap at bit log2size --------------
def q_base(addr: int, entry_size: int, log2size: int) -> int:
    """The effective base of a queue: ADDR aligned to the larger of the queue's size in bytes
    and 32 bytes (§6.3.26, §6.3.29, §6.3.33), the low bits ignored."""
    return addr & ~(max(entry_size << log2size, 32) - 1)


def q_index(ptr: int, log2size: int) -> int:
    return ptr & ((1 << log2size) - 1)


def q_wrap(ptr: int, log2size: int) -> int:
    return (ptr >> log2size) & 1


def q_empty(prod: int, cons: int, log2size: int) -> bool:
    m = (2 << log2size) - 1
    return (prod & m) == (cons & m)


def q_full(prod: int, cons: int, log2size: int) -> bool:
    return (q_index(prod, log2size) == q_index(cons, log2size)
            and q_wrap(prod, log2size) != q_wrap(cons, log2size))


def q_inc(ptr: int, log2size: int, n: int = 1) -> int:
    """Advance an index+wrap pointer by n entries (the wrap bit toggles on roll-over)."""
    m = (2 << log2size) - 1
    return (ptr & ~m) | ((ptr + n) & m)


def q_used(prod: int, cons: int, log2size: int) -> int:
    m = (2 << log2size) - 1
    return ((prod & m) - (cons & m)) & m
