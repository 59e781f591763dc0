"""Document operations on the default (memory) database (CONTRACT section 5)."""

import re
import time

import msgpack
import pytest

from mgwire import assert_same, err, ok, pack, ts64

HEX24 = re.compile(r"^[0-9a-f]{24}$")


def ids(docs):
    return [d["_id"] for d in docs]


def test_insert_one_generates_object_id(dealer, model):
    r1 = ok(dealer.call("insertOne", model=model, doc={"name": "a", "n": 1}))
    r2 = ok(dealer.call("insertOne", model=model, doc={"name": "b", "n": 2}))
    a, b = r1["insertedId"], r2["insertedId"]
    assert isinstance(a, str) and HEX24.match(a), a
    assert HEX24.match(b) and a != b
    # 4-byte seconds, 5 random bytes per process, 3-byte counter
    assert abs(int(a[:8], 16) - time.time()) < 600, a
    assert a[8:18] == b[8:18], (a, b)
    assert a[18:] != b[18:], (a, b)
    doc = ok(dealer.call("findById", model=model, _id=a))["doc"]
    assert doc["_id"] == a and doc["name"] == "a" and doc["n"] == 1
    assert [k for k in doc if k != "_id"] == ["name", "n"]


def test_insert_one_with_client_ids(dealer, model):
    for _id in (5, "5", 2.5, "x" * 100, True, -(2**62)):
        r = ok(dealer.call("insertOne", model=model, doc={"_id": _id, "v": repr(_id)}))
        assert_same(r["insertedId"], _id)
    # 5 and "5" are different ids
    assert ok(dealer.call("findById", model=model, _id=5))["doc"]["v"] == "5"
    assert ok(dealer.call("findById", model=model, _id="5"))["doc"]["v"] == "'5'"
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 6


def test_insert_one_duplicate_id(dealer, model):
    ok(dealer.call("insertOne", model=model, doc={"_id": "k", "v": 1}))
    e = err(dealer.call("insertOne", model=model, doc={"_id": "k", "v": 2}), 11000)
    assert e["keyPattern"] == {"_id": 1}, e
    assert e["keyValue"] == {"_id": "k"}, e
    assert ok(dealer.call("findById", model=model, _id="k"))["doc"] == {"_id": "k", "v": 1}
    # int and float compare by value: 7 and 7.0 are the same _id
    ok(dealer.call("insertOne", model=model, doc={"_id": 7}))
    e = err(dealer.call("insertOne", model=model, doc={"_id": 7.0}), 11000)
    assert e["keyPattern"] == {"_id": 1}, e
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 2


def test_insert_one_nil_id_is_not_allowed(dealer, model):
    # "a client may give any non-nil scalar"
    r = dealer.call("insertOne", model=model, doc={"_id": None, "a": 1})
    assert r["ok"] is False, r
    r = dealer.call("insertOne", model=model, doc={"_id": {"a": 1}})
    assert r["ok"] is False, r
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 0


def test_insert_many(dealer, model):
    r = ok(dealer.call("insertMany", model=model, docs=[{"_id": 1}, {"x": 2}, {"_id": "three"}]))
    assert r["insertedCount"] == 3
    got = r["insertedIds"]
    assert len(got) == 3 and got[0] == 1 and got[2] == "three" and HEX24.match(got[1]), got
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 3


def test_insert_many_duplicate_inside_batch_inserts_nothing(dealer, model):
    docs = [{"_id": 1, "a": 1}, {"_id": 2}, {"_id": 3}, {"_id": 2, "b": 1}, {"_id": 4}]
    e = err(dealer.call("insertMany", model=model, docs=docs), 11000)
    assert e["index"] == 3, e
    assert e["keyPattern"] == {"_id": 1}, e
    assert e["keyValue"] == {"_id": 2}, e
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 0
    assert ok(dealer.call("find", model=model, filter={}))["docs"] == []


def test_insert_many_duplicate_of_existing_inserts_nothing(dealer, model):
    ok(dealer.call("insertOne", model=model, doc={"_id": 10}))
    e = err(dealer.call("insertMany", model=model, docs=[{"_id": 11}, {"_id": 12}, {"_id": 10}]), 11000)
    assert e["index"] == 2 and e["keyValue"] == {"_id": 10}, e
    assert ids(ok(dealer.call("find", model=model, filter={}))["docs"]) == [10]


