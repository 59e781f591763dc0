"""The request socket on tcp:// (CONTRACT.md sections 1-3, 6; PROTOCOL.md sections 1, 12).

Every other file runs the daemon on ipc:// endpoints. Here memgoosed binds --bind and --pub on
tcp://127.0.0.1:<free port>, and the tests pin what a client sees of the request socket over TCP:
framing, pipelining, large bodies, ZMTP heartbeats, the request size limit, peers that are not
ZeroMQ clients, clients that vanish, many connections, duplicate routing ids and a graceful
shutdown. Only the contract is assumed, not libzmq's ROUTER: each test runs against the default
request socket and, when the daemon has the flag (`memgoosed --help` mentions it), against
`--no-bind-direct` (libzmq's ROUTER when the default is the daemon's own ZMTP implementation).

Raw TCP peers speak ZMTP 3.x by hand (RFC 23/37: greeting, NULL mechanism, READY, frames): a
peer that is a compatible implementation is a client like any other (PROTOCOL.md section 1).
"""

import errno
import os
import random
import select
import signal
import socket
import struct
import subprocess
import time

import pytest
import zmq

from conftest import memgoosed_path
from mgwire import REPLY_TIMEOUT, TIME_SCALE, Client, Daemon, assert_same, err, ok, pack, unpack

# ---------------------------------------------------------------------------------------------
# The daemon on tcp, once per request-socket mode.


def _help_text():
    try:
        p = subprocess.run([memgoosed_path(), "--help"], capture_output=True, text=True,
                           timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return p.stdout + p.stderr


MODES = [pytest.param((), id="default"), pytest.param(("--no-bind-direct",), id="no-bind-direct")]


@pytest.fixture(scope="module", params=MODES)
def mode(request):
    """Extra daemon arguments selecting the request socket's implementation."""
    for flag in request.param:
        if flag not in _help_text():
            pytest.skip(f"memgoosed --help does not mention {flag}")
    return request.param


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TcpDaemon(Daemon):
    """A memgoosed with --bind and --pub on free tcp ports of 127.0.0.1, memory storage (the
    `default` database) in a tmp data dir."""

    def __init__(self, exe, tmp, extra_args=()):
        super().__init__(exe, tmp, extra_args)
        self._pick_ports()

    def _pick_ports(self):
        self.req_port = free_port()
        self.pub_port = free_port()
        while self.pub_port == self.req_port:
            self.pub_port = free_port()
        self.req = f"tcp://127.0.0.1:{self.req_port}"
        self.pub = f"tcp://127.0.0.1:{self.pub_port}"

    def start(self, timeout=10.0 * TIME_SCALE):
        # A free port can be taken between free_port() and the bind: try other ports then.
        for attempt in range(3):
            try:
                return super().start(timeout)
            except AssertionError:
                if attempt == 2 or self.proc is None or self.proc.poll() is None:
                    raise
                self._pick_ports()
        raise AssertionError("unreachable")

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))


def start_daemon(tmp_path_factory, mode, extra=()):
    return TcpDaemon(memgoosed_path(), tmp_path_factory.mktemp("tcp"), [*mode, *extra]).start()


@pytest.fixture(scope="module")
def tcpd(tmp_path_factory, mode):
    """One daemon per mode for the tests that do not stop it; each test uses its own models."""
    d = start_daemon(tmp_path_factory, mode)
    yield d
    d.stop()


@pytest.fixture
def make_tcpd(tmp_path_factory, mode):
    """Private daemons (limits, shutdown) in the current mode; leftovers stopped asserting 0."""
    started = []

    def make(extra=()):
        d = start_daemon(tmp_path_factory, mode, extra)
        started.append(d)
        return d

    yield make
    for d in started:
        if d.alive():
            d.stop()


@pytest.fixture(autouse=True)
def _tcpd_survives(request):
    yield
    if "tcpd" in request.fixturenames:
        d = request.getfixturevalue("tcpd")
        assert d.alive(), f"memgoosed died during {request.node.name}:\n{d.log()[-4000:]}"


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


_model_seq = [0]


@pytest.fixture
def model(request):
    _model_seq[0] += 1
    name = request.node.originalname.replace("test_", "")[:40]
    return f"R{_model_seq[0]:03d}_{name}"


# ---------------------------------------------------------------------------------------------
# Helpers.


def dealer(ctx, endpoint, **opts):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    for k, v in opts.items():
        s.setsockopt(getattr(zmq, k), v)
    s.connect(endpoint)
    return s


def monitored_dealer(ctx, endpoint, **opts):
    """A DEALER and its monitor (connect and disconnect events), attached before connecting."""
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    for k, v in opts.items():
        s.setsockopt(getattr(zmq, k), v)
    mon = s.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
    s.connect(endpoint)
    return s, mon


def recv_multipart(sock, timeout):
    if not sock.poll(int(timeout * 1000), zmq.POLLIN):
        return None
    return sock.recv_multipart()


