"""Event queue records (ref §6): 32 bytes, one layout class per meaning of dw3.

dw0..dw2 are common to every architected event, but dw3 means different things: the IPA
(dw3[51:12]) for translation-class faults, the FetchAddr (dw3[51:3]) for fetch aborts, nothing
otherwise. The two overlap, so one class cannot hold both without losing bit-exactness (the
framework rejects overlapping fields), and a raw ``dw3`` field would hide reserved bits. Hence
three layouts, :class:`Event` (dw3 reserved), :class:`TranslationEvent` (+IPA) and
:class:`FetchEvent` (+FetchAddr), and :func:`decode_event` picks one from the EventID, so
``problems()`` stays exact for every record. Extra fields whose positions the reference marks
as unverified or IMPLEMENTATION DEFINED (F_UUT/F_TLB_CONFLICT/F_CFG_CONFLICT reasons, span and
hints of F_BAD_ATS_TREQ/E_PAGE_REQUEST) are not declared: if a producer sets them they show as
reserved bits. IMPDEF IDs and unknown IDs keep their raw payload.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from models.arch.bitfield import ArchStruct, arch_struct, bits, dw

__all__ = [
    "AnyEvent",
    "Event",
    "EventClass",
    "EventID",
    "FetchEvent",
    "IMPDEF_EVENT_IDS",
    "ImpdefEvent",
    "TranslationEvent",
    "UnknownEvent",
    "decode_event",
    "layout_for",
    "make_event",
]


class EventID(enum.IntEnum):
    F_UUT = 0x01
    C_BAD_STREAMID = 0x02
    F_STE_FETCH = 0x03
    C_BAD_STE = 0x04
    F_BAD_ATS_TREQ = 0x05
    F_STREAM_DISABLED = 0x06
    F_TRANSL_FORBIDDEN = 0x07
    C_BAD_SUBSTREAMID = 0x08
    F_CD_FETCH = 0x09
    C_BAD_CD = 0x0A
    F_WALK_EABT = 0x0B
    F_TRANSLATION = 0x10
    F_ADDR_SIZE = 0x11
    F_ACCESS = 0x12
    F_PERMISSION = 0x13
    F_TLB_CONFLICT = 0x20
    F_CFG_CONFLICT = 0x21
    E_PAGE_REQUEST = 0x24
    F_VMS_FETCH = 0x25


IMPDEF_EVENT_IDS = range(0xE0, 0xF0)


class EventClass(enum.IntEnum):
    """Event CLASS: which kind of input to the translation faulted; 0b11 is reserved."""

    CD = 0b00
    TT = 0b01
    IN = 0b10


@arch_struct(256)
class Event(ArchStruct):
    """Common record layout; also the whole layout of events that put nothing in dw3."""

    EventID: int = dw(0, 7, 0, enum=EventID)
    SSV: int = dw(0, 11, 11)
    SubstreamID: int = dw(0, 31, 12)
    StreamID: int = dw(0, 63, 32)
    STAG: int = dw(1, 15, 0)
    Stall: int = dw(1, 31, 31)
    PnU: int = dw(1, 33, 33)  # 1 = privileged
    InD: int = dw(1, 34, 34)  # 1 = instruction
    RnW: int = dw(1, 35, 35)  # 1 = read
    S2: int = dw(1, 39, 39)
    CLASS: int = dw(1, 41, 40, enum=EventClass)
    TTRnW: int = dw(1, 44, 44)
    InputAddr: int = dw(2, 63, 0)


@arch_struct(256)
class TranslationEvent(Event):
    """F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION, F_TLB_CONFLICT: dw3 is the IPA."""

    IPA: int = dw(3, 51, 12, addr_lo=12)  # stage-2 faults only; UNKNOWN (write 0) at stage 1


@arch_struct(256)
class FetchEvent(Event):
    """F_STE_FETCH, F_CD_FETCH, F_WALK_EABT, F_VMS_FETCH: dw3 is the aborted fetch address."""

    FetchAddr: int = dw(3, 51, 3, addr_lo=3)  # v3.4 widens to [55:3]; PA <= 52 bits here


@arch_struct(256)
class ImpdefEvent(ArchStruct):
    """EventID 0xE0..0xEF: the contents are IMPLEMENTATION DEFINED, so nothing is reserved."""

    EventID: int = dw(0, 7, 0)
    Payload: int = bits(255, 8)  # right-aligned


@arch_struct(256)
class UnknownEvent(ArchStruct):
    """An EventID neither architected nor IMPDEF; ``problems()`` always names it."""

    EventID: int = dw(0, 7, 0, enum=EventID)
    Payload: int = bits(255, 8)


AnyEvent = Event | ImpdefEvent | UnknownEvent

_LAYOUTS: dict[int, type[Event]] = {
    **dict.fromkeys((EventID.F_STE_FETCH, EventID.F_CD_FETCH, EventID.F_WALK_EABT,
                     EventID.F_VMS_FETCH), FetchEvent),
    **dict.fromkeys((EventID.F_TRANSLATION, EventID.F_ADDR_SIZE, EventID.F_ACCESS,
                     EventID.F_PERMISSION, EventID.F_TLB_CONFLICT), TranslationEvent),
}


def layout_for(event_id: int) -> type[Event]:
    """Record class for an architected EventID; raises ValueError for any other ID."""
    return _LAYOUTS.get(EventID(event_id), Event)


def make_event(event_id: int, **fields: Any) -> Event:
    """Build an architected event in the layout its ID requires."""
    return layout_for(event_id)(EventID=EventID(event_id), **fields)


def decode_event(raw: bytes | bytearray | int | Sequence[int]) -> AnyEvent:
    """Decode a record (32 bytes, a 256-bit int, or four 64-bit words, dw0 first).

    Never raises on the contents; only a malformed container (wrong size) raises.
    """
    if isinstance(raw, (bytes, bytearray)):
        if len(raw) != UnknownEvent.SIZE:
            raise ValueError(f"UnknownEvent: need {UnknownEvent.SIZE} bytes, got {len(raw)}")
        value = int.from_bytes(raw, "little")
    elif isinstance(raw, int):
        value = raw
    else:
        if len(raw) != 4:
            raise ValueError(f"an event record is 4 64-bit words, got {len(raw)}")
        value = UnknownEvent.from_words(list(raw)).to_int()
    if value < 0 or value >> 256:
        raise ValueError(f"event record {value:#x} does not fit in 256 bits")
    event_id = value & 0xFF
    cls: type[AnyEvent]
    if event_id in EventID._value2member_map_:
        cls = _LAYOUTS.get(event_id, Event)
    elif event_id in IMPDEF_EVENT_IDS:
        cls = ImpdefEvent
    else:
        cls = UnknownEvent
    return cls.from_int(value)
