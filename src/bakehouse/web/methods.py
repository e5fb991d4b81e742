"""Method answers the routes cannot give themselves: ``HEAD``, ``OPTIONS`` and 405 ``Allow``.

Starlette answers a method a path does not serve with 405 and the ``Allow`` header of the first
route whose path matched, although several routes (``GET /api/runs``, ``POST /api/runs``) may
share a path, and it routes ``OPTIONS`` like any other method. FastAPI's routes serve only the
methods they name, so ``HEAD`` of a ``GET`` route would be a 405. Here ``HEAD`` is served
wherever ``GET`` is (the ``GET`` answer's status and headers, no body, as HTTP says),
``OPTIONS`` gets 204 with every method the path serves, and a method it does not serve gets 405
listing them all. No CORS headers: other origins get nothing from this server.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bakehouse.web.refusal import refusal

# The methods a route here may serve; OPTIONS is answered for all of them.
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _best_match(routes: list[BaseRoute], scope: Scope) -> Match:
    best = Match.NONE
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return match
        best = max(best, match, key=lambda m: m.value)
    return best


def _in_mount(routes: list[BaseRoute], scope: Scope) -> bool:
    # A mount (the static files) matches every method; it serves GET and HEAD.
    return any(isinstance(r, Mount) and r.matches(scope)[0] == Match.FULL for r in routes)


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> set[str]:
    """The methods some route serves at the request's path (asked of the routes themselves,
    which also covers routers FastAPI includes lazily)."""
    if _in_mount(routes, scope):
        return {"GET", "HEAD"}
    served = {m for m in _METHODS if _best_match(routes, {**scope, "method": m}) == Match.FULL}
    return served | {"HEAD"} if "GET" in served else served


def _headers_only(send: Send) -> Send:
    """A `send` that passes the response's start and ends it there: an answer to ``HEAD``.

    The length header stays that of the ``GET`` answer. A streamed answer (server-sent events)
    ends after its headers; the server then tells the app the client is gone.
    """
    ended = False

    async def send_head(message: Message) -> None:
        nonlocal ended
        if message["type"] == "http.response.start":
            await send(message)
        elif message["type"] == "http.response.body" and not ended:
            ended = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return send_head


class MethodsMiddleware:
    """Answers ``OPTIONS`` (204) and unserved methods (405), each with the full ``Allow``."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        served = _best_match(self.routes, scope)
        if method == "HEAD" and served == Match.PARTIAL:
            as_get = {**scope, "method": "GET"}
            if _best_match(self.routes, as_get) == Match.FULL:
                await self.app(as_get, receive, _headers_only(send))
                return
        if served == Match.FULL and method not in ("GET", "HEAD") and _in_mount(self.routes, scope):
            served = Match.PARTIAL
        if method != "OPTIONS" and served != Match.PARTIAL:
            await self.app(scope, receive, send)  # served, or a 404 the routes answer
            return
        methods = allowed_methods(self.routes, scope)
        if not methods:
            await self.app(scope, receive, send)
            return
        allow = ", ".join(sorted({*methods, "OPTIONS"}))
        if method == "OPTIONS":
            await Response(status_code=204, headers={"Allow": allow})(scope, receive, send)
            return
        detail = f"{method} is not served at this path; it serves {allow}"
        await refusal(scope, 405, detail, {"Allow": allow})(scope, receive, send)
