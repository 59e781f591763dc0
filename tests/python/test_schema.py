"""Schemas: defineModel, validation, unique indexes, listModels (CONTRACT section 5)."""

import time

import msgpack
import pytest

from mgwire import assert_same, err, ok, ts64

SCHEMA = {
    "fields": {
        "name": {"type": "string", "required": True, "minLength": 2, "maxLength": 10},
        "age": {"type": "int", "min": 0, "max": 150},
        "score": {"type": "number"},
        "email": {"type": "string", "unique": True, "match": "^[^@]+@[^@]+$"},
        "role": {"type": "string", "enum": ["admin", "user"], "default": "user"},
        "born": {"type": "date"},
        "tags": {"type": "array"},
        "meta": {"type": "object"},
        "blob": {"type": "binary"},
        "active": {"type": "bool"},
    },
}


def validation_paths(e):
    errors = e.get("errors")
    assert isinstance(errors, list) and errors, e
    for item in errors:
        assert isinstance(item, dict) and isinstance(item.get("path"), str) and isinstance(item.get("reason"), str), e
        assert item["reason"], e
    return {item["path"] for item in errors}


@pytest.fixture
def typed(dealer, model):
    assert ok(dealer.call("defineModel", model=model, schema=SCHEMA))["created"] is True
    return model


def test_define_model_twice(dealer, model):
    assert ok(dealer.call("defineModel", model=model, schema=SCHEMA))["created"] is True
    assert ok(dealer.call("defineModel", model=model, schema=SCHEMA))["created"] is False


def test_valid_document_and_default(dealer, typed):
    doc = {"_id": 1, "name": "alice", "age": 30, "score": 1.5, "email": "a@x", "born": ts64(0, 0),
           "tags": ["x"], "meta": {"k": 1}, "blob": b"\x00", "active": True}
    ok(dealer.call("insertOne", model=typed, doc=doc))
    d = ok(dealer.call("findById", model=typed, _id=1))["doc"]
    assert d["role"] == "user", d  # default filled in
    assert d["name"] == "alice" and d["age"] == 30 and d["score"] == 1.5
    ok(dealer.call("insertOne", model=typed, doc={"_id": 2, "name": "bob", "score": 3}))  # number takes ints


INVALID = [
    ({"age": 5}, {"name"}),  # required
    ({"name": 5}, {"name"}),  # type
    ({"name": "a"}, {"name"}),  # minLength
    ({"name": "a" * 11}, {"name"}),  # maxLength
    ({"name": "ok", "age": 1.5}, {"age"}),  # int rejects floats
    ({"name": "ok", "age": "1"}, {"age"}),
    ({"name": "ok", "age": -1}, {"age"}),  # min
    ({"name": "ok", "age": 151}, {"age"}),  # max
    ({"name": "ok", "score": "high"}, {"score"}),
    ({"name": "ok", "email": "nope"}, {"email"}),  # match
    ({"name": "ok", "role": "root"}, {"role"}),  # enum
    ({"name": "ok", "born": "2020-01-01"}, {"born"}),  # date takes dates only
    ({"name": "ok", "tags": "x"}, {"tags"}),
    ({"name": "ok", "meta": [1]}, {"meta"}),
    ({"name": "ok", "blob": "text"}, {"blob"}),
    ({"name": "ok", "active": 1}, {"active"}),
    ({"name": 5, "age": -1}, {"name", "age"}),  # every issue is reported
]


@pytest.mark.parametrize("doc,paths", INVALID, ids=[str(d)[:40] for d, _ in INVALID])
def test_invalid_document(dealer, typed, doc, paths):
    e = err(dealer.call("insertOne", model=typed, doc=doc), 121)
    assert paths <= validation_paths(e), e
    assert ok(dealer.call("count", model=typed, filter={}))["count"] == 0


def test_insert_many_validation_is_all_or_nothing(dealer, typed):
    e = err(dealer.call("insertMany", model=typed, docs=[{"name": "ok"}, {"name": "ok2"}, {"age": 3}]), 121)
    assert e["index"] == 2, e
    assert "name" in validation_paths(e)
    assert ok(dealer.call("count", model=typed, filter={}))["count"] == 0


def test_writes_are_validated_after_update(dealer, typed):
    ok(dealer.call("insertOne", model=typed, doc={"_id": 1, "name": "alice", "age": 3}))
    e = err(dealer.call("updateOne", model=typed, filter={"_id": 1}, update={"$unset": {"name": ""}}), 121)
    assert "name" in validation_paths(e)
    e = err(dealer.call("updateOne", model=typed, filter={"_id": 1}, update={"$inc": {"age": -10}}), 121)
    assert "age" in validation_paths(e)
    e = err(dealer.call("replaceOne", model=typed, filter={"_id": 1}, replacement={"age": 4}), 121)
    assert "name" in validation_paths(e)
    e = err(dealer.call("findOneAndUpdate", model=typed, filter={"_id": 1}, update={"$set": {"age": 1.5}}), 121)
    assert "age" in validation_paths(e)
    d = ok(dealer.call("findById", model=typed, _id=1))["doc"]
    assert d["name"] == "alice" and d["age"] == 3


