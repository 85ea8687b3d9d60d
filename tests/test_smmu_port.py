"""The translation port's Python types against docs/port-contract.md, written out by hand."""

from __future__ import annotations

from models.smmu.port import (
    PERM_R,
    PERM_W,
    PERM_X,
    REQ_FIELDS,
    RESP_FIELDS,
    Result,
    TransResp,
    perm_str,
    result_name,
)


def test_result_encoding() -> None:
    # t_rsp_result: 0 OK translated, 1 OK bypass, 2 ABORT, 3 RAZ/WI termination.
    assert [(r.name, int(r)) for r in Result] == [
        ("OK_TRANSLATED", 0), ("OK_BYPASS", 1), ("ABORT", 2), ("RAZ_WI", 3)]
    assert [r.ok for r in Result] == [True, True, False, False]
    assert result_name(2) == "ABORT" and result_name(7) == "7"


def test_perm_bits() -> None:
    # t_rsp_perm = {X, W, R}: R is bit 0, W bit 1, X bit 2.
    assert (PERM_R, PERM_W, PERM_X) == (0b001, 0b010, 0b100)
    assert perm_str(0b101) == "r-x" and perm_str(0) == "---" and perm_str(0b111) == "rwx"


def test_field_names_are_the_port_signals() -> None:
    # t_req_{sid,ssv,ssid,addr,rnw,ind,pnu} and t_rsp_{result,pa,perm,attr,sh,fault}.
    assert REQ_FIELDS == ("sid", "ssv", "ssid", "addr", "rnw", "ind", "pnu", "ats", "nw", "at")
    assert RESP_FIELDS == ("result", "pa", "perm", "attr", "sh", "fault")
    r = TransResp(Result.OK_TRANSLATED, pa=0x1000, perm=0b011, attr=0xFF, sh=3)
    assert r.fields() == {"result": 0, "pa": 0x1000, "perm": 3, "attr": 0xFF, "sh": 3,
                          "fault": 0}
