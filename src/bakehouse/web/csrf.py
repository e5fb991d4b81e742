"""The form token: a form post must carry the token of the browser session it was served to.

Each browser gets a random session value in a signed cookie (``bh_csrf_PORT``, HttpOnly); every
page form carries the same value in a hidden ``csrf_token`` field (templates read it as
``csrf_token``). A post whose body is form content (urlencoded, multipart, text/plain) must have
a valid cookie and the matching field, else 403. Another site can make a browser post a form,
but can neither read the value from our pages nor forge the cookie's signature (cookies are not
kept apart by port, so a page on another port of 127.0.0.1 could set one). JSON requests carry
no field: a browser cannot send them across origins without a CORS preflight, which this server
never grants, and the same-origin check refuses them anyway. Requests with an ``Authorization``
header are not browser forms (a form cannot set it) and skip the check.

The signing key is the instance's shared secret `CSRF_KEY_NAME` (made once, kept in storage),
so a form token stays good across a restart and across every webserver process of one
deployment; without a key given (tests), one is made for the middleware alone.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bakehouse.web.cookies import cookie_name, read_cookie, set_cookie_header
from bakehouse.web.refusal import refusal
from bakehouse.web.same_origin import SAFE_METHODS, is_form_content

FIELD = "csrf_token"
COOKIE = "bh_csrf"
CSRF_KEY_NAME = "csrf_signing_key"
"""The name of the form-token signing key among the instance's shared secrets."""


class CsrfMiddleware:
    """Gives each browser session a form token and checks it on every form post."""

    def __init__(self, app: ASGIApp, key: bytes | None = None) -> None:
        self.app = app
        self.key = key or secrets.token_bytes(32)

    def _signature(self, value: str) -> str:
        return hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()

    def session_value(self, cookie: str | None) -> str | None:
        """The session value a cookie carries, if this server signed it."""
        value, _, signature = (cookie or "").partition(".")
        if value and hmac.compare_digest(signature, self._signature(value)):
            return value
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = cookie_name(scope, COOKIE)
        value = self.session_value(read_cookie(scope, name))
        fresh = value is None
        if value is None:
            value = secrets.token_urlsafe(24)
        scope.setdefault("state", {})["csrf_token"] = value
        headers = Headers(scope=scope)
        if (
            scope["method"] not in SAFE_METHODS
            and is_form_content(headers)
            and "authorization" not in headers
        ):
            body = await _read_body(receive)
            if fresh or not hmac.compare_digest(_field(headers, body), value):
                detail = (
                    "this form's session token is missing or out of date: reload the page and "
                    "submit the form again"
                )
                await refusal(scope, 403, detail)(scope, receive, send)
                return
            receive = _replay(body, receive)

        async def send_with_cookie(message: Message) -> None:
            if fresh and message["type"] == "http.response.start":
                cookie = set_cookie_header(
                    scope, name, f"{value}.{self._signature(value)}", same_site="Lax"
                )
                MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _field(headers: Headers, body: bytes) -> str:
    """The form's ``csrf_token`` field; only urlencoded forms (ours) can carry one."""
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return ""
    values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(FIELD, [])
    return values[-1] if values else ""


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then waits as the server would."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