def test_insert_many_invalid_document_inserts_nothing(dealer, model):
    e = err(dealer.call("insertMany", model=model, docs=[{"_id": 1}, {"$bad": 1}]), 2)
    assert e["index"] == 1, e
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 0


@pytest.mark.parametrize("doc", [{"$set": 1}, {"a.b": 1}, {"": 1}, {"a": {"$x": 1}}, {"a": {"b.c": 1}},
                                 {"a\x00b": 1}])
def test_bad_field_names(dealer, model, doc):
    err(dealer.call("insertOne", model=model, doc=doc), 2)
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 0


PEOPLE = [
    {"_id": 1, "name": "alice", "age": 30, "tags": ["a", "b"], "address": {"city": "Paris", "zip": "75001"},
     "items": [{"k": "x", "v": 1}, {"k": "y", "v": 5}]},
    {"_id": 2, "name": "bob", "age": 25, "tags": ["b", "c"], "address": {"city": "Berlin"},
     "items": [{"k": "x", "v": 7}]},
    {"_id": 3, "name": "Carol", "age": 35, "tags": [], "nick": None},
    {"_id": 4, "name": "dave", "age": 25.0, "tags": ["a"], "address": {"city": "paris"}},
    {"_id": 5, "name": "eve", "tags": "a"},
]


@pytest.fixture
def people(dealer, model):
    ok(dealer.call("insertMany", model=model, docs=PEOPLE))
    return model


FILTERS = [
    ({}, [1, 2, 3, 4, 5]),
    ({"age": 25}, [2, 4]),
    ({"age": 25.0}, [2, 4]),
    ({"age": {"$eq": 30}}, [1]),
    ({"age": {"$gt": 25}}, [1, 3]),
    ({"age": {"$gte": 25, "$lt": 35}}, [1, 2, 4]),
    ({"age": {"$lte": 25}}, [2, 4]),
    ({"age": {"$ne": 25}}, [1, 3, 5]),
    ({"age": {"$in": [30, 35]}}, [1, 3]),
    ({"age": {"$nin": [25]}}, [1, 3, 5]),
    ({"age": {"$exists": False}}, [5]),
    ({"nick": {"$exists": True}}, [3]),
    ({"address": None}, [3, 5]),
    ({"nick": None}, [1, 2, 3, 4, 5]),
    ({"age": {"$type": "number"}}, [1, 2, 3, 4]),
    ({"name": {"$regex": "^[a-c]"}}, [1, 2]),
    ({"name": {"$regex": "^c", "$options": "i"}}, [3]),
    ({"tags": "b"}, [1, 2]),
    ({"tags": "a"}, [1, 4, 5]),
    ({"tags": {"$size": 2}}, [1, 2]),
    ({"tags": {"$size": 0}}, [3]),
    ({"tags": {"$all": ["a", "b"]}}, [1]),
    ({"tags": {"$in": ["c", "z"]}}, [2]),
    ({"tags.0": "b"}, [2]),
    ({"items": {"$elemMatch": {"k": "x", "v": {"$gt": 5}}}}, [2]),
    ({"items.v": 5}, [1]),
    ({"items.k": "y"}, [1]),
    ({"address.city": "Paris"}, [1]),
    ({"address.city": {"$regex": "^paris$", "$options": "i"}}, [1, 4]),
    ({"address": {"city": "Berlin"}}, [2]),
    ({"age": {"$mod": [10, 5]}}, [2, 3, 4]),
    ({"age": {"$not": {"$gt": 26}}}, [2, 4, 5]),
    ({"$or": [{"age": 30}, {"name": "eve"}]}, [1, 5]),
    ({"$and": [{"tags": "a"}, {"age": 25}]}, [4]),
    ({"$nor": [{"tags": "a"}, {"age": 35}]}, [2]),
    ({"name": "bob", "$or": [{"age": 25}, {"age": 30}]}, [2]),
    ({"name": "alice", "$or": [{"age": 25}, {"age": 35}]}, []),
    ({"_id": {"$in": [2, 4, 9]}}, [2, 4]),
]


