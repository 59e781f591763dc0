"""Framing, envelope, names and error codes (CONTRACT sections 1-4 and 6)."""

import msgpack
import pytest

from mgwire import Client, assert_same, err, ok, pack, unpack


def test_ready_line_names_endpoints(daemon):
    # "When ready, it logs one line containing `ready` and the endpoints exactly as given".
    assert daemon.req in daemon.ready_line, daemon.ready_line
    assert daemon.pub in daemon.ready_line, daemon.ready_line


@pytest.mark.parametrize("kind", ["dealer", "req"])
def test_ping(zctx, daemon, kind):
    c = Client(zctx, daemon.req, kind)
    try:
        r = c.request({"op": "ping"})
        assert r == {"ok": True}, r  # ping -> {} and no id when none was given
        r = ok(c.call("ping"))
        assert set(r) == {"id", "ok"}, r
    finally:
        c.close()


@pytest.mark.parametrize("kind", ["dealer", "req"])
def test_hello(zctx, daemon, kind):
    c = Client(zctx, daemon.req, kind)
    try:
        r = ok(c.call("hello"))
        assert r["server"] == "memgoosed"
        assert r["protocol"] == 1 and type(r["protocol"]) is int
        assert "version" in r
        assert isinstance(r["storages"], list) and "memory" in r["storages"], r
        assert isinstance(r["compressors"], list), r
    finally:
        c.close()


ID_VALUES = [
    0,
    42,
    -7,
    2**40,
    2**63 - 1,
    "abc",
    "",
    "ünïcødé",
    [1, "two", [3.5, None]],
    [],
    {"k": 1, "nested": [True]},
    2.25,
    True,
    b"\x00\xffbin",
]


@pytest.mark.parametrize("kind", ["dealer", "req"])
@pytest.mark.parametrize("rid", ID_VALUES, ids=[repr(v)[:20] for v in ID_VALUES])
def test_id_echoed_unchanged(zctx, daemon, kind, rid):
    c = Client(zctx, daemon.req, kind)
    try:
        r = c.request({"id": rid, "op": "ping"})
        ok(r)
        assert_same(r["id"], rid)
        # also on errors
        r = c.request({"id": rid, "op": "noSuchOp"})
        err(r, 59)
        assert_same(r["id"], rid)
    finally:
        c.close()


@pytest.mark.parametrize("kind", ["dealer", "req"])
def test_id_absent_when_not_given(zctx, daemon, kind):
    c = Client(zctx, daemon.req, kind)
    try:
        for body in ({"op": "ping"}, {"op": "hello"}, {"op": "noSuchOp"}, {"op": "find", "model": "x", "limit": -1}):
            r = c.request(body)
            assert isinstance(r, dict) and "ok" in r, r
            assert "id" not in r, r
    finally:
        c.close()


def test_dealer_sending_req_framing_gets_req_framing(zctx, daemon):
    # A DEALER that sends [empty, body] is indistinguishable from REQ: the reply mirrors it.
    c = Client(zctx, daemon.req, "dealer")
    try:
        c.sock.send_multipart([b"", pack({"id": "rf", "op": "ping"})])
        frames = c.recv_frames()
        assert frames is not None, "no reply"
        assert len(frames) == 2 and frames[0] == b"", frames
        r = unpack(frames[1])
        assert r == {"id": "rf", "ok": True}, r
    finally:
        c.close()


NOT_A_MAP = [
    b"\xc1",  # never used
    b"\x00\x01\x02garbage\xff\xfe",
    bytes(range(256)),
    msgpack.packb([1, 2, 3]),
    msgpack.packb(["op", "ping"]),
    msgpack.packb(42),
    msgpack.packb("ping"),
    msgpack.packb(None),
    msgpack.packb(b"\x80"),
    b"\x82\xa2op",  # truncated map
    b"\xdf\xff\xff\xff\xff",  # map32 claiming 4G entries
]


@pytest.mark.parametrize("kind", ["dealer", "req"])
@pytest.mark.parametrize("body", NOT_A_MAP, ids=[b[:8].hex() for b in NOT_A_MAP])
def test_not_a_map_is_failed_to_parse(zctx, daemon, kind, body):
    c = Client(zctx, daemon.req, kind)
    try:
        r = c.request(body)
        e = err(r, 9)
        assert "id" not in r, r
        assert e["name"] == "FailedToParse"
        # the connection is still usable
        ok(c.call("ping"))
    finally:
        c.close()


def test_missing_op_is_bad_value(dealer):
    r = dealer.request({"id": 5, "model": "x"})
    err(r, 2)
    assert r["id"] == 5
    err(dealer.request({}), 2)


def test_unknown_op_is_command_not_found(dealer):
    err(dealer.call("frobnicate"), 59)
    err(dealer.call("Ping"), 59)  # ops are case-sensitive
    err(dealer.call("", model="x"), 59)


def test_op_of_wrong_type(dealer):
    r = dealer.request({"id": 1, "op": 12})
    assert r["ok"] is False and r["error"]["code"] in (2, 14, 59), r


BAD_NAMES = ["../x", "a.b", "", "a" * 65, "1abc", "9", "a/b", "a b", "-a", "é", "a\x00b", "$x", ".."]


@pytest.mark.parametrize("name", BAD_NAMES, ids=[repr(n)[:12] for n in BAD_NAMES])
def test_bad_model_name_is_bad_value(dealer, name):
    err(dealer.call("insertOne", model=name, doc={"a": 1}), 2)
    err(dealer.call("find", model=name, filter={}), 2)
    err(dealer.call("defineModel", model=name, schema={}), 2)
    names = [m["name"] for m in ok(dealer.call("listModels"))["models"]]
    assert name not in names


@pytest.mark.parametrize("name", BAD_NAMES, ids=[repr(n)[:12] for n in BAD_NAMES])
def test_bad_db_name_is_bad_value(dealer, name):
    # Names are checked before anything else: not NamespaceNotFound.
    err(dealer.call("find", db=name, model="x", filter={}), 2)
    err(dealer.call("insertOne", db=name, model="x", doc={"a": 1}), 2)
    err(dealer.call("createDatabase", db=name, storage="memory"), 2)
    err(dealer.call("dropDatabase", db=name), 2)
    names = [d["name"] for d in ok(dealer.call("listDatabases"))["databases"]]
    assert name not in names


def test_longest_names_are_valid(dealer):
    m = "M" + "x" * 63  # 64 characters
    ok(dealer.call("insertOne", model=m, doc={"_id": 1}))
    assert ok(dealer.call("count", model=m, filter={}))["count"] == 1
    d = "_" + "-" * 63
    assert ok(dealer.call("createDatabase", db=d, storage="memory"))["created"] is True
    ok(dealer.call("dropDatabase", db=d))


def test_unknown_database_is_namespace_not_found(dealer):
    for op, args in [
        ("find", {"model": "x", "filter": {}}),
        ("insertOne", {"model": "x", "doc": {"a": 1}}),
        ("listModels", {}),
        ("count", {"model": "x", "filter": {}}),
    ]:
        err(dealer.call(op, db="noSuchDatabase", **args), 26)


def test_wrong_argument_type_is_type_mismatch(dealer, model):
    ok(dealer.call("insertOne", model=model, doc={"_id": 1}))
    err(dealer.call("find", model=model, filter={}, limit="ten"), 14)
    err(dealer.call("find", model=model, filter=[1, 2]), 14)
    err(dealer.call("insertOne", model=model, doc="not a document"), 14)
    err(dealer.call("insertMany", model=model, docs={"a": 1}), 14)
