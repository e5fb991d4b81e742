"""The envelope every protocol message travels in: ``{"protocol": N, "body": ...}``.

One place reads the version, so every message (snapshot, run plan, ...) refuses another version
with the same words, and a body this version cannot read says which message and where.
"""

from __future__ import annotations

import contextlib
from typing import Any, Generic, TypeVar

from bakehouse.errors import DecodeError, ProtocolError
from bakehouse.serdes import Record, decode, encode

# 2: records encoded by `bakehouse.serdes`. Version 1 (a "__type__" tag on every object) decodes
# the same way: the tags it has beyond the top level are fields version 2 ignores.
PROTOCOL_VERSION = 2
READABLE_PROTOCOLS = (1, 2)

B = TypeVar("B")


class Envelope(Record, Generic[B], frozen=True, kw_only=True):
    """A message body with the protocol version its sender speaks."""

    protocol: Any = None
    body: B


class _Version(Record, frozen=True, kw_only=True):
    protocol: Any = None


def dumps(body: Any) -> str:
    """JSON for `body`, wrapped with this version."""
    return encode(Envelope(protocol=PROTOCOL_VERSION, body=body))


def loads(text: str | bytes, body_type: Any, *, what: str) -> Any:
    """The body of type `body_type` in `text`; a version not in `READABLE_PROTOCOLS`, or a body
    that is not one, is a `ProtocolError` naming `what`."""
    try:
        message = decode(text, Envelope[body_type], what=what)
    except DecodeError as exc:
        # A body this version cannot read is most often one of another version: say so.
        with contextlib.suppress(DecodeError):
            check_version(decode(text, _Version, what=what).protocol, what)
        raise ProtocolError(str(exc)) from None
    check_version(message.protocol, what)
    return message.body


def check_version(version: Any, what: str) -> None:
    """Raise `ProtocolError` unless this host reads `version`."""
    if version not in READABLE_PROTOCOLS:
        raise ProtocolError(
            f"{what} protocol {version!r} is not one of {READABLE_PROTOCOLS}: the location "
            "runs a different bakehouse version than the host"
        )
