"""The same-origin check: a request that may change something (any method but GET, HEAD and
OPTIONS) must come from a page of this server, or from a client that is not a browser.

Browsers say where a request comes from in ``Origin`` (and in ``Referer`` when they leave
``Origin`` out); a page on another origin, even another port of 127.0.0.1, cannot hide it. So:
- ``Origin`` (else ``Referer``) present: it must name this server (its Host header, which the
  trusted-host check has already vetted), else 403. ``Origin: null`` (sandboxed frames, files)
  is refused too.
- neither present: a body a plain HTML form can send (urlencoded, multipart, text/plain) is
  refused, since that is what an old or odd browser posting across sites would look like; other
  requests (``curl``, the ``bh`` CLI, JSON clients) go on, and still need a token when
  authentication is on.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from bakehouse.web.access import origin_netloc, split_host
from bakehouse.web.refusal import refusal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The content types an HTML form can post without scripts (and without a CORS preflight).
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def is_form_content(headers: Headers) -> bool:
    """True if the request's body is of a type a plain HTML form sends."""
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return content_type in FORM_CONTENT_TYPES


def _same_server(source: str, host: str) -> bool:
    named = origin_netloc(source)
    own = split_host(host)
    if named is None or own is None:
        return False
    name, port = own
    # A Host without a port is the scheme's default; behind a TLS proxy the page's origin is
    # https while this server speaks http, so the name and the written port decide.
    if port is None:
        return named[0] == name and named[1] in (80, 443)
    return named == (name, port)


class SameOriginMiddleware:
    """Refuses with 403 the unsafe requests that come from another origin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        source = headers.get("origin") or headers.get("referer")
        if source is None:
            if not is_form_content(headers):
                await self.app(scope, receive, send)
                return
            detail = "a form post without Origin or Referer is refused (see docs/security.md)"
        elif _same_server(source, headers.get("host", "")):
            await self.app(scope, receive, send)
            return
        else:
            detail = (
                f"a {scope['method']} from another origin is refused: this server only accepts "
                "changes from its own pages (see docs/security.md)"
            )
        await refusal(scope, 403, detail)(scope, receive, send)
