"""`make mutate`: plant one-line faults in the RTL and see whether the tests notice.

Each mutant changes one token (or one `if` condition) at one site of one file of rtl/ (the
packages are left alone: smmu_arch_pkg.sv is generated, smmu_types_pkg.sv holds only
encodings and types). Sites are every comparison, logical, bitwise and additive operator,
negation and literal the tokenizer finds in statements and expressions, outside bit selects
and declarations (a change there mostly fails to lint) and outside reset logic (every test
would kill it). The seed picks COUNT of them; the same seed on the same RTL picks the same.

A mutant is applied to a private copy of rtl/; the test command builds it through
tb/cli/runner.py, which SMMU_RTL_DIR and SMMU_BUILD_DIR point at the copy and a build tree of
its own. Each mutant is first linted as `make lint` does (`verilator --lint-only -Wall`, an
Icarus compile): one that fails is *stillborn*, the lint gate would stop it before any test
(an unused signal left by a dropped condition counts too). Otherwise the command runs: a
failure or a hang (past the timeout) *kills* it, a pass lets it *survive*.
Score = killed / (killed + survived).

Default simulator: Icarus, because every mutant needs a fresh build. Measured here (2 cores,
lightly loaded): a build takes 0.3 s on Icarus and 20 to 25 s on Verilator; the default
command, build included, 22 s on Icarus and 42 s on Verilator, and 22 s against 17 s once
built. Verilator simulates faster (about 3 s against 5 s per 1000 random translations), so it
would only pay off past some 10000 translations per mutant.

    python -m tb.cli.mutate [--seed N] [--count N] [--jobs N] [--sim icarus|verilator]
    MUTATE_CMD="..."  any shell command instead of the default one (run from the repo root)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from tb.cli.runner import ROOT, RTL_DIR, SIMULATORS, build_dir, run
from tb.directed import DIRECTED_MODULES

OUT = ROOT / "build" / "mutate"
SKIP_FILES = ("smmu_arch_pkg.sv", "smmu_types_pkg.sv")
# The default command: register tests, every directed module (hand-derived expectations), then
# the random translation test, which checks every response on the model. RegAccessTest costs
# a few seconds; without it, a first run (SEED=1) let register-write mutants survive.
SUITE: tuple[tuple[str | None, str], ...] = (
    ("BringUpTest", "tb.tests"), ("RegAccessTest", "tb.tests"),
    *((None, m) for m in DIRECTED_MODULES), ("XlateRandomTest", "tb.tests"))
TRANSLATIONS = 2000

# ---- sites -----------------------------------------------------------------------------

# Enough of SystemVerilog's lexical grammar to find sites: a width before `'(` is a cast
# (castw), not a literal, and a directive line is skipped whole.
_TOKEN = re.compile(r"""
    (?P<ws>\s+) | (?P<comment>//[^\n]*|/\*.*?\*/) | (?P<directive>`[^\n]*) | (?P<str>"[^"\n]*")
  | (?P<num>\d+\s*'[sS]?[bBoOdDhH]\s*[0-9a-fA-F_xXzZ?]+|'[sS]?[bBoOdDhH][0-9a-fA-F_xXzZ?]+
            |'[01](?![\w'])|\d+(?!\s*'|\w))
  | (?P<castw>\d+') | (?P<id>[A-Za-z_$][\w$]*)
  | (?P<op><<<|>>>|===|!==|==|!=|<=|>=|&&|\|\||<<|>>|->|\+\+|--|\+:|-:|::|~&|~\||~\^|\^~|.)
""", re.X | re.S)

SWAP = {"==": "!=", "!=": "==", "<": "<=", "<=": "<", ">": ">=", ">=": ">",
        "&": "|", "|": "&", "&&": "||", "||": "&&", "+": "-", "-": "+"}
# A statement that opens with one of these declares something: no sites in it.
DECL = {"parameter", "localparam", "typedef", "input", "output", "inout", "import", "function",
        "task", "package", "genvar", "wire", "logic", "reg", "bit", "int", "integer"}
# After one of these a new statement begins.
RESTART = {"begin", "end", "else", "endcase", "endfunction", "endtask", "endmodule",
           "generate", "endgenerate", "always", "always_ff", "always_comb", "initial"}
KEYWORDS = DECL | RESTART | {"if", "case", "return", "assign", "or", "posedge", "negedge",
                             "for", "module", "default"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    line: int       # 1-based
    col: int        # 0-based, in the line


@dataclass(frozen=True)
class Site:
    file: str       # rtl/<name>.sv
    line: int
    col: int
    old: str
    new: str
    kind: str       # op, neg, const, cond

    def describe(self) -> str:
        return f"{self.file}:{self.line} {self.kind} {self.old!r} -> {self.new!r}"


def tokenize(text: str) -> Iterator[Token]:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    line = 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or ""
        if kind in ("ws", "comment", "directive"):
            continue
        while line + 1 < len(starts) and starts[line + 1] <= m.start():
            line += 1
        yield Token(kind, m.group(), line + 1, m.start() - starts[line])


def _const(text: str) -> list[str]:
    """The literal one off each way (width kept, base kept), or 1'b1 <-> 1'b0."""
    m = re.fullmatch(r"(\d*)\s*'([sS]?)([bBoOdDhH])\s*([0-9a-fA-F_]+)", text)
    if text in ("'0", "'1"):
        return ["'1" if text == "'0" else "'0"]
    if m is None:
        if not text.isdigit():
            return []           # x or z digits
        v = int(text)
        return [str(v + 1)] + ([str(v - 1)] if v > 0 else [])
    width, sign, base, digits = m.groups()
    radix = {"b": 2, "o": 8, "d": 10, "h": 16}[base.lower()]
    value = int(digits.replace("_", ""), radix)
    fmt = {2: "b", 8: "o", 10: "d", 16: "x" if digits != digits.upper() else "X"}[radix]
    out = []
    for v in (value + 1, value - 1):
        if v < 0 or (width and v >= 1 << int(width)):
            continue
        # the author's spelling kept: digit count, and grouping in fours
        text = format(v, fmt).zfill(len(digits.replace("_", "")))
        if "_" in digits:
            groups = [text[max(0, i - 4):i] for i in range(len(text), 0, -4)]
            text = "_".join(reversed(groups))
        out.append(f"{width}'{sign}{base}{text}")
    return out


def _close(toks: list[Token], i: int) -> int:
    """Index of the parenthesis closing the one at toks[i]."""
    depth = 0
    for j in range(i, len(toks)):
        depth += {"(": 1, ")": -1}.get(toks[j].text, 0)
        if depth == 0:
            return j
    return len(toks) - 1


def sites(text: str, file: str) -> list[Site]:
    """Every mutation site of one source file, in source order."""
    toks = list(tokenize(text))
    lines = text.splitlines()
    out: list[Site] = []
    depth = bracket = 0
    first = ""              # the statement's first token
    assigned = False        # an `=` or `<=` at depth 0 seen in this statement
    header = False          # in a module header (ports and parameters)
    for i, t in enumerate(toks):
        prev = toks[i - 1] if i else Token("op", ";", 0, 0)
        nxt = toks[i + 1] if i + 1 < len(toks) else Token("op", ";", 0, 0)
        if (prev.text == ";" and depth == 0) or prev.text in RESTART:
            first, assigned = t.text, False
        if t.text == "module":
            header = True
        live = (not header and bracket == 0 and first not in DECL
                and "rst_n" not in lines[t.line - 1])
        operand = prev.kind in ("num", "str") or prev.text in (")", "]", "}") or (
            prev.kind == "id" and prev.text not in KEYWORDS)

        def add(new: str, kind: str, tok: Token = t) -> None:
            out.append(Site(file, tok.line, tok.col, tok.text, new, kind))

        if t.text in "([{" and t.kind == "op":
            depth += t.text != "["
            bracket += t.text == "["
        elif t.text in ")]}" and t.kind == "op":
            depth -= t.text != "]"
            bracket -= t.text == "]"
        elif t.text == ";" and depth == 0 and prev.text != "*":
            header = False      # `import pkg::*;` inside the header does not end it
        if not live:
            continue
        if t.text in ("=", "<=") and depth == 0 and not assigned:
            assigned = True
        elif t.text in SWAP and (operand or t.text not in "&|+-"):
            add(SWAP[t.text], "op")
        elif t.text in ("!", "~"):
            add("", "neg")
        elif t.kind == "num" and nxt.text != "{":     # a replication count sets a width
            for new in _const(t.text):
                add(new, "const")
        elif t.text == "if" and nxt.text == "(":
            j = _close(toks, i + 1)
            lo, hi = toks[i + 1], toks[j]
            cond = lines[lo.line - 1][lo.col:hi.col + 1]
            if hi.line == lo.line and cond != "(1'b1)":
                out.append(Site(file, lo.line, lo.col, cond, "(1'b1)", "cond"))
    return out


def all_sites(rtl: Path = RTL_DIR) -> list[Site]:
    return [s for p in sorted(rtl.glob("*.sv")) if p.name not in SKIP_FILES
            for s in sites(p.read_text(), f"rtl/{p.name}")]


def choose(candidates: list[Site], seed: int, count: int) -> list[Site]:
    """COUNT sites drawn without replacement; the same seed and sites give the same draw."""
    return random.Random(seed).sample(candidates, min(count, len(candidates)))


def apply(text: str, site: Site) -> str:
    """The file with the one mutation; ValueError when the site does not match the text or
    the mutation changes nothing."""
    lines = text.split("\n")
    ln = lines[site.line - 1]
    if ln[site.col:site.col + len(site.old)] != site.old or site.old == site.new:
        raise ValueError(f"no mutation at {site.describe()}")
    lines[site.line - 1] = ln[:site.col] + site.new + ln[site.col + len(site.old):]
    return "\n".join(lines)


# ---- outcome -----------------------------------------------------------------------------

@dataclass
class Result:
    id: str
    site: Site
    status: str         # killed, survived, stillborn
    detail: str         # failing step, "timeout", or the lint error
    seconds: float
    original: str
    mutated: str


def classify(lint_ok: bool, returncode: int | None, timed_out: bool,
             killer: str = "") -> tuple[str, str]:
    """(status, detail) of a mutant from what happened to it; `killer` names the failing
    test when the command said which."""
    if not lint_ok:
        return "stillborn", "does not lint"
    if timed_out:
        return "killed", "timeout"
    if returncode:
        return "killed", killer or f"exit {returncode}"
    return "survived", ""


def score(results: list[Result]) -> dict[str, float | int | None]:
    n = {k: sum(r.status == k for r in results) for k in ("killed", "survived", "stillborn")}
    judged = n["killed"] + n["survived"]
    return {**n, "timeouts": sum(r.detail == "timeout" for r in results),
            "score": round(n["killed"] / judged, 3) if judged else None}


# ---- running -----------------------------------------------------------------------------

def _lint(work: Path) -> str | None:
    """The first error of the mutant's lint, or None when it lints."""
    for cmd in (["verilator", "--lint-only", "-Wall", "--top-module", "smmu_top", "-f",
                 "rtl/files.f"],
                ["iverilog", "-g2012", "-o", "/dev/null", "-s", "smmu_top", "-c",
                 "rtl/files.f"]):
        p = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
        if p.returncode:
            err = [ln for ln in (p.stderr + p.stdout).splitlines() if ln.strip()]
            return f"{cmd[0]}: {err[0] if err else 'failed'}"
    return None


def _command(sim: str, translations: int) -> list[str]:
    if os.environ.get("MUTATE_CMD"):
        return ["bash", "-c", os.environ["MUTATE_CMD"]]
    return [sys.executable, "-m", "tb.cli.mutate", "--suite", "--sim", sim,
            "--translations", str(translations)]


def _execute(cmd: list[str], work: Path, log: Path, timeout: float) -> tuple[int | None, bool]:
    env = {**os.environ, "SMMU_RTL_DIR": str(work / "rtl"),
           "SMMU_BUILD_DIR": str(work / "build")}
    with open(log, "w") as fh:
        # A session of its own, so that a hang is ended with the simulator it started.
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            return proc.wait(timeout=timeout), False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None, True


def _prepare(name: str, site: Site | None) -> tuple[Path, str, str]:
    work = OUT / "work" / name
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(RTL_DIR, work / "rtl")
    if site is None:
        return work, "", ""
    path = work / site.file
    text = path.read_text()
    path.write_text(apply(text, site))
    before = text.split("\n")[site.line - 1]
    after = path.read_text().split("\n")[site.line - 1]
    return work, before.strip(), after.strip()


def mutant(name: str, site: Site, cmd: list[str], timeout: float) -> Result:
    t0 = time.monotonic()
    work, before, after = _prepare(name, site)
    log = OUT / "logs" / f"{name}.log"
    err = _lint(work)
    rc, timed_out = (None, False) if err else _execute(cmd, work, log, timeout)
    killer = re.search(r"^mutate: killed by (\S+):", log.read_text(), re.M) if rc else None
    status, detail = classify(err is None, rc, timed_out, killer.group(1) if killer else "")
    shutil.rmtree(work, ignore_errors=True)
    return Result(name, site, status, err or detail, round(time.monotonic() - t0, 1),
                  before, after)


def suite(sim: str, translations: int) -> int:
    """The default command: the tests of SUITE in order, stopping at the first failure."""
    for test, module in SUITE:
        tdir = build_dir(sim) / (test or module)
        try:
            run(sim, test, 1, test_dir=tdir, log_file_name="sim.log", test_module=module,
                extra_env={"SMMU_TRANSLATIONS": str(translations)})
        except (RuntimeError, SystemExit) as exc:
            print(f"mutate: killed by {test or module}: {exc}")
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--sim", default="icarus", choices=SIMULATORS)
    ap.add_argument("--translations", type=int, default=TRANSLATIONS,
                    help="translations of the random test in the default command")
    ap.add_argument("--timeout", type=float, default=0,
                    help="seconds per mutant (default: 4 x the unmutated run, at least 60)")
    ap.add_argument("--suite", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.suite:
        return suite(args.sim, args.translations)

    candidates = all_sites()
    chosen = choose(candidates, args.seed, args.count)
    cmd = _command(args.sim, args.translations)
    shutil.rmtree(OUT / "logs", ignore_errors=True)
    (OUT / "logs").mkdir(parents=True)
    t_start = time.monotonic()
    # The unmutated copy must pass, or every mutant would count as killed.
    work, _, _ = _prepare("baseline", None)
    rc, _ = _execute(cmd, work, OUT / "logs" / "baseline.log", 3600)
    baseline = time.monotonic() - t_start
    shutil.rmtree(work, ignore_errors=True)
    if rc:
        print(f"mutate: the unmodified RTL fails the command; see {OUT / 'logs/baseline.log'}",
              file=sys.stderr)
        return 2
    timeout = args.timeout or max(60.0, 4 * baseline)
    print(f"mutate: {len(chosen)} of {len(candidates)} sites (seed {args.seed}), {args.jobs} "
          f"jobs, timeout {timeout:.0f} s; unmutated run {baseline:.0f} s: {shlex.join(cmd)}",
          flush=True)

    def one(item: tuple[int, Site]) -> Result:
        r = mutant(f"m{item[0]:03d}", item[1], cmd, timeout)
        # one write per line: the workers print concurrently
        print(f"  {r.id} {r.status:<9} {r.site.describe()}  {r.detail}  {r.seconds:.0f} s\n",
              end="", flush=True)
        return r

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(one, enumerate(chosen)))
    summary = score(results)
    elapsed = round(time.monotonic() - t_start, 1)
    report = {"seed": args.seed, "count": args.count, "sites": len(candidates),
              "command": cmd, "timeout_s": round(timeout), "baseline_s": round(baseline, 1),
              "elapsed_s": elapsed, "summary": summary,
              "mutants": [{**asdict(r), "site": asdict(r.site)} for r in results]}
    (OUT / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"mutate: killed {summary['killed']} ({summary['timeouts']} by timeout), survived "
          f"{summary['survived']}, stillborn {summary['stillborn']}; score {summary['score']}; "
          f"{elapsed / 60:.1f} min")
    for r in results:
        if r.status == "survived":
            print(f"  survived {r.site.file}:{r.site.line}\n    - {r.original}\n    + {r.mutated}")
    print(f"written: {OUT / 'report.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
