"""memgoose — the Python client of memgoosed (MessagePack over ZeroMQ).

    import memgoose

    client = memgoose.connect("tcp://127.0.0.1:7377")
    db = client.database("app", storage="sqlite")
    User = db.model("User", {"fields": {"email": {"type": "string", "unique": True}}})
    uid = User.insert_one({"email": "ada@example.com", "age": 36})
    User.find({"age": {"$gte": 30}}, sort={"age": -1}, limit=10)
    try:
        User.insert_one({"email": "ada@example.com"})
    except memgoose.DuplicateKeyError as e:
        print(e.code, e.key_value)
    for event in User.watch(after=0, timeout=1.0):
        print(event.seq, event.op, event.doc)

Pure Python over pyzmq and msgpack. A Client may be shared by threads (each thread gets its own
socket); a ChangeStream is read by one thread. See README.md beside this package.
"""

from . import curve
from .client import DEFAULT_ENDPOINT, Client, Database, connect
from .codec import ObjectId
from .errors import *  # noqa: F401,F403
from .errors import __all__ as _error_names
from .model import Model, UpdateResult
from .watch import ChangeStream, Event

__version__ = "0.1.0"

__all__ = [
    "connect",
    "curve",
    "Client",
    "Database",
    "Model",
    "UpdateResult",
    "ChangeStream",
    "Event",
    "ObjectId",
    "DEFAULT_ENDPOINT",
    *_error_names,
]
