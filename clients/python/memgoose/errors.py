"""Exceptions raised by the client: one class per error code of the protocol (CONTRACT.md §6).

Every error reply of the daemon, ``{ok: false, error: {code, name, message, ...details}}``,
is raised as an instance of the class registered for its ``code`` (a subclass of
:class:`MemgooseError`). Codes this client does not know are raised as :class:`MemgooseError`
itself, so ``except MemgooseError`` catches every failure reported by the daemon.

Errors that happen on the client side (no reply in time, a daemon speaking another protocol
version) are :class:`RequestTimeout` and :class:`ProtocolError`; their ``code`` is ``None``.
"""

__all__ = [
    "MemgooseError",
    "InternalError",
    "BadValueError",
    "FailedToParseError",
    "UnauthorizedError",
    "TypeMismatchError",
    "NamespaceNotFoundError",
    "CommandNotFoundError",
    "ImmutableFieldError",
    "InvalidOptionsError",
    "ShutdownInProgressError",
    "ValidationError",
    "ChangeStreamHistoryLostError",
    "StorageError",
    "DocumentTooLargeError",
    "DuplicateKeyError",
    "RequestTimeout",
    "ProtocolError",
    "error_from_reply",
]


class MemgooseError(Exception):
    """Base class of every error the client raises.

    Attributes:
        code: the protocol's integer error code (``11000`` ...), or ``None`` for errors raised
            by the client itself.
        name: the protocol's error name (``"DuplicateKey"`` ...).
        message: the daemon's human-readable message.
        details: the error map's other keys (``index``, ``keyPattern``, ``keyValue``,
            ``errors`` ...), as a dict; empty when there are none.
    """

    code = None
    name = "MemgooseError"

    def __init__(self, message, *, code=None, name=None, details=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if name is not None:
            self.name = name
        self.details = dict(details or {})

    @property
    def index(self):
        """``insert_many``: position of the document that failed, or ``None``."""
        return self.details.get("index")

    def __str__(self):
        return f"{self.name} ({self.code}): {self.message}" if self.code else self.message

    def __repr__(self):
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InternalError(MemgooseError):
    """1: a bug in the daemon (which keeps running)."""

    code, name = 1, "InternalError"


class BadValueError(MemgooseError):
    """2: an argument or value that is not allowed (bad name, bad operator, ...)."""

    code, name = 2, "BadValue"


class FailedToParseError(MemgooseError):
    """9: the request body was not a MessagePack map."""

    code, name = 9, "FailedToParse"


class UnauthorizedError(MemgooseError):
    """13: security is on and this client is not allowed."""

    code, name = 13, "Unauthorized"


class TypeMismatchError(MemgooseError):
    """14: an argument of the wrong type."""

    code, name = 14, "TypeMismatch"


class NamespaceNotFoundError(MemgooseError):
    """26: the database does not exist."""

    code, name = 26, "NamespaceNotFound"


class CommandNotFoundError(MemgooseError):
    """59: the daemon does not know the operation."""

    code, name = 59, "CommandNotFound"


class ImmutableFieldError(MemgooseError):
    """66: an update or replacement tried to change ``_id``."""

    code, name = 66, "ImmutableField"


class InvalidOptionsError(MemgooseError):
    """72: bad or conflicting database options (or an unknown storage)."""

    code, name = 72, "InvalidOptions"


class ShutdownInProgressError(MemgooseError):
    """91: the daemon is stopping."""

    code, name = 91, "ShutdownInProgress"


class ValidationError(MemgooseError):
    """121 DocumentValidationFailure: a write broke the model's schema.

    ``errors`` lists every problem as ``[{"path": ..., "reason": ...}]``.
    """

    code, name = 121, "DocumentValidationFailure"

    @property
    def errors(self):
        return list(self.details.get("errors") or [])


class ChangeStreamHistoryLostError(MemgooseError):
    """286: the change events a stream needs are no longer kept; resynchronise with a find."""

    code, name = 286, "ChangeStreamHistoryLost"


class StorageError(MemgooseError):
    """1001: the storage backend failed; the write was not applied."""

    code, name = 1001, "StorageError"


class DocumentTooLargeError(MemgooseError):
    """10334: a document over 16 MiB."""

    code, name = 10334, "DocumentTooLarge"


class DuplicateKeyError(MemgooseError):
    """11000: a unique index refused the write.

    ``key_pattern`` is the index (``{"email": 1}``), ``key_value`` the duplicated value
    (``{"email": "a@x"}``).
    """

    code, name = 11000, "DuplicateKey"

    @property
    def key_pattern(self):
        return self.details.get("keyPattern")

    @property
    def key_value(self):
        return self.details.get("keyValue")


class RequestTimeout(MemgooseError, TimeoutError):
    """No reply within the client's timeout (the daemon is down, unreachable or overloaded).

    The request may still be applied later; its reply, if it comes, is discarded.
    """

    name = "RequestTimeout"


class ProtocolError(MemgooseError):
    """The peer is not a memgoosed speaking protocol 1, or sent a malformed reply."""

    name = "ProtocolError"


_BY_CODE = {
    cls.code: cls
    for cls in (
        InternalError,
        BadValueError,
        FailedToParseError,
        UnauthorizedError,
        TypeMismatchError,
        NamespaceNotFoundError,
        CommandNotFoundError,
        ImmutableFieldError,
        InvalidOptionsError,
        ShutdownInProgressError,
        ValidationError,
        ChangeStreamHistoryLostError,
        StorageError,
        DocumentTooLargeError,
        DuplicateKeyError,
    )
}


def error_from_reply(error):
    """The exception for an error map ``{code, name, message, ...}`` of a reply (not raised)."""
    if not isinstance(error, dict):
        return ProtocolError(f"malformed error reply: {error!r}")
    code = error.get("code")
    name = error.get("name")
    message = error.get("message")
    details = {k: v for k, v in error.items() if k not in ("code", "name", "message")}
    cls = _BY_CODE.get(code, MemgooseError)
    return cls(
        message if isinstance(message, str) else repr(message),
        code=code if isinstance(code, int) else None,
        name=name if isinstance(name, str) else None,
        details=details,
    )
