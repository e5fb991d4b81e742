"""An ASGI middleware that refuses request bodies over a size limit with 413, before the app
reads them whole: by ``Content-Length`` when the client sends one, else by counting the bytes as
they arrive.

The limit is `DEFAULT_MAX_BODY_BYTES` (1 MB), or ``BAKEHOUSE_MAX_BODY_BYTES`` in the server's
environment. Every request body the API and the pages take (a run request, a backfill form) is a
few kilobytes; nothing legitimate comes near it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from bakehouse.errors import ProjectError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
ENV_MAX_BODY_BYTES = "BAKEHOUSE_MAX_BODY_BYTES"


def configured_limit() -> int:
    """The limit the environment sets (``BAKEHOUSE_MAX_BODY_BYTES``), else the default."""
    text = os.environ.get(ENV_MAX_BODY_BYTES, "").strip()
    if not text:
        return DEFAULT_MAX_BODY_BYTES
    if not text.isdigit() or int(text) < 1:
        raise ProjectError(f"{ENV_MAX_BODY_BYTES} must be a positive number of bytes, got {text!r}")
    return int(text)


class BodyTooLarge(HTTPException):
    """Raised (from `receive`) when a body grows past the limit while the app reads it."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _detail(limit))


def _detail(limit: int) -> str:
    return (
        f"the request body is larger than {limit} bytes (the server's limit, {ENV_MAX_BODY_BYTES})"
    )


class BodyLimit:
    """Answer 413 to any HTTP request whose body exceeds `max_bytes`."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        """Wrap `app`."""
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, refusing it as soon as its body is known to be too large."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(send, self.max_bytes)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI and Starlette turn an HTTPException from reading the body into
                    # its response; the except below covers an app that lets it through.
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, self.max_bytes)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            # A malformed length is the server's to refuse (400); count the bytes instead.
            return int(text) if text.isdigit() else None
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": _detail(limit)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
