"""The answer a middleware gives when it refuses a request before any route sees it: JSON
``{"detail": ...}`` for the API and for clients that do not ask for HTML, else a short page."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Scope

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{status} · bakehouse</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><main class="page"><h1>{status}</h1><p>{detail}</p>
<p><a href="/">Back to bakehouse</a></p></main></body></html>
"""


def refusal(
    scope: Scope, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A `status` response saying `detail`, in the form the client reads."""
    path: str = scope.get("path", "")
    wants_html = "text/html" in Headers(scope=scope).get("accept", "")
    if path.startswith("/api/") or not wants_html:
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    page = _PAGE.format(status=status, detail=escape(detail))
    return HTMLResponse(page, status_code=status, headers=headers)