@pytest.mark.parametrize("flt,want", FILTERS, ids=[str(f)[:60] for f, _ in FILTERS])
def test_filter(dealer, people, flt, want):
    docs = ok(dealer.call("find", model=people, filter=flt, sort={"_id": 1}))["docs"]
    assert ids(docs) == want
    assert ok(dealer.call("count", model=people, filter=flt))["count"] == len(want)


def test_find_returns_whole_documents(dealer, people):
    docs = ok(dealer.call("find", model=people, filter={}, sort={"_id": 1}))["docs"]
    assert len(docs) == 5
    for got, want in zip(docs, PEOPLE):
        assert_same(got, want)


def test_find_sort_skip_limit_projection(dealer, people):
    r = ok(dealer.call("find", model=people, filter={"age": {"$gte": 25}}, sort={"age": -1, "name": 1},
                       skip=1, limit=2, projection={"name": 1, "_id": 0}))
    # ages: Carol 35, alice 30, bob 25, dave 25.0 -> skip 1, take 2
    assert r["docs"] == [{"name": "alice"}, {"name": "bob"}]


def test_sort_ascending_missing_first(dealer, people):
    docs = ok(dealer.call("find", model=people, filter={}, sort={"age": 1, "_id": 1}))["docs"]
    assert ids(docs) == [5, 2, 4, 1, 3]
    docs = ok(dealer.call("find", model=people, filter={}, sort={"age": -1, "_id": -1}))["docs"]
    assert ids(docs) == [3, 1, 4, 2, 5]
    docs = ok(dealer.call("find", model=people, filter={}, sort={"name": 1}))["docs"]
    assert ids(docs) == [3, 1, 2, 4, 5]  # bytewise: "Carol" < "alice"


def test_skip_and_limit(dealer, people):
    f = lambda **kw: ids(ok(dealer.call("find", model=people, filter={}, sort={"_id": 1}, **kw))["docs"])
    assert f(limit=0) == [1, 2, 3, 4, 5]
    assert f(limit=2) == [1, 2]
    assert f(skip=3) == [4, 5]
    assert f(skip=10) == []
    assert f(skip=1, limit=3) == [2, 3, 4]


def test_negative_skip_or_limit_is_bad_value(dealer, people):
    err(dealer.call("find", model=people, filter={}, limit=-1), 2)
    err(dealer.call("find", model=people, filter={}, skip=-1), 2)


def test_projection_inclusion_keeps_document_order(dealer, people):
    d = ok(dealer.call("findOne", model=people, filter={"_id": 1}, projection={"age": 1, "name": 1}))["doc"]
    assert_same(d, {"_id": 1, "name": "alice", "age": 30})
    d = ok(dealer.call("findOne", model=people, filter={"_id": 1}, projection={"address.city": 1, "_id": 0}))["doc"]
    assert_same(d, {"address": {"city": "Paris"}})


def test_projection_exclusion(dealer, people):
    d = ok(dealer.call("findOne", model=people, filter={"_id": 1},
                       projection={"tags": 0, "items": 0, "address.zip": 0}))["doc"]
    assert_same(d, {"_id": 1, "name": "alice", "age": 30, "address": {"city": "Paris"}})


def test_find_one(dealer, people):
    r = ok(dealer.call("findOne", model=people, filter={"age": 25}, sort={"_id": -1}))
    assert r["doc"]["_id"] == 4
    r = ok(dealer.call("findOne", model=people, filter={"age": 99}))
    assert "doc" in r and r["doc"] is None, r


def test_find_by_id(dealer, people):
    d = ok(dealer.call("findById", model=people, _id=2))["doc"]
    assert_same(d, PEOPLE[1])
    d = ok(dealer.call("findById", model=people, _id=2, projection={"name": 1}))["doc"]
    assert_same(d, {"_id": 2, "name": "bob"})
    r = ok(dealer.call("findById", model=people, _id=99))
    assert r.get("doc") is None, r
    r = ok(dealer.call("findById", model=people, _id="2"))
    assert r.get("doc") is None, r


