"""Databases and models: create, list, drop; persistence across restarts (CONTRACT sections 5, 8)."""

import json
import os
import sqlite3

import pytest

from mgwire import Client, assert_same, err, ok, pack, ts64, unpack


def dbs(c):
    return {d["name"]: d for d in ok(c.call("listDatabases"))["databases"]}


def test_list_databases_includes_default(dealer):
    d = dbs(dealer)["default"]
    assert d["storage"] == "memory"
    assert "options" in d


def test_create_memory_database_twice_then_conflict(dealer):
    assert ok(dealer.call("createDatabase", db="memA", storage="memory"))["created"] is True
    assert ok(dealer.call("createDatabase", db="memA", storage="memory"))["created"] is False
    assert ok(dealer.call("createDatabase", db="memA", storage="memory", options={}))["created"] is False
    err(dealer.call("createDatabase", db="memA", storage="sqlite"), 72)
    assert dbs(dealer)["memA"]["storage"] == "memory"
    ok(dealer.call("insertOne", db="memA", model="X", doc={"_id": 1}))
    assert ok(dealer.call("count", db="memA", model="X", filter={}))["count"] == 1
    # models of different databases are separate
    assert ok(dealer.call("count", model="X", filter={}))["count"] == 0
    ok(dealer.call("dropDatabase", db="memA"))
    assert "memA" not in dbs(dealer)
    err(dealer.call("count", db="memA", model="X", filter={}), 26)


def test_create_default_again(dealer):
    assert ok(dealer.call("createDatabase", db="default", storage="memory"))["created"] is False
    err(dealer.call("createDatabase", db="default", storage="file"), 72)


def test_create_database_bad_storage_or_options(dealer):
    r = dealer.call("createDatabase", db="badStorage", storage="floppy")
    assert r["ok"] is False and r["error"]["code"] in (2, 72), r
    err(dealer.call("createDatabase", db="badOpt", storage="file", options={"persistMode": "sometimes"}), 72)
    err(dealer.call("createDatabase", db="badOpt2", storage="sqlite", options={"synchronous": "never"}), 72)
    names = dbs(dealer)
    assert "badStorage" not in names and "badOpt" not in names and "badOpt2" not in names


def test_drop_default_is_bad_value(dealer):
    err(dealer.call("dropDatabase", db="default"), 2)
    assert "default" in dbs(dealer)


def test_drop_unknown_database(dealer):
    err(dealer.call("dropDatabase", db="neverCreated"), 26)


def test_drop_model(dealer, model):
    ok(dealer.call("insertMany", model=model, docs=[{"a": 1}, {"a": 2}]))
    assert ok(dealer.call("dropModel", model=model))["dropped"] is True
    assert ok(dealer.call("dropModel", model=model))["dropped"] is False
    assert ok(dealer.call("dropModel", model="NeverExisted"))["dropped"] is False
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 0
    assert model not in [m["name"] for m in ok(dealer.call("listModels"))["models"]]


def test_drop_model_forgets_schema(dealer, model):
    ok(dealer.call("defineModel", model=model, schema={"fields": {"a": {"type": "int", "unique": True}}}))
    ok(dealer.call("insertOne", model=model, doc={"a": 1}))
    ok(dealer.call("dropModel", model=model))
    ok(dealer.call("insertMany", model=model, docs=[{"a": "x"}, {"a": "x"}]))


def test_list_models(dealer):
    ok(dealer.call("createDatabase", db="lm", storage="memory"))
    schema = {"fields": {"n": {"type": "number", "required": True}}, "timestamps": False}
    ok(dealer.call("defineModel", db="lm", model="Defined", schema=schema))
    ok(dealer.call("insertMany", db="lm", model="Implicit", docs=[{"x": 1}, {"x": 2}, {"x": 3}]))
    models = {m["name"]: m for m in ok(dealer.call("listModels", db="lm"))["models"]}
    assert set(models) == {"Defined", "Implicit"}
    assert models["Defined"]["count"] == 0
    assert_same(models["Defined"]["schema"], schema)
    assert models["Implicit"]["count"] == 3
    assert not models["Implicit"]["schema"], models["Implicit"]  # empty schema
    ok(dealer.call("dropDatabase", db="lm"))


def test_create_file_database_defaults_are_filled_in(dealer):
    assert ok(dealer.call("createDatabase", db="fileA", storage="file"))["created"] is True
    assert ok(dealer.call("createDatabase", db="fileA", storage="file",
                          options={"persistMode": "debounced", "debounceMs": 100}))["created"] is False
    err(dealer.call("createDatabase", db="fileA", storage="file", options={"debounceMs": 50}), 72)
    err(dealer.call("createDatabase", db="fileA", storage="file", options={"persistMode": "immediate"}), 72)
    assert dbs(dealer)["fileA"]["storage"] == "file"
    ok(dealer.call("dropDatabase", db="fileA"))


def test_create_sqlite_database_defaults_are_filled_in(dealer):
    assert ok(dealer.call("createDatabase", db="sqlA", storage="sqlite"))["created"] is True
    assert ok(dealer.call("createDatabase", db="sqlA", storage="sqlite",
                          options={"synchronous": "normal"}))["created"] is False
    err(dealer.call("createDatabase", db="sqlA", storage="sqlite", options={"synchronous": "full"}), 72)
    ok(dealer.call("dropDatabase", db="sqlA"))


def test_drop_database_removes_its_data(dealer, daemon):
    ok(dealer.call("createDatabase", db="gone", storage="file"))
    ok(dealer.call("insertOne", db="gone", model="M", doc={"_id": 1}))
    ok(dealer.call("flush", db="gone"))
    ok(dealer.call("dropDatabase", db="gone"))
    assert not os.path.exists(os.path.join(daemon.data_dir, "gone"))
    assert ok(dealer.call("createDatabase", db="gone", storage="file"))["created"] is True
    assert ok(dealer.call("count", db="gone", model="M", filter={}))["count"] == 0
    ok(dealer.call("dropDatabase", db="gone"))


