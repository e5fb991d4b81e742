"""The cookies this server sets: their names and attributes in one place.

Browsers do not keep cookies apart by port, so two servers on 127.0.0.1 would overwrite each
other's cookies; each name therefore carries the port the server listens on.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import Scope


def cookie_name(scope: Scope, base: str) -> str:
    """`base` suffixed with this server's port (``bh_session_3000``)."""
    server = scope.get("server")
    return f"{base}_{server[1]}" if server else base


def read_cookie(scope: Scope, name: str) -> str | None:
    """The request's cookie `name`, if it sent one."""
    return cookie_parser(Headers(scope=scope).get("cookie", "")).get(name)


def set_cookie_header(
    scope: Scope, name: str, value: str, *, same_site: str, max_age: int | None = None
) -> str:
    """A ``Set-Cookie`` value for `name`: the whole site path, never readable by scripts, and
    sent only over TLS when the request came over TLS."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", f"SameSite={same_site}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if scope.get("scheme") == "https":
        parts.append("Secure")
    return "; ".join(parts)
