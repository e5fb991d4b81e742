"""Tokens (issue 13, item 3) on a ``bh dev --auth``: missing, wrong, revoked and read-only tokens
on the API and in the UI; tokens made or revoked by the CLI count at once."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.security.conftest import LOCATION, AuthServer, bh
from tests.web.conftest import playwright_expect

pytestmark = pytest.mark.slow

CHANGES = [
    ("/api/runs", {"selection": "*"}),
    ("/api/reload", None),
    (f"/api/locations/{LOCATION}/reload", None),
    (f"/api/schedules/{LOCATION}/nightly/start", None),
    ("/api/backfills", {"selection": "daily_sales"}),
]


def _runs(server: AuthServer) -> list[dict[str, Any]]:
    answer = httpx.get(server.url + "/api/runs", headers=server.bearer("admin"), timeout=30)
    answer.raise_for_status()
    runs: list[dict[str, Any]] = answer.json()
    return runs


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/runs"), ("GET", "/api/assets"), ("POST", "/api/runs")]
)
@pytest.mark.parametrize("token", [None, "bh_", "bh_wrong", "Basic abc"])
def test_the_api_refuses_missing_and_wrong_tokens(
    auth_server: AuthServer, method: str, path: str, token: str | None
) -> None:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    if token == "Basic abc":
        headers = {"Authorization": token}
    body = {"selection": "*"} if method == "POST" else None
    answer = httpx.request(method, auth_server.url + path, headers=headers, json=body, timeout=30)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert "token" in answer.json()["detail"]


def test_a_full_token_launches_and_a_read_only_one_only_reads(auth_server: AuthServer) -> None:
    viewer = auth_server.bearer("viewer")
    for path in ("/api/runs", "/api/assets", "/api/locations", "/api/automation", "/lineage"):
        answer = httpx.get(auth_server.url + path, headers=viewer, timeout=30)
        assert answer.status_code == 200, path
    runs_before = _runs(auth_server)
    for path, body in CHANGES:
        answer = httpx.post(auth_server.url + path, headers=viewer, json=body, timeout=60)
        assert answer.status_code == 403, path
        assert "read-only" in answer.json()["detail"]
    assert _runs(auth_server) == runs_before
    automation = httpx.get(auth_server.url + "/api/automation", headers=viewer, timeout=30)
    assert {i["name"]: i["status"] for i in automation.json()}["nightly"] == "STOPPED"

    launched = httpx.post(
        auth_server.url + "/api/runs",
        headers=auth_server.bearer("admin"),
        json={"selection": "flour"},
        timeout=60,
    )
    assert launched.status_code == 201
    assert launched.json()["run_id"] in {r["run_id"] for r in _runs(auth_server)}


def test_tokens_made_and_revoked_by_the_cli_count_at_once(auth_server: AuthServer) -> None:
    gone = auth_server.bearer("gone")
    assert httpx.get(auth_server.url + "/api/runs", headers=gone, timeout=30).status_code == 200
    bh(auth_server.root, "token", "revoke", "gone")
    refused = httpx.get(auth_server.url + "/api/runs", headers=gone, timeout=30)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]

    late = bh(auth_server.root, "token", "create", "late", "--read-only").stdout.strip()
    bearer = {"Authorization": f"Bearer {late}"}
    assert httpx.get(auth_server.url + "/api/runs", headers=bearer, timeout=30).status_code == 200
    listed = bh(auth_server.root, "token", "list").stdout
    assert re.search(r"^late\s+read-only", listed, re.MULTILINE)
    assert re.search(r"^admin\s+full", listed, re.MULTILINE)
    assert "gone" not in listed
    assert late not in listed


def test_cli_commands_reach_the_running_deployment_with_bakehouse_token(
    auth_server: AuthServer,
) -> None:
    refused = bh(auth_server.root, "locations", "list", check=False)
    assert refused.returncode != 0
    assert "401" in refused.stderr
    assert "bh token create" in refused.stderr
    listed = bh(auth_server.root, "locations", "list", token=auth_server.tokens["viewer"])
    assert "sec_bakery" in listed.stdout
    reading_only = bh(
        auth_server.root, "locations", "reload", "sec_bakery", check=False,
        token=auth_server.tokens["viewer"],
    )  # fmt: skip
    assert reading_only.returncode != 0
    assert "read-only" in reading_only.stderr
    bh(auth_server.root, "locations", "reload", "sec_bakery", token=auth_server.tokens["admin"])


def test_pages_send_you_to_log_in_and_static_files_need_no_token(auth_server: AuthServer) -> None:
    page = httpx.get(auth_server.url + "/runs?limit=5", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fruns%3Flimit%3D5"
    assert httpx.get(auth_server.url + "/static/app.css", timeout=30).status_code == 200
    assert httpx.get(auth_server.url + "/login", timeout=30).status_code == 200


def test_the_ui_logs_in_with_a_token_and_read_only_cannot_launch(
    browser: Any, auth_server: AuthServer
) -> None:
    expect = playwright_expect()
    context = browser.new_context(base_url=auth_server.url)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        tab.goto("/lineage")
        expect(tab).to_have_url(re.compile(r"/login\?next=%2Flineage$"))

        tab.get_by_label("API token").fill("bh_wrong")
        with tab.expect_response(lambda r: r.url.endswith("/login")) as wrong:
            tab.get_by_role("button", name="Log in").click()
        assert wrong.value.status == 401
        expect(tab.get_by_role("alert")).to_contain_text("not valid")

        tab.get_by_label("API token").fill(auth_server.tokens["viewer"])
        tab.get_by_role("button", name="Log in").click()
        expect(tab).to_have_url(re.compile(r"/lineage$"))
        session = [c for c in context.cookies() if c["name"].startswith("bh_session_")]
        assert len(session) == 1
        assert session[0]["httpOnly"]
        assert session[0]["sameSite"] == "Strict"
        assert session[0]["value"] == auth_server.tokens["viewer"]

        runs_before = _runs(auth_server)
        tab.goto("/assets/flour")
        tab.get_by_role("button", name="Materialize", exact=True).click()
        expect(tab.locator(".toast")).to_contain_text("read-only")
        assert _runs(auth_server) == runs_before

        tab.get_by_role("button", name="Log out").click()
        expect(tab).to_have_url(re.compile(r"/login$"))
        tab.goto("/runs")
        expect(tab).to_have_url(re.compile(r"/login\?next=%2Fruns$"))

        tab.get_by_label("API token").fill(auth_server.tokens["ui-admin"])
        tab.get_by_role("button", name="Log in").click()
        expect(tab).to_have_url(re.compile(r"/runs$"))
        tab.goto("/assets/flour")
        tab.get_by_role("button", name="Materialize", exact=True).click()
        expect(tab).to_have_url(re.compile(r"/runs/[^/]+$"))
        assert len(_runs(auth_server)) == len(runs_before) + 1

        # Revoked while logged in: the next page asks for a token again.
        bh(auth_server.root, "token", "revoke", "ui-admin")
        tab.goto("/runs")
        expect(tab).to_have_url(re.compile(r"/login\?next=%2Fruns$"))
    finally:
        context.close()
    assert not errors, errors


def test_the_reload_history_names_the_token_that_asked(auth_server: AuthServer) -> None:
    admin = auth_server.bearer("admin")
    one = httpx.post(
        f"{auth_server.url}/api/locations/{LOCATION}/reload", headers=admin, timeout=120
    )
    assert one.status_code == 200
    assert (one.json()["last_reload"]["trigger"], one.json()["last_reload"]["actor"]) == (
        "api",
        "admin",
    )
    every = httpx.post(f"{auth_server.url}/api/reload", headers=admin, timeout=120)
    assert every.status_code == 200
    history = httpx.get(
        f"{auth_server.url}/api/locations/{LOCATION}/reloads",
        headers=auth_server.bearer("viewer"),  # reading the history needs no right to change
        timeout=30,
    ).json()
    assert [(r["trigger"], r["actor"]) for r in history[:2]] == [
        ("reload_all", "admin"),
        ("api", "admin"),
    ]
    assert history[-1]["trigger"] == "startup"
    assert history[-1]["actor"] is None
