"""Value types, dates, limits (CONTRACT section 4)."""

import struct

import msgpack
import pytest

from mgwire import Raw, assert_same, err, ok, pack, ts32, ts64, ts96, ts_millis, unpack

ALL_TYPES = {
    "_id": "types",
    "i": 7,
    "zero": 0,
    "neg": -3,
    "i64max": 2**63 - 1,
    "i64min": -(2**63),
    "u32": 2**32 + 5,
    "f": 1.0,
    "f2": 0.1,
    "fneg": -2.5e-300,
    "s": "héllo wörld ✓",
    "empty": "",
    "b": b"\x00\x01\xff",
    "bempty": b"",
    "n": None,
    "t": True,
    "fa": False,
    "arr": [1, "a", [2, {"x": 1}], None, 1.5],
    "m": {"z": 1, "a": 2, "m": {"q": [], "p": {}}},
}


def test_types_round_trip(dealer, model):
    ok(dealer.call("insertOne", model=model, doc=ALL_TYPES))
    got = ok(dealer.call("findById", model=model, _id="types"))["doc"]
    assert_same(got, ALL_TYPES)  # same types, same values, same key order at every level
    got = ok(dealer.call("find", model=model, filter={}))["docs"][0]
    assert_same(got, ALL_TYPES)


def test_float_is_float64_on_the_wire(dealer, model):
    ok(dealer.call("insertOne", model=model, doc={"_id": 1, "f": 0.1, "g": 1.0}))
    dealer.send_raw(pack({"id": 1, "op": "findById", "model": model, "_id": 1}))
    raw = dealer.recv_raw()
    assert b"\xcb" + struct.pack(">d", 0.1) in raw, raw
    assert b"\xcb" + struct.pack(">d", 1.0) in raw, raw
    doc = unpack(raw)["doc"]
    assert type(doc["g"]) is float and doc["g"] == 1.0


def test_float32_input_reads_back_as_float(dealer, model):
    # a float32 is still a float (its value is exactly representable as a float64)
    ok(dealer.call("insertOne", model=model, doc={"_id": 1, "f": Raw(b"\xca" + struct.pack(">f", 0.5))}))
    v = ok(dealer.call("findById", model=model, _id=1))["doc"]["f"]
    assert type(v) is float and v == 0.5


DATES = [
    ("ts32", ts32(1_700_000_000), 1_700_000_000, 0),
    ("ts32-max", ts32(2**32 - 1), 2**32 - 1, 0),
    ("ts64", ts64(1_700_000_000, 123_456_789), 1_700_000_000, 123_456_789),
    ("ts64-big", ts64(2**34 - 1, 999_000_000), 2**34 - 1, 999_000_000),
    ("ts96-neg", ts96(-31_536_000, 456_000_000), -31_536_000, 456_000_000),
    ("ts96-pos", ts96(1_700_000_000, 5_000_000), 1_700_000_000, 5_000_000),
    ("ts96-1969", ts96(-1, 999_000_000), -1, 999_000_000),
]


