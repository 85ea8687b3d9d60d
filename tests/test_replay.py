"""`make replay`: the hand-written vectors against hand-derived results, and input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tb.replay.cli import main
from tb.replay.vectors import VectorError, load, parse_line

VEC = Path(__file__).parent / "vectors"


def test_handwritten_vectors_on_the_model(tmp_path):
    out = tmp_path / "out.jsonl"
    assert main([str(VEC / "handwritten.jsonl"), str(out), "--backend", "model"]) == 0
    got = [json.loads(x) for x in out.read_text().splitlines()]
    want = [json.loads(x) for x in (VEC / "handwritten.expected.jsonl").read_text().splitlines()]
    assert [g["name"] for g in got] == [w["name"] for w in want]
    for g, w in zip(got, want, strict=True):
        assert len(g["results"]) == len(w["results"]), g["name"]
        for i, (gr, wr) in enumerate(zip(g["results"], w["results"], strict=True)):
            where = f"{g['name']} request {i}"
            if wr["ok"]:
                assert gr == wr, where
            else:
                assert (gr["ok"], gr["result"], gr["fault"]) == \
                       (False, wr["result"], wr["fault"]), where
                assert (gr["event"] or {}).get("name") == wr["event"], where
        assert g["memory_writes"] == {}


def test_event_fields_of_a_permission_fault(tmp_path):
    out = tmp_path / "out.jsonl"
    main([str(VEC / "handwritten.jsonl"), str(out), "--backend", "model"])
    first = json.loads(out.read_text().splitlines()[0])
    ev = first["results"][2]["event"]  # write to the read-only page at 0x401000
    assert (ev["id"], ev["StreamID"], ev["SSV"], ev["SubstreamID"]) == (0x13, 3, 1, 1)
    assert (ev["RnW"], ev["InD"], ev["PnU"], ev["CLASS"], ev["InputAddr"]) == \
           (0, 0, 0, 0b10, "0x401000")


@pytest.mark.parametrize(("text", "msg"), [
    ("{", "line 1: not JSON"),
    ('{"name": "x", "sid": 1}', "missing 'requests'"),
    ('{"name": "x", "sid": 1, "cd": {"ttb0": "0x1000", "t0sz": 99}, "requests": [{"va": 0}]}',
     "cd.t0sz"),
    ('{"name": "x", "sid": 1, "cd": {"ttb0": "0x1000", "bogus": 1}, "requests": [{"va": 0}]}',
     "cd.bogus"),
    ('{"name": "x", "sid": 1, "cd": {"ttb0": "0x1001"}, "requests": [{"va": 0}]}',
     "cd.ttb0"),
    ('{"name": "x", "sid": 1, "cd": {"ttb0": "0x1000"}, "requests": [{"va": "zz"}]}',
     "requests[0].va"),
    ('{"name": "x", "sid": 1, "cd": {"ttb0": "0x1000"}, "memory": {"0xff0000000000": "0x1"},'
     ' "requests": [{"va": 0}]}', "harness window"),
    ('{"name": "x", "sid": 1, "ste": {"s1contextptr": 64}, "cd": {"ttb0": "0x1000"},'
     ' "requests": [{"va": 0}]}', "set by the harness"),
    ('{"name": "x", "sid": 1, "cd": {}, "requests": [{"va": 0}]}', "cd.ttb0: required"),
    ('{"name": "x", "sid": 1, "cd": {"ttb0": "0x1000"}, "requests": [{"va": 0, "rnw": 0,'
     ' "ind": 1}]}', "ind=1 needs rnw=1"),
])
def test_malformed_vectors_name_line_and_field(text, msg):
    with pytest.raises(VectorError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        parse_line(text, 1)


def test_a_bad_line_stops_the_whole_file(tmp_path):
    good = (VEC / "handwritten.jsonl").read_text().splitlines()[1]
    p = tmp_path / "in.jsonl"
    p.write_text(good + "\n" + '{"name": "bad"}' + "\n" + good + "\n")
    with pytest.raises(VectorError, match="line 2"):
        load(p)
    out = tmp_path / "out.jsonl"
    assert main([str(p), str(out), "--backend", "model"]) == 2
    assert not out.exists()


def test_flag_updates_are_reported_in_memory_writes(tmp_path):
    """On an SMMU with HTTU (parameter set httu), smmuv3.md §4.4: a read of the AF=0 page at
    0x400000 through CD.HA sets AF (bit 10) in its descriptor at 0x80003000; a read of the
    clean DBM page at 0x401000 (AP=0b11, DBM=1) grants no write and changes nothing, a write
    clears AP[2] (bit 7) at 0x80003008, after which a read grants the write. memory_writes
    holds each descriptor as the SMMU left it."""
    out = tmp_path / "out.jsonl"
    assert main([str(VEC / "httu.jsonl"), str(out), "--backend", "model",
                 "--params", "httu"]) == 0
    (got,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["ok"] for r in got["results"]] == [True] * 4, got
    assert [r["perm"][1] for r in got["results"][1:]] == ["-", "w", "w"], got
    af, dirty = 0x12345353 | 1 << 10, 0x00080000123467D3 & ~(1 << 7)
    assert got["memory_writes"] == {"0x80003000": af.to_bytes(8, "little").hex(),
                                    "0x80003008": dirty.to_bytes(8, "little").hex()}, got


def test_an_unknown_parameter_set_is_an_error(tmp_path, capsys):
    assert main([str(VEC / "httu.jsonl"), str(tmp_path / "o.jsonl"), "--backend", "model",
                 "--params", "nope"]) == 2
    assert "unknown parameter set 'nope'" in capsys.readouterr().err
