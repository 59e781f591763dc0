"""Fixtures: a memgoosed process on ipc endpoints in a pytest tmp dir, and zmq clients for it.

The binary is $MEMGOOSED or <repo>/build/bin/memgoosed. Run with Debian's interpreter:
    MEMGOOSED=build/bin/memgoosed /usr/bin/python3 -m pytest -q tests/python
"""

import os
import re
import sys

import pytest
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from mgwire import Client, Daemon  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def memgoosed_path():
    return os.path.abspath(os.environ.get("MEMGOOSED") or os.path.join(REPO, "build", "bin", "memgoosed"))


@pytest.fixture(scope="session")
def zctx():
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


@pytest.fixture(scope="session")
def daemon(tmp_path_factory):
    """One daemon shared by the tests that do not stop or restart it; each test uses its own
    model names. Teardown: SIGTERM and exit status 0."""
    d = Daemon(memgoosed_path(), tmp_path_factory.mktemp("d")).start()
    yield d
    d.stop()


@pytest.fixture
def make_daemon(tmp_path_factory):
    """Starts private daemons (for restart, shutdown and option tests); stops leftovers with
    SIGTERM asserting exit status 0."""
    started = []

    def make(extra_args=(), tmp=None, start=True):
        d = Daemon(memgoosed_path(), tmp or tmp_path_factory.mktemp("p"), extra_args)
        started.append(d)
        return d.start() if start else d

    yield make
    for d in started:
        if d.proc is not None and d.proc.poll() is None:
            d.stop()


@pytest.fixture(autouse=True)
def _daemon_survives(request):
    """Fails the test that made the shared daemon die, naming it."""
    yield
    if "daemon" in request.fixturenames:
        d = request.getfixturevalue("daemon")
        assert d.alive(), f"memgoosed died during {request.node.name}:\n{d.log()[-4000:]}"


@pytest.fixture
def dealer(zctx, daemon):
    c = Client(zctx, daemon.req, "dealer")
    yield c
    c.close()


@pytest.fixture
def req(zctx, daemon):
    c = Client(zctx, daemon.req, "req")
    yield c
    c.close()


_model_seq = [0]


@pytest.fixture
def model(request):
    """A model name unique to this test, valid per ^[A-Za-z_][A-Za-z0-9_-]{0,63}$."""
    _model_seq[0] += 1
    base = re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)[:40]
    return f"T{_model_seq[0]:03d}_{base}"