def test_unique_field(dealer, typed):
    ok(dealer.call("insertOne", model=typed, doc={"_id": 1, "name": "alice", "email": "a@x"}))
    e = err(dealer.call("insertOne", model=typed, doc={"_id": 2, "name": "bob", "email": "a@x"}), 11000)
    assert e["keyPattern"] == {"email": 1}, e
    assert e["keyValue"] == {"email": "a@x"}, e
    ok(dealer.call("insertOne", model=typed, doc={"_id": 3, "name": "carol", "email": "c@x"}))
    e = err(dealer.call("updateOne", model=typed, filter={"_id": 3}, update={"$set": {"email": "a@x"}}), 11000)
    assert e["keyValue"] == {"email": "a@x"}, e
    assert ok(dealer.call("findById", model=typed, _id=3))["doc"]["email"] == "c@x"
    # after the owner of a value is deleted, the value is free again
    ok(dealer.call("deleteOne", model=typed, filter={"_id": 1}))
    ok(dealer.call("updateOne", model=typed, filter={"_id": 3}, update={"$set": {"email": "a@x"}}))


def test_compound_unique_index(dealer, model):
    schema = {"indexes": [{"fields": {"a": 1, "b": -1}, "unique": True}]}
    assert ok(dealer.call("defineModel", model=model, schema=schema))["created"] is True
    ok(dealer.call("insertMany", model=model, docs=[{"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": 2, "b": 1}]))
    e = err(dealer.call("insertOne", model=model, doc={"a": 1, "b": 2}), 11000)
    assert e["keyPattern"] == {"a": 1, "b": -1}, e
    assert_same(e["keyValue"], {"a": 1, "b": 2})
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 3


def test_strict_rejects_unknown_fields(dealer, model):
    schema = {"fields": {"a": {"type": "int"}}, "strict": True}
    ok(dealer.call("defineModel", model=model, schema=schema))
    ok(dealer.call("insertOne", model=model, doc={"_id": 1, "a": 1}))
    e = err(dealer.call("insertOne", model=model, doc={"_id": 2, "a": 1, "zz": 2}), 121)
    assert "zz" in validation_paths(e)
    err(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"$set": {"zz": 1}}), 121)
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 1


def test_timestamps(dealer, model):
    ok(dealer.call("defineModel", model=model, schema={"timestamps": True}))
    t0 = time.time()
    ok(dealer.call("insertOne", model=model, doc={"_id": 1, "a": 1}))
    d = ok(dealer.call("findById", model=model, _id=1))["doc"]
    assert isinstance(d["createdAt"], msgpack.Timestamp) and isinstance(d["updatedAt"], msgpack.Timestamp), d
    assert t0 - 5 <= d["createdAt"].to_unix() <= time.time() + 5
    time.sleep(0.01)
    ok(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"$set": {"a": 2}}))
    d2 = ok(dealer.call("findById", model=model, _id=1))["doc"]
    assert d2["createdAt"] == d["createdAt"]
    assert d2["updatedAt"].to_unix_nano() > d["updatedAt"].to_unix_nano()


def test_list_models_returns_schema_as_given(dealer, model):
    schema = {
        "fields": {"email": {"type": "string", "unique": True}, "age": {"type": "int", "min": 0, "index": True}},
        "indexes": [{"fields": {"city": 1, "age": -1}, "unique": False}],
        "timestamps": False,
        "strict": False,
    }
    ok(dealer.call("defineModel", model=model, schema=schema))
    ok(dealer.call("insertMany", model=model, docs=[{"email": "a"}, {"email": "b"}]))
    models = {m["name"]: m for m in ok(dealer.call("listModels"))["models"]}
    m = models[model]
    assert m["count"] == 2
    assert_same(m["schema"], schema)
    ok(dealer.call("listModels", db="default"))


def test_redefine_with_unique_over_duplicates_keeps_old_schema(dealer, model):
    old = {"fields": {"email": {"type": "string"}}}
    ok(dealer.call("defineModel", model=model, schema=old))
    ok(dealer.call("insertMany", model=model, docs=[{"email": "same"}, {"email": "same"}]))
    new = {"fields": {"email": {"type": "string", "unique": True}}}
    e = err(dealer.call("defineModel", model=model, schema=new), 11000)
    assert e["keyValue"] == {"email": "same"}, e
    models = {m["name"]: m for m in ok(dealer.call("listModels"))["models"]}
    assert_same(models[model]["schema"], old)
    ok(dealer.call("insertOne", model=model, doc={"email": "same"}))  # still no unique index
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 3


def test_redefine_adds_unique_index(dealer, model):
    ok(dealer.call("defineModel", model=model, schema={"fields": {"k": {"type": "int"}}}))
    ok(dealer.call("insertMany", model=model, docs=[{"k": 1}, {"k": 2}]))
    assert ok(dealer.call("defineModel", model=model,
                          schema={"fields": {"k": {"type": "int", "unique": True}}}))["ok"] is True
    err(dealer.call("insertOne", model=model, doc={"k": 2}), 11000)
    # and dropping it again allows duplicates
    ok(dealer.call("defineModel", model=model, schema={"fields": {"k": {"type": "int"}}}))
    ok(dealer.call("insertOne", model=model, doc={"k": 2}))


def test_bad_schema_is_rejected(dealer, model):
    r = dealer.call("defineModel", model=model, schema={"fields": {"a": {"type": "nonsense"}}})
    assert r["ok"] is False and r["error"]["code"] in (2, 14), r
    r = dealer.call("defineModel", model=model, schema="not a map")
    assert r["ok"] is False and r["error"]["code"] in (2, 14), r