def test_reads_of_unknown_model_return_nothing(dealer, model):
    assert ok(dealer.call("find", model=model, filter={}))["docs"] == []
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 0
    assert ok(dealer.call("findOne", model=model, filter={})).get("doc") is None
    assert ok(dealer.call("distinct", model=model, field="a", filter={}))["values"] == []


def test_count(dealer, people):
    assert ok(dealer.call("count", model=people, filter={}))["count"] == 5
    assert ok(dealer.call("count", model=people))["count"] == 5
    assert ok(dealer.call("count", model=people, filter={"tags": "a"}))["count"] == 3


def test_distinct(dealer, people):
    vals = ok(dealer.call("distinct", model=people, field="address.city", filter={}))["values"]
    assert sorted(vals) == ["Berlin", "Paris", "paris"]
    vals = ok(dealer.call("distinct", model=people, field="name", filter={"age": 25}))["values"]
    assert sorted(vals) == ["bob", "dave"]
    vals = ok(dealer.call("distinct", model=people, field="tags", filter={}))["values"]
    assert sorted(vals) == ["a", "b", "c"]  # arrays are unwound, as in MongoDB
    vals = ok(dealer.call("distinct", model=people, field="age", filter={"age": 25}))["values"]
    assert len(vals) == 1 and vals[0] == 25  # 25 and 25.0 are the same value


def test_update_many_and_one_counts(dealer, people):
    r = ok(dealer.call("updateMany", model=people, filter={"age": {"$gte": 25}}, update={"$inc": {"age": 1}}))
    assert (r["matchedCount"], r["modifiedCount"]) == (4, 4)
    assert r.get("upsertedId") is None
    assert ok(dealer.call("findById", model=people, _id=1))["doc"]["age"] == 31
    r = ok(dealer.call("updateOne", model=people, filter={"tags": "a"}, update={"$set": {"flag": True}}))
    assert (r["matchedCount"], r["modifiedCount"]) == (1, 1)
    assert ok(dealer.call("count", model=people, filter={"flag": True}))["count"] == 1
    # setting the value it already has: matched, not modified
    r = ok(dealer.call("updateOne", model=people, filter={"_id": 2}, update={"$set": {"name": "bob"}}))
    assert (r["matchedCount"], r["modifiedCount"]) == (1, 0)
    r = ok(dealer.call("updateMany", model=people, filter={"age": 1000}, update={"$set": {"x": 1}}))
    assert (r["matchedCount"], r["modifiedCount"]) == (0, 0)


def test_update_keeps_field_order_and_appends_new_fields(dealer, model):
    ok(dealer.call("insertOne", model=model, doc={"_id": 1, "a": 1, "b": 2, "c": 3}))
    ok(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"$set": {"a": 10, "z": 0}}))
    assert_same(ok(dealer.call("findById", model=model, _id=1))["doc"], {"_id": 1, "a": 10, "b": 2, "c": 3, "z": 0})


def test_upsert(dealer, model):
    r = ok(dealer.call("updateOne", model=model, filter={"name": "zed", "age": {"$gt": 3}},
                       update={"$set": {"age": 1}, "$setOnInsert": {"new": True}}, upsert=True))
    assert (r["matchedCount"], r["modifiedCount"]) == (0, 0)
    uid = r["upsertedId"]
    assert isinstance(uid, str) and HEX24.match(uid), r
    d = ok(dealer.call("findById", model=model, _id=uid))["doc"]
    assert d["name"] == "zed" and d["age"] == 1 and d["new"] is True, d
    # second time it matches; $setOnInsert does not apply
    r = ok(dealer.call("updateOne", model=model, filter={"name": "zed"},
                       update={"$set": {"age": 2}, "$setOnInsert": {"new": False}}, upsert=True))
    assert (r["matchedCount"], r["modifiedCount"]) == (1, 1) and r.get("upsertedId") is None, r
    d = ok(dealer.call("findById", model=model, _id=uid))["doc"]
    assert d["age"] == 2 and d["new"] is True
    # upsert seeded with a client _id from the filter
    r = ok(dealer.call("updateMany", model=model, filter={"_id": "given"}, update={"$inc": {"n": 5}}, upsert=True))
    assert r["upsertedId"] == "given"
    assert_same(ok(dealer.call("findById", model=model, _id="given"))["doc"], {"_id": "given", "n": 5})
    assert ok(dealer.call("count", model=model, filter={}))["count"] == 2


