"""The values the `make` targets pass to the command-line tools, checked before anything runs.

Every bad value (an unknown TEST, SIM or PARAMS, a SEED that is no seed, a BACKEND, a count
that is no count) is one line on stderr that names the value, the variable and what it may
be, ``profile: unknown test 'Foo' (TEST): one of BenchTest, BringUpTest, ...``, and exit
status 2, before a build starts or an output file is opened, so a previous result stays.

``ArgumentParser`` is argparse's with that one-line error; the validators below are argparse
``type=`` functions and work on environment variables too (``from_env``). The test names are
read from the test module's source (the classes decorated ``@pyuvm_test``, the functions
decorated ``@cocotb.test``), so checking one imports neither cocotb nor the testbench.

    python -m tb.cli.args [--prog waves] --sim S --test T --seed N --params P [--module M]
                          [--translations N] [--waves] [--coverage]

checks the arguments of ``python -m tb.cli.runner`` (plus ``--translations``, which `make
waves` passes to the test as SMMU_TRANSLATIONS) and prints nothing when they are good.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
import sys
from collections.abc import Callable
from functools import cache
from typing import NoReturn, TypeVar

from tb.cli.runner import ROOT, SIMULATORS, TEST_MODULE
from tb.dut_config import PARAM_SETS

T = TypeVar("T")
SEED_MAX = 2**32 - 1
BACKENDS = ("rtl", "model")
# argparse's "argument --seed: " in front of a message that names the variable itself
# ("bad seed 'abc' (SEED): ..."; argparse's own messages start otherwise).
_ARG_PREFIX = re.compile(r"^argument [^:]+: (?=(unknown|bad) )")


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser whose errors are one line, ``prog: message``, exit status 2 (argparse
    prints its usage first: two lines or more)."""

    def error(self, message: str) -> NoReturn:
        fail(self.prog, _ARG_PREFIX.sub("", message))


def report(prog: str, message: str) -> int:
    """``prog: message`` on stderr, on one line; returns the exit status for bad input, 2."""
    sys.stderr.write(f"{prog}: {' '.join(message.split())}\n")
    return 2


def fail(prog: str, message: str) -> NoReturn:
    """``prog: message`` on stderr (one line), exit status 2."""
    raise SystemExit(report(prog, message))


def _one_of(names: object) -> str:
    return ", ".join(map(str, names))  # type: ignore[call-overload]


def _whole(text: str) -> int | None:
    """A decimal whole number (an optional sign, digits), else None."""
    text = text.strip()
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else None


def seed(text: str) -> int:
    """SEED: a whole number from 0 to 2**32 - 1 (cocotb's and the stimulus' seed)."""
    n = _whole(text)
    if n is None or not 0 <= n <= SEED_MAX:
        raise argparse.ArgumentTypeError(
            f"bad seed {text!r} (SEED): a whole number from 0 to {SEED_MAX}")
    return n


def count(name: str, minimum: int = 1) -> Callable[[str], int]:
    """A type for the count ``name`` (TRANSLATIONS, SEEDS, JOBS, ...): a whole number of at
    least ``minimum``."""

    def parse(text: str) -> int:
        n = _whole(text)
        if n is None or n < minimum:
            raise argparse.ArgumentTypeError(
                f"bad count {text!r} ({name}): a whole number of at least {minimum}")
        return n

    parse.__name__ = name.lower()
    return parse


def _member(text: str, names: object, what: str, var: str) -> str:
    """``text`` if it is one of ``names``, else the one-line error naming ``var``."""
    if text not in names:  # type: ignore[operator]
        raise argparse.ArgumentTypeError(
            f"unknown {what} {text!r} ({var}): one of {_one_of(names)}")
    return text


def sim(text: str) -> str:
    """SIM: one of tb.cli.runner's simulators."""
    return _member(text, SIMULATORS, "simulator", "SIM")


def sims(text: str) -> list[str]:
    """SIMS: simulators separated by spaces (none: the suite's RTL items are left out)."""
    names = text.split()
    if any(s not in SIMULATORS for s in names):
        raise argparse.ArgumentTypeError(
            f"unknown simulators {text!r} (SIMS): any of {_one_of(SIMULATORS)}, separated by "
            "spaces")
    return names


