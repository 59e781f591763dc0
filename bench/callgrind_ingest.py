#!/usr/bin/env python3
"""Drives a running memgoosed for instruction counts (callgrind is independent of the load).

Run the daemon under valgrind, then this client against it, then stop the daemon with SIGTERM:

  valgrind --tool=callgrind --separate-threads=yes build/bin/memgoosed --bind tcp://127.0.0.1:7390 \\
      --pub tcp://127.0.0.1:7391 --data-dir /tmp/cg &
  python3 bench/callgrind_ingest.py tcp://127.0.0.1:7390 many debounced 60   # 60 x insertMany of 1000
  python3 bench/callgrind_ingest.py tcp://127.0.0.1:7390 writers immediate 100  # 16 writers x 100 insertOne

`many`: a database of the given storage (`memory`, `wiredtiger`, or a file persistMode), a model with
bench_schema, then insertMany batches of 1000 documents of bench/shape.h's shape, 4 in flight.
`writers`: 16 clients with one insertOne in flight each. Divide the model thread's inclusive
count of `handle` (or of FileStorage::apply) by the documents written; leave out `on_exit`
(the shutdown's compaction). Needs pyzmq and msgpack (Debian python3-zmq, python3-msgpack).
"""
import sys

import msgpack
import zmq

CITIES = ["New York", "London", "Paris", "Tokyo", "Berlin", "Sydney", "Toronto", "Madrid",
          "Rome", "Oslo"]
STATUSES = ["active", "inactive", "pending"]
SCHEMA = {"fields": {"email": {"type": "string", "unique": True},
                     "status": {"type": "string", "index": True}},
          "indexes": [{"fields": {"city": 1, "age": 1}}]}


def doc(i):  # bench/shape.h bench_doc
    return {"email": f"user{i}@example.com", "name": f"User {i}", "age": 18 + i % 60,
            "city": CITIES[i % 10], "status": STATUSES[i % 3], "score": float(i % 1000) / 10.0,
            "active": i % 2 == 0, "createdAt": msgpack.Timestamp.from_unix(1700000000 + i)}


def call(sock, req):
    sock.send(msgpack.packb(req))
    rep = msgpack.unpackb(sock.recv(), timestamp=0)
    if not rep.get("ok"):
        raise SystemExit(f"error: {rep}")
    return rep


def main():
    endpoint, what, storage, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    ctx = zmq.Context()
    admin = ctx.socket(zmq.DEALER)
    admin.connect(endpoint)
    db = "cg_" + storage
    create = {"id": 1, "op": "createDatabase", "db": db, "storage": "memory"}
    if storage == "wiredtiger":
        create.update(storage="wiredtiger")
    elif storage != "memory":
        create.update(storage="file", options={"persistMode": storage})
    call(admin, create)
    call(admin, {"id": 2, "op": "defineModel", "db": db, "model": "M", "schema": SCHEMA})
    if what == "many":
        batches = [msgpack.packb({"id": 10 + b, "op": "insertMany", "db": db, "model": "M",
                                  "docs": [doc(b * 1000 + k) for k in range(1000)]})
                   for b in range(n)]
        sent = got = 0
        while got < n:
            while sent < n and sent - got < 4:
                admin.send(batches[sent])
                sent += 1
            if not msgpack.unpackb(admin.recv(), timestamp=0).get("ok"):
                raise SystemExit("insertMany failed")
            got += 1
        return
    socks = [ctx.socket(zmq.DEALER) for _ in range(16)]
    poller = zmq.Poller()
    for s in socks:
        s.connect(endpoint)
        poller.register(s, zmq.POLLIN)
    count = {s: 0 for s in socks}

    def send(k, s):
        s.send(msgpack.packb({"id": 1, "op": "insertOne", "db": db, "model": "M",
                              "doc": doc(k * n + count[s])}))
        count[s] += 1

    for k, s in enumerate(socks):
        send(k, s)
    done = 0
    while done < 16 * n:
        for s, _ in poller.poll():
            if not msgpack.unpackb(s.recv(), timestamp=0).get("ok"):
                raise SystemExit("insertOne failed")
            done += 1
            if count[s] < n:
                send(socks.index(s), s)


if __name__ == "__main__":
    main()
