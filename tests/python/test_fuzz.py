"""10,000 random request bodies: every one is answered, the daemon survives, data is intact.

Fixed seed, so a failure names a reproducible body. Bodies are random bytes, MessagePack values
that are not maps, and random maps with real and made-up ops, keys and values (dates, foreign
extension types, broken strings, deep nesting, odd keys). Databases the fuzzer may create are
memory/file/sqlite only (WiredTiger's log preallocation would make this slow and disk-hungry).
"""

import random
import struct

import msgpack

from mgwire import (ERROR_NAMES, REPLY_TIMEOUT, TIME_SCALE, Client, PairMap, Raw, assert_same, ok, pack, same,
                    ts32, ts64, ts96, unpack)

SEED = 20240607
# Fewer under a sanitizer's time scale (scripts/sanitize.sh tsan: about 1/8 of the bodies, in
# about the same time as all of them take without it); the normal run sends all 10,000.
COUNT = max(1000, 10_000 // TIME_SCALE)

OPS = ["ping", "hello", "stats", "createDatabase", "dropDatabase", "listDatabases", "flush",
       "defineModel", "dropModel", "listModels", "insertOne", "insertMany", "find", "findOne",
       "findById", "count", "distinct", "updateOne", "updateMany", "replaceOne", "deleteOne",
       "deleteMany", "findOneAndUpdate", "findOneAndDelete", "aggregate", "changes",
       "bogus", "", "INSERTONE", "find\x00"]
KEYS = ["id", "op", "db", "model", "doc", "docs", "filter", "sort", "skip", "limit", "projection",
        "_id", "field", "update", "upsert", "replacement", "returnDocument", "pipeline", "schema",
        "storage", "options", "after", "x", ""]
DBS = ["default", "default", "default", "fz0", "fz1", "nosuch", "../x", "", "a.b", "1x", 5, None]
MODELS = ["F0", "F1", "F2", "F3", "a.b", "", "../etc", "x" * 70, 7, None]
STORAGES = ["memory", "file", "sqlite", "floppy", 3, None]
FIELD_NAMES = ["a", "b", "_id", "a.b", "tags.0", "$set", "$gt", "$inc", "$each", "$regex", "$options",
               "$and", "$or", "$in", "$elemMatch", "$slice", "$push", "$unset", "$group", "$match", "$sort",
               "$limit", "$sum", "fields", "type", "unique", "required", "indexes", "ttlSeconds", "min",
               "$where", "", "\x00", "é", "x" * 300]
STRINGS = ["", "a", "abc", "^a.*", "(a+)+$", "[", "\\", "$a", "$$", "\x00", "é✓", "\ud7ff", "x" * 1000,
           "admin", "int", "string", "date", "after", "before", "immediate", "snappy", "1"]
IDS = [0, 1, -1, 2**63 - 1, -(2**63), 2**64 - 1, "id", "", 1.5, True, False, [1, "a"], [], {"k": 1}, b"\x00"]


def rand_scalar(r):
    k = r.randrange(16)
    if k == 0:
        return None
    if k == 1:
        return r.random() < 0.5
    if k == 2:
        return r.choice([0, 1, -1, 127, 128, 255, 256, 65535, 2**31, 2**32, 2**63 - 1, -(2**63), 2**64 - 1])
    if k == 3:
        return r.randint(-1000, 1000)
    if k == 4:
        return r.choice([0.0, -0.0, 1.5, 1e308, -1e-308, float("inf"), float("-inf"), float("nan")])
    if k == 5:
        return r.choice(STRINGS)
    if k == 6:
        return bytes(r.randrange(256) for _ in range(r.randrange(8)))
    if k == 7:
        return r.choice([ts32(r.randrange(2**32)), ts64(r.randrange(2**34), r.randrange(10**9)),
                         ts96(r.randint(-(2**40), 2**40), r.randrange(10**9))])
    if k == 8:  # extension types memgoosed does not accept, and broken timestamps
        code = r.choice([0, 1, 5, 127, 0x80, 0xfe, 0xff])
        data = bytes(r.randrange(256) for _ in range(r.choice([1, 2, 3, 4, 5, 8, 12, 16])))
        return Raw(b"\xc7" + bytes([len(data), code]) + data)
    if k == 9:  # invalid UTF-8 in a str
        data = bytes(r.randrange(128, 256) for _ in range(r.randrange(1, 6)))
        return Raw(bytes([0xa0 | len(data)]) + data)
    if k == 10:
        return Raw(b"\xca" + struct.pack(">f", r.random()))  # float32
    if k == 11:
        return r.choice(FIELD_NAMES)
    if k == 12:
        return r.choice(DBS + MODELS)
    return r.randint(-5, 20)


def rand_value(r, depth=0):
    k = r.randrange(10)
    if depth > 4 or k < 5:
        return rand_scalar(r)
    if k < 7:
        return [rand_value(r, depth + 1) for _ in range(r.randrange(5))]
    if k < 9:
        return rand_map(r, depth + 1)
    # rare: deep nesting, or odd maps
    c = r.randrange(4)
    if c == 0:
        return Raw(b"\x91" * r.choice([99, 100, 101, 150, 1000]) + b"\x01")
    if c == 1:
        return PairMap([("a", 1), ("a", 2)])  # duplicate keys
    if c == 2:
        return PairMap([(1, "int key"), (None, 2)])  # non-string keys
    return Raw(b"\xde\x00\x00")  # empty map16


def rand_map(r, depth=0):
    out = {}
    for _ in range(r.randrange(5)):
        out[r.choice(FIELD_NAMES)] = rand_value(r, depth + 1)
    return out


def rand_request(r, i):
    body = {}
    if r.random() < 0.9:
        body["id"] = i if r.random() < 0.7 else r.choice(IDS)
    if r.random() < 0.95:
        body["op"] = r.choice(OPS) if r.random() < 0.9 else rand_scalar(r)
    if r.random() < 0.6:
        body["db"] = r.choice(DBS)
    if r.random() < 0.8:
        body["model"] = r.choice(MODELS)
    op = body.get("op")
    if op == "createDatabase" or r.random() < 0.05:
        body["storage"] = r.choice(STORAGES)
        if r.random() < 0.5:
            body["options"] = r.choice([{}, {"persistMode": "immediate"}, {"debounceMs": r.randint(-5, 500)},
                                        {"synchronous": r.choice(["full", "normal", "x"])}, rand_map(r)])
        if body.get("db") in ("default", None):
            body["db"] = r.choice(["fz0", "fz1"])
    for _ in range(r.randrange(5)):
        key = r.choice(KEYS)
        if key in ("id", "op", "db", "model", "storage"):
            continue
        body[key] = rand_value(r)
    return body


def bodies():
    r = random.Random(SEED)
    for i in range(COUNT):
        k = r.random()
        if k < 0.2:
            yield bytes(r.randrange(256) for _ in range(r.randrange(1, 64)))
        elif k < 0.3:
            yield msgpack.packb(r.choice([[1, 2], "op", 5, None, True, 1.5, b"\x81", [{"op": "ping"}]]))
        else:
            yield pack(rand_request(r, i))


def is_map_header(b):
    return len(b) > 0 and (0x80 <= b[0] <= 0x8f or b[0] in (0xde, 0xdf))


def clean_decode(b):
    """The body as Python sees it, or None if it is not one cleanly decodable map with str keys."""
    try:
        v = msgpack.unpackb(b, raw=False, strict_map_key=False, timestamp=0)
    except Exception:
        return None
    if not isinstance(v, dict) or not all(isinstance(k, str) for k in v):
        return None
    return v


def check_reply(n, body, raw, problems):
    """Checks one reply against the contract; appends what is wrong to problems."""
    def bad(what):
        problems.append((what.split(":")[0].split(" (")[0], f"#{n} {what}; body {body[:120].hex()}"))

    try:
        reply = unpack(raw)
    except UnicodeDecodeError:
        bad(f"reply has invalid UTF-8 in a str: {raw[:200]!r}")
        reply = msgpack.unpackb(raw, raw=False, strict_map_key=False, timestamp=0, unicode_errors="replace")
    except Exception as ex:
        return bad(f"reply is not MessagePack ({ex}): {raw[:200]!r}")
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        return bad(f"reply is not {{ok: bool, ...}}: {reply!r}")
    if reply["ok"] is False:
        e = reply.get("error")
        if not isinstance(e, dict) or not isinstance(e.get("code"), int) or ERROR_NAMES.get(e["code"]) != e.get("name") \
                or not isinstance(e.get("message"), str):
            return bad(f"malformed error {reply!r}")
        if e["code"] == 1:
            bad(f"InternalError (a bug): {e['message']}")
    if not is_map_header(body):
        if not (reply["ok"] is False and reply["error"]["code"] == 9 and "id" not in reply):
            bad(f"not a map: expected FailedToParse without id, got {reply!r}")
    decoded = clean_decode(body)
    if decoded is not None:
        if reply["ok"] is False and reply["error"]["code"] == 9:
            bad(f"a map got FailedToParse (only for non-maps): {reply!r}")
        elif "id" in decoded and ("id" not in reply or not same(reply["id"], decoded["id"])):
            bad(f"id not echoed: {decoded['id']!r} -> {reply!r}")


def test_random_bodies(zctx, daemon, model):
    c = Client(zctx, daemon.req, "dealer")
    sentinel = {"_id": "sentinel", "i": 1, "f": 2.5, "s": "x", "b": b"\x00", "d": msgpack.Timestamp(1_700_000_000, 0),
                "a": [1, {"n": None}], "m": {"z": 1, "a": 2}}
    ok(c.call("insertOne", model=model, doc=sentinel))
    problems = []
    try:
        for n, body in enumerate(bodies()):
            c.send_raw(body)
            frames = c.recv_frames(timeout=REPLY_TIMEOUT)
            assert frames is not None, f"body #{n} got no reply within {REPLY_TIMEOUT}s: {body[:200].hex()}"
            assert len(frames) == 1, f"body #{n}: reply frames {frames!r}"
            check_reply(n, body, frames[0], problems)
        ok(c.call("ping"))
        assert_same(ok(c.call("findById", model=model, _id="sentinel"))["doc"], sentinel)
        if problems:
            kinds = {}
            for kind, text in problems:
                kinds.setdefault(kind, []).append(text)
            report = "\n".join(f"{len(v)} x {k}, e.g.:\n  " + "\n  ".join(v[:3]) for k, v in kinds.items())
            raise AssertionError(f"{len(problems)} of {COUNT} replies break the contract:\n{report}")
    finally:
        c.close()