def params(text: str) -> str:
    """PARAMS: a parameter set of tb/dut_config.py."""
    return _member(text, PARAM_SETS, "parameter set", "PARAMS")


def backend(text: str) -> str:
    """BACKEND: rtl or model."""
    return _member(text, BACKENDS, "backend", "BACKEND")


def _decorator_name(node: ast.expr) -> str:
    """``pyuvm_test``, ``cocotb.test`` (called or not) as a dotted name."""
    if isinstance(node, ast.Call):
        node = node.func
    return ast.unparse(node)


@cache
def cocotb_test_names(module: str = TEST_MODULE) -> tuple[str, ...]:
    """The cocotb tests ``module`` registers, from its source: classes decorated
    ``@pyuvm_test`` or ``@pyuvm.test()`` and functions decorated ``@cocotb.test`` (under the
    ``name=`` they give). Raises FileNotFoundError when there is no such module file."""
    path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for dec in node.decorator_list:
            kind = _decorator_name(dec)
            if kind in ("pyuvm_test", "pyuvm.test") and isinstance(node, ast.ClassDef):
                names.append(node.name)
            elif kind == "cocotb.test" and not isinstance(node, ast.ClassDef):
                given = [k.value for k in getattr(dec, "keywords", ()) if k.arg == "name"]
                names.append(given[0].value if given and isinstance(given[0], ast.Constant)
                             else node.name)
    return tuple(sorted(set(names)))


def check_test(name: str, module: str = TEST_MODULE) -> str:
    """TEST: a cocotb test of ``module`` (tb/tests.py: the pyuvm tests)."""
    try:
        known = cocotb_test_names(module)
    except (OSError, SyntaxError):
        raise argparse.ArgumentTypeError(f"unknown test module {module!r} (MODULE): no file "
                                         f"{module.replace('.', '/')}.py") from None
    if known and name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        raise argparse.ArgumentTypeError(
            f"unknown test {name!r} (TEST): "
            + (f"did you mean {close[0]}? " if close else "") + f"one of {_one_of(known)}")
    return name


def pyuvm_test_name(text: str) -> str:
    """TEST as an argparse type: a pyuvm test of tb/tests.py."""
    return check_test(text)


def from_env(ap: argparse.ArgumentParser, var: str, parse: Callable[[str], T],
             default: str, env_var: str | None = None) -> T:
    """The environment variable ``env_var`` (default ``var``) through ``parse``, or
    ``default``; a bad value is ``ap``'s one-line error."""
    text = os.environ.get(env_var or var, default)
    try:
        return parse(text)
    except argparse.ArgumentTypeError as exc:
        ap.error(str(exc))


def runner_parser(prog: str = "waves") -> ArgumentParser:
    """The options of ``python -m tb.cli.runner`` (and --translations), each checked."""
    ap = ArgumentParser(prog=prog, description="check tb.cli.runner's arguments")
    ap.add_argument("--prog", help="the name errors start with (default: waves)")
    ap.add_argument("--sim", type=sim, default=os.environ.get("SIM", "verilator"))
    ap.add_argument("--test", required=True)
    ap.add_argument("--seed", type=seed, default=1)
    ap.add_argument("--params", type=params, default="default")
    ap.add_argument("--module", default=TEST_MODULE)
    ap.add_argument("--translations", type=count("TRANSLATIONS"))
    ap.add_argument("--waves", action="store_true")
    ap.add_argument("--coverage", action="store_true")
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--prog", default="waves")
    prog = pre.parse_known_args(argv)[0].prog
    ap = runner_parser(prog)
    a = ap.parse_args(argv)
    try:
        check_test(a.test, a.module)
    except argparse.ArgumentTypeError as exc:
        ap.error(str(exc))
    if a.coverage and a.sim != "verilator":
        ap.error(f"bad simulator {a.sim!r} (SIM) for code coverage: verilator only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
