"""Token expiry and last use (``bh token create NAME --expires 30d``, ``bh token list``) on a
``bh dev --auth``: an expired token is refused with 401 saying so, on the API and at the login
page; a used token shows when it was last used."""

from __future__ import annotations

import re
import sqlite3
import time

import httpx
import pytest

from tests.security.conftest import AuthServer, bh
from tests.support.forms import form_token
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


def _line(server: AuthServer, name: str) -> str:
    listed = bh(server.root, "token", "list").stdout
    (line,) = [x for x in listed.splitlines() if x.split()[:1] == [name]]
    return line


def test_a_token_with_an_expiry_works_until_then_and_shows_its_last_use(
    auth_server: AuthServer,
) -> None:
    made = bh(auth_server.root, "token", "create", "monthly", "--expires", "30d")
    assert "valid until" in made.stderr
    token = made.stdout.strip()
    line = _line(auth_server, "monthly")
    assert re.search(r"\sexpires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+last used never$", line), line
    answer = httpx.get(
        auth_server.url + "/api/runs", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert answer.status_code == 200
    eventually(
        lambda: "last used never" not in _line(auth_server, "monthly"),
        timeout=30,
        message="bh token list to show the token's last use",
    )
    assert re.search(r"\slast used \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", _line(auth_server, "monthly"))
    assert "never expires" in _line(auth_server, "admin")


def test_an_expired_token_is_refused_with_401_saying_so(auth_server: AuthServer) -> None:
    token = bh(auth_server.root, "token", "create", "shortlived", "--expires", "1h").stdout.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(auth_server.url + "/api/runs", headers=bearer, timeout=30).status_code == 200
    # An hour from now, as far as the token knows: its expiry is moved into the past.
    db = sqlite3.connect(auth_server.root / ".bakehouse" / "bakehouse.db", isolation_level=None)
    db.execute("UPDATE api_tokens SET expires_at = ? WHERE name = 'shortlived'", (time.time() - 5,))
    db.close()
    refused = httpx.get(auth_server.url + "/api/runs", headers=bearer, timeout=30)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    detail = refused.json()["detail"]
    assert re.fullmatch(
        r"token 'shortlived' expired at \d{4}-\d\d-\d\d \d\d:\d\d UTC: make a new one with "
        r"bh token create NAME \[--expires 30d\]",
        detail,
    ), detail
    assert re.search(r"\sexpired \d{4}-", _line(auth_server, "shortlived"))
    with httpx.Client(base_url=auth_server.url, timeout=30) as http:
        login = http.post(
            "/login",
            data={"token": token, "next": "/", "csrf_token": form_token(http, "/login")},
            headers={"Origin": auth_server.url},
        )
    assert login.status_code == 401
    assert "expired at" in login.text
    assert not [c for c in login.cookies if c.startswith("bh_session_")]


@pytest.mark.parametrize("bad", ["30", "0d", "thirty days", "5y"])
def test_bh_token_create_refuses_a_bad_duration(auth_server: AuthServer, bad: str) -> None:
    done = bh(auth_server.root, "token", "create", f"bad-{len(bad)}", "--expires", bad, check=False)
    assert done.returncode == 2
    assert "is not a duration like 90m, 12h, 30d or 2w" in done.stderr
    listed = bh(auth_server.root, "token", "list").stdout.splitlines()
    assert not [x for x in listed if x.split()[:1] == [f"bad-{len(bad)}"]]
