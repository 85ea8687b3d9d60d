"""docs/testplan.md names only what exists: every model test, directed RTL test, hand-written
vector, random request category, mutation and world kind, file and pyuvm test it cites.

A renamed or deleted test would otherwise leave the plan claiming a check nobody runs.
"""

from __future__ import annotations

import ast
import json
import re
from fnmatch import fnmatch
from pathlib import Path

import pytest

from tb.stimgen.mutations import MUTATION_KINDS, MutationWeights
from tb.stimgen.requests import CATEGORIES
from tb.stimgen.world import WorldKnobs

ROOT = Path(__file__).resolve().parent.parent
PLAN = (ROOT / "docs" / "testplan.md").read_text()
VECTORS = [json.loads(line) for line in
           (ROOT / "tests" / "vectors" / "handwritten.jsonl").read_text().splitlines()
           if line.strip() and not line.startswith("#")]


def _functions(files: list[Path], decorated: str | None = None) -> set[str]:
    """Names of the (async) functions defined at module level, optionally only those whose
    decorator mentions `decorated`."""
    out = set()
    for f in files:
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and (
                    decorated is None
                    or any(decorated in ast.unparse(d) for d in node.decorator_list)):
                out.add(node.name)
    return out


MODEL_TESTS = _functions(sorted((ROOT / "tests").glob("test_*.py")))
DIRECTED = _functions(sorted((ROOT / "tb" / "directed").glob("*.py")), "cocotb.test")
PYUVM_TESTS = _functions([ROOT / "tb" / "tests.py"], "pyuvm_test")
_K = WorldKnobs()
RANDOM_NAMES = (set(CATEGORIES) | set(MUTATION_KINDS) | set(vars(MutationWeights()))
                | set(_K.l1std_kinds) | set(_K.stream_kinds) | set(_K.l1cd_kinds)
                | set(_K.cd_kinds))


def _rows() -> list[list[str]]:
    rows = []
    for line in PLAN.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(r"C?\d+", cells[0]):
            rows.append(cells)
    return rows


ROWS = _rows()


def _ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_the_plan_has_its_table() -> None:
    assert len(ROWS) >= 15
    assert all(len(r) == 5 for r in ROWS), [r[0] for r in ROWS if len(r) != 5]


@pytest.mark.parametrize("row", ROWS, ids=[f"s9-{r[0]}" for r in ROWS])
def test_every_cited_check_exists(row: list[str]) -> None:
    _item, _what, model, directed, rnd = row
    missing = []
    for name in _ticked(model):
        if not any(fnmatch(t, name) for t in MODEL_TESTS):
            missing.append(f"model test {name}")
    for name in _ticked(directed):
        if "/" in name:
            if not (ROOT / name).exists():
                missing.append(f"file {name}")
        elif name not in DIRECTED and name not in MODEL_TESTS:
            missing.append(f"directed test {name}")
    for n in re.findall(r"vectors? ((?:\d+(?:, )?)+)", directed):
        for v in n.split(", "):
            if not 1 <= int(v) <= len(VECTORS):
                missing.append(f"vector {v}")
    for title in re.findall(r'vector "([^"]+)"', directed):
        if not any(title.lower() in v["name"].lower() for v in VECTORS):
            missing.append(f'vector "{title}"')
    for name in _ticked(rnd):
        if name not in RANDOM_NAMES:
            missing.append(f"random category {name}")
    assert missing == []


def test_every_pyuvm_test_the_plan_names_exists_and_runs() -> None:
    from tests.test_rtl import CASES

    named = set(re.findall(r"`?\b([A-Z]\w+Test)\b`?", PLAN))
    assert named, "the plan names its pyuvm tests"
    assert named <= PYUVM_TESTS, named - PYUVM_TESTS
    assert named <= {test for _p, test, _r in CASES}, named - {t for _p, t, _r in CASES}
