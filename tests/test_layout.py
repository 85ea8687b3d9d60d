"""Guards that keep the layout as docs and tb/README.md describe it.

- Imports flow one way: tests -> tb -> tb/sva -> models. `models` and `tb/sva` import neither
  cocotb nor pyuvm, nor anything of `tb` outside `tb/sva`; the backend-agnostic parts of `tb`
  (devices, stimulus, scenarios, platform on the model) import no simulator library either.
- Only `tb/bfm` touches DUT pins.
- `tb/sva` has no import circle (function-level imports included, annotation-only imports
  left out).
- The top level of `tb/` holds only the package marker, the pyuvm tests and the parameter sets.
- rtl/files.f lists every RTL source, packages first; every source declares no implicit nets.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIM_LIBS = ("cocotb", "pyuvm", "cocotbext", "cocotb_coverage", "cocotb_tools")


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _py(*dirs: str) -> list[Path]:
    return sorted(p for d in dirs for p in (ROOT / d).rglob("*.py"))


def _type_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:` (annotations only, never executed)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out.update(id(n) for b in node.body for n in ast.walk(b))
    return out


def _imports(path: Path, runtime_only: bool = False) -> Iterator[tuple[int, str]]:
    """Every module a file imports, at any depth (function-level imports included), resolved
    to absolute names; `from a import b` yields `a.b` as well when b may be a module.
    `runtime_only` leaves out the imports made for type annotations only."""
    tree = ast.parse(path.read_text(), filename=str(path))
    pkg = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    skip = _type_only(tree) if runtime_only else set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            yield node.lineno, mod
            for a in node.names:
                yield node.lineno, f"{mod}.{a.name}"


def _violations(files: list[Path], bad: re.Pattern[str]) -> list[str]:
    return [f"{p.relative_to(ROOT)}:{line}: imports {mod}"
            for p in files for line, mod in _imports(p) if bad.match(mod)]


def _top(names: tuple[str, ...]) -> str:
    return "|".join(re.escape(n) for n in names)


def test_models_import_nothing_above_them() -> None:
    bad = re.compile(rf"^({_top(SIM_LIBS)}|tb|tests)(\.|$)")
    assert _violations(_py("models"), bad) == []


def test_sva_stack_imports_only_itself_and_models() -> None:
    bad = re.compile(rf"^({_top(SIM_LIBS)}|tests)(\.|$)|^tb(\.(?!sva(\.|$))|$)")
    assert _violations(_py("tb/sva"), bad) == []


@pytest.mark.parametrize("part", ["tb/devices", "tb/stimgen", "tb/scenarios",
                                  "tb/platform/model.py", "tb/replay/vectors.py"])
def test_backend_agnostic_parts_import_no_simulator_library(part: str) -> None:
    files = [ROOT / part] if part.endswith(".py") else _py(part)
    bad = re.compile(rf"^({_top(SIM_LIBS)})(\.|$)|^tb\.(bfm|agents|env|cli|directed)(\.|$)")
    assert _violations(files, bad) == []


def test_tb_does_not_import_tests() -> None:
    assert _violations(_py("tb"), re.compile(r"^tests(\.|$)")) == []


# A pin is `<handle>.<signal>.value`, with the handle the DUT (`dut`, `self.dut`, `cocotb.top`).
_PIN = re.compile(r"\b(dut|cocotb\.top)\.(?!_log\b)\w+\.value\b")


def test_only_the_bfm_layer_touches_pins() -> None:
    found = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
             for p in _py("tb") if "bfm" not in p.relative_to(ROOT).parts
             for i, line in enumerate(p.read_text().splitlines(), 1) if _PIN.search(line)]
    assert found == []


def test_sva_stack_has_no_import_circle() -> None:
    files = {_module(p): p for p in _py("tb/sva")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        for _line, dep in _imports(path, runtime_only=True):
            # `from pkg import name`: the edge goes to pkg.name when that is a module.
            target = dep if dep in files else dep.rpartition(".")[0]
            if target in files and target != mod and not mod.startswith(target + "."):
                graph[mod].add(target)
    # Imports for annotations only (`if TYPE_CHECKING:`) are left out: they name a type, as a
    # C forward declaration does, and create no dependency at run time.
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append([*stack[stack.index(d):], d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert cycles == [], "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_tb_top_level_holds_a_handful_of_modules() -> None:
    top = sorted(p.name for p in (ROOT / "tb").glob("*.py"))
    assert top == ["__init__.py", "dut_config.py", "tests.py"], top


def _filelist() -> list[str]:
    return [ln.strip() for ln in (ROOT / "rtl" / "files.f").read_text().splitlines()
            if ln.strip() and not ln.strip().startswith("//")]


def test_rtl_file_list_has_every_source_packages_first() -> None:
    listed = _filelist()
    on_disk = sorted(f"rtl/{p.name}" for p in (ROOT / "rtl").glob("*.sv"))
    assert sorted(listed) == on_disk
    kinds = ["package" if re.search(r"^\s*package\b", (ROOT / f).read_text(), re.M) else "module"
             for f in listed]
    assert kinds == sorted(kinds, key=lambda k: k != "package"), list(zip(listed, kinds,
                                                                         strict=True))


@pytest.mark.parametrize("src", _filelist())
def test_rtl_declares_no_implicit_nets(src: str) -> None:
    lines = [ln.strip() for ln in (ROOT / src).read_text().splitlines()]
    code = [ln for ln in lines if ln and not ln.startswith("//")]
    # none before any declaration; wire again at the end, or Icarus carries none into the
    # files compiled after this one (docs/rtl.md)
    assert code[0] == "`default_nettype none", src
    assert code[-1] == "`default_nettype wire", src


def _sv_header(path: Path, module: str) -> tuple[list[str], list[str]]:
    text = path.read_text()
    head = text[text.index(f"module {module}"):]
    head = head[:head.index(");\n")]
    params = re.findall(r"parameter\s+(?:int|logic \[31:0\])\s+(\w+)\s*=\s*([^,\n/]+?)\s*[,\n/]",
                        head)
    ports = re.findall(r"\b(input|output)\s+logic\s*(\[[^\]]+\])?\s*(\w+)", head)
    return params, ports


def test_testbench_wrapper_keeps_every_parameter_and_port_of_smmu_top() -> None:
    """tb/hdl/smmu_tb.sv passes the runner's parameter set through and keeps smmu_top's port
    names, so that every BFM and wave file addresses the same pins: a parameter or port added
    to smmu_top must be added there too."""
    top_params, top_ports = _sv_header(ROOT / "rtl" / "smmu_top.sv", "smmu_top")
    tb_params, tb_ports = _sv_header(ROOT / "tb" / "hdl" / "smmu_tb.sv", "smmu_tb")
    assert tb_params == top_params
    assert tb_ports[:len(top_ports)] == top_ports
    assert all(name.startswith(("tbq_", "tbm_", "tbr_", "tb_")) for _, _, name in
               tb_ports[len(top_ports):])
