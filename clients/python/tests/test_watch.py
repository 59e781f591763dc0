"""ChangeStream: catch-up from history, live events, order, no repeats, history lost."""

import threading

import pytest

import memgoose


def test_catch_up_then_live_in_order(User):
    ids = User.insert_many([{"_id": i} for i in range(1, 6)])
    User.update_one({"_id": 1}, {"$set": {"x": 1}})
    User.delete_one({"_id": 2})
    with User.watch(after=0, timeout=2.0) as stream:
        first = [stream.next() for _ in range(7)]
        assert [e.seq for e in first] == list(range(1, 8))
        assert [e.op for e in first] == ["insert"] * 5 + ["update", "delete"]
        assert [e.id for e in first[:5]] == ids
        assert first[5].doc == {"_id": 1, "x": 1} and first[6].doc is None
        assert first[0].ts.tzinfo is not None
        User.insert_one({"_id": 6})
        live = stream.next()
        assert (live.seq, live.op, live.doc) == (8, "insert", {"_id": 6})
        assert stream.next(timeout=0.3) is None
        assert stream.last_seq == 8


def test_from_now_skips_history(User):
    User.insert_one({"_id": "old"})
    stream = User.watch()  # after=None: only what comes next
    assert stream.next(timeout=0.5) is None
    User.insert_one({"_id": "new"})
    e = stream.next(timeout=5)
    assert (e.seq, e.id) == (2, "new")
    stream.close()


def test_iterates_a_concurrent_burst_exactly_once(User):
    n = 3000
    stream = User.watch(after=0, timeout=3.0, sub_hwm=50)  # a tiny HWM forces drops + catch-up

    def writer():
        for i in range(0, n, 100):
            User.insert_many([{"_id": j} for j in range(i, i + 100)])

    t = threading.Thread(target=writer)
    t.start()
    seqs = [e.seq for e in stream]
    t.join()
    stream.close()
    assert seqs == list(range(1, n + 1))


def test_prefix_topics_are_not_mixed(client, name):
    db = client.database()
    A, AB = db.model(name), db.model(name + "B")
    with A.watch(after=0, timeout=1.0) as stream:
        AB.insert_one({"_id": "other"})
        A.insert_one({"_id": "mine"})
        assert [e.id for e in stream] == ["mine"]


def test_history_lost(make_daemon):
    from conftest import connect

    d = make_daemon(["--change-log-size", "10"])
    with connect(d) as c:
        M = c.database().model("M")
        M.insert_many([{"_id": i} for i in range(50)])
        with pytest.raises(memgoose.ChangeStreamHistoryLostError) as e:
            M.watch(after=0).next(timeout=2)
        assert e.value.code == 286
        stream = M.watch(after=0)
        stream.reset(M.changes(after=45)[1])  # resynchronised: continue after lastSeq
        M.insert_one({"_id": "after"})
        assert stream.next(timeout=5).id == "after"
        stream.close()
