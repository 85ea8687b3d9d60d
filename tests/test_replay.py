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
