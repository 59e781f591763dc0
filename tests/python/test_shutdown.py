"""Graceful shutdown, request size limits, start-up failures (CONTRACT section 1)."""

import os
import signal
import subprocess
import time

import pytest

from mgwire import Client, Daemon, err, ok, pack, unpack

from conftest import memgoosed_path

IN_FLIGHT = 400


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_requests_in_flight_are_answered(zctx, make_daemon, signum):
    d = make_daemon()
    c = Client(zctx, d.req, "dealer")
    try:
        ok(c.call("ping"))
        for i in range(IN_FLIGHT):
            c.send_raw(pack({"id": i, "op": "insertOne", "model": f"Shut{i % 4}", "doc": {"_id": i, "pad": "x" * 200}}))
        first = c.recv()
        d.proc.send_signal(signum)
        replies = {first["id"]: first}
        deadline = time.monotonic() + 15
        while len(replies) < IN_FLIGHT and time.monotonic() < deadline:
            frames = c.recv_frames(timeout=min(3.0, max(0.0, deadline - time.monotonic())))
            if frames is None:
                break
            r = unpack(frames[-1])
            replies[r["id"]] = r
        missing = sorted(set(range(IN_FLIGHT)) - set(replies))
        assert not missing, f"{len(missing)} of {IN_FLIGHT} requests never answered, e.g. ids {missing[:10]}"
        n_ok = 0
        for i, r in replies.items():
            if r["ok"]:
                assert r["insertedId"] == i, r
                n_ok += 1
            else:
                err(r, 91)
        status = d.terminate()
        assert status == 0, f"exit status {status} after {signum!r}:\n{d.log()[-3000:]}"
    finally:
        c.close()


def test_idle_sigterm_exits_zero_quickly(make_daemon):
    d = make_daemon()
    t0 = time.monotonic()
    d.stop()
    assert time.monotonic() - t0 < 5


def test_request_over_max_request_bytes_is_dropped(zctx, make_daemon):
    # The request size limit is a daemon option (ZMQ_MAXMSGSIZE): ZeroMQ drops the connection of
    # a peer that sends more. The daemon keeps serving everyone else.
    d = make_daemon(["--max-request-bytes", str(1 << 20)])
    c = Client(zctx, d.req, "dealer")
    try:
        c.send_raw(pack({"id": 1, "op": "insertOne", "model": "Big", "doc": {"b": b"x" * (2 << 20)}}))
        assert c.recv_frames(timeout=1.0) is None
    finally:
        c.close()
    c = Client(zctx, d.req, "dealer")
    try:
        ok(c.call("ping"))
        assert ok(c.call("count", model="Big", filter={}))["count"] == 0
    finally:
        c.close()


MIB = 1 << 20


def test_document_over_16_mib_with_raised_request_limit(zctx, make_daemon):
    d = make_daemon(["--max-request-bytes", str(40 * MIB)])
    c = Client(zctx, d.req, "dealer")
    try:
        over = {"_id": 1, "blob": b"\xab" * (16 * MIB + 1 - 16)}
        assert len(pack(over)) == 16 * MIB + 1
        e = err(c.call("insertOne", model="Big", doc=over, timeout=30), 10334)
        assert e["name"] == "DocumentTooLarge"
        e = err(c.call("insertMany", model="Big", docs=[{"_id": 0}, over], timeout=30), 10334)
        assert e.get("index") == 1, e
        at = {"_id": 2, "blob": b"\xab" * (16 * MIB - 16)}
        assert len(pack(at)) == 16 * MIB
        ok(c.call("insertOne", model="Big", doc=at, timeout=30))
        assert ok(c.call("count", model="Big", filter={}))["count"] == 1
        err(c.call("updateOne", model="Big", filter={"_id": 2}, update={"$set": {"more": "x"}}, timeout=30), 10334)
        assert ok(c.call("findById", model="Big", _id=2, projection={"blob": 0}))["doc"] == {"_id": 2}
    finally:
        c.close()


