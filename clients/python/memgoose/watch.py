"""Following one model's change stream without losing, repeating or reordering an event.

    for event in User.watch(after=0):          # every event with seq > 0, then live ones
        print(event.seq, event.op, event.id, event.doc)

The daemon publishes each applied write on its PUB socket (topic ``"db.model"``, body
``{seq, op, id, doc?, ts}``, CONTRACT.md §7) and keeps recent history behind the ``changes``
request. A PUB socket silently drops what a slow or late subscriber cannot take; a
:class:`ChangeStream` repairs that, as the C++ client's Watcher does (clients/cpp/watch.h):

- it subscribes to the exact topic before reading any history, so nothing falls between
  history and live events (ZeroMQ matches prefixes: ``app.User`` also brings ``app.Users``,
  which is skipped);
- the first read asks ``changes`` for the events after ``after`` (or, for ``after=None``, the
  model's current last seq, so only new events are delivered);
- a live event beyond the next expected seq (a gap), or a silence of ``idle_check`` seconds,
  makes it ask ``changes`` again from the last seq it has;
- events are deduplicated by ``seq`` and delivered in ``seq`` order, each exactly once.

:class:`~memgoose.errors.ChangeStreamHistoryLostError` is raised when the daemon no longer
keeps events the stream needs (it fell behind by more than the daemon's change-log size, or
the model's seq went backwards: a memory database after a restart). Re-read the model with
``find``, then call :meth:`ChangeStream.reset` with the new starting seq. After any exception
the stream is unchanged and may be read again.

Not thread-safe: one thread reads a ChangeStream. It starts no thread; all the work happens
while it is read.
"""

import collections
import datetime
import time
from dataclasses import dataclass
from typing import Any, Optional

import zmq

from . import codec
from .errors import ChangeStreamHistoryLostError, ProtocolError

__all__ = ["ChangeStream", "Event"]

_READ_AHEAD = 64  # live events decoded ahead of the one returned
_INT64_MAX = (1 << 63) - 1
_DEFAULT = object()


@dataclass(frozen=True)
class Event:
    """One change event (CONTRACT.md §7).

    ``op`` is ``"insert"``, ``"update"``, ``"replace"``, ``"delete"`` or ``"drop"``; ``doc`` is
    the whole document after the write (None for delete and drop); ``ts`` when it was applied.
    """

    seq: int
    op: str
    id: Any
    doc: Optional[dict]
    ts: datetime.datetime


def parse_event(body):
    """An :class:`Event` from a decoded event map, or None when it is malformed."""
    if not isinstance(body, dict):
        return None
    seq, op, ts = body.get("seq"), body.get("op"), body.get("ts")
    if type(seq) is not int or seq <= 0 or not isinstance(op, str) or "id" not in body:
        return None
    if not isinstance(ts, datetime.datetime):
        return None
    return Event(seq, op, codec.wrap_id(body["id"]), codec.wrap_doc(body.get("doc")), ts)


