"""The connection to a memgoosed daemon, and its databases.

    import memgoose
    client = memgoose.connect("tcp://127.0.0.1:7377")
    db = client.database("app", storage="sqlite", synchronous="full")   # createDatabase
    User = db.model("User", {"fields": {"email": {"type": "string", "unique": True}}})
    User.insert_one({"email": "ada@example.com"})

Requests go over a ZeroMQ DEALER socket as MessagePack maps (CONTRACT.md §2-3); each carries
an ``id`` and its reply is matched by it, so a reply that comes too late for a timed-out call is
recognised and dropped. Change streams (``Model.watch``) add a SUB socket on the daemon's
publish endpoint.

Thread-safety: a :class:`Client` (and the :class:`Database` and :class:`~memgoose.Model`
objects made from it) may be shared by any number of threads: each thread gets its own DEALER
socket, created on its first request, because a ZeroMQ socket must not be used by two threads.
A :class:`~memgoose.ChangeStream` belongs to the thread that iterates it. Each thread's
socket lives until :meth:`Client.close`, so prefer a pool of long-lived threads to one thread
per request. Call :meth:`Client.close` once no thread uses the client any more (or use it as a
context manager).
"""

import itertools
import threading
import time
from urllib.parse import urlsplit

import zmq
from zmq.utils.monitor import recv_monitor_message

from . import codec
from .curve import CurveKeys
from .errors import (
    InvalidOptionsError,
    ProtocolError,
    RequestTimeout,
    UnauthorizedError,
    error_from_reply,
)

__all__ = ["Client", "Database", "connect", "DEFAULT_ENDPOINT"]

DEFAULT_ENDPOINT = "tcp://127.0.0.1:7377"
PROTOCOL_VERSION = 1


def connect(endpoint=DEFAULT_ENDPOINT, **kwargs):
    """A :class:`Client` for the daemon at ``endpoint``; see :class:`Client` for ``kwargs``.

    ZeroMQ connects in the background, so this returns at once even when the daemon is not up
    yet; the first request waits for it (up to ``timeout``).
    """
    return Client(endpoint, **kwargs)


def default_pub_endpoint(endpoint):
    """The daemon's default publish endpoint for a tcp request endpoint: the next port
    (``tcp://h:7377`` -> ``tcp://h:7378``), as memgoosed's defaults are laid out. Other
    transports have no default: pass ``pub=`` to :class:`Client`."""
    if endpoint.startswith("tcp://"):
        parts = urlsplit(endpoint)
        if parts.port is not None:
            host = endpoint[len("tcp://") : endpoint.rindex(":")]
            return f"tcp://{host}:{parts.port + 1}"
    return None


def _camel(key):
    head, *rest = key.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


