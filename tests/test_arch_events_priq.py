"""Event records (layout chosen by EventID, unknown/IMPDEF IDs) and PRI queue entries."""

from __future__ import annotations

import pytest

from models.arch import events as ev
from models.arch.priq import LINUX_PAGE_RESP, PCIE_PRG_RESPONSE, PriEntry, PriRespCode

# Which dw3 interpretation each architected ID uses (ref §6.1/§6.2), written independently.
FETCH_IDS = {0x03, 0x09, 0x0B, 0x25}
TRANSLATION_IDS = {0x10, 0x11, 0x12, 0x13, 0x20}


@pytest.mark.parametrize("event_id", list(ev.EventID))
def test_layout_follows_event_id(event_id: ev.EventID) -> None:
    expected = (ev.FetchEvent if event_id in FETCH_IDS
                else ev.TranslationEvent if event_id in TRANSLATION_IDS else ev.Event)
    assert ev.layout_for(event_id) is expected
    decoded = ev.decode_event(int(event_id))
    assert type(decoded) is expected
    assert decoded.problems() == []


def test_ipa_and_fetch_addr_read_the_same_dword_differently() -> None:
    dw3 = 0x000F_1234_5678_9008  # bits [51:3]: a FetchAddr; bits [11:0] != 0: not an IPA
    fetch = ev.decode_event([0x09, 0, 0, dw3])
    assert isinstance(fetch, ev.FetchEvent)
    assert fetch.FetchAddr == dw3
    assert fetch.problems() == []
    trans = ev.decode_event([0x10, 0, 0, dw3])
    assert isinstance(trans, ev.TranslationEvent)
    assert trans.IPA == dw3 & ~0xFFF
    assert trans.problems() == ["reserved bits set: 0x8" + "0" * 48]
    plain = ev.decode_event([0x04, 0, 0, dw3])
    assert type(plain) is ev.Event
    assert plain.reserved_bits() == dw3 << 192


def test_stage1_permission_fault_record() -> None:
    e = ev.make_event(ev.EventID.F_PERMISSION, StreamID=0x100, SSV=1, SubstreamID=1,
                      Stall=1, STAG=0x77, PnU=0, InD=0, RnW=0, CLASS=ev.EventClass.IN,
                      InputAddr=0x0000_7FFF_DEAD_B000)
    assert isinstance(e, ev.TranslationEvent)
    assert e.to_words() == [0x13 | 1 << 11 | 1 << 12 | 0x100 << 32,
                            0x77 | 1 << 31 | 0b10 << 40, 0x0000_7FFF_DEAD_B000, 0]
    assert ev.decode_event(e.to_bytes()) == e


def test_fetch_abort_record() -> None:
    e = ev.make_event(ev.EventID.F_WALK_EABT, StreamID=3, CLASS=ev.EventClass.TT,
                      InputAddr=0x1000, FetchAddr=0xDEAD_BEE8)
    assert isinstance(e, ev.FetchEvent)
    assert e.to_words()[3] == 0xDEAD_BEE8
    with pytest.raises(ValueError, match="FetchAddr"):
        ev.make_event(ev.EventID.F_CD_FETCH, FetchAddr=0x1004).to_int()


@pytest.mark.parametrize("event_id", [0x00, 0x0C, 0x0F, 0x14, 0x22, 0x26, 0x80, 0xDF, 0xF0, 0xFF])
def test_unknown_event_id_decodes_and_is_reported(event_id: int) -> None:
    raw = event_id | 0x1234 << 32 | 0xFF << 200
    e = ev.decode_event(raw)
    assert isinstance(e, ev.UnknownEvent)
    assert e.EventID == event_id
    assert e.to_int() == raw
    assert e.problems() == [f"EventID={event_id:#x} is reserved"]
    with pytest.raises(ValueError):
        ev.make_event(event_id)


@pytest.mark.parametrize("event_id", [0xE0, 0xE7, 0xEF])
def test_impdef_event_ids_are_recognised(event_id: int) -> None:
    raw = event_id | (1 << 255) | (0xABC << 64)
    e = ev.decode_event(raw.to_bytes(32, "little"))
    assert isinstance(e, ev.ImpdefEvent)
    assert event_id in ev.IMPDEF_EVENT_IDS
    assert e.to_int() == raw
    assert e.problems() == []


def test_reserved_event_fields_are_reported() -> None:
    assert ev.decode_event(0x10 | 0b11 << 104).problems() == ["CLASS=0x3 is reserved"]
    for bit in (8, 9, 10, 80, 96, 100, 109, 127):
        assert ev.decode_event(0x04 | 1 << bit).problems() == [
            f"reserved bits set: {1 << bit:#x}"]
    assert ev.decode_event(0x03 | 0b111 << 192).reserved_bits() == 0b111 << 192


def test_malformed_event_containers_raise() -> None:
    with pytest.raises(ValueError):
        ev.decode_event(bytes(31))
    with pytest.raises(ValueError):
        ev.decode_event([0, 0])
    with pytest.raises(ValueError):
        ev.decode_event(1 << 256)


# -- PRI ------------------------------------------------------------------------------------------
def test_pri_entry_example() -> None:
    e = PriEntry(StreamID=0x42, SubstreamID=0xFFFFF, R=1, W=1, Last=1, SSV=1, PRGIndex=0x1AB,
                 PageAddr=0x0000_7F00_1234_5000)
    assert e.to_words() == [0x42 | 0xFFFFF << 32 | 1 << 60 | 1 << 61 | 1 << 62 | 1 << 63,
                            0x1AB | 0x0000_7F00_1234_5000]
    assert not e.is_stop_marker
    assert PriEntry.from_int(1 << 52).problems() == [f"reserved bits set: {1 << 52:#x}"]


@pytest.mark.parametrize(("ssv", "last", "r", "w", "stop"), [
    (1, 1, 0, 0, True), (0, 1, 0, 0, False), (1, 0, 0, 0, False), (1, 1, 1, 0, False),
    (1, 1, 0, 1, False)])
def test_stop_marker(ssv: int, last: int, r: int, w: int, stop: bool) -> None:
    assert PriEntry(SSV=ssv, Last=last, R=r, W=w).is_stop_marker is stop


def test_pri_response_code_mappings() -> None:
    assert {k.name: v for k, v in PCIE_PRG_RESPONSE.items()} == {
        "SUCCESS": 0b0000, "INVALID_REQUEST": 0b0001, "RESPONSE_FAILURE": 0b1111}
    assert {k.name: v for k, v in LINUX_PAGE_RESP.items()} == {
        "SUCCESS": 0, "INVALID_REQUEST": 1, "RESPONSE_FAILURE": 2}
    assert 0b11 not in PriRespCode._value2member_map_
