"""CURVE key files for memgoosed (docs/SECURITY.md; the format is protocol/curve_keys.h's).

A key is ZeroMQ's Z85 text of a 32-byte Curve25519 key: 40 characters, as
``zmq.curve_keypair()`` returns. A key file holds one key on a line of its own (blank lines and
``#`` comments ignored; a line that is exactly one valid key is a key even when it starts with
``#``, a Z85 character), or a CZMQ zcert line ``public-key = "..."`` / ``secret-key = "..."``.

    pub, sec = memgoose.curve.keygen("alice")     # alice.pub, alice.key (0600)
    client = memgoose.connect(endpoint, server_key="server.pub", client_key="alice.key")
"""

import os

import zmq
from zmq.utils import z85 as _z85

__all__ = ["read_public_key", "read_secret_key", "keygen", "CurveKeys"]


def _valid(z85):
    if len(z85) != 40:
        return False
    try:
        return len(_z85.decode(z85.encode("ascii"))) == 32
    except Exception:
        return False


def _read_key(path, name):
    with open(path, encoding="ascii", errors="replace") as f:
        for no, raw in enumerate(f, 1):
            line = raw.strip()
            bare = _valid(line)
            if not line or (not bare and line.startswith("#")):
                continue
            if not bare and "=" in line:
                key, _, value = line.partition("=")
                if key.strip() != name:
                    continue
                line = value.strip().strip('"')
            if not _valid(line):
                raise ValueError(
                    f"CURVE key file {path}: line {no} is not a Z85 CURVE key "
                    "(40 characters, as zmq_curve_keypair writes)"
                )
            return line
    raise ValueError(f"CURVE key file {path}: holds no {name}")


def read_public_key(path):
    """The Z85 public key of ``path``; ValueError naming the file when it holds none."""
    return _read_key(path, "public-key")


def read_secret_key(path):
    """(public, secret) Z85 keys from the secret key file ``path``."""
    secret = _read_key(path, "secret-key")
    return zmq.curve_public(secret.encode("ascii")).decode("ascii"), secret


def _write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def keygen(base):
    """Writes a new key pair to ``<base>.pub`` and ``<base>.key`` (mode 0600, never
    overwriting; FileExistsError otherwise) and returns (public, secret)."""
    pub, sec = (k.decode("ascii") for k in zmq.curve_keypair())
    _write_private(base + ".pub", f"# memgoose CURVE public key (Z85)\n{pub}\n")
    _write_private(base + ".key", f"# memgoose CURVE secret key (Z85): keep it private\n"
                                  f"# public key: {pub}\n{sec}\n")
    return pub, sec


class CurveKeys:
    """The keys a client of a CURVE daemon needs: the server's public key file and this
    client's secret key file."""

    def __init__(self, server_key, client_key):
        self.server_public = read_public_key(server_key)
        self.client_public, self.client_secret = read_secret_key(client_key)

    def apply(self, sock):
        sock.curve_serverkey = self.server_public.encode("ascii")
        sock.curve_publickey = self.client_public.encode("ascii")
        sock.curve_secretkey = self.client_secret.encode("ascii")
