"""Fixtures: a real memgoosed on ipc endpoints in a pytest tmp dir, and a memgoose.Client for it.

The package is imported from the source tree (no install needed); the daemon is $MEMGOOSED or
<repo>/build/bin/memgoosed. Process control is the contract suite's (tests/python/mgwire.py).
    MEMGOOSED=build/bin/memgoosed /usr/bin/python3 -m pytest -q clients/python/tests
"""

import os
import re
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))  # the memgoose package
sys.path.insert(0, os.path.join(REPO, "tests", "python"))  # mgwire.Daemon

import memgoose  # noqa: E402
from mgwire import Daemon  # noqa: E402


def memgoosed_path():
    return os.path.abspath(
        os.environ.get("MEMGOOSED") or os.path.join(REPO, "build", "bin", "memgoosed")
    )


def connect(daemon, **kwargs):
    return memgoose.connect(daemon.req, pub=daemon.pub, timeout=10.0, **kwargs)


@pytest.fixture(scope="session")
def daemon(tmp_path_factory):
    """One daemon shared by the tests; each test uses its own model names."""
    d = Daemon(memgoosed_path(), tmp_path_factory.mktemp("c")).start()
    yield d
    d.stop()


@pytest.fixture
def make_daemon(tmp_path_factory):
    """Starts private daemons (restarts); stops leftovers with SIGTERM."""
    started = []

    def make(extra_args=(), tmp=None):
        d = Daemon(memgoosed_path(), tmp or tmp_path_factory.mktemp("p"), extra_args)
        started.append(d)
        return d.start()

    yield make
    for d in started:
        if d.proc is not None and d.proc.poll() is None:
            d.stop()


@pytest.fixture
def client(daemon):
    c = connect(daemon)
    yield c
    c.close()


_seq = [0]


@pytest.fixture
def name(request):
    """A model/database name unique to this test."""
    _seq[0] += 1
    return f"P{_seq[0]:03d}_" + re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)[:40]


@pytest.fixture
def User(client, name):
    return client.database().model(name)
