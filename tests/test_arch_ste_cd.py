"""STE / CD semantics beyond bit positions: reserved values are decoded and reported."""

from __future__ import annotations

import pytest

from models.arch.cd import CD, L1CD, IPSize, TG0Granule, TG1Granule
from models.arch.ste import L1STD, STE, S1DefaultSubstream, S1Format, StreamConfig, StreamWorld


def _ste(**dw: int) -> STE:
    """STE decoded from raw dwords given as dw0=..., dw3=..."""
    return STE.from_int(sum(v << (64 * int(k[2:])) for k, v in dw.items()))


def _cd(**dw: int) -> CD:
    return CD.from_int(sum(v << (64 * int(k[2:])) for k, v in dw.items()))


def test_linux_sva_ste_encodes_as_expected() -> None:
    ste = STE(V=1, Config=StreamConfig.S1_TRANS, S1Fmt=S1Format.TWO_LEVEL_64K,
              S1ContextPtr=0x8_0000_1000, S1CDMax=20, S1DSS=S1DefaultSubstream.SSID0,
              S1CIR=1, S1COR=1, S1CSH=3, STRW=StreamWorld.NS_EL1, EATS=1)
    w = ste.to_words()
    assert w[0] == 1 | (0b101 << 1) | (0b10 << 4) | 0x8_0000_1000 | (20 << 59)
    assert w[1] == 0b10 | (1 << 2) | (1 << 4) | (3 << 6) | (1 << 28)
    assert w[2:] == [0] * 6
    assert ste.problems() == []


@pytest.mark.parametrize("config", [0b001, 0b010, 0b011])
def test_reserved_config_is_decoded_and_reported(config: int) -> None:
    ste = _ste(dw0=1 | config << 1)
    assert ste.Config == config
    assert ste.named("Config") == f"reserved({config:#x})"
    assert any("Config" in p for p in ste.problems())


@pytest.mark.parametrize(("dw", "value", "name"), [
    (0, 0b11 << 4, "S1Fmt"), (1, 0b11, "S1DSS"), (1, 0b11 << 28, "EATS"),
    (1, 0b01 << 30, "STRW"), (1, 0b11 << 30, "STRW"),
])
def test_other_reserved_ste_values_are_reported(dw: int, value: int, name: str) -> None:
    problems = _ste(**{f"dw{dw}": value}).problems()
    assert len(problems) == 1
    assert problems[0].startswith(f"{name}=")


@pytest.mark.parametrize(("dw", "bit"), [(0, 52), (0, 58), (1, 20), (2, 16), (3, 0), (3, 52),
                                         (4, 0), (7, 63)])
def test_reserved_ste_bits_are_reported(dw: int, bit: int) -> None:
    ste = _ste(**{f"dw{dw}": 1 << bit})
    assert ste.reserved_bits() == 1 << (64 * dw + bit)
    assert ste.problems() == [f"reserved bits set: {1 << (64 * dw + bit):#x}"]
    assert ste.to_int() == 0  # reserved bits are not carried into re-encoding


def test_l1std() -> None:
    d = L1STD(Span=9, L2Ptr=0xFFFF_FFFF_FFC0)
    assert d.to_int() == 9 | 0xFFFF_FFFF_FFC0
    assert L1STD.from_int(1 << 5).problems() == ["reserved bits set: 0x20"]
    with pytest.raises(ValueError, match="L2Ptr"):
        L1STD(L2Ptr=0x1020).to_int()


# -- CD -------------------------------------------------------------------------------------------
def test_linux_shared_cd_encodes_as_expected() -> None:
    cd = CD(T0SZ=16, TG0=TG0Granule.SZ_4K, IR0=1, OR0=1, SH0=3, EPD1=1, V=1,
            IPS=IPSize.PA48, AA64=1, HD=1, HA=1, R=1, A=1, ASID=0x1234,
            TTB0=0x4_2000, MAIR=0x0000_00FF_4404_0C00)
    w = cd.to_words()
    assert w[0] == (16 | 1 << 8 | 1 << 10 | 3 << 12 | 1 << 30 | 1 << 31 | 5 << 32 | 1 << 41
                    | 1 << 42 | 1 << 43 | 1 << 45 | 1 << 46 | 0x1234 << 48)
    assert w[1] == 0x4_2000
    assert w[3] == 0x0000_00FF_4404_0C00
    # TG1 = 0 is reserved, but TTB1 is disabled (EPD1 = 1), so it does not count
    assert cd.problems() == []


def test_reserved_tg0_is_reported_only_when_ttb0_is_enabled() -> None:
    cd = _cd(dw0=0b11 << 6 | 1 << 30 | 0b10 << 22)
    assert cd.TG0 == 0b11
    assert cd.named("TG0") == "reserved(0x3)"
    assert cd.problems() == ["TG0=0x3 is reserved"]
    assert _cd(dw0=0b11 << 6 | 1 << 14 | 1 << 30).problems() == []


def test_reserved_tg1_and_ips() -> None:
    assert _cd(dw0=0).problems() == ["TG1=0x0 is reserved"]
    assert _cd(dw0=1 << 30 | 7 << 32).problems() == ["IPS=0x7 is reserved"]
    assert TG1Granule(0b10) is TG1Granule.SZ_4K


def test_hd_without_ha_is_reported() -> None:
    assert _cd(dw0=1 << 30 | 1 << 42).problems() == [
        "HD=1 with HA=0 is reserved (behaves as no HTTU)"]
    assert _cd(dw0=1 << 30 | 1 << 42 | 1 << 43).problems() == []


@pytest.mark.parametrize(("dw", "bit"), [(1, 2), (1, 3), (1, 52), (1, 59), (2, 2), (2, 60),
                                         (5, 0), (6, 1), (7, 63)])
def test_reserved_cd_bits_are_reported(dw: int, bit: int) -> None:
    cd = _cd(dw0=1 << 30, **{f"dw{dw}": 1 << bit})
    assert cd.problems() == [f"reserved bits set: {1 << (64 * dw + bit):#x}"]


def test_l1cd() -> None:
    d = L1CD(V=1, L2Ptr=0x8_1234_5000)
    assert d.to_int() == 0x8_1234_5001
    assert L1CD.from_int(0x800).problems() == ["reserved bits set: 0x800"]
    with pytest.raises(ValueError, match="L2Ptr"):
        L1CD(L2Ptr=0x800).to_int()
    with pytest.raises(ValueError, match="L2Ptr"):
        L1CD(L2Ptr=1 << 52).to_int()