PERSISTENT = [
    ("file", {}),
    ("file", {"persistMode": "immediate"}),
    ("sqlite", {}),
    ("sqlite", {"synchronous": "full"}),
    ("wiredtiger", {}),
]

DOCS = [
    {"_id": 1, "i": 1, "f": 1.0, "s": "one", "b": b"\x00\x01", "d": ts64(1_700_000_000, 123_000_000),
     "arr": [1, {"x": None}], "m": {"z": 1, "a": [True, False]}, "email": "a@x"},
    {"_id": "1", "i": -(2**63), "f": 0.1, "n": None, "email": "b@x"},
    {"_id": 2.5, "email": "e@x"},
]
SCHEMA = {"fields": {"email": {"type": "string", "unique": True}}, "indexes": [{"fields": {"i": 1}}]}


def _write_sample(c, db, storage, options):
    assert ok(c.call("createDatabase", db=db, storage=storage, options=options))["created"] is True
    ok(c.call("defineModel", db=db, model="Things", schema=SCHEMA))
    ok(c.call("insertMany", db=db, model="Things", docs=DOCS))
    ok(c.call("updateOne", db=db, model="Things", filter={"_id": "1"}, update={"$set": {"s": "updated"}}))
    ok(c.call("insertOne", db=db, model="Things", doc={"_id": "tmp"}))
    ok(c.call("deleteOne", db=db, model="Things", filter={"_id": "tmp"}))


def _check_sample(c, db, storage, options):
    got = ok(c.call("find", db=db, model="Things", filter={}, sort={"_id": 1}))["docs"]
    want = [dict(DOCS[0]), dict(DOCS[2]), dict(DOCS[1], s="updated")]  # numbers < strings
    want = [unpack(pack(d)) for d in want]
    assert len(got) == 3, got
    for g, w in zip(got, want):
        assert_same(g, w)
    d = dbs(c)[db]
    assert d["storage"] == storage
    for k, v in options.items():
        assert d["options"][k] == v, d
    models = {m["name"]: m for m in ok(c.call("listModels", db=db))["models"]}
    assert_same(models["Things"]["schema"], SCHEMA)
    assert models["Things"]["count"] == 3
    err(c.call("insertOne", db=db, model="Things", doc={"email": "e@x"}), 11000)


@pytest.mark.parametrize("how", ["restart", "sigkill"])
@pytest.mark.parametrize("storage,options", PERSISTENT, ids=[f"{s}-{o}" for s, o in PERSISTENT])
def test_persistent_database_survives(zctx, make_daemon, tmp_path_factory, storage, options, how):
    """Data, schema and config come back after a graceful restart (SIGTERM) and after SIGKILL:
    every acknowledged write survives a killed daemon on every persistent backend (§8)."""
    tmp = tmp_path_factory.mktemp(how[0])
    d = make_daemon(tmp=tmp)
    c = Client(zctx, d.req)
    require_storage(c, storage)
    try:
        _write_sample(c, "pers", storage, options)
    finally:
        c.close()
    if how == "restart":
        d.stop()
    else:
        d.kill()
    d2 = make_daemon(tmp=tmp)
    c = Client(zctx, d2.req)
    try:
        _check_sample(c, "pers", storage, options)
    finally:
        c.close()


def require_storage(c, storage):
    """Skips (naming the missing backend) when this build's hello does not list `storage`."""
    storages = ok(c.call("hello"))["storages"]
    if storage not in storages:
        c.close()
        pytest.skip(f"storage '{storage}' is not in this build yet (hello lists {storages})")


def test_sqlite_layout(zctx, daemon, dealer):
    require_storage(dealer, "sqlite")
    ok(dealer.call("createDatabase", db="sqlLayout", storage="sqlite"))
    ok(dealer.call("insertMany", db="sqlLayout", model="Ids", docs=[{"_id": 5, "v": 1}, {"_id": "5", "v": 2}]))
    ok(dealer.call("flush", db="sqlLayout"))
    path = os.path.join(daemon.data_dir, "sqlLayout", "Ids.db")
    assert os.path.exists(path), os.listdir(os.path.join(daemon.data_dir, "sqlLayout"))
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = dict(con.execute("select id, data from documents").fetchall())
        assert con.execute("pragma journal_mode").fetchone()[0].lower() == "wal"
    finally:
        con.close()
    assert set(rows) == {"5", '"5"'}, rows
    assert json.loads(rows["5"]) == {"_id": 5, "v": 1}
    assert json.loads(rows['"5"']) == {"_id": "5", "v": 2}
    ok(dealer.call("dropDatabase", db="sqlLayout"))


def test_file_layout(zctx, daemon, dealer):
    ok(dealer.call("createDatabase", db="fileLayout", storage="file", options={"persistMode": "immediate"}))
    ok(dealer.call("insertOne", db="fileLayout", model="Dates",
                   doc={"_id": 1, "d": ts64(1_700_000_000, 0), "b": b"\x01\x02"}))
    ok(dealer.call("flush", db="fileLayout"))
    root = os.path.join(daemon.data_dir, "fileLayout")
    files = os.listdir(root)
    text = ""
    for name in ("Dates.data.ndjson", "Dates.wal.ndjson"):
        p = os.path.join(root, name)
        if os.path.exists(p):
            text += open(p).read()
    assert text, files
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines, text
    assert '"$date"' in text and '"$binary"' in text, text
    ok(dealer.call("dropDatabase", db="fileLayout"))