def test_update_without_operators_is_bad_value(dealer, model):
    ok(dealer.call("insertOne", model=model, doc={"_id": 1, "a": 1}))
    err(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"a": 2}), 2)
    err(dealer.call("updateMany", model=model, filter={}, update={"a": 2}), 2)
    err(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"$bogus": {"a": 2}}), 2)
    assert_same(ok(dealer.call("findById", model=model, _id=1))["doc"], {"_id": 1, "a": 1})


def test_changing_id_is_immutable_field(dealer, model):
    ok(dealer.call("insertOne", model=model, doc={"_id": 1, "a": 1}))
    err(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"$set": {"_id": 2}}), 66)
    err(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"$unset": {"_id": ""}}), 66)
    err(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"$inc": {"_id": 1}}), 66)
    err(dealer.call("replaceOne", model=model, filter={"_id": 1}, replacement={"_id": 2, "a": 5}), 66)
    err(dealer.call("findOneAndUpdate", model=model, filter={"_id": 1}, update={"$set": {"_id": 3}}), 66)
    assert_same(ok(dealer.call("find", model=model, filter={}))["docs"], [{"_id": 1, "a": 1}])
    # setting _id to its own value is not a change
    r = ok(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"$set": {"_id": 1, "b": 1}}))
    assert r["modifiedCount"] == 1


def test_replace_one(dealer, model):
    ok(dealer.call("insertMany", model=model, docs=[{"_id": 1, "a": 1, "b": 2}, {"_id": 2, "a": 1}]))
    r = ok(dealer.call("replaceOne", model=model, filter={"_id": 1}, replacement={"c": 3, "a": 9}))
    assert (r["matchedCount"], r["modifiedCount"]) == (1, 1)
    assert_same(ok(dealer.call("findById", model=model, _id=1))["doc"], {"_id": 1, "c": 3, "a": 9})
    r = ok(dealer.call("replaceOne", model=model, filter={"_id": 1}, replacement={"_id": 1, "c": 3, "a": 9}))
    assert (r["matchedCount"], r["modifiedCount"]) == (1, 0)
    r = ok(dealer.call("replaceOne", model=model, filter={"_id": 7}, replacement={"x": 1}))
    assert (r["matchedCount"], r["modifiedCount"]) == (0, 0)
    r = ok(dealer.call("replaceOne", model=model, filter={"_id": 7}, replacement={"x": 1}, upsert=True))
    assert r["upsertedId"] == 7
    assert_same(ok(dealer.call("findById", model=model, _id=7))["doc"], {"_id": 7, "x": 1})


def test_delete(dealer, people):
    assert ok(dealer.call("deleteOne", model=people, filter={"age": 25}))["deletedCount"] == 1
    assert ok(dealer.call("count", model=people, filter={"age": 25}))["count"] == 1
    n_a = ok(dealer.call("count", model=people, filter={"tags": "a"}))["count"]
    assert ok(dealer.call("deleteMany", model=people, filter={"tags": "a"}))["deletedCount"] == n_a
    assert ok(dealer.call("count", model=people, filter={"tags": "a"}))["count"] == 0
    remaining = ok(dealer.call("count", model=people, filter={}))["count"]
    assert remaining == 5 - 1 - n_a
    assert ok(dealer.call("deleteOne", model=people, filter={"_id": 99}))["deletedCount"] == 0
    assert ok(dealer.call("deleteMany", model=people, filter={}))["deletedCount"] == remaining
    assert ok(dealer.call("count", model=people, filter={}))["count"] == 0


def test_delete_exact_counts(dealer, people):
    assert ok(dealer.call("deleteMany", model=people, filter={"tags": "a"}))["deletedCount"] == 3
    assert ids(ok(dealer.call("find", model=people, filter={}, sort={"_id": 1}))["docs"]) == [2, 3]
    assert ok(dealer.call("deleteOne", model=people, filter={"_id": 2}))["deletedCount"] == 1
    assert ok(dealer.call("deleteOne", model=people, filter={"_id": 2}))["deletedCount"] == 0
    assert ids(ok(dealer.call("find", model=people, filter={}))["docs"]) == [3]