class Client:
    """One daemon, reached at ``endpoint`` (``tcp://host:port`` or ``ipc://path``).

    Args:
        endpoint: the daemon's request endpoint (its ``--bind``).
        pub: its change-stream endpoint (``--pub``), needed by ``watch()``; by default the
            next tcp port after ``endpoint``'s.
        timeout: seconds to wait for each reply before raising :class:`RequestTimeout`.
        context: a ``zmq.Context`` to use (it must outlive the client); by default the client
            makes and owns one.
        check_protocol: on the first request, ask ``hello`` and raise :class:`ProtocolError`
            unless the daemon speaks protocol 1.
        configure: called with each new socket before it connects.
        server_key, client_key: for a daemon running with CURVE (docs/SECURITY.md): the
            daemon's public key file and this client's secret key file (``memgoose keygen`` or
            :func:`memgoose.curve.keygen` writes them); both or neither. A request to a daemon
            that refused the key raises :class:`UnauthorizedError` (no reply ever comes).
    """

    def __init__(
        self,
        endpoint=DEFAULT_ENDPOINT,
        *,
        pub=None,
        timeout=30.0,
        context=None,
        check_protocol=True,
        configure=None,
        server_key=None,
        client_key=None,
    ):
        if (server_key is None) != (client_key is None):
            raise ValueError("CURVE needs both server_key and client_key (key file paths)")
        self.curve = CurveKeys(server_key, client_key) if server_key else None
        self.endpoint = endpoint
        self.pub_endpoint = pub or default_pub_endpoint(endpoint)
        self.timeout = timeout
        self._own_context = context is None
        self.context = context or zmq.Context()
        self._configure = configure
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sockets = []
        self._ids = itertools.count(1)
        self._checked = not check_protocol
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self):
        """Closes every socket of the client, and its context if it made it (which also closes
        the SUB sockets of change streams not closed yet). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for s in self._sockets:
                s.close(0)
            self._sockets.clear()
        if self._own_context:
            self.context.destroy(linger=0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def new_socket(self, kind):
        """A socket of ``kind`` on the client's context, set up with ``configure``; the
        caller owns it (used for change streams)."""
        sock = self.context.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        if self.curve:
            self.curve.apply(sock)
        if self._configure:
            self._configure(sock)
        return sock

    def _socket(self):
        sock = getattr(self._local, "sock", None)
        if sock is None:
            with self._lock:
                if self._closed:
                    raise ProtocolError("the client is closed")
                sock = self.new_socket(zmq.DEALER)
                if self.curve:  # learn of a refused key (ZAP 400) instead of waiting
                    mon = sock.get_monitor_socket(
                        zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_SUCCEEDED
                    )
                    self._sockets.append(mon)
                    self._local.monitor = mon
                sock.connect(self.endpoint)
                self._sockets.append(sock)
            self._local.sock = sock
        return sock

    # -- requests -------------------------------------------------------------------------------

    def call(self, op, timeout=None, **args):
        """Sends ``{id, op, **args}`` and returns the reply map (without ``id``/``ok``).

        Raises the :mod:`memgoose.errors` class of the reply's error code, or
        :class:`RequestTimeout` when no reply came within ``timeout`` (default: the client's).
        Arguments whose value is ``None`` are left out.
        """
        if not self._checked:
            self._check_protocol()
        body = {"id": None, "op": op}
        body.update((k, v) for k, v in args.items() if v is not None)
        return self._round_trip(body, self.timeout if timeout is None else timeout)

    def _round_trip(self, body, timeout):
        sock = self._socket()
        rid = next(self._ids)
        body["id"] = rid
        deadline = time.monotonic() + timeout
        hint = " (CURVE: check the server key and the daemon's allow-list)" if self.curve else ""
        # A DEALER with no usable connection (e.g. after a refused CURVE handshake) blocks in
        # send(): wait for room within the same deadline instead of forever.
        if not sock.poll(int(timeout * 1000) + 1, zmq.POLLOUT):
            raise RequestTimeout(
                f"could not send {body['op']!r} to {self.endpoint} within {timeout} s" + hint
            )
        sock.send(codec.pack(body), zmq.NOBLOCK)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._wait(sock, left):
                raise RequestTimeout(
                    f"no reply to {body['op']!r} from {self.endpoint} within {timeout} s" + hint
                )
            reply = codec.unpack(sock.recv())
            if not isinstance(reply, dict):
                raise ProtocolError(f"reply is not a map: {reply!r}")
            if reply.get("id") != rid:
                continue  # the late reply of a request that timed out
            if reply.get("ok") is True:
                reply.pop("id", None)
                reply.pop("ok", None)
                return reply
            raise error_from_reply(reply.get("error"))

    def _wait(self, sock, left):
        """True when ``sock`` has a reply within ``left`` s; UnauthorizedError as soon as the
        daemon refuses this client's CURVE key."""
        mon = getattr(self._local, "monitor", None)
        if mon is None:
            return bool(sock.poll(int(left * 1000) + 1, zmq.POLLIN))
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(mon, zmq.POLLIN)
        end = time.monotonic() + left
        while True:
            ready = dict(poller.poll(max(0, int((end - time.monotonic()) * 1000)) + 1))
            if sock in ready:
                return True
            if mon in ready:
                event = recv_monitor_message(mon)
                if event["event"] == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                    raise UnauthorizedError(
                        f"{self.endpoint} refused this client's CURVE key (ZAP status "
                        f"{event['value']}): add {self.curve.client_public} to the daemon's "
                        "curve_allow list",
                        code=13,
                        name="Unauthorized",
                    )
                continue
            if time.monotonic() >= end:
                return False

    def _check_protocol(self):
        reply = self._round_trip({"op": "hello"}, self.timeout)
        if reply.get("server") != "memgoosed" or reply.get("protocol") != PROTOCOL_VERSION:
            raise ProtocolError(
                f"{self.endpoint} is {reply.get('server')!r} protocol {reply.get('protocol')!r}; "
                f"this client speaks memgoosed protocol {PROTOCOL_VERSION}"
            )
        self._checked = True

    # -- server ---------------------------------------------------------------------------------

    def ping(self):
        """Round trip to the daemon; returns the seconds it took."""
        start = time.monotonic()
        self.call("ping")
        return time.monotonic() - start

    def hello(self):
        """``{server, version, protocol, storages, compressors}``."""
        return self.call("hello")

    def stats(self):
        """The daemon's ``stats`` reply (per database, per model counters)."""
        return self.call("stats")

    def list_databases(self):
        """``[{name, storage, options}]`` with the options' defaults filled in."""
        return self.call("listDatabases")["databases"]

    def drop_database(self, name):
        """Drops database ``name`` with its models and files (NamespaceNotFoundError if
        unknown)."""
        self.call("dropDatabase", db=name)

    def database(self, name="default", storage=None, options=None, **kw_options):
        """The :class:`Database` ``name``.

        With ``storage`` (``"memory"``, ``"file"``, ``"sqlite"``, ``"wiredtiger"`` or a custom
        strategy the daemon loaded), sends ``createDatabase``: it creates the database, or
        checks that the existing one has the same config (else :class:`InvalidOptionsError`).
        Options come as ``options={...}`` and/or keywords; keywords in snake_case are sent in
        camelCase (``persist_mode="immediate"`` is ``persistMode``). Without ``storage`` no
        request is sent: the handle addresses an existing database.
        """
        opts = dict(options or {})
        opts.update((_camel(k), v) for k, v in kw_options.items())
        db = Database(self, name)
        if storage is None:
            if opts:
                raise InvalidOptionsError("database options need a storage", code=72)
        else:
            db.created = self.call("createDatabase", db=name, storage=storage, options=opts)[
                "created"
            ]
        return db

    def __repr__(self):
        return f"memgoose.Client({self.endpoint!r})"


class Database:
    """A database of one daemon: a namespace of models sharing one storage strategy.

    Made by :meth:`Client.database`. ``created`` is what ``createDatabase`` answered (``None``
    when the handle was made without it).
    """

    def __init__(self, client, name):
        self.client = client
        self.name = name
        self.created = None

    def call(self, op, **args):
        """``client.call(op, db=<this database>, **args)``."""
        return self.client.call(op, db=self.name, **args)

    def model(self, name, schema=None, **schema_keys):
        """The :class:`~memgoose.Model` ``name`` of this database.

        With a ``schema`` (or schema keys as keywords: ``fields=``, ``indexes=``,
        ``timestamps=``, ``strict=``), sends ``defineModel`` first (CONTRACT.md §5): a new
        schema replaces the old one and indexes are added and dropped to match. Without one
        no request is sent (a model is created by its first write).
        """
        from .model import Model

        m = Model(self, name)
        if schema is not None or schema_keys:
            m.define({**(schema or {}), **schema_keys})
        return m

    def list_models(self):
        """``[{name, count, schema}]``."""
        return self.call("listModels")["models"]

    def flush(self):
        """Returns once every write acknowledged before it is durable on disk."""
        self.call("flush")

    def drop(self):
        """Drops this database, its models and its files."""
        self.client.drop_database(self.name)

    def __repr__(self):
        return f"memgoose.Database({self.name!r})"