def exchange(sock, bodies, timeout=30.0 * TIME_SCALE):
    """Pipelines every body (bytes) on a DEALER while reading the replies (so neither side's
    queue limits can deadlock the test); returns the decoded replies in arrival order. Asserts
    each reply is exactly one frame (a DEALER's framing) and that every request is answered."""
    replies = []
    sent = 0
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN | zmq.POLLOUT)
    deadline = time.monotonic() + timeout
    while len(replies) < len(bodies):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{len(replies)} of {len(bodies)} replies within {timeout}s ({sent} sent)"
        events = dict(poller.poll(int(remaining * 1000) + 1)).get(sock, 0)
        if events & zmq.POLLIN:
            while True:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                assert len(frames) == 1, f"a DEALER reply is one frame, got {len(frames)}: {frames[:3]!r}"
                replies.append(unpack(frames[0]))
        if events & zmq.POLLOUT:
            for _ in range(256):
                if sent == len(bodies):
                    break
                try:
                    sock.send(bodies[sent], zmq.NOBLOCK)
                except zmq.Again:
                    break
                sent += 1
            if sent == len(bodies):
                poller.modify(sock, zmq.POLLIN)
    return replies


def by_id(replies):
    out = {}
    for r in replies:
        assert isinstance(r, dict) and "id" in r, f"reply without id: {r!r}"
        assert r["id"] not in out, f"two replies with id {r['id']!r}"
        out[r["id"]] = r
    return out


def call(sock, op, rid, timeout=REPLY_TIMEOUT, **args):
    """One request on a DEALER; skips replies to other ids (earlier, unanswered requests)."""
    sock.send(pack({"id": rid, "op": op, **args}))
    deadline = time.monotonic() + timeout
    while True:
        frames = recv_multipart(sock, max(0.0, deadline - time.monotonic()))
        assert frames is not None, f"no reply to {op} (id {rid!r}) within {timeout}s"
        r = unpack(frames[-1])
        if isinstance(r, dict) and r.get("id") == rid:
            assert len(frames) == 1, frames
            return r


def wait_fds(d, at_most, timeout=5.0 * TIME_SCALE):
    """Waits until the daemon has at most `at_most` open fds; returns the last count."""
    deadline = time.monotonic() + timeout
    while True:
        n = d.fds()
        if n <= at_most or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


def settled_fds(d, timeout=5.0 * TIME_SCALE):
    """The daemon's fd count once it stops changing (connections of earlier tests closed)."""
    deadline = time.monotonic() + timeout
    last = d.fds()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        n = d.fds()
        if n == last:
            return n
        last = n
    return last


def monitor_events(mon, timeout):
    """Drains a pyzmq monitor socket for `timeout` seconds; returns the event numbers."""
    from zmq.utils.monitor import recv_monitor_message

    events = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not mon.poll(int(remaining * 1000), zmq.POLLIN):
            return events
        events.append(recv_monitor_message(mon)["event"])
        while mon.poll(0, zmq.POLLIN):
            events.append(recv_monitor_message(mon)["event"])


def wait_event(mon, wanted, timeout):
    """True once the monitor reports `wanted` within `timeout` seconds."""
    from zmq.utils.monitor import recv_monitor_message

    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not mon.poll(int(remaining * 1000), zmq.POLLIN):
            return False
        if recv_monitor_message(mon)["event"] == wanted:
            return True


# ---------------------------------------------------------------------------------------------
# ZMTP 3.x by hand (RFC 23 / RFC 37), for peers that are not libzmq sockets.


def zmtp_greeting(minor=1, mechanism=b"NULL", as_server=0):
    g = b"\xff" + b"\x00" * 8 + b"\x7f" + bytes([3, minor]) + mechanism.ljust(20, b"\x00")
    g += bytes([as_server]) + b"\x00" * 31
    assert len(g) == 64
    return g