class ChangeStream:
    """The events of one model with ``seq > after``; made by ``Model.watch(after)``.

    Iterating yields :class:`Event` objects; it blocks until the next one, or, when ``timeout``
    is given, stops after ``timeout`` seconds without an event. :meth:`next` reads one event
    with its own timeout.

    Args:
        after: deliver events with a greater seq; ``None`` for only those after the model's
            current last seq (read when the stream is first read).
        timeout: seconds an iteration waits for the next event before it stops (None: forever).
        idle_check: when nothing came for this many seconds, ask ``changes`` whether events
            were dropped (at most once per period; > 0).
        page_size: events asked per ``changes`` request (0: the daemon's choice).
        max_buffered: most events held in the stream ahead of the one due.
        sub_hwm: ZMQ_RCVHWM of the SUB socket (live events ZeroMQ queues).
    """

    def __init__(
        self,
        model,
        after=None,
        *,
        timeout=None,
        idle_check=1.0,
        page_size=0,
        max_buffered=200_000,
        sub_hwm=100_000,
    ):
        client = model.database.client
        if not client.pub_endpoint:
            raise ValueError(
                f"no change-stream endpoint for {client.endpoint}: pass pub= to memgoose.connect"
            )
        if idle_check <= 0:
            raise ValueError("idle_check must be > 0")
        self.model = model
        self.timeout = timeout
        self.idle_check = idle_check
        self.page_size = page_size
        self.max_buffered = max_buffered
        self.topic = f"{model.database.name}.{model.name}".encode()
        self.stats = collections.Counter()  # delivered, live, fetched, duplicates, requests, gaps
        self._sub = client.new_socket(zmq.SUB)
        self._sub.setsockopt(zmq.RCVHWM, max(sub_hwm, 0))
        self._sub.setsockopt(zmq.SUBSCRIBE, self.topic)  # before any history is read
        self._sub.connect(client.pub_endpoint)
        self.reset(after)

    # -- public ---------------------------------------------------------------------------------

    @property
    def last_seq(self):
        """Seq of the last event delivered (``after`` before the first one)."""
        return self._last

    def reset(self, after=None):
        """Drops what is buffered and continues with the events after ``after`` (None: from
        the model's current last seq), e.g. after ChangeStreamHistoryLostError."""
        self._ready = collections.deque()  # seqs last+1, last+2, ... contiguous
        self._ahead = {}  # seq -> Event, beyond tail()+1
        self._from_now = after is None
        self._last = self._known = 0 if after is None else int(after)
        self._synced = False
        self._check_at = time.monotonic() + self.idle_check

    def next(self, timeout=_DEFAULT):
        """The next event, waiting up to ``timeout`` seconds (default: the stream's; None:
        forever); None when none came in time. May send ``changes`` requests and raise their
        errors."""
        if timeout is _DEFAULT:
            timeout = self.timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._receive_live()
            if not self._synced:
                self._catch_up()  # history (or the current seq) before anything live
            if self._ready:
                event = self._ready.popleft()
                self._last = event.seq
                self.stats["delivered"] += 1
                self._check_at = time.monotonic() + self.idle_check
                return event
            if self._known > self._tail():  # a gap: fetch what the SUB socket did not bring
                self._catch_up()
                continue
            now = time.monotonic()
            if now >= self._check_at:  # silent for a while: were the last events dropped?
                self._catch_up()
                self._check_at = time.monotonic() + self.idle_check
                continue
            if deadline is not None and now >= deadline:
                return None
            until = self._check_at if deadline is None else min(deadline, self._check_at)
            self._sub.poll(max(0, int((until - now) * 1000)) + 1, zmq.POLLIN)

    def __iter__(self):
        return self

    def __next__(self):
        event = self.next()
        if event is None:
            raise StopIteration
        return event

    def close(self):
        """Closes the SUB socket. Idempotent."""
        self._sub.close(0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- internals ------------------------------------------------------------------------------

    def _tail(self):
        return self._last + len(self._ready)

    def _receive_live(self):
        while (
            len(self._ready) < _READ_AHEAD
            and len(self._ready) + len(self._ahead) < self.max_buffered
        ):
            try:
                frames = self._sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if len(frames) != 2 or frames[0] != self.topic:
                continue  # a longer topic with our prefix, or a malformed message
            try:
                event = parse_event(codec.unpack(frames[1]))
            except ValueError:
                event = None
            if event is None:
                self.stats["malformed"] += 1
                continue
            self.stats["live"] += 1
            if self._synced and event.seq > max(self._known, self._tail()) + 1:
                self.stats["gaps"] += 1
            self._known = max(self._known, event.seq)
            self._take(event)

    def _take(self, event):
        tail = self._tail()
        if event.seq <= tail or event.seq in self._ahead:
            self.stats["duplicates"] += 1
        elif event.seq == tail + 1:
            self._ready.append(event)
            self._settle()
        else:
            self._ahead[event.seq] = event

    def _settle(self):
        while self._ahead:
            first = min(self._ahead)
            tail = self._tail()
            if first > tail + 1:
                return
            event = self._ahead.pop(first)
            if first <= tail:
                self.stats["duplicates"] += 1
            else:
                self._ready.append(event)

    def _changes(self, after, limit):
        self.stats["requests"] += 1
        return self.model.changes(after=after, limit=limit or None)

    def _catch_up(self):
        """One ``changes`` page after tail(); its reply is authoritative: when it starts past
        tail()+1 without ChangeStreamHistoryLost, the seqs in between do not exist."""
        if self._from_now:
            return self._start_from_now()
        after = self._tail()
        limit = self.page_size
        if self._ahead:  # what is already buffered need not come again
            hole = min(self._ahead) - after - 1
            limit = min(limit, hole) if limit > 0 else hole
        raw, last_seq = self._changes(after, limit)
        last_seq = max(int(last_seq), 0)
        if last_seq < after:
            raise ChangeStreamHistoryLostError(
                f"change stream of {self.topic.decode()}: its seq went back from {after} to "
                f"{last_seq} (the model's history restarted); resynchronise from a find",
                code=286,
            )
        events = [parse_event(e) for e in raw]
        if any(e is None or e.seq <= after for e in events):
            raise ProtocolError(f"malformed event in the 'changes' reply for {self.topic.decode()}")
        self._synced = True
        self._known = max(self._known, last_seq)
        self.stats["fetched"] += len(events)
        first = events[0].seq if events else last_seq + 1
        if not self._ready and first > after + 1:
            self._last = first - 1
            self._settle()
        for e in events:
            self._take(e)

    def _start_from_now(self):
        _, last_seq = self._changes(_INT64_MAX, 1)
        self._from_now = False
        self._synced = True
        self._last = max(int(last_seq), 0)
        self._known = max(self._known, self._last)
        for e in self._ready:
            self._ahead.setdefault(e.seq, e)
        self._ready.clear()
        self._settle()

    def __repr__(self):
        return f"memgoose.ChangeStream({self.topic.decode()}, last_seq={self._last})"
