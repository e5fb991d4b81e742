"""What a storage error means for people: the cause in a few words (disk full, read-only,
connection lost), from the message of the database driver's error, whatever the backend."""

from __future__ import annotations

_CAUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("disk full", ("disk is full", "no space left", "disk full", "diskfull")),
    ("read-only storage", ("readonly", "read-only", "read only")),
    (
        "lost connection to the database",
        (
            "server closed the connection",
            "connection refused",
            "connection is closed",
            "terminating connection",
            "could not connect",
            "connection failed",
            "consuming input failed",
        ),
    ),
)
MESSAGE_LIMIT = 300


def storage_cause(message: str) -> str:
    """``disk full``, ``read-only storage``, ``lost connection to the database``, or ``storage
    error`` for a message that says none of those."""
    text = message.lower()
    for cause, signs in _CAUSES:
        if any(sign in text for sign in signs):
            return cause
    return "storage error"


def one_line(message: str) -> str:
    """`message` on one line, without SQLAlchemy's background link, cut to `MESSAGE_LIMIT`."""
    text = " ".join(message.split("(Background on this error at:")[0].split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def describe(message: str) -> str:
    """``storage refused a write (disk full): <the message>`` for a storage error's message."""
    return f"storage refused a write ({storage_cause(message)}): {one_line(message)}"
