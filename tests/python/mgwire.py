"""A minimal memgoosed client built from CONTRACT.md alone: pyzmq + msgpack, no project code.

It is deliberately small: the point of these tests is that a foreign client needs nothing but
the contract. Everything here is test scaffolding (daemon process control, a raw MessagePack
encoder for the bytes msgpack-python refuses to produce, assertion helpers).
"""

import itertools
import os
import signal
import struct
import subprocess
import time

import msgpack
import zmq

# CONTRACT.md section 6.
ERROR_NAMES = {
    1: "InternalError",
    2: "BadValue",
    9: "FailedToParse",
    13: "Unauthorized",
    14: "TypeMismatch",
    26: "NamespaceNotFound",
    59: "CommandNotFound",
    66: "ImmutableField",
    72: "InvalidOptions",
    91: "ShutdownInProgress",
    121: "DocumentValidationFailure",
    286: "ChangeStreamHistoryLost",
    1001: "StorageError",
    10334: "DocumentTooLarge",
    11000: "DuplicateKey",
}

# How much longer to wait: $MG_TEST_TIME_SCALE (an integer >= 1; scripts/sanitize.sh tsan sets
# it, ThreadSanitizer makes the daemon 5-15x slower). Only deadlines change, not what is checked.
TIME_SCALE = max(1, int(os.environ.get("MG_TEST_TIME_SCALE", "1") or "1"))
REPLY_TIMEOUT = 10.0 * TIME_SCALE


# ---------------------------------------------------------------------------------------------
# MessagePack: decoding, and an encoder that can embed raw, hand-made bytes.


def unpack(data):
    """Decodes one reply/event body. Timestamps stay msgpack.Timestamp, bin stays bytes."""
    return msgpack.unpackb(data, raw=False, strict_map_key=False, timestamp=0)


class Raw:
    """Pre-encoded MessagePack bytes to splice into a value (e.g. ext -1, which msgpack-python
    will not pack from an ExtType, or deliberately broken data)."""

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = bytes(data)

    def __repr__(self):
        return f"Raw({self.data[:32].hex()}{'...' if len(self.data) > 32 else ''})"


def _map_header(n):
    if n < 16:
        return bytes([0x80 | n])
    if n < 0x10000:
        return b"\xde" + struct.pack(">H", n)
    return b"\xdf" + struct.pack(">I", n)


def _array_header(n):
    if n < 16:
        return bytes([0x90 | n])
    if n < 0x10000:
        return b"\xdc" + struct.pack(">H", n)
    return b"\xdd" + struct.pack(">I", n)