def test_find_one_and_update(dealer, people):
    r = ok(dealer.call("findOneAndUpdate", model=people, filter={"_id": 1}, update={"$inc": {"age": 5}}))
    assert r["doc"]["age"] == 30  # returnDocument defaults to before
    r = ok(dealer.call("findOneAndUpdate", model=people, filter={"_id": 1}, update={"$inc": {"age": 5}},
                       returnDocument="after", projection={"age": 1, "_id": 0}))
    assert_same(r["doc"], {"age": 40})
    r = ok(dealer.call("findOneAndUpdate", model=people, filter={"age": 25}, sort={"_id": -1},
                       update={"$set": {"picked": True}}, returnDocument="after"))
    assert r["doc"]["_id"] == 4 and r["doc"]["picked"] is True
    r = ok(dealer.call("findOneAndUpdate", model=people, filter={"_id": 99}, update={"$set": {"a": 1}}))
    assert r.get("doc") is None
    assert ok(dealer.call("count", model=people, filter={}))["count"] == 5
    r = ok(dealer.call("findOneAndUpdate", model=people, filter={"_id": 99}, update={"$set": {"a": 1}},
                       upsert=True, returnDocument="after"))
    assert_same(r["doc"], {"_id": 99, "a": 1})


def test_find_one_and_delete(dealer, people):
    r = ok(dealer.call("findOneAndDelete", model=people, filter={"age": 25}, sort={"_id": -1},
                       projection={"name": 1}))
    assert_same(r["doc"], {"_id": 4, "name": "dave"})
    assert ok(dealer.call("findById", model=people, _id=4)).get("doc") is None
    assert ok(dealer.call("count", model=people, filter={}))["count"] == 4
    r = ok(dealer.call("findOneAndDelete", model=people, filter={"age": 99}))
    assert r.get("doc") is None
    assert ok(dealer.call("count", model=people, filter={}))["count"] == 4


BASE = {"_id": 1, "a": 1, "b": {"c": 2}, "arr": [1, 2, 3], "s": "x"}
UPDATES = [
    ({"$set": {"b.d": 3}}, {"_id": 1, "a": 1, "b": {"c": 2, "d": 3}, "arr": [1, 2, 3], "s": "x"}),
    ({"$set": {"arr.1": 9}}, {"_id": 1, "a": 1, "b": {"c": 2}, "arr": [1, 9, 3], "s": "x"}),
    ({"$set": {"n.m": 1}}, {"_id": 1, "a": 1, "b": {"c": 2}, "arr": [1, 2, 3], "s": "x", "n": {"m": 1}}),
    ({"$unset": {"a": ""}}, {"_id": 1, "b": {"c": 2}, "arr": [1, 2, 3], "s": "x"}),
    ({"$unset": {"b.c": ""}}, {"_id": 1, "a": 1, "b": {}, "arr": [1, 2, 3], "s": "x"}),
    ({"$inc": {"a": 2}}, {"_id": 1, "a": 3, "b": {"c": 2}, "arr": [1, 2, 3], "s": "x"}),
    ({"$inc": {"a": 1.5}}, {"_id": 1, "a": 2.5, "b": {"c": 2}, "arr": [1, 2, 3], "s": "x"}),
    ({"$inc": {"new": 4}}, {"_id": 1, "a": 1, "b": {"c": 2}, "arr": [1, 2, 3], "s": "x", "new": 4}),
    ({"$mul": {"a": 3}}, {"_id": 1, "a": 3, "b": {"c": 2}, "arr": [1, 2, 3], "s": "x"}),
    ({"$min": {"a": 0}}, {"_id": 1, "a": 0, "b": {"c": 2}, "arr": [1, 2, 3], "s": "x"}),
    ({"$max": {"a": 5}}, {"_id": 1, "a": 5, "b": {"c": 2}, "arr": [1, 2, 3], "s": "x"}),
    ({"$push": {"arr": 4}}, {"_id": 1, "a": 1, "b": {"c": 2}, "arr": [1, 2, 3, 4], "s": "x"}),
    ({"$push": {"arr": {"$each": [4, 5], "$slice": -3}}}, {"_id": 1, "a": 1, "b": {"c": 2}, "arr": [3, 4, 5], "s": "x"}),
    ({"$push": {"list": "v"}}, {"_id": 1, "a": 1, "b": {"c": 2}, "arr": [1, 2, 3], "s": "x", "list": ["v"]}),
    ({"$pull": {"arr": 2}}, {"_id": 1, "a": 1, "b": {"c": 2}, "arr": [1, 3], "s": "x"}),
    ({"$pull": {"arr": {"$gt": 1}}}, {"_id": 1, "a": 1, "b": {"c": 2}, "arr": [1], "s": "x"}),
    ({"$addToSet": {"arr": {"$each": [3, 4, 4]}}}, {"_id": 1, "a": 1, "b": {"c": 2}, "arr": [1, 2, 3, 4], "s": "x"}),
    ({"$pop": {"arr": 1}}, {"_id": 1, "a": 1, "b": {"c": 2}, "arr": [1, 2], "s": "x"}),
    ({"$pop": {"arr": -1}}, {"_id": 1, "a": 1, "b": {"c": 2}, "arr": [2, 3], "s": "x"}),
]