@pytest.mark.parametrize("name,raw,sec,nsec", DATES, ids=[d[0] for d in DATES])
def test_dates_round_trip_to_the_millisecond(dealer, model, name, raw, sec, nsec):
    ok(dealer.call("insertOne", model=model, doc={"_id": 1, "d": raw, "nested": {"ds": [raw]}}))
    doc = ok(dealer.call("findById", model=model, _id=1))["doc"]
    want_ms = sec * 1000 + nsec // 1_000_000
    for got in (doc["d"], doc["nested"]["ds"][0]):
        assert isinstance(got, msgpack.Timestamp), f"date came back as {got!r}"
        assert ts_millis(got) == want_ms, (got, want_ms)
    # and a date can be matched by a date
    q = ok(dealer.call("find", model=model, filter={"d": {"$gte": msgpack.Timestamp(sec, nsec // 1_000_000 * 1_000_000)}}))
    assert len(q["docs"]) == 1


def test_three_encodings_of_one_date_are_equal(dealer, model):
    s = 1_600_000_000
    ok(dealer.call("insertMany", model=model, docs=[
        {"_id": 32, "d": ts32(s)}, {"_id": 64, "d": ts64(s, 0)}, {"_id": 96, "d": ts96(s, 0)}]))
    got = ok(dealer.call("find", model=model, filter={"d": msgpack.Timestamp(s, 0)}, sort={"_id": 1}))["docs"]
    assert [d["_id"] for d in got] == [32, 64, 96]
    assert ok(dealer.call("distinct", model=model, field="d", filter={}))["values"] == [msgpack.Timestamp(s, 0)]


def test_dates_order(dealer, model):
    ok(dealer.call("insertMany", model=model, docs=[
        {"_id": "late", "d": ts64(1_700_000_000, 2_000_000)},
        {"_id": "early", "d": ts96(-5, 0)},
        {"_id": "mid", "d": ts32(1_700_000_000)},
    ]))
    got = ok(dealer.call("find", model=model, filter={}, sort={"d": 1}))["docs"]
    assert [d["_id"] for d in got] == ["early", "mid", "late"]
    got = ok(dealer.call("find", model=model, filter={"d": {"$gt": msgpack.Timestamp(0, 0)}}, sort={"d": -1}))["docs"]
    assert [d["_id"] for d in got] == ["late", "mid"]


@pytest.mark.parametrize("ext", [
    Raw(b"\xd4\x05\x01"),  # fixext1 type 5
    Raw(b"\xc7\x03\x01abc"),  # ext8 type 1
    Raw(b"\xd5\x80\x00\x00"),  # fixext2 type -128
    Raw(b"\xd4\xff\x00"),  # type -1 with a length no timestamp has
    Raw(b"\xc7\x05\xff\x00\x00\x00\x00\x00"),
], ids=["fixext1-5", "ext8-1", "fixext2-128", "ts-len1", "ts-len5"])
def test_unsupported_extension_is_bad_value(dealer, model, ext):
    r = dealer.request({"id": "x", "op": "insertOne", "model": model, "doc": {"_id": 1, "e": ext}})
    err(r, 2)
    assert r["id"] == "x"
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 0


def test_timestamp_with_invalid_nanoseconds_is_bad_value(dealer, model):
    bad = Raw(b"\xc7\x0c\xff" + struct.pack(">Iq", 1_000_000_000, 0))
    err(dealer.call("insertOne", model=model, doc={"_id": 1, "d": bad}), 2)


def nested(depth, leaf=1):
    v = leaf
    for i in range(depth):
        v = {"k": v} if i % 2 else [v]
    return v


def test_moderate_nesting_round_trips(dealer, model):
    doc = {"_id": 1, "deep": nested(50)}
    ok(dealer.call("insertOne", model=model, doc=doc))
    assert_same(ok(dealer.call("findById", model=model, _id=1))["doc"], doc)


@pytest.mark.parametrize("where", ["doc", "filter", "update"])
def test_nesting_deeper_than_100_is_bad_value(dealer, model, where):
    deep = nested(150)
    if where == "doc":
        r = dealer.request({"id": 1, "op": "insertOne", "model": model, "doc": {"_id": 1, "deep": deep}})
    elif where == "filter":
        r = dealer.request({"id": 1, "op": "find", "model": model, "filter": {"a": deep}})
    else:
        ok(dealer.call("insertOne", model=model, doc={"_id": 1}))
        r = dealer.request({"id": 1, "op": "updateOne", "model": model, "filter": {"_id": 1},
                            "update": {"$set": {"a": deep}}})
    err(r, 2)
    assert r["id"] == 1
    assert ok(dealer.call("find", model=model, filter={}))["docs"] in ([], [{"_id": 1}])


def test_very_deep_body_is_answered(dealer):
    # 100,000 nested arrays: must be refused without a stack overflow
    body = b"\x82\xa2id\x01\xa2op" + b"\x91" * 100_000 + b"\xc0"
    r = dealer.request(body)
    assert r["ok"] is False and r["error"]["code"] in (2, 9), r
    ok(dealer.call("ping"))

# Documents over 16 MiB: see test_shutdown.py (they need a raised --max-request-bytes daemon).