def zmtp_frame(body, more=False, command=False):
    flags = (0x01 if more else 0) | (0x04 if command else 0)
    if len(body) > 255:
        return bytes([flags | 0x02]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def zmtp_command(name, data=b""):
    return zmtp_frame(bytes([len(name)]) + name + data, command=True)


def zmtp_ready(socket_type, **props):
    data = b""
    for k, v in [("Socket-Type", socket_type), *props.items()]:
        k = k.encode()
        data += bytes([len(k)]) + k + struct.pack(">I", len(v)) + v
    return zmtp_command(b"READY", data)


def zmtp_message(frames):
    return b"".join(zmtp_frame(f, more=i + 1 < len(frames)) for i, f in enumerate(frames))


def parse_props(data):
    props = {}
    while data:
        n = data[0]
        name = data[1:1 + n].decode()
        (vlen,) = struct.unpack(">I", data[1 + n:5 + n])
        props[name] = data[5 + n:5 + n + vlen]
        data = data[5 + n + vlen:]
    return props


class RawPeer:
    """A plain TCP connection to the request endpoint."""

    def __init__(self, d, timeout=REPLY_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", d.req_port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout
        self.peer_ready = None

    def close(self, reset=False):
        if reset:  # RST instead of FIN
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"wanted {n} bytes, have {len(self.buf)}")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError(f"connection closed with {len(self.buf)} of {n} bytes")
            self.buf += chunk

    def _take(self, n, deadline):
        self._fill(n, deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def handshake(self, socket_type=b"DEALER", minor=1, props=None):
        """Greeting (NULL), READY; checks the daemon's greeting and READY. Returns its props."""
        deadline = time.monotonic() + self.timeout
        self.send(zmtp_greeting(minor))
        g = self._take(64, deadline)
        assert g[0] == 0xFF and g[9] == 0x7F, f"not a ZMTP signature: {g[:10].hex()}"
        assert g[10] == 3, f"daemon greets with ZMTP major version {g[10]}, not 3"
        assert g[12:32].rstrip(b"\x00") == b"NULL", f"daemon's mechanism {g[12:32]!r}"
        self.send(zmtp_ready(socket_type, **(props or {})))
        flags, body = self.read_frame(deadline)
        assert flags & 0x04, f"expected the daemon's READY command, got flags {flags:#x}: {body[:40]!r}"
        assert body[:6] == b"\x05READY", f"expected READY, got {body[:40]!r}"
        self.peer_ready = parse_props(body[6:])
        return self.peer_ready

    def read_frame(self, deadline):
        flags = self._take(1, deadline)[0]
        if flags & 0x02:
            (size,) = struct.unpack(">Q", self._take(8, deadline))
        else:
            size = self._take(1, deadline)[0]
        return flags, self._take(size, deadline)

    def recv_message(self, timeout=None):
        """The next message's frames; answers PINGs, skips other commands. TimeoutError,
        EOFError (or ConnectionResetError) when none comes."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        frames = []
        while True:
            flags, body = self.read_frame(deadline)
            if flags & 0x04:
                if body[:5] == b"\x04PING":
                    self.send(zmtp_command(b"PONG", body[7:]))
                continue
            frames.append(body)
            if not flags & 0x01:
                return frames

    def recv_command(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            flags, body = self.read_frame(deadline)
            if flags & 0x04:
                return body

    def closed_within(self, timeout):
        """True if the daemon closes (FIN or RST) the connection within `timeout` seconds;
        whatever it sends meanwhile is discarded."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], remaining)
            if not r:
                return False
            try:
                if not self.sock.recv(1 << 16):
                    return True
            except (ConnectionResetError, BrokenPipeError):
                return True
            except OSError as e:
                if e.errno in (errno.ECONNRESET, errno.EPIPE):
                    return True
                raise

    def try_send(self, data):
        """Sends, ignoring a connection the daemon already closed."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


# ---------------------------------------------------------------------------------------------
# 1. REQ and DEALER framing.


def test_req_client_ping_insert_find(tcpd, model, ctx):
    c = Client(ctx, tcpd.req, "req")
    try:
        ok(c.call("ping"))
        doc = {"_id": 1, "name": "ada", "tags": ["x", "y"], "n": 1.5}
        assert ok(c.call("insertOne", model=model, doc=doc))["insertedId"] == 1
        assert_same(ok(c.call("find", model=model, filter={"_id": 1}))["docs"], [doc])
        # REQ strips the delimiter: exactly one frame left, the reply.
        c.send_raw(pack({"id": "s", "op": "count", "model": model, "filter": {}}))
        frames = c.recv_frames()
        assert frames is not None and len(frames) == 1, frames
        assert_same(unpack(frames[0]), {"id": "s", "ok": True, "count": 1})
    finally:
        c.close()


def test_reply_mirrors_framing(tcpd, ctx):
    s = dealer(ctx, tcpd.req)
    try:
        # DEALER [body] -> [reply]
        s.send(pack({"id": 1, "op": "ping"}))
        frames = recv_multipart(s, REPLY_TIMEOUT)
        assert frames is not None and len(frames) == 1, frames
        assert_same(unpack(frames[0]), {"id": 1, "ok": True})
        # DEALER speaking REQ's framing [empty, body] -> [empty, reply] (PROTOCOL.md section 1)
        s.send_multipart([b"", pack({"id": 2, "op": "ping"})])
        frames = recv_multipart(s, REPLY_TIMEOUT)
        assert frames is not None and len(frames) == 2 and frames[0] == b"", frames
        assert_same(unpack(frames[1]), {"id": 2, "ok": True})
        # Not a map (an empty body included): FailedToParse without id, same framing.
        for body in [b"", b"\x93\x01\x02\x03", b"\xc1", b"\x81\xa2id"]:
            s.send(body)
            frames = recv_multipart(s, REPLY_TIMEOUT)
            assert frames is not None and len(frames) == 1, (body, frames)
            r = unpack(frames[0])
            err(r, 9)
            assert "id" not in r, r
        s.send_multipart([b"", b"\x01"])
        frames = recv_multipart(s, REPLY_TIMEOUT)
        assert frames is not None and len(frames) == 2 and frames[0] == b"", frames
        err(unpack(frames[1]), 9)
        # The id is echoed unchanged, whatever its type.
        for rid in [None, -7, 2**40, 1.25, "x" * 300, b"\x00\xff", [1, {"a": None}], {"k": [True]}]:
            s.send(pack({"id": rid, "op": "ping"}))
            frames = recv_multipart(s, REPLY_TIMEOUT)
            assert frames is not None, rid
            assert_same(unpack(frames[0]), {"id": rid, "ok": True})
    finally:
        s.close(0)


# ---------------------------------------------------------------------------------------------
# 2. Pipelining, tiny and large bodies.


def test_pipelined_5000_requests_matched_by_id(tcpd, model, ctx):
    s = dealer(ctx, tcpd.req)
    try:
        rng = random.Random(20240601)
        docs = {i: {"_id": i, "n": i, "s": "x" * rng.randrange(0, 60)} for i in range(2500)}
        bodies = []
        for i in range(2500):  # insert i, then find it, on the same of 4 models
            m = f"{model}_{i % 4}"
            bodies.append(pack({"id": 2 * i, "op": "insertOne", "model": m, "doc": docs[i]}))
            bodies.append(pack({"id": 2 * i + 1, "op": "find", "model": m, "filter": {"_id": i}}))
        replies = by_id(exchange(s, bodies))
        assert len(replies) == 5000
        for i in range(2500):
            assert ok(replies[2 * i])["insertedId"] == i, replies[2 * i]
            assert_same(ok(replies[2 * i + 1])["docs"], [docs[i]])
        counts = by_id(exchange(s, [pack({"id": k, "op": "count", "model": f"{model}_{k}", "filter": {}})
                                    for k in range(4)]))
        assert [counts[k]["count"] for k in range(4)] == [625] * 4
    finally:
        s.close(0)


def test_large_bodies_between_tiny_ones(tcpd, model, ctx):
    s = dealer(ctx, tcpd.req)
    try:
        rng = random.Random(7)
        many = [{"_id": i, "name": f"user{i:05d}", "blob": rng.randbytes(170)} for i in range(1000)]
        many_body = pack({"id": "many", "op": "insertMany", "model": f"{model}_many", "docs": many})
        assert 190_000 <= len(many_body) <= 260_000, len(many_body)
        big_doc = {"_id": "big", "blob": rng.randbytes(4 << 20)}
        big_body = pack({"id": "big", "op": "insertOne", "model": f"{model}_big", "doc": big_doc})
        assert len(big_body) > 4 << 20
        bodies = [pack({"id": f"p{k}", "op": "ping"}) for k in range(3)]
        bodies[1:1] = [many_body]
        bodies[3:3] = [big_body]
        bodies += [
            pack({"id": "many-back", "op": "find", "model": f"{model}_many", "filter": {},
                  "sort": {"_id": 1}}),
            pack({"id": "big-back", "op": "findById", "model": f"{model}_big", "_id": "big"}),
            pack({"id": "p-last", "op": "ping"}),
        ]
        replies = by_id(exchange(s, bodies))
        assert ok(replies["many"])["insertedCount"] == 1000
        assert ok(replies["many"])["insertedIds"] == list(range(1000))
        assert ok(replies["big"])["insertedId"] == "big"
        assert_same(ok(replies["many-back"])["docs"], many)
        assert_same(ok(replies["big-back"])["doc"], big_doc)
        for k in ["p0", "p1", "p2", "p-last"]:
            ok(replies[k])
    finally:
        s.close(0)


# ---------------------------------------------------------------------------------------------
# 3. Extra frames.


def test_extra_frames_leave_daemon_and_others_unaffected(tcpd, model, ctx):
    # CONTRACT.md is silent on messages of more frames than [body] or [empty, body]; PROTOCOL.md
    # section 1 only says the reply mirrors the frames before the body. Whatever the daemon
    # does with them (answer the last frame, ignore, drop the connection), it must go on
    # serving this client's later requests and everyone else.
    other = dealer(ctx, tcpd.req)
    s = dealer(ctx, tcpd.req)
    try:
        ok(call(other, "ping", "o0"))
        odd = [
            [b"x", b"y", pack({"id": "m1", "op": "insertOne", "model": model, "doc": {"_id": 1}})],
            [b"", b"", pack({"id": "m2", "op": "ping"})],
            [pack({"id": "m3", "op": "ping"}), b"trailing"],
            [b"", b"", b""],
            [b"\x00" * 300, b"z" * 70000, pack({"id": "m4", "op": "ping"})],
            [b""] * 50,
        ]
        for frames in odd:
            s.send_multipart(frames)
            ok(call(other, "ping", f"o-{len(frames)}-{len(frames[0])}"))
        # Anything that comes back for them must be a well-formed reply: a map with `ok`.
        while True:
            frames = recv_multipart(s, 1.0)
            if frames is None:
                break
            r = unpack(frames[-1])
            assert isinstance(r, dict) and isinstance(r.get("ok"), bool), frames
        # The same client, with one-frame requests again.
        ok(call(s, "ping", "after"))
        r = ok(call(s, "insertOne", "after-insert", model=model, doc={"_id": 2}))
        assert r["insertedId"] == 2
        ok(call(other, "ping", "o-end"))
    finally:
        s.close(0)
        other.close(0)


# ---------------------------------------------------------------------------------------------
# 4. Heartbeats.


def test_heartbeating_dealer_stays_connected_while_idle(tcpd, ctx):
    s, mon = monitored_dealer(ctx, tcpd.req, HEARTBEAT_IVL=100, HEARTBEAT_TIMEOUT=300)
    try:
        ok(call(s, "ping", 1))
        # Idle for five heartbeat timeouts: a daemon that does not answer PINGs is disconnected
        # by libzmq here (and the request below would still succeed after a reconnect, so the
        # monitor is what tells).
        events = monitor_events(mon, 1.5)
        assert zmq.EVENT_DISCONNECTED not in events, f"disconnected while idle (events {events})"
        ok(call(s, "ping", 2, timeout=2.0))
        events = monitor_events(mon, 0.05)
        assert zmq.EVENT_DISCONNECTED not in events, f"events {events}"
    finally:
        s.disable_monitor()
        mon.close(0)
        s.close(0)


@pytest.mark.parametrize("context", [b"", b"ctx-0123456789ab"], ids=["no-context", "context"])
def test_raw_ping_gets_pong_with_its_context(tcpd, context):
    p = RawPeer(tcpd)
    try:
        ready = p.handshake(b"DEALER")
        assert ready.get("Socket-Type") == b"ROUTER", ready
        p.send(zmtp_command(b"PING", struct.pack(">H", 10) + context))
        body = p.recv_command(timeout=2.0)
        assert body == b"\x04PONG" + context, body
        p.send(zmtp_message([pack({"id": 1, "op": "ping"})]))
        assert_same(unpack(p.recv_message()[-1]), {"id": 1, "ok": True})
    finally:
        p.close()


# ---------------------------------------------------------------------------------------------
# Raw ZMTP clients: a compatible implementation is a client like libzmq's.


@pytest.mark.parametrize("minor", [0, 1], ids=["zmtp3.0", "zmtp3.1"])
def test_raw_zmtp_dealer_and_req(tcpd, model, minor):
    p = RawPeer(tcpd)
    try:
        ready = p.handshake(b"DEALER", minor=minor)
        assert ready.get("Socket-Type") == b"ROUTER", ready
        p.send(zmtp_message([pack({"id": 1, "op": "insertOne", "model": model,
                                   "doc": {"_id": minor, "v": "raw"}})]))
        frames = p.recv_message()
        assert len(frames) == 1, frames
        assert ok(unpack(frames[0]))["insertedId"] == minor
        # Several requests in one write, and one request split across writes.
        p.send(b"".join(zmtp_message([pack({"id": k, "op": "ping"})]) for k in range(10, 20)))
        msg = zmtp_message([pack({"id": 20, "op": "count", "model": model, "filter": {}})])
        for i in range(len(msg)):
            p.send(msg[i:i + 1])
        got = {}
        for _ in range(11):
            frames = p.recv_message()
            assert len(frames) == 1, frames
            r = ok(unpack(frames[0]))
            got[r["id"]] = r
        assert sorted(got) == list(range(10, 21))
        assert got[20]["count"] == 1
        # A large frame (8-byte length).
        p.send(zmtp_message([pack({"id": 21, "op": "ping", "pad": "p" * 100_000})]))
        assert ok(unpack(p.recv_message()[0]))["id"] == 21
    finally:
        p.close()
    q = RawPeer(tcpd)
    try:
        q.handshake(b"REQ", minor=minor)
        q.send(zmtp_message([b"", pack({"id": "r", "op": "ping"})]))
        frames = q.recv_message()
        assert len(frames) == 2 and frames[0] == b"", frames
        assert_same(unpack(frames[1]), {"id": "r", "ok": True})
    finally:
        q.close()


# ---------------------------------------------------------------------------------------------
# 5. Oversized requests.


LIMIT = 64 * 1024


def padded_insert(rid, model, _id, size):
    """An insertOne body of exactly `size` bytes."""
    def body(n):
        return pack({"id": rid, "op": "insertOne", "model": model, "doc": {"_id": _id, "pad": b"\xaa" * n}})

    n = size - len(body(0))
    for k in range(n - 8, n + 1):  # the bin header grows with the length
        if len(body(k)) == size:
            return body(k)
    raise AssertionError(f"no insertOne body of exactly {size} bytes")


def test_request_over_limit_disconnects_only_that_client(make_tcpd, model, ctx):
    d = make_tcpd(["--max-request-bytes", str(LIMIT)])
    good = dealer(ctx, d.req)
    bad, mon = monitored_dealer(ctx, d.req)
    try:
        ok(call(good, "ping", "g0"))
        ok(call(bad, "ping", "b0"))
        assert wait_event(mon, zmq.EVENT_CONNECTED, 1.0), "no connect event"
        # A request of exactly the limit is accepted (the limit is the largest request).
        at = padded_insert("at", model, "at", LIMIT)
        assert len(at) == LIMIT
        bad.send(at)
        assert ok(call(bad, "count", "b1", model=model, filter={}))["count"] == 1
        # One byte more: disconnected by the transport, no reply, nothing applied.
        bad.send(padded_insert("over", model, "over", LIMIT + 1))
        assert wait_event(mon, zmq.EVENT_DISCONNECTED, 5.0 * TIME_SCALE), \
            "the client that sent LIMIT+1 bytes was not disconnected"
        # The other client is served throughout.
        r = by_id(exchange(good, [pack({"id": k, "op": "ping"}) for k in range(200)]))
        assert len(r) == 200
        assert ok(call(good, "count", "g1", model=model, filter={}))["count"] == 1
        # A raw peer declaring a 2^40-byte frame is dropped at once.
        p = RawPeer(d)
        try:
            p.handshake(b"DEALER")
            p.send(b"\x02" + struct.pack(">Q", 1 << 40) + b"\x81")
            assert p.closed_within(5.0 * TIME_SCALE), "a 2^40-byte frame header did not close the connection"
        finally:
            p.close()
        assert d.alive()
        # The refused client's socket reconnects and is served again (a new connection).
        bad_replies = []
        bad.send(pack({"id": "b2", "op": "ping"}))
        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline:
            frames = recv_multipart(bad, max(0.0, deadline - time.monotonic()))
            if frames is None:
                break
            bad_replies.append(unpack(frames[-1]))
            if bad_replies[-1].get("id") == "b2":
                break
        assert "over" not in [r.get("id") for r in bad_replies], "the oversized request was answered"
        assert bad_replies and bad_replies[-1]["id"] == "b2", bad_replies
        assert ok(call(good, "count", "g2", model=model, filter={}))["count"] == 1
    finally:
        bad.disable_monitor()
        mon.close(0)
        bad.close(0)
        good.close(0)


# ---------------------------------------------------------------------------------------------
# 6. Garbage TCP peers.


def test_garbage_peers_are_dropped_or_ignored(tcpd, model, ctx):
    rng = random.Random(1234)
    real = dealer(ctx, tcpd.req)
    ok(call(real, "insertOne", "warm", model=model, doc={"_id": "warm"}))
    baseline = settled_fds(tcpd)
    base_n = [0]

    def real_client_works():
        n0 = base_n[0]
        base_n[0] += 100
        bodies = [pack({"id": n0 + k, "op": "ping"}) for k in range(100)]
        assert len(by_id(exchange(real, bodies))) == 100

    peers = []
    try:
        # Random bytes (fixed seed), in three writes.
        p = RawPeer(tcpd)
        peers.append(p)
        junk = rng.randbytes(3000)
        for k in range(3):
            p.try_send(junk[k * 1000:(k + 1) * 1000])
        real_client_works()
        # A valid greeting, then junk.
        p = RawPeer(tcpd)
        peers.append(p)
        p.send(zmtp_greeting())
        p.try_send(rng.randbytes(2000))
        real_client_works()
        # Half a greeting, then silence (held open while the others go on).
        half = RawPeer(tcpd)
        peers.append(half)
        half.send(zmtp_greeting()[:5])
        real_client_works()
        # A connection closed in the middle of a request's frame: nothing of it is applied.
        p = RawPeer(tcpd)
        p.handshake(b"DEALER")
        msg = zmtp_message([pack({"id": 1, "op": "insertOne", "model": model,
                                  "doc": {"_id": "partial", "pad": "q" * 1000}})])
        p.send(msg[:len(msg) // 2])
        p.close()
        p = RawPeer(tcpd)
        p.handshake(b"DEALER")
        p.send(msg[:len(msg) // 2])
        p.close(reset=True)
        real_client_works()
        # READY declaring Socket-Type PUB: not a peer of a ROUTER (ZMTP: close). A request sent
        # after it must not be executed.
        pub = RawPeer(tcpd)
        peers.append(pub)
        pub.send(zmtp_greeting())
        pub.try_send(zmtp_ready(b"PUB"))
        pub.try_send(zmtp_message([pack({"id": 2, "op": "insertOne", "model": model,
                                         "doc": {"_id": "from-pub"}})]))
        assert pub.closed_within(5.0 * TIME_SCALE), "a READY with Socket-Type PUB was not refused"
        # A mechanism the daemon does not run (PLAIN, CURVE while it is NULL): refused.
        for mech in [b"PLAIN", b"CURVE"]:
            m = RawPeer(tcpd)
            peers.append(m)
            m.send(zmtp_greeting(mechanism=mech))
            assert m.closed_within(5.0 * TIME_SCALE), f"greeting with mechanism {mech!r} was not refused"
        real_client_works()
        r = ok(call(real, "find", "check", model=model, filter={}, sort={"_id": 1}))
        assert [doc["_id"] for doc in r["docs"]] == ["warm"], r["docs"]
        assert tcpd.alive()
    finally:
        for p in peers:
            p.close()
    # Every connection closed: the daemon's fds return to where they were.
    real_client_works()
    n = wait_fds(tcpd, baseline)
    assert n <= baseline, f"daemon holds {n} fds, {baseline} before the garbage peers"
    real.close(0)


# ---------------------------------------------------------------------------------------------
# 7. A client vanishing with requests in flight.


@pytest.mark.parametrize("how", ["zmq-close", "tcp-reset"])
def test_client_vanishing_with_1000_in_flight(tcpd, model, ctx, how):
    probe = dealer(ctx, tcpd.req)
    ok(call(probe, "insertOne", "warm", model=model, doc={"_id": -1}))
    probe.close(0)
    baseline = settled_fds(tcpd)
    bodies = [pack({"id": i, "op": "insertOne", "model": model, "doc": {"_id": i, "pad": "v" * 500}})
              for i in range(1000)]
    if how == "zmq-close":
        s = dealer(ctx, tcpd.req, SNDHWM=2000)
        for b in bodies:
            s.send(b)
        assert recv_multipart(s, REPLY_TIMEOUT) is not None  # the requests are arriving
        s.close(0)
    else:
        p = RawPeer(tcpd)
        p.handshake(b"DEALER")
        p.send(b"".join(zmtp_message([b]) for b in bodies))
        p.recv_message()  # the requests are arriving
        p.close(reset=True)
    assert tcpd.alive()
    # A new client is served, and sees only whole requests applied.
    c = dealer(ctx, tcpd.req)
    try:
        ok(call(c, "ping", "new"))
        r = ok(call(c, "find", "all", model=model, filter={"_id": {"$gte": 0}}, projection={"pad": 0}))
        ids = [doc["_id"] for doc in r["docs"]]
        assert ids == sorted(ids) and set(ids) <= set(range(1000)) and len(ids) >= 1, ids[:20]
    finally:
        c.close(0)
    n = wait_fds(tcpd, baseline)
    assert n <= baseline, f"daemon holds {n} fds, {baseline} before the client vanished"


# ---------------------------------------------------------------------------------------------
# 8. Many connections.


def test_500_simultaneous_dealers(tcpd, model):
    ctx = zmq.Context()
    ctx.set(zmq.MAX_SOCKETS, 4096)
    socks = []
    try:
        probe = dealer(ctx, tcpd.req)
        ok(call(probe, "insertOne", "warm", model=model, doc={"_id": -1}))  # the model exists
        probe.close(0)
        baseline = settled_fds(tcpd)
        for _ in range(500):
            socks.append(dealer(ctx, tcpd.req))
        for k, s in enumerate(socks):
            s.send(pack({"id": k, "op": "insertOne", "model": model, "doc": {"_id": k}}))
        poller = zmq.Poller()
        for s in socks:
            poller.register(s, zmq.POLLIN)
        pending = {s: k for k, s in enumerate(socks)}
        deadline = time.monotonic() + 30.0 * TIME_SCALE
        while pending:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{len(pending)} of 500 connections got no reply"
            for s, _ in poller.poll(int(remaining * 1000) + 1):
                frames = s.recv_multipart()
                assert len(frames) == 1, frames
                r = ok(unpack(frames[0]))
                assert r["id"] == pending[s] and r["insertedId"] == pending[s], (r, pending[s])
                del pending[s]
                poller.unregister(s)
        assert ok(call(socks[0], "count", "n", model=model, filter={"_id": {"$gte": 0}}))["count"] == 500
        for s in socks:
            s.close(0)
        socks = []
        n = wait_fds(tcpd, baseline)
        assert n <= baseline, f"daemon holds {n} fds after 500 clients left, {baseline} before"
    finally:
        for s in socks:
            s.close(0)
        ctx.destroy(linger=0)


# ---------------------------------------------------------------------------------------------
# 9. Duplicate routing ids.


def test_two_dealers_with_the_same_routing_id(tcpd, model, ctx):
    # What happens to the second connection is not contract (libzmq's ROUTER refuses it unless
    # ROUTER_HANDOVER). The first keeps being answered, and the daemon stays up.
    first = dealer(ctx, tcpd.req, ROUTING_ID=b"same-id")
    second = None
    try:
        ok(call(first, "ping", "f0"))
        second = dealer(ctx, tcpd.req, ROUTING_ID=b"same-id")
        second.send(pack({"id": "s0", "op": "ping"}))
        for k in range(5):
            replies = by_id(exchange(first, [pack({"id": f"f{k}-{i}", "op": "insertOne", "model": model,
                                                   "doc": {"_id": k * 100 + i}}) for i in range(50)]))
            assert all(ok(r)["insertedId"] == k * 100 + int(i.split("-")[1]) for i, r in replies.items())
        ok(call(first, "ping", "f-end"))
        frames = recv_multipart(second, 0.3)
        if frames is not None:
            assert_same(unpack(frames[-1]), {"id": "s0", "ok": True})
        assert tcpd.alive()
        other = dealer(ctx, tcpd.req)
        try:
            assert ok(call(other, "count", "o", model=model, filter={}))["count"] == 250
        finally:
            other.close(0)
    finally:
        first.close(0)
        if second is not None:
            second.close(0)


# ---------------------------------------------------------------------------------------------
# 10. Graceful shutdown.


def test_sigterm_answers_200_in_flight(make_tcpd, ctx):
    d = make_tcpd()
    s = dealer(ctx, d.req)
    try:
        ok(call(s, "ping", "p"))
        n = 200
        for i in range(n):
            s.send(pack({"id": i, "op": "insertOne", "model": f"Shut{i % 4}", "doc": {"_id": i, "pad": "x" * 200}}))
        first = recv_multipart(s, REPLY_TIMEOUT)
        assert first is not None
        d.proc.send_signal(signal.SIGTERM)
        replies = [unpack(first[0])]
        deadline = time.monotonic() + 15.0 * TIME_SCALE
        while len(replies) < n and time.monotonic() < deadline:
            frames = recv_multipart(s, max(0.0, deadline - time.monotonic()))
            if frames is None:
                break
            assert len(frames) == 1, frames
            replies.append(unpack(frames[0]))
        got = by_id(replies)
        missing = sorted(set(range(n)) - set(got))
        assert not missing, f"{len(missing)} of {n} requests never answered, e.g. {missing[:10]}"
        for i, r in got.items():
            if r["ok"]:
                assert r["insertedId"] == i, r
            else:
                err(r, 91)
        status = d.terminate()
        assert status == 0, f"exit status {status} after SIGTERM:\n{d.log()[-3000:]}"
    finally:
        s.close(0)


# ---------------------------------------------------------------------------------------------
# 7b. A client that pipelines a large batch and vanishes without reading a reply.


def _request_socket_is_libzmq(mode):
    return "--no-bind-direct" in mode or "--no-bind-direct" not in _help_text()


def test_vanished_non_reader_does_not_wedge_the_daemon(make_tcpd, ctx, mode, request):
    # Replies to a client that is gone are discarded (front_door.h); the daemon must go on
    # serving everyone else and still stop cleanly on SIGTERM (CONTRACT.md section 1).
    # With libzmq's ROUTER this used to wedge the daemon (fixed in session 8): the pipe of a peer
    # that disconnected with requests still unread stays (ROUTER_MANDATORY) EAGAIN-full until
    # those requests are read, and the front door stopped reading while a reply waited: nobody
    # was answered again, SIGTERM hung, the front door spun. It now reads on (up to 100,000
    # refused replies). The daemon's own ROUTER throttles per connection.
    d = make_tcpd()
    good = dealer(ctx, d.req)
    try:
        ok(call(good, "ping", "g0"))
        p = RawPeer(d)
        p.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # our side holds little
        p.handshake(b"DEALER")
        chunk = zmtp_message([pack({"op": "hello"})]) * 10_000
        # Until the daemon stops reading them (its replies to us back up), at most 2,000,000.
        p.sock.settimeout(1.0)
        try:
            for _ in range(200):
                p.sock.sendall(chunk)
        except (TimeoutError, socket.timeout):
            pass
        p.sock.shutdown(socket.SHUT_WR)
        p.close()
        ok(call(good, "ping", "g1", timeout=5.0 * TIME_SCALE))
        d.proc.send_signal(signal.SIGTERM)
        try:
            status = d.proc.wait(10.0 * TIME_SCALE)
        except subprocess.TimeoutExpired:
            d.proc.kill()
            d.proc.wait()
            raise AssertionError("memgoosed did not exit within 10 s of SIGTERM after a client "
                                 "vanished with unread replies")
        assert status == 0, f"exit status {status}:\n{d.log()[-3000:]}"
    finally:
        good.close(0)
        if d.alive():
            d.proc.kill()
            d.proc.wait()


# ---------------------------------------------------------------------------------------------
# 11. More endpoints at once: an interface name (as libzmq takes "tcp://lo:port") and an ipc
#     endpoint (always libzmq's ROUTER) beside the tcp one; one model seen from all three.


def test_interface_name_and_ipc_endpoints_beside_tcp(make_tcpd, ctx, tmp_path):
    port = free_port()
    ipc = f"ipc://{tmp_path}/req.sock"
    d = make_tcpd(["--bind", f"tcp://lo:{port}", "--bind", ipc])
    clients = [dealer(ctx, ep) for ep in (d.req, f"tcp://127.0.0.1:{port}", ipc)]
    try:
        for i, c in enumerate(clients):
            ok(call(c, "insertOne", f"i{i}", model="Ends", doc={"_id": i}))
        for c in clients:
            r = ok(call(c, "find", "f", model="Ends", filter={}))
            assert sorted(doc["_id"] for doc in r["docs"]) == [0, 1, 2]
    finally:
        for c in clients:
            c.close(0)