def run_bad(args, tmp, timeout=5):
    """Runs memgoosed expecting a quick non-zero exit with a one-line reason on stderr."""
    p = subprocess.run([memgoosed_path(), *args], cwd=tmp, capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    assert p.returncode != 0, f"{args} exited 0: {p.stdout!r} {p.stderr!r}"
    assert p.returncode > 0, f"{args} died of signal {-p.returncode} (a crash)"
    assert p.stderr.strip(), f"{args}: no reason on stderr"
    return p


def test_bad_option_fails_cleanly(tmp_path):
    run_bad(["--no-such-option"], tmp_path)
    run_bad(["--log-level", "loud", "--bind", f"ipc://{tmp_path}/a.sock", "--pub", f"ipc://{tmp_path}/b.sock"],
            tmp_path)


def test_bad_config_fails_cleanly(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("bind = [\n")
    run_bad(["--config", str(cfg)], tmp_path)
    run_bad(["--config", str(tmp_path / "missing.toml")], tmp_path)
    spin = tmp_path / "spin.toml"
    spin.write_text("reply_spin_us = 5000\n")
    p = run_bad(["--config", str(spin)], tmp_path)
    assert b"reply_spin_us" in p.stderr


def test_out_of_range_option_fails_cleanly(tmp_path):
    for bad in ("-1", "1001"):
        p = run_bad(["--reply-spin-us", bad], tmp_path)
        assert b"reply-spin-us" in p.stderr


def test_endpoint_in_use_fails_cleanly(tmp_path):
    import socket
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        port = holder.getsockname()[1]
        run_bad(["--bind", f"tcp://127.0.0.1:{port}", "--pub", f"ipc://{tmp_path}/p.sock",
                 "--data-dir", str(tmp_path / "data")], tmp_path)
    finally:
        holder.close()


def test_unusable_data_dir_fails_cleanly(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    run_bad(["--bind", f"ipc://{tmp_path}/r.sock", "--pub", f"ipc://{tmp_path}/p.sock",
             "--data-dir", str(blocker / "sub")], tmp_path)


def test_config_file(zctx, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("c")
    cfg = tmp / "memgoosed.toml"
    cfg.write_text(f'''
bind = ["ipc://{tmp}/cfg.sock"]
pub = "ipc://{tmp}/cfgpub.sock"
data_dir = "{tmp}/cfgdata"
log_level = "info"

[[databases]]
name = "predef"
storage = "memory"
''')
    d = Daemon(memgoosed_path(), tmp, [])
    d.argv = lambda: [d.exe, "--config", str(cfg)]
    d.start()
    try:
        assert f"ipc://{tmp}/cfg.sock" in d.ready_line
        c = Client(zctx, f"ipc://{tmp}/cfg.sock")
        try:
            names = {x["name"]: x for x in ok(c.call("listDatabases"))["databases"]}
            assert names["predef"]["storage"] == "memory"
            ok(c.call("insertOne", db="predef", model="M", doc={"_id": 1}))
        finally:
            c.close()
        assert os.path.isdir(f"{tmp}/cfgdata")
    finally:
        d.stop()


@pytest.mark.parametrize("entry", [
    'name = "bad"\nstorage = "floppy"',
    'name = "../escape"\nstorage = "memory"',
    'name = "opts"\nstorage = "memory"\noptions = { nonsense = 1 }',
], ids=["unknown-storage", "bad-name", "bad-options"])
def test_bad_predefined_database_fails_cleanly(tmp_path, entry):
    cfg = tmp_path / "db.toml"
    cfg.write_text(f'''
bind = ["ipc://{tmp_path}/r.sock"]
pub = "ipc://{tmp_path}/p.sock"
data_dir = "{tmp_path}/data"

[[databases]]
{entry}
''')
    run_bad(["--config", str(cfg)], tmp_path)
