"""Python values <-> the protocol's MessagePack values (CONTRACT.md §4).

==========================  ==================================================================
Python                      MessagePack / memgoosed
==========================  ==================================================================
None, bool, int, float,     nil, bool, int, float, str (an int stays an int, a float a float)
str
bytes, bytearray,           bin (always read back as ``bytes``)
memoryview
list, tuple                 array (read back as ``list``)
dict (string keys)          map, in the dict's order
datetime.datetime           date: the timestamp extension (type -1). A naive datetime is taken
                            as UTC. Read back as an aware UTC datetime, to the microsecond
                            (the daemon keeps at least milliseconds)
datetime.date               date at midnight UTC (read back as a datetime)
ObjectId                    its 24-character hex string, which is what memgoosed uses as an
                            ObjectId; a top-level ``_id`` (and ``insertedId`` ...) that has
                            that form is read back as an ObjectId, which compares equal to the
                            plain string
==========================  ==================================================================

Any other type raises ``TypeError`` before anything is sent.
"""

import datetime
import os
import re
import struct
import threading
import time

import msgpack

__all__ = ["ObjectId", "pack", "unpack", "to_date"]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_HEX24 = re.compile(r"[0-9a-f]{24}\Z")


class ObjectId(str):
    """A MongoDB-style ObjectId: a 24-character lowercase hex string.

    ``ObjectId()`` makes a new one with the daemon's layout (4-byte seconds, 5 random bytes per
    process, 3-byte counter); ``ObjectId("65f1...")`` checks and wraps an existing one. Being a
    ``str``, it is stored and compared as the string memgoosed itself generates.
    """

    _lock = threading.Lock()
    _random = os.urandom(5)
    _counter = int.from_bytes(os.urandom(3), "big")

    def __new__(cls, value=None):
        if value is None:
            with ObjectId._lock:
                ObjectId._counter = (ObjectId._counter + 1) & 0xFFFFFF
                counter = ObjectId._counter
            raw = struct.pack(">I", int(time.time()) & 0xFFFFFFFF) + ObjectId._random
            value = (raw + counter.to_bytes(3, "big")).hex()
        elif isinstance(value, (bytes, bytearray)) and len(value) == 12:
            value = bytes(value).hex()
        if not isinstance(value, str) or not _HEX24.match(value.lower()):
            raise ValueError(f"not an ObjectId (24 hex characters): {value!r}")
        return super().__new__(cls, value.lower())

    @classmethod
    def is_valid(cls, value):
        """True for a 24-character lowercase hex string."""
        return isinstance(value, str) and bool(_HEX24.match(value))

    @property
    def generation_time(self):
        """When the id was made (its first 4 bytes), as an aware UTC datetime."""
        return _EPOCH + datetime.timedelta(seconds=int(self[:8], 16))

    @property
    def binary(self):
        """The 12 bytes."""
        return bytes.fromhex(self)

    def __repr__(self):
        return f"ObjectId({str.__repr__(self)})"


def to_date(dt):
    """A ``datetime``/``date`` as a msgpack Timestamp, exactly (no float rounding)."""
    if not isinstance(dt, datetime.datetime):
        dt = datetime.datetime(dt.year, dt.month, dt.day)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    delta = dt - _EPOCH
    return msgpack.Timestamp(delta.days * 86400 + delta.seconds, delta.microseconds * 1000)


def _default(obj):
    if isinstance(obj, (datetime.datetime, datetime.date)):
        return to_date(obj)
    if isinstance(obj, (bytearray, memoryview)):
        return bytes(obj)
    raise TypeError(f"memgoose cannot encode a value of type {type(obj).__name__}: {obj!r}")


def pack(body):
    """Encodes a request body (a dict) to MessagePack bytes."""
    return msgpack.packb(body, use_bin_type=True, datetime=False, default=_default)


def unpack(data):
    """Decodes a reply or event body: str as str, bin as bytes, dates as aware datetimes."""
    return msgpack.unpackb(data, raw=False, strict_map_key=False, timestamp=3)


def wrap_id(value):
    """``value`` as an ObjectId when it has that form, else unchanged."""
    if type(value) is str and _HEX24.match(value):
        return ObjectId(value)
    return value


def wrap_doc(doc):
    """A read document with its top-level ``_id`` wrapped by :func:`wrap_id` (in place)."""
    if isinstance(doc, dict) and "_id" in doc:
        doc["_id"] = wrap_id(doc["_id"])
    return doc
