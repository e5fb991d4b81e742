"""The login page: trade a token for a session cookie, and log out again.

With authentication off (the default on loopback) both pages just lead to the front page.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bakehouse.host.deployment import Deployment
from bakehouse.web.auth import LOGIN_PATH, LOGOUT_PATH, SESSION_COOKIE, expired_message
from bakehouse.web.cookies import cookie_name, set_cookie_header
from bakehouse.web.deps import deployment
from bakehouse.web.templating import render

router = APIRouter(include_in_schema=False)

# A session cookie lasts a week; the token behind it can be revoked at any time.
_SESSION_SECONDS = 7 * 24 * 3600


def _auth_on(request: Request) -> bool:
    return bool(request.app.state.access.auth)


def _local(target: str) -> str:
    """`target` if it is a path on this server, else the front page (no open redirects)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get(LOGIN_PATH, response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    """The login form."""
    if not _auth_on(request):
        return RedirectResponse("/", status_code=303)
    return render(request, "login.html", next=_local(next), error=None)


@router.post(LOGIN_PATH)
async def login(request: Request, dep: Deployment = Depends(deployment)) -> Response:
    """Check the token; keep it in the session cookie and go on to where the user was going."""
    if not _auth_on(request):
        return RedirectResponse("/", status_code=303)
    fields = parse_qs((await request.body()).decode(), keep_blank_values=True)
    token = fields.get("token", [""])[-1].strip()
    target = _local(fields.get("next", ["/"])[-1])
    record = await run_in_threadpool(dep.instance.find_api_token, token) if token else None
    expired = expired_message(record, time.time()) if record is not None else None
    if record is None or expired is not None:
        error = expired or "That token is not valid: it is mistyped, or it was revoked."
        return render(request, "login.html", status_code=401, next=target, error=error)
    response = RedirectResponse(target, status_code=303)
    name = cookie_name(request.scope, SESSION_COOKIE)
    cookie = set_cookie_header(
        request.scope, name, token, same_site="Strict", max_age=_SESSION_SECONDS
    )
    response.headers.append("set-cookie", cookie)
    return response


@router.post(LOGOUT_PATH)
def logout(request: Request) -> Response:
    """Forget the session cookie."""
    response = RedirectResponse(LOGIN_PATH if _auth_on(request) else "/", status_code=303)
    name = cookie_name(request.scope, SESSION_COOKIE)
    response.headers.append(
        "set-cookie", set_cookie_header(request.scope, name, "", same_site="Strict", max_age=0)
    )
    return response
