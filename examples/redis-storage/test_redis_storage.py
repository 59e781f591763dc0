"""The redis storage plugin: a private redis-server on a free loopback port, memgoosed started
with --plugin, the CRUD checks through the Python client, the key layout seen from Redis, and a
daemon restart that reloads every document from Redis.

    MEMGOOSED=build/bin/memgoosed REDIS_PLUGIN=build/lib/memgoose_redis_storage.so \\
        /usr/bin/python3 -m pytest -q examples/redis-storage
"""

import datetime
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "clients", "python"))
sys.path.insert(0, os.path.join(REPO, "tests", "python"))

import memgoose  # noqa: E402
from mgwire import Daemon  # noqa: E402

MEMGOOSED = os.path.abspath(os.environ.get("MEMGOOSED") or os.path.join(REPO, "build", "bin", "memgoosed"))
PLUGIN = os.path.abspath(
    os.environ.get("REDIS_PLUGIN") or os.path.join(REPO, "build", "lib", "memgoose_redis_storage.so")
)
UTC = datetime.timezone.utc

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A throw-away redis-server (no persistence of its own) and redis-cli calls to it."""

    def __init__(self, tmp):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while self.cli("PING") != "PONG":
            assert self.proc.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port), "--raw", *args],
                           capture_output=True, text=True)  # fmt: skip
        return r.stdout.rstrip("\n")

    def keys(self, pattern="*"):
        return sorted(k for k in self.cli("--scan", "--pattern", pattern).splitlines() if k)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def redis(tmp_path):
    r = Redis(tmp_path)
    yield r
    r.stop()


@pytest.fixture
def start(tmp_path_factory):
    """start(tmp) -> a memgoosed with the plugin on `tmp` (the same tmp again: a restart)."""
    started = []

    def make(tmp=None, extra=()):
        d = Daemon(MEMGOOSED, tmp or tmp_path_factory.mktemp("r"), ["--plugin", PLUGIN, *extra])
        started.append(d)
        return d.start()

    yield make
    for d in started:
        if d.alive():
            d.stop()


def connect(d):
    return memgoose.connect(d.req, pub=d.pub, timeout=10.0)


def test_crud_in_redis_and_restart_reloads(redis, start, tmp_path):
    d = start(tmp_path)
    with connect(d) as c:
        assert "redis" in c.hello()["storages"]
        db = c.database("app", storage="redis", url=redis.url)
        assert db.created is True
        assert c.database("app", storage="redis", url=redis.url, prefix="memgoose").created is False
        User = db.model("User", fields={"email": {"type": "string", "unique": True}})
        when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
        uid = User.insert_one({"email": "ada@x", "age": 36, "at": when, "raw": b"\x00\x01"})
        assert User.insert_many([{"_id": 5, "email": "five@x"}, {"_id": "5", "email": "str@x"}]) == [5, "5"]

        # The key layout of the seed, as documented in redis_storage.cc.
        assert redis.keys("memgoose:app:User*") == sorted(
            ['memgoose:app:User:"5"', "memgoose:app:User:5", f'memgoose:app:User:"{uid}"',
             "memgoose:app:User#seq"]
        )  # fmt: skip
        assert redis.cli("GET", "memgoose:app:User:5") == '{"_id":5,"email":"five@x"}'
        assert redis.cli("GET", "memgoose:app:User#seq") == "3"

        # Reads, update, replace, delete — each visible in Redis too.
        assert User.find({"age": {"$gte": 30}}) == [
            {"_id": uid, "email": "ada@x", "age": 36, "at": when, "raw": b"\x00\x01"}
        ]
        assert User.update_one({"_id": uid}, {"$inc": {"age": 1}}).modified_count == 1
        assert '"age":37' in redis.cli("GET", f'memgoose:app:User:"{uid}"')
        assert User.replace_one({"_id": "5"}, {"email": "string-five@x"}).modified_count == 1
        assert User.delete_one({"_id": 5}) == 1
        assert redis.cli("EXISTS", "memgoose:app:User:5") == "0"
        with pytest.raises(memgoose.DuplicateKeyError):
            User.insert_one({"email": "ada@x"})
        assert User.count() == 2
        last_seq = User.changes(after=0)[1]
    d.stop()

    d = start(tmp_path)  # same data dir: the catalog reopens the database, Redis has the data
    with connect(d) as c:
        User = c.database("app").model("User")
        assert User.find(sort={"email": 1}) == [
            {"_id": uid, "email": "ada@x", "age": 37, "at": when, "raw": b"\x00\x01"},
            {"_id": "5", "email": "string-five@x"},
        ]
        with pytest.raises(memgoose.DuplicateKeyError):  # the schema's unique index is back
            User.insert_one({"email": "ada@x"})
        User.insert_one({"_id": "later"})
        assert User.changes(after=last_seq)[1] == last_seq + 1  # seq keeps growing
        assert User.delete_many() == 3
        assert redis.keys("memgoose:app:User:*") == []
        User.insert_one({"_id": 1})
        assert User.drop() is True  # a Clear: the documents go, the seq stays (it keeps growing)
        assert redis.keys("memgoose:app:User*") == ["memgoose:app:User#seq"]
        assert int(redis.cli("GET", "memgoose:app:User#seq")) == User.changes(after=last_seq)[1]
        c.drop_database("app")  # destroy(): nothing of the database is left in Redis
        assert redis.keys("memgoose:app:*") == [] and redis.keys("memgoose:app#*") == []


def test_prefix_and_database_number_keep_databases_apart(redis, start):
    d = start()
    with connect(d) as c:
        a = c.database("a", storage="redis", url=redis.url, prefix="tenant1")
        b = c.database("b", storage="redis", url=redis.url + "/3")
        a.model("M").insert_one({"_id": 1, "db": "a"})
        b.model("M").insert_one({"_id": 1, "db": "b"})
        assert redis.keys("tenant1:*") == ["tenant1:a:M#seq", "tenant1:a:M:1"]
        assert redis.keys("memgoose:*") == []  # b lives in Redis database 3
        assert redis.cli("-n", "3", "GET", "memgoose:b:M:1") == '{"_id":1,"db":"b"}'
        assert a.model("M").find() == [{"_id": 1, "db": "a"}]
        assert b.model("M").find() == [{"_id": 1, "db": "b"}]
        listed = {x["name"]: x for x in c.list_databases()}
        assert listed["b"]["options"] == {"url": redis.url + "/3", "prefix": "memgoose"}


def test_bad_options_and_unreachable_redis(start):
    d = start()
    with connect(d) as c:
        with pytest.raises(memgoose.InvalidOptionsError):
            c.database("x", storage="redis", url="http://nope")
        with pytest.raises(memgoose.InvalidOptionsError):
            c.database("x", storage="redis", colour="blue")
        with pytest.raises(memgoose.StorageError) as e:
            c.database("x", storage="redis", url=f"redis://127.0.0.1:{free_port()}")
        assert "cannot connect" in e.value.message


def test_missing_or_foreign_plugin_stops_start_with_a_reason(tmp_path):
    foreign = "/usr/lib/x86_64-linux-gnu/libhiredis.so"  # a library, but no entry points
    stale = os.environ.get("STALE_PLUGIN") or os.path.join(os.path.dirname(PLUGIN), "memgoose_stale_abi_plugin.so")
    for path, why in [
        (str(tmp_path / "nope.so"), "no such file"),
        (foreign, "not a memgoose storage plugin"),
        (stale, "incompatible plugin ABI (plugin: abi 1002,"),  # version 2 + 1000
    ]:
        if not os.path.exists(path) and why != "no such file":
            continue
        d = Daemon(MEMGOOSED, tmp_path, ["--plugin", path])
        r = subprocess.run(d.argv(), capture_output=True, text=True, timeout=20)
        assert r.returncode != 0
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"memgoosed: storage plugin {path}: "), r.stderr
        assert why in lines[0]


def test_plugin_from_config_file_relative_path(redis, tmp_path):
    conf = tmp_path / "memgoosed.toml"
    rel = os.path.relpath(PLUGIN, tmp_path)
    conf.write_text(f'[[plugins]]\npath = "{rel}"\n\n[[databases]]\nname = "cfg"\nstorage = "redis"\n'
                    f'options = {{ url = "{redis.url}" }}\n')  # fmt: skip
    d = Daemon(MEMGOOSED, tmp_path, ["--config", str(conf)]).start()
    try:
        with connect(d) as c:
            c.database("cfg").model("M").insert_one({"_id": "k"})
            assert redis.keys("memgoose:cfg:*") == ["memgoose:cfg:M#seq", 'memgoose:cfg:M:"k"']
    finally:
        d.stop()