@pytest.mark.parametrize("update,want", UPDATES, ids=[str(u)[:50] for u, _ in UPDATES])
def test_update_operator(dealer, model, update, want):
    ok(dealer.call("insertOne", model=model, doc=BASE))
    r = ok(dealer.call("updateOne", model=model, filter={"_id": 1}, update=update))
    assert (r["matchedCount"], r["modifiedCount"]) == (1, 1)
    assert_same(ok(dealer.call("findById", model=model, _id=1))["doc"], want)


def test_update_rename(dealer, model):
    ok(dealer.call("insertOne", model=model, doc=BASE))
    ok(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"$rename": {"s": "t"}}))
    d = ok(dealer.call("findById", model=model, _id=1))["doc"]
    assert "s" not in d and d["t"] == "x" and d["a"] == 1


def test_update_that_changes_nothing(dealer, model):
    ok(dealer.call("insertOne", model=model, doc=BASE))
    r = ok(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"$addToSet": {"arr": 2}}))
    assert (r["matchedCount"], r["modifiedCount"]) == (1, 0)
    r = ok(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"$max": {"a": 0}}))
    assert (r["matchedCount"], r["modifiedCount"]) == (1, 0)
    assert_same(ok(dealer.call("findById", model=model, _id=1))["doc"], BASE)


def test_current_date(dealer, model):
    ok(dealer.call("insertOne", model=model, doc={"_id": 1}))
    before = time.time()
    ok(dealer.call("updateOne", model=model, filter={"_id": 1}, update={"$currentDate": {"d": True}}))
    d = ok(dealer.call("findById", model=model, _id=1))["doc"]["d"]
    assert isinstance(d, msgpack.Timestamp), d
    assert before - 5 <= d.to_unix() <= time.time() + 5


def test_failed_update_on_many_changes_nothing(dealer, model):
    # $inc on a string in the second document fails: the first is not changed either.
    ok(dealer.call("insertMany", model=model, docs=[{"_id": 1, "a": 1}, {"_id": 2, "a": "str"}, {"_id": 3, "a": 3}]))
    r = dealer.call("updateMany", model=model, filter={}, update={"$inc": {"a": 1}})
    assert r["ok"] is False, r
    docs = ok(dealer.call("find", model=model, filter={}, sort={"_id": 1}))["docs"]
    assert docs == [{"_id": 1, "a": 1}, {"_id": 2, "a": "str"}, {"_id": 3, "a": 3}]


def test_requests_to_one_model_apply_in_arrival_order(dealer, model):
    # Pipelined, without waiting: insert, 200 updates, then a read; all on one model.
    dealer.send_raw(pack({"id": "ins", "op": "insertOne", "model": model,
                                               "doc": {"_id": 1, "n": 0, "log": []}}))
    for i in range(1, 201):
        dealer.send_raw(pack({"id": i, "op": "updateOne", "model": model, "filter": {"_id": 1},
                                                   "update": {"$set": {"n": i}, "$push": {"log": i}}}))
    dealer.send_raw(pack({"id": "read", "op": "findById", "model": model, "_id": 1}))
    replies = {}
    while len(replies) < 202:
        r = dealer.recv()
        replies[r["id"]] = r
    ok(replies["ins"])
    for i in range(1, 201):
        assert ok(replies[i])["modifiedCount"] == 1
    d = ok(replies["read"])["doc"]
    assert d["n"] == 200 and d["log"] == list(range(1, 201))


