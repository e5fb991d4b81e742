"""Authentication: with it on, every request needs one of the deployment's tokens.

The API takes ``Authorization: Bearer TOKEN``; the UI takes the same token once on its login page,
which keeps it in an HttpOnly, SameSite=Strict cookie (``bh_session_PORT``). Tokens are looked up
in instance storage on every request (one indexed query), so a token made or revoked with
``bh token`` counts at once. A read-only token may use the safe methods only: anything that
would launch, reload, start or stop is 403.

Without a token: the API answers 401 with ``WWW-Authenticate: Bearer``, pages redirect to the
login page. The login page itself and the static files need none.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from bakehouse.errors import StorageError
from bakehouse.storage.records import ApiTokenRecord
from bakehouse.web.cookies import cookie_name, read_cookie
from bakehouse.web.refusal import refusal
from bakehouse.web.same_origin import SAFE_METHODS

if TYPE_CHECKING:
    from bakehouse.storage import Instance

SESSION_COOKIE = "bh_session"
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
# Reachable without a token: the login page needs its stylesheet and icon.
_OPEN_PATHS = (LOGIN_PATH, LOGOUT_PATH)
_OPEN_PREFIXES = ("/static/",)


def expired_message(record: ApiTokenRecord, now: float) -> str | None:
    """Why token `record` is refused for having expired, or None while it is valid."""
    if not record.expired(now) or record.expires_at is None:
        return None
    when = dt.datetime.fromtimestamp(record.expires_at, dt.timezone.utc)
    return (
        f"token '{record.name}' expired at {when:%Y-%m-%d %H:%M} UTC: make a new one with "
        "bh token create NAME [--expires 30d]"
    )


def presented_token(scope: Scope) -> str | None:
    """The token a request carries: a Bearer Authorization header, else the session cookie."""
    scheme, _, credentials = Headers(scope=scope).get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return read_cookie(scope, cookie_name(scope, SESSION_COOKIE)) or None


class AuthMiddleware:
    """Lets through requests with a valid token (read-only ones only to read); refuses the rest."""

    def __init__(self, app: ASGIApp, instance: Instance) -> None:
        self.app = app
        self.instance = instance

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path in _OPEN_PATHS or path.startswith(_OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        token = presented_token(scope)
        record: ApiTokenRecord | None = None
        if token:
            try:
                record = await run_in_threadpool(self.instance.find_api_token, token)
            except StorageError as exc:
                await refusal(scope, 503, f"cannot check the token: {exc}")(scope, receive, send)
                return
        now = time.time()
        expired = expired_message(record, now) if record is not None else None
        if record is None or expired is not None:
            await self._unauthenticated(
                scope, receive, send, presented=token is not None, detail=expired
            )
            return
        if record.read_only and scope["method"] not in SAFE_METHODS:
            detail = (
                f"token '{record.name}' is read-only: it can see everything but launch, reload, "
                "start or stop nothing"
            )
            await refusal(scope, 403, detail)(scope, receive, send)
            return
        scope.setdefault("state", {})["token_name"] = record.name
        # When it was last used is worth less than answering the request.
        with contextlib.suppress(StorageError):
            await run_in_threadpool(self.instance.mark_api_token_used, record, now)
        await self.app(scope, receive, send)

    async def _unauthenticated(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        presented: bool,
        detail: str | None = None,
    ) -> None:
        path: str = scope.get("path", "")
        page = not path.startswith("/api/") and scope["method"] in ("GET", "HEAD")
        if page and "text/html" in Headers(scope=scope).get("accept", ""):
            query = scope.get("query_string", b"").decode("latin-1")
            back = path + (f"?{query}" if query else "")
            target = f"{LOGIN_PATH}?next={quote(back, safe='')}"
            await RedirectResponse(target, status_code=303)(scope, receive, send)
            return
        detail = detail or (
            "this token is not valid (unknown or revoked)"
            if presented
            else "authentication required: send 'Authorization: Bearer TOKEN' "
            "(make one with bh token create NAME)"
        )
        headers = {"WWW-Authenticate": 'Bearer realm="bakehouse"'}
        await refusal(scope, 401, detail, headers)(scope, receive, send)