def pack(obj):
    """Encodes like msgpack.packb(use_bin_type=True) but lets Raw pieces through, and accepts
    a list of (key, value) pairs wrapped in PairMap to encode duplicate keys or odd key types."""
    if isinstance(obj, Raw):
        return obj.data
    if isinstance(obj, PairMap):
        return _map_header(len(obj.pairs)) + b"".join(pack(k) + pack(v) for k, v in obj.pairs)
    if isinstance(obj, dict):
        return _map_header(len(obj)) + b"".join(pack(k) + pack(v) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return _array_header(len(obj)) + b"".join(pack(v) for v in obj)
    return msgpack.packb(obj, use_bin_type=True)


class PairMap:
    """A MessagePack map given as a list of pairs (allows duplicate or non-string keys)."""

    __slots__ = ("pairs",)

    def __init__(self, pairs):
        self.pairs = list(pairs)


def ts32(seconds):
    """Timestamp 32: fixext4, type -1, uint32 seconds."""
    return Raw(b"\xd6\xff" + struct.pack(">I", seconds))


def ts64(seconds, nanoseconds):
    """Timestamp 64: fixext8, type -1, nanoseconds in the upper 30 bits, seconds in the lower 34."""
    assert 0 <= seconds < (1 << 34) and 0 <= nanoseconds < 10**9
    return Raw(b"\xd7\xff" + struct.pack(">Q", (nanoseconds << 34) | seconds))


def ts96(seconds, nanoseconds):
    """Timestamp 96: ext8 length 12, type -1, uint32 nanoseconds then int64 seconds."""
    return Raw(b"\xc7\x0c\xff" + struct.pack(">Iq", nanoseconds, seconds))


def ts_millis(ts):
    """A msgpack.Timestamp as integer milliseconds since the epoch (floor)."""
    return ts.seconds * 1000 + ts.nanoseconds // 1_000_000


# ---------------------------------------------------------------------------------------------
# Assertions on replies.


class ReplyError(AssertionError):
    pass


def ok(reply):
    """Asserts an ok reply and returns it."""
    if not isinstance(reply, dict) or reply.get("ok") is not True:
        raise ReplyError(f"expected ok: true, got {reply!r}")
    assert "error" not in reply, reply
    return reply


def err(reply, code):
    """Asserts an error reply with the contract's code and name; returns the error map."""
    if not isinstance(reply, dict) or reply.get("ok") is not False:
        raise ReplyError(f"expected ok: false with code {code} ({ERROR_NAMES[code]}), got {reply!r}")
    e = reply.get("error")
    assert isinstance(e, dict), reply
    assert e.get("code") == code and e.get("name") == ERROR_NAMES[code], (
        f"expected error {code} {ERROR_NAMES[code]}, got {e!r}"
    )
    assert isinstance(e.get("message"), str), f"error.message must be a string: {e!r}"
    return e


# ---------------------------------------------------------------------------------------------
# Client.


class Client:
    """One DEALER (frames [body]) or REQ (frames [empty, body], added by zmq) connection.

    call() is one round trip: it adds an integer id, waits for the reply with that id and
    returns it decoded. send()/recv() are the pipelined halves.
    """

    _ids = itertools.count(1)

    def __init__(self, ctx, endpoint, kind="dealer"):
        self.kind = kind
        self.sock = ctx.socket(zmq.DEALER if kind == "dealer" else zmq.REQ)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.poller = zmq.Poller()
        self.poller.register(self.sock, zmq.POLLIN)

    def close(self):
        self.sock.close(0)

    def send_raw(self, body):
        self.sock.send(body)

    def recv_frames(self, timeout=REPLY_TIMEOUT):
        """Returns the reply's frames, or None on timeout."""
        if not self.poller.poll(int(timeout * 1000)):
            return None
        return self.sock.recv_multipart()

    def recv_raw(self, timeout=REPLY_TIMEOUT):
        frames = self.recv_frames(timeout)
        if frames is None:
            raise ReplyError(f"no reply within {timeout}s")
        assert len(frames) == 1, f"a {self.kind} client expects exactly one reply frame, got {frames!r}"
        return frames[0]

    def recv(self, timeout=REPLY_TIMEOUT):
        return unpack(self.recv_raw(timeout))

    def request(self, body, timeout=REPLY_TIMEOUT):
        """Sends a body (dict, encoded with pack(), or bytes as-is); returns the decoded reply."""
        self.send_raw(body if isinstance(body, (bytes, bytearray)) else pack(body))
        return self.recv(timeout)

    def call(self, op, timeout=REPLY_TIMEOUT, **args):
        rid = next(Client._ids)
        body = {"id": rid, "op": op}
        body.update(args)
        self.send_raw(pack(body))
        reply = self.recv(timeout)
        assert isinstance(reply, dict), reply
        assert reply.get("id") == rid, f"reply id {reply.get('id')!r} != request id {rid}: {reply!r}"
        return reply

    def __getattr__(self, op):
        # client.insertOne(model=..., doc=...) == client.call("insertOne", ...)
        if op.startswith("_"):
            raise AttributeError(op)
        return lambda **args: self.call(op, **args)


# ---------------------------------------------------------------------------------------------
# Daemon process.


class Daemon:
    """A memgoosed process on ipc endpoints inside `tmp` (a short directory: sun_path is 107 bytes)."""

    def __init__(self, exe, tmp, extra_args=()):
        self.exe = exe
        self.tmp = str(tmp)
        self.req = f"ipc://{self.tmp}/req.sock"
        self.pub = f"ipc://{self.tmp}/pub.sock"
        self.data_dir = os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "memgoosed.log")
        self.extra_args = list(extra_args)
        self.proc = None
        self.ready_line = None

    def argv(self):
        return [self.exe, "--bind", self.req, "--pub", self.pub, "--data-dir", self.data_dir,
                *self.extra_args]

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start(self, timeout=10.0 * TIME_SCALE):
        if not os.access(self.exe, os.X_OK):
            raise AssertionError(f"memgoosed not found at {self.exe}: build it or set MEMGOOSED")
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log().splitlines():
                if "ready" in line:
                    self.ready_line = line
                    return self
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"memgoosed exited with {self.proc.returncode} before ready:\n{self.log()}")
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        raise AssertionError(f"memgoosed not ready within {timeout}s:\n{self.log()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout=20.0 * TIME_SCALE):
        """SIGTERM, wait; returns the exit status (kills and fails on a hang)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"memgoosed did not exit within {timeout}s of SIGTERM:\n{self.log()[-4000:]}")

    def stop(self):
        """SIGTERM and assert exit status 0 (CONTRACT section 1)."""
        status = self.terminate()
        assert status == 0, f"memgoosed exit status {status} after SIGTERM:\n{self.log()[-4000:]}"

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def same(a, b):
    """Deep equality that also compares types (True != 1, 1 != 1.0) and map key order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def assert_same(got, want):
    assert same(got, want), f"\n got: {got!r}\nwant: {want!r}"
