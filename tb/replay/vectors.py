"""Parsing and validating translation vectors (format: docs/vectors.md).

Everything a vector leaves out takes the value the Linux SVA driver writes (reference §2.5,
§8.4). Errors name the line and the field; nothing after a bad line is silently skipped: the
whole file is rejected before anything runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.arch.cd import CD
from models.arch.ste import STE

# Where the harness keeps its stream table, CD tables and queues: vectors must not use it.
HARNESS_WINDOW = (0xFF00_0000_0000, 0xFF00_1000_0000)

# arm64 Linux (v5.7 era) MAIR_EL1: Device-nGnRnE, Device-nGnRE, Device-GRE, Normal-NC,
# Normal WB, Normal WT at AttrIndx 0..5.
LINUX_MAIR = 0x0000_BBFF_440C_0400

# CD fields the SVA driver writes for a shared mm (reference §8.4), 48-bit VA, 4 KiB pages.
CD_DEFAULTS: dict[str, int] = {
    "T0SZ": 16, "TG0": 0, "IR0": 1, "OR0": 1, "SH0": 3, "EPD1": 1, "AA64": 1, "IPS": 5,
    "MAIR": LINUX_MAIR, "ASID": 1, "R": 1, "A": 1, "ASET": 0, "V": 1,
}
# STE fields for an SVA-capable stage-1 domain (reference §2.5); S1ContextPtr and S1CDMax
# are filled in by the harness.
STE_DEFAULTS: dict[str, int] = {
    "V": 1, "Config": 0b101, "S1Fmt": 0, "S1DSS": 0b10, "S1CIR": 1, "S1COR": 1, "S1CSH": 3,
    "STRW": 0,
}
HARNESS_OWNED_STE = ("S1ContextPtr",)


class VectorError(ValueError):
    pass


@dataclass
class Request:
    va: int
    rnw: int
    ind: int
    pnu: int


@dataclass
class Vector:
    line: int
    name: str
    sid: int
    ssid: int | None
    ste: dict[str, int]
    cd: dict[str, int]
    memory: dict[int, int]
    requests: list[Request] = field(default_factory=list)


def _int(v: Any, where: str, *, bits: int | None = None) -> int:
    if isinstance(v, bool):
        raise VectorError(f"{where}: expected an integer, got {v!r}")
    if isinstance(v, int):
        n = v
    elif isinstance(v, str):
        try:
            n = int(v, 0)
        except ValueError:
            raise VectorError(f"{where}: {v!r} is not an integer (decimal or 0x-hex)") from None
    else:
        raise VectorError(f"{where}: expected an integer or a hex string, got {v!r}")
    if n < 0:
        raise VectorError(f"{where}: {v!r} is negative")
    if bits is not None and n >> bits:
        raise VectorError(f"{where}: {v!r} out of range for {bits} bits")
    return n


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook: a key given twice is an error, not the last one silently kept."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise VectorError(f"key {k!r} given twice")
        out[k] = v
    return out


def _fields(layout: type, values: Any, where: str) -> dict[str, int]:
    if not isinstance(values, dict):
        raise VectorError(f"{where}: expected an object of field values")
    out = {}
    for k, v in values.items():
        try:
            spec = layout.field(k)
        except KeyError:
            raise VectorError(f"{where}.{k}: {layout.__name__} has no field {k!r}") from None
        val = _int(v, f"{where}.{k}")
        try:
            spec.to_raw(val)
        except ValueError as exc:
            raise VectorError(f"{where}.{k}: {exc}") from None
        out[spec.name] = val
    return out


def parse_line(text: str, line: int) -> Vector:
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise VectorError(f"line {line}: not JSON: {exc}") from None
    except VectorError as exc:
        raise VectorError(f"line {line}: {exc}") from None
    except RecursionError:
        raise VectorError(f"line {line}: not JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise VectorError(f"line {line}: expected a JSON object")
    w = f"line {line}"
    known = {"name", "sid", "ssid", "ste", "cd", "memory", "requests"}
    extra = set(obj) - known
    if extra:
        raise VectorError(f"{w}: unknown key(s) {sorted(extra)}")
    for k in ("name", "sid", "requests"):
        if k not in obj:
            raise VectorError(f"{w}: missing {k!r}")
    name = obj["name"]
    if not isinstance(name, str):
        raise VectorError(f"{w}.name: expected a string")
    sid = _int(obj["sid"], f"{w}.sid", bits=32)
    ssid = None if obj.get("ssid") is None else _int(obj["ssid"], f"{w}.ssid", bits=20)
    ste = _fields(STE, obj.get("ste", {}), f"{w}.ste")
    for k in HARNESS_OWNED_STE:
        if k in ste:
            raise VectorError(f"{w}.ste.{k.lower()}: set by the harness (it owns the CD table)")
    cd = _fields(CD, obj.get("cd", {}), f"{w}.cd")
    mem: dict[int, int] = {}
    memory = obj.get("memory", {})
    if not isinstance(memory, dict):
        raise VectorError(f"{w}.memory: expected an object {{\"0xPA\": \"0xWORD\"}}")
    for k, v in memory.items():
        pa = _int(k, f"{w}.memory[{k!r}]", bits=48)
        if pa % 8:
            raise VectorError(f"{w}.memory[{k!r}]: address not 8-byte aligned")
        if HARNESS_WINDOW[0] <= pa < HARNESS_WINDOW[1]:
            raise VectorError(f"{w}.memory[{k!r}]: inside the harness window "
                              f"[{HARNESS_WINDOW[0]:#x}, {HARNESS_WINDOW[1]:#x})")
        if pa in mem:
            raise VectorError(f"{w}.memory[{k!r}]: address {pa:#x} given twice")
        mem[pa] = _int(v, f"{w}.memory[{k!r}]", bits=64)
    reqs = obj["requests"]
    if not isinstance(reqs, list) or not reqs:
        raise VectorError(f"{w}.requests: expected a non-empty list")
    out = []
    for i, r in enumerate(reqs):
        rw = f"{w}.requests[{i}]"
        if not isinstance(r, dict) or "va" not in r:
            raise VectorError(f"{rw}: expected an object with 'va'")
        extra = set(r) - {"va", "rnw", "ind", "pnu"}
        if extra:
            raise VectorError(f"{rw}: unknown key(s) {sorted(extra)}")
        rnw = _int(r.get("rnw", 1), f"{rw}.rnw", bits=1)
        ind = _int(r.get("ind", 0), f"{rw}.ind", bits=1)
        if ind and not rnw:
            raise VectorError(f"{rw}: ind=1 needs rnw=1 (instruction fetches are reads)")
        out.append(Request(_int(r["va"], f"{rw}.va", bits=64), rnw, ind,
                           _int(r.get("pnu", 0), f"{rw}.pnu", bits=1)))
    if "TTB0" not in cd and not cd.get("EPD0"):
        raise VectorError(f"{w}.cd.ttb0: required (the page table's physical address)")
    return Vector(line, name, sid, ssid, ste, cd, mem, out)


def load(path: Path) -> list[Vector]:
    """Parse the whole file first so a bad line stops the run before anything executes.
    Every error is one line that names the file (and the line: ``in.jsonl: line 3.sid: ...``):
    a file that cannot be read, a line that is not UTF-8 or not a vector, no vectors."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise VectorError(f"{path}: cannot read: {exc.strerror or exc}") from None
    vectors = []
    for n, raw in enumerate(data.split(b"\n"), 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise VectorError(f"{path}: line {n}: not UTF-8 text (byte {exc.start + 1})") \
                from None
        if text.strip() and not text.lstrip().startswith("#"):
            try:
                vectors.append(parse_line(text, n))
            except VectorError as exc:
                raise VectorError(f"{path}: {exc}") from None
    if not vectors:
        raise VectorError(f"{path}: no vectors (the file is empty or only comments)")
    return vectors


def build_ste(v: Vector, cd_table: int, s1cdmax: int) -> STE:
    vals = {**STE_DEFAULTS, "S1CDMax": s1cdmax, **v.ste, "S1ContextPtr": cd_table}
    return STE.from_fields(vals)


def build_cd(v: Vector) -> CD:
    return CD.from_fields({**CD_DEFAULTS, **v.cd})


def s1cdmax_for(v: Vector) -> int:
    """Enough substream bits for the vector's SSID; 0 (no substreams) without one."""
    if "S1CDMax" in v.ste:
        return v.ste["S1CDMax"]
    return 0 if v.ssid is None else max(1, v.ssid.bit_length())