def test_sort_order_across_types(dealer, model):
    # nil < numbers < strings < maps < arrays < bin < bool < dates
    docs = [
        {"_id": "date", "v": ts64(1_700_000_000, 0)},
        {"_id": "true", "v": True},
        {"_id": "false", "v": False},
        {"_id": "bin", "v": b"\x01"},
        {"_id": "map", "v": {"a": 1}},
        {"_id": "str", "v": "abc"},
        {"_id": "float", "v": 2.5},
        {"_id": "int", "v": 2},
        {"_id": "nil", "v": None},
    ]
    ok(dealer.call("insertMany", model=model, docs=docs))
    got = ids(ok(dealer.call("find", model=model, filter={}, sort={"v": 1}))["docs"])
    assert got == ["nil", "int", "float", "str", "map", "bin", "false", "true", "date"]
    got = ids(ok(dealer.call("find", model=model, filter={}, sort={"v": -1}))["docs"])
    assert got == ["date", "true", "false", "bin", "map", "str", "float", "int", "nil"]


def test_aggregate_basic(dealer, people):
    r = ok(dealer.call("aggregate", model=people, pipeline=[
        {"$match": {"age": {"$exists": True}}},
        {"$group": {"_id": "$age", "n": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
    ]))
    got = [(d["_id"], d["n"]) for d in r["docs"]]
    assert got == [(25, 2), (30, 1), (35, 1)], r["docs"]


def test_aggregate_unsupported_stage_is_bad_value(dealer, people):
    e = err(dealer.call("aggregate", model=people, pipeline=[{"$frobnicate": {}}]), 2)
    assert "$frobnicate" in e["message"], e


def test_aggregate_unknown_operator_is_bad_value(dealer, people):
    e = err(dealer.call("aggregate", model=people,
                        pipeline=[{"$project": {"x": {"$frobnicate": 1}}}]), 2)
    assert "$frobnicate" in e["message"], e


def test_aggregate_of_unknown_model_is_empty(dealer):
    r = ok(dealer.call("aggregate", model="NeverWritten", pipeline=[{"$match": {}}]))
    assert r["docs"] == []


def test_aggregate_lookup_across_models(dealer, model):
    orders, users = model + "Orders", model + "Users"
    ok(dealer.call("insertMany", model=users, docs=[{"_id": 1, "name": "ada"},
                                                     {"_id": 2, "name": "bob"}]))
    ok(dealer.call("insertMany", model=orders, docs=[{"_id": 10, "user": 1},
                                                      {"_id": 11, "user": 3},
                                                      {"_id": 12, "user": 1}]))
    r = ok(dealer.call("aggregate", model=users, pipeline=[
        {"$lookup": {"from": orders, "localField": "_id", "foreignField": "user", "as": "orders"}},
        {"$project": {"name": 1, "n": {"$size": "$orders"}}},
        {"$sort": {"_id": 1}},
    ]))
    assert r["docs"] == [{"_id": 1, "name": "ada", "n": 2}, {"_id": 2, "name": "bob", "n": 0}]
    r = ok(dealer.call("aggregate", model=users, pipeline=[
        {"$lookup": {"from": "NoSuchModel", "localField": "_id", "foreignField": "x", "as": "o"}},
    ]))
    assert [d["o"] for d in r["docs"]] == [[], []]


def test_stats(dealer, model):
    ok(dealer.call("insertMany", model=model, docs=[{"a": 1}, {"a": 2}, {"a": 3}]))
    r = ok(dealer.call("stats"))
    dbs = {d["name"]: d for d in r["databases"]}
    assert dbs["default"]["storage"] == "memory"
    models = {m["name"]: m for m in dbs["default"]["models"]}
    assert models[model]["count"] == 3, models[model]


def test_flush_memory(dealer):
    ok(dealer.call("flush", db="default"))
    ok(dealer.call("flush"))
