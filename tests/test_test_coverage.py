"""A pyuvm test's coverage figures and checks count its own samples, not those of the tests
run before it in the same simulation (tb/tests.py; several seeds run in one simulation)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tb import tests as T


def test_a_test_counts_only_what_it_sampled(monkeypatch: pytest.MonkeyPatch) -> None:
    point = SimpleNamespace(detailed_coverage={"a": 3, "b": 0, "c": 0})
    monkeypatch.setattr(T, "coverage_db", {"p": point, "parent": SimpleNamespace(
        detailed_coverage=None)})
    test = SimpleNamespace(cov_before=T.coverage_counts())  # an earlier test hit "a" 3 times
    assert test.cov_before == {"p": {"a": 3, "b": 0, "c": 0}}
    point.detailed_coverage = {"a": 3, "b": 2, "c": 0}  # this test hits "b" twice
    assert T.SmmuBaseTest.sampled(test, "p") == {"a": 0, "b": 2, "c": 0}
