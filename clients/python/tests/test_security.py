"""CURVE access control from the Python client (docs/SECURITY.md): a daemon started with
--curve-secret-key/--curve-allow serves an allowed key (requests and change events) and gives
nothing to an unlisted key (UnauthorizedError, no events) or to a plain client. The `memgoose`
CLI's keygen and key flags are checked too when $MEMGOOSE points at it."""

import os
import shutil
import stat
import subprocess
import time

import pytest
import zmq

import memgoose
from memgoose import curve

from conftest import connect


@pytest.fixture
def keys(tmp_path):
    for who in ("server", "alice", "mallory"):
        curve.keygen(str(tmp_path / who))
    (tmp_path / "allow").mkdir()
    shutil.copy(tmp_path / "alice.pub", tmp_path / "allow" / "alice.pub")
    return tmp_path


@pytest.fixture
def curve_daemon(make_daemon, keys):
    return make_daemon(
        ["--curve-secret-key", str(keys / "server.key"), "--curve-allow", str(keys / "allow")]
    )


def as_(daemon, keys, who):
    return connect(daemon, server_key=str(keys / "server.pub"), client_key=str(keys / f"{who}.key"))


def first_event(writer_model, sub, patience):
    """Inserts a document every 100 ms until `sub` receives an event (a new subscription
    takes a moment to reach the publisher); the topic, or None after `patience` s."""
    end = time.monotonic() + patience
    n = 0
    while time.monotonic() < end:
        writer_model.insert_one({"n": n})
        n += 1
        if sub.poll(100, zmq.POLLIN):
            return sub.recv_multipart()[0]
    return None


def subscriber(client, daemon, topic, plain=False):
    sock = zmq.Context.instance().socket(zmq.SUB) if plain else client.new_socket(zmq.SUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, topic)
    sock.connect(daemon.pub)
    return sock


def test_key_files_are_private_and_round_trip(keys):
    for name in ("alice.pub", "alice.key"):
        assert stat.S_IMODE(os.stat(keys / name).st_mode) == 0o600
    pub, sec = curve.read_secret_key(str(keys / "alice.key"))
    assert pub == curve.read_public_key(str(keys / "alice.pub"))
    with pytest.raises(FileExistsError):
        curve.keygen(str(keys / "alice"))


def test_allowed_key_has_crud_and_change_events(curve_daemon, keys):
    with as_(curve_daemon, keys, "alice") as c:
        m = c.database("default").model("PySecure")
        m.insert_one({"_id": 1, "name": "ada"})
        assert m.find({"name": "ada"}) == [{"_id": 1, "name": "ada"}]
        assert m.update_one({"_id": 1}, {"$set": {"age": 36}}).modified_count == 1
        assert m.delete_one({"_id": 1}) == 1
        sub = subscriber(c, curve_daemon, b"default.PySecure")
        try:
            assert first_event(m, sub, 10.0) == b"default.PySecure"
        finally:
            sub.close(0)


def test_unlisted_key_gets_unauthorized_and_no_events(curve_daemon, keys):
    with as_(curve_daemon, keys, "alice") as alice, as_(curve_daemon, keys, "mallory") as mallory:
        m = alice.database("default").model("PyGuarded")
        m.insert_one({"secret": 1})
        t0 = time.monotonic()
        with pytest.raises(memgoose.UnauthorizedError) as e:
            mallory.database("default").model("PyGuarded").find({})
        assert e.value.code == 13 and "curve_allow" in e.value.message
        assert time.monotonic() - t0 < 4.0  # from the handshake, not the 10 s timeout
        sub = subscriber(mallory, curve_daemon, b"default.PyGuarded")
        try:
            assert first_event(m, sub, 2.0) is None
        finally:
            sub.close(0)


def test_plain_client_gets_nothing(curve_daemon, keys):
    plain = memgoose.connect(curve_daemon.req, pub=curve_daemon.pub, timeout=1.5,
                             check_protocol=False)
    with plain, as_(curve_daemon, keys, "alice") as alice:
        with pytest.raises(memgoose.RequestTimeout):
            plain.call("ping")
        sub = subscriber(plain, curve_daemon, b"default.PyPlain", plain=True)
        try:
            assert first_event(alice.database("default").model("PyPlain"), sub, 2.0) is None
        finally:
            sub.close(0)


def test_both_key_files_are_needed(curve_daemon, keys):
    with pytest.raises(ValueError):
        memgoose.connect(curve_daemon.req, server_key=str(keys / "server.pub"))


def memgoose_cli():
    path = os.environ.get("MEMGOOSE")
    if not path or not os.path.exists(path):
        pytest.skip("$MEMGOOSE (the memgoose CLI) not set")
    return path


def test_cli_keygen_and_key_flags(curve_daemon, keys, tmp_path):
    cli = memgoose_cli()
    out = subprocess.run([cli, "keygen", str(tmp_path / "cli")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == curve.read_public_key(str(tmp_path / "cli.pub"))
    assert stat.S_IMODE(os.stat(tmp_path / "cli.key").st_mode) == 0o600
    again = subprocess.run([cli, "keygen", str(tmp_path / "cli")], capture_output=True, text=True)
    assert again.returncode == 2 and "exists already" in again.stderr

    base = [cli, "--endpoint", curve_daemon.req, "--timeout", "5000",
            "--server-key", str(keys / "server.pub")]
    ok = subprocess.run(base + ["--client-key", str(keys / "alice.key"), "ping"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    # cli.pub is not on the allow-list: refused with a clear message, exit 1.
    no = subprocess.run(base + ["--client-key", str(tmp_path / "cli.key"), "ping"],
                        capture_output=True, text=True)
    assert no.returncode == 1
    assert no.stderr.startswith("Unauthorized:") and "curve_allow" in no.stderr, no.stderr
