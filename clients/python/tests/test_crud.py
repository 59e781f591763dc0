"""The client's document operations against the real daemon: results read back, not just
"no exception"."""

import pytest

import memgoose
from memgoose import UpdateResult


def people(User):
    ids = User.insert_many(
        [
            {"_id": 1, "name": "ada", "age": 36, "tags": ["math", "code"], "city": "London"},
            {"_id": 2, "name": "bob", "age": 25, "tags": ["code"], "city": "Paris"},
            {"_id": 3, "name": "cy", "age": 41, "tags": [], "city": "London"},
            {"_id": 4, "name": "dee", "age": 25, "city": "Rome"},
        ]
    )
    assert ids == [1, 2, 3, 4]


def test_insert_one_generates_objectid_and_reads_back(User):
    uid = User.insert_one({"name": "ada", "age": 36})
    assert isinstance(uid, memgoose.ObjectId) and memgoose.ObjectId.is_valid(uid)
    doc = User.find_by_id(uid)
    assert doc == {"_id": uid, "name": "ada", "age": 36}
    assert list(doc) == ["_id", "name", "age"]  # generated _id first, field order kept
    assert isinstance(doc["_id"], memgoose.ObjectId)
    assert User.find_by_id("000000000000000000000000") is None


def test_insert_many_is_all_or_nothing_and_names_the_index(User):
    User.insert_one({"_id": "x"})
    with pytest.raises(memgoose.DuplicateKeyError) as e:
        User.insert_many([{"_id": "a"}, {"_id": "b"}, {"_id": "x"}])
    assert e.value.code == 11000 and e.value.index == 2
    assert e.value.key_value == {"_id": "x"} and e.value.key_pattern == {"_id": 1}
    assert User.count() == 1
    assert User.insert_many([]) == []


def test_find_filter_sort_skip_limit_projection(User):
    people(User)
    got = User.find({"age": {"$gte": 25}}, sort={"age": -1, "name": 1}, skip=1, limit=2)
    assert [d["name"] for d in got] == ["ada", "bob"]
    got = User.find({"city": "London"}, sort=[("age", 1)], projection={"name": 1, "_id": 0})
    assert got == [{"name": "ada"}, {"name": "cy"}]
    assert [d["_id"] for d in User.find({"tags": "code"}, sort="_id")] == [1, 2]
    assert User.find({"nope": 1}) == []
    assert len(User.find()) == 4
    with pytest.raises(memgoose.BadValueError):
        User.find({}, limit=-1)


def test_find_one_count_distinct(User):
    people(User)
    assert User.find_one({"age": 25}, sort={"name": -1})["name"] == "dee"
    assert User.find_one({"age": 99}) is None
    assert User.find_one({"_id": 3}, projection={"age": 1}) == {"_id": 3, "age": 41}
    assert User.count() == 4 and User.count({"city": "London"}) == 2
    assert sorted(User.distinct("city")) == ["London", "Paris", "Rome"]
    assert sorted(User.distinct("tags", {"age": {"$lt": 40}})) == ["code", "math"]


def test_updates_and_replace(User):
    people(User)
    assert User.update_one({"_id": 1}, {"$inc": {"age": 1}}) == UpdateResult(1, 1, None)
    assert User.find_by_id(1)["age"] == 37
    r = User.update_many({"age": 25}, {"$set": {"junior": True}})
    assert (r.matched_count, r.modified_count) == (2, 2)
    assert User.count({"junior": True}) == 2
    r = User.update_one({"name": "zed"}, {"$set": {"age": 1}}, upsert=True)
    assert r.matched_count == 0 and isinstance(r.upserted_id, memgoose.ObjectId)
    assert User.find_by_id(r.upserted_id) == {"_id": r.upserted_id, "name": "zed", "age": 1}
    r = User.replace_one({"_id": 2}, {"name": "robert"})
    assert r == UpdateResult(1, 1, None)
    assert User.find_by_id(2) == {"_id": 2, "name": "robert"}
    with pytest.raises(memgoose.BadValueError):
        User.update_one({"_id": 2}, {"name": "no operators"})
    with pytest.raises(memgoose.ImmutableFieldError) as e:
        User.update_one({"_id": 2}, {"$set": {"_id": 99}})
    assert e.value.code == 66
    assert User.find_by_id(2) == {"_id": 2, "name": "robert"}


def test_deletes(User):
    people(User)
    assert User.delete_one({"age": 25}) == 1
    assert User.delete_many({"city": "London"}) == 2
    assert User.delete_many({"city": "London"}) == 0
    assert User.count() == 1
    assert User.delete_many() == 1 and User.count() == 0


def test_find_one_and_update_and_delete(User):
    people(User)
    before = User.find_one_and_update({"age": 25}, {"$set": {"age": 26}}, sort={"_id": -1})
    assert before["_id"] == 4 and before["age"] == 25
    after = User.find_one_and_update(
        {"_id": 4}, {"$inc": {"age": 1}}, return_document="after", projection={"age": 1}
    )
    assert after == {"_id": 4, "age": 27}
    assert User.find_one_and_update({"_id": 99}, {"$set": {"a": 1}}) is None
    up = User.find_one_and_update({"_id": 99}, {"$set": {"a": 1}}, upsert=True, return_document="after")
    assert up == {"_id": 99, "a": 1}
    gone = User.find_one_and_delete({"city": "London"}, sort={"age": -1})
    assert gone["name"] == "cy" and User.find_by_id(3) is None
    assert User.find_one_and_delete({"city": "Atlantis"}) is None


def test_aggregate(User):
    people(User)
    try:
        got = User.aggregate(
            [
                {"$match": {"age": {"$lt": 40}}},
                {"$group": {"_id": "$age", "n": {"$sum": 1}}},
                {"$sort": {"_id": 1}},
            ]
        )
    except memgoose.CommandNotFoundError:
        pytest.skip("this daemon has no `aggregate` op yet (CommandNotFound)")
    assert got == [{"_id": 25, "n": 2}, {"_id": 36, "n": 1}]


def test_schema_validation_and_unique(client, name):
    db = client.database()
    User = db.model(
        name,
        fields={
            "email": {"type": "string", "required": True, "unique": True},
            "age": {"type": "int", "min": 0},
        },
        timestamps=True,
    )
    doc_id = User.insert_one({"email": "a@x", "age": 3})
    doc = User.find_by_id(doc_id)
    assert doc["createdAt"].tzinfo is not None and doc["createdAt"] == doc["updatedAt"]
    with pytest.raises(memgoose.ValidationError) as e:
        User.insert_one({"age": -1})
    assert e.value.code == 121 and e.value.name == "DocumentValidationFailure"
    assert {x["path"] for x in e.value.errors} == {"email", "age"}
    with pytest.raises(memgoose.DuplicateKeyError) as e:
        User.insert_one({"email": "a@x"})
    assert e.value.key_pattern == {"email": 1} and e.value.key_value == {"email": "a@x"}
    assert User.count() == 1
    models = {m["name"]: m for m in db.list_models()}
    assert models[name]["count"] == 1 and models[name]["schema"]["timestamps"] is True
    assert User.drop() is True and User.count() == 0 and User.drop() is False
