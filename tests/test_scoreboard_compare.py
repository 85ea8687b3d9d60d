"""The translation scoreboard's response comparison: every field of the port contract counts
(docs/port-contract.md: each t_rsp_* field has a value for every result, 0 where it means
nothing), so a response that differs in any one field is a mismatch."""

from __future__ import annotations

import pytest

from models.smmu.port import RESP_FIELDS, Result, TransResp
from tb.env.xlate_scoreboard import same

MODEL = TransResp(Result.OK_TRANSLATED, pa=0x8000_1234, perm=0b011, attr=0xFF, sh=3, fault=0)


def _rtl(**change: int) -> dict[str, int]:
    return {k: int(getattr(MODEL, k)) for k in RESP_FIELDS} | change


def test_equal_responses_match() -> None:
    assert same(MODEL, _rtl())


@pytest.mark.parametrize("field", RESP_FIELDS)
def test_any_field_differing_is_a_mismatch(field: str) -> None:
    assert not same(MODEL, _rtl(**{field: int(getattr(MODEL, field)) ^ 1}))
