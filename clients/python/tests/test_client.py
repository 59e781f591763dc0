"""Connection, databases, errors, types and threads."""

import datetime
import threading

import pytest

import memgoose
from conftest import connect

UTC = datetime.timezone.utc


def test_hello_ping_and_protocol(client):
    h = client.hello()
    assert h["server"] == "memgoosed" and h["protocol"] == 1 and "memory" in h["storages"]
    assert client.ping() >= 0
    assert any(d["name"] == "default" for d in client.list_databases())


def test_every_contract_code_has_its_class():
    codes = {
        1: "InternalError", 2: "BadValue", 9: "FailedToParse", 13: "Unauthorized",
        14: "TypeMismatch", 26: "NamespaceNotFound", 59: "CommandNotFound",
        66: "ImmutableField", 72: "InvalidOptions", 91: "ShutdownInProgress",
        121: "DocumentValidationFailure", 286: "ChangeStreamHistoryLost", 1001: "StorageError",
        10334: "DocumentTooLarge", 11000: "DuplicateKey",
    }  # fmt: skip
    for code, name in codes.items():
        e = memgoose.error_from_reply({"code": code, "name": name, "message": "m", "x": 1})
        assert type(e) is not memgoose.MemgooseError and isinstance(e, memgoose.MemgooseError)
        assert (e.code, e.name, e.message, e.details) == (code, name, "m", {"x": 1})
    unknown = memgoose.error_from_reply({"code": 4242, "name": "Future", "message": "m"})
    assert type(unknown) is memgoose.MemgooseError and unknown.code == 4242


def test_errors_from_the_daemon_carry_code(client, name):
    with pytest.raises(memgoose.CommandNotFoundError) as e:
        client.call("noSuchOp")
    assert e.value.code == 59 and "noSuchOp" in e.value.message
    with pytest.raises(memgoose.NamespaceNotFoundError):
        client.database("NoSuchDb").model("M").find()
    with pytest.raises(memgoose.BadValueError):
        client.database("bad.name", storage="memory")
    with pytest.raises(memgoose.TypeMismatchError):
        client.database().model(name).call("find", filter=[1])


def test_databases_create_same_config_conflict_drop(client, name):
    db = client.database(name, storage="memory")
    assert db.created is True
    assert client.database(name, storage="memory").created is False
    with pytest.raises(memgoose.InvalidOptionsError):
        client.database(name, storage="sqlite")
    with pytest.raises(memgoose.InvalidOptionsError):
        client.database(name + "x", storage="nosuchstorage")
    db.model("M").insert_one({"a": 1})
    assert db.model("M").count() == 1
    db.drop()
    assert all(d["name"] != name for d in client.list_databases())
    with pytest.raises(memgoose.NamespaceNotFoundError):
        db.model("M").count()


def test_persistent_database_options_in_snake_case_survive_restart(make_daemon, tmp_path):
    d = make_daemon(tmp=tmp_path)
    with connect(d) as c:
        db = c.database("logs", storage="file", persist_mode="immediate", debounce_ms=5)
        assert db.created
        opts = {x["name"]: x for x in c.list_databases()}["logs"]["options"]
        assert opts["persistMode"] == "immediate" and opts["debounceMs"] == 5
        when = datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
        db.model("Event").insert_one({"_id": 1, "at": when, "raw": b"\x00\xff", "n": 1.0})
    d.stop()
    d = make_daemon(tmp=tmp_path)
    with connect(d) as c:
        doc = c.database("logs").model("Event").find_by_id(1)
    assert doc == {"_id": 1, "at": when, "raw": b"\x00\xff", "n": 1.0}
    assert type(doc["n"]) is float and type(doc["raw"]) is bytes


def test_types_round_trip(User):
    aware = datetime.datetime(2001, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
    naive = datetime.datetime(1969, 7, 20, 20, 17, 40, 1000)  # before 1970, taken as UTC
    oid = memgoose.ObjectId()
    doc = {
        "_id": oid,
        "int": 5, "float": 5.0, "big": 2**62, "neg": -7, "t": True, "f": False, "none": None,
        "str": "héllo", "bin": bytearray(b"\x01\x02"), "mv": memoryview(b"ab"),
        "date": aware, "naive": naive, "day": datetime.date(2020, 2, 29),
        "nested": {"list": [1, "two", [3.5, {"x": aware}]], "tuple": (1, 2)},
    }  # fmt: skip
    assert User.insert_one(doc) == oid
    got = User.find_by_id(oid)
    assert got == {
        **doc,
        "bin": b"\x01\x02", "mv": b"ab",
        "naive": naive.replace(tzinfo=UTC),
        "day": datetime.datetime(2020, 2, 29, tzinfo=UTC),
        "nested": {"list": [1, "two", [3.5, {"x": aware}]], "tuple": [1, 2]},
    }  # fmt: skip
    assert type(got["int"]) is int and type(got["float"]) is float
    assert User.count({"date": {"$gt": datetime.datetime(2001, 1, 1)}}) == 1
    with pytest.raises(TypeError):
        User.insert_one({"bad": {1, 2}})


def test_objectid():
    a, b = memgoose.ObjectId(), memgoose.ObjectId()
    assert a != b and len(a) == 24 and isinstance(a, str)
    assert abs((a.generation_time - datetime.datetime.now(UTC)).total_seconds()) < 5
    assert memgoose.ObjectId(a.binary) == a == str(a)
    with pytest.raises(ValueError):
        memgoose.ObjectId("xyz")


def test_timeout_raises_and_late_reply_is_discarded(tmp_path):
    c = memgoose.connect(f"ipc://{tmp_path}/nobody.sock", timeout=0.2)
    with pytest.raises(memgoose.RequestTimeout) as e:
        c.ping()
    assert isinstance(e.value, TimeoutError) and e.value.code is None
    c.close()
    c.close()


def test_one_client_shared_by_threads(client, name):
    User = client.database().model(name)
    errors = []

    def work(t):
        try:
            for i in range(50):
                User.insert_one({"_id": f"{t}-{i}", "t": t})
                assert User.find_by_id(f"{t}-{i}")["t"] == t
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert User.count() == 400
    assert sorted(User.distinct("t")) == list(range(8))
