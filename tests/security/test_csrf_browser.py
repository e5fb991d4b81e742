"""CSRF in a real browser (issue 13, item 1): a page on another loopback port submits every
state-changing form of the server and calls its API with fetch, from a browser that has used
the server (its cookies are there); every attempt gets 403 and nothing changes. The same forms
from the server's own page still work."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.security.conftest import LOCATION
from tests.support.dev_server import DevServer
from tests.web.conftest import playwright_expect

pytestmark = pytest.mark.slow

# (name, path on the server, enctype, fields): each is a plain HTML form another site can post.
FORMS: list[tuple[str, str, str, dict[str, str]]] = [
    # The attack of the issue: text/plain, auto-submitted, launched a run.
    ("materialize-text", "/materialize?selection=*", "text/plain", {"x": "1"}),
    ("materialize-guess", "/materialize?asset_key=flour", "", {"csrf_token": "guessed"}),
    ("reload-all", "/locations/reload", "", {}),
    ("reload-one", f"/locations/{LOCATION}/reload", "multipart/form-data", {"a": "b"}),
    ("schedule-start", f"/automation/schedules/{LOCATION}/nightly/start", "", {}),
    (
        "backfill",
        "/backfills/new",
        "",
        {"selection": 'key:"daily_sales"', "mode": "keys", "keys": "2024-01-02"},
    ),
    ("reexecute", "/runs/{run_id}/reexecute", "", {}),
    ("cancel-backfill", "/backfills/abcdefgh/cancel", "", {}),
    # JSON bodies smuggled in a text/plain form ({"selection":"*","x":"="}).
    ("api-run", "/api/runs", "text/plain", {'{"selection":"*","x":"': '"}'}),
    ("api-backfill", "/api/backfills", "text/plain", {'{"selection":"daily_sales","x":"': '"}'}),
    ("api-reload", "/api/reload", "", {}),
    ("api-schedule", f"/api/schedules/{LOCATION}/nightly/start", "", {}),
]

FETCHES = """
async (base) => {
  const results = {};
  const attempts = {
    run_no_cors: [base + "/api/runs", {method: "POST", mode: "no-cors", credentials: "include",
      headers: {"content-type": "text/plain"}, body: JSON.stringify({selection: "*"})}],
    run_json: [base + "/api/runs", {method: "POST", credentials: "include",
      headers: {"content-type": "application/json"}, body: JSON.stringify({selection: "*"})}],
    reload: [base + "/api/reload", {method: "POST", mode: "no-cors", credentials: "include"}],
    schedule: [base + "/api/schedules/LOCATION/nightly/start",
      {method: "POST", mode: "no-cors", credentials: "include"}],
    backfill: [base + "/api/backfills", {method: "POST", mode: "no-cors", credentials: "include",
      headers: {"content-type": "text/plain"}, body: JSON.stringify({selection: "daily_sales"})}],
    materialize: [base + "/materialize?selection=*", {method: "POST", mode: "no-cors",
      credentials: "include", headers: {"content-type": "application/x-www-form-urlencoded"},
      body: "csrf_token=guessed"}],
  };
  for (const [name, [url, init]] of Object.entries(attempts)) {
    try {
      const response = await fetch(url, init);
      results[name] = response.type === "opaque" ? "opaque" : response.status;
    } catch (err) {
      results[name] = "blocked";
    }
  }
  return results;
}
""".replace("LOCATION", LOCATION)


def _form_page(action: str, enctype: str, fields: dict[str, str]) -> str:
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
    )
    kind = f' enctype="{enctype}"' if enctype else ""
    return (
        f'<!doctype html><form id="f" method="post" action="{html.escape(action)}"{kind}>'
        f"{inputs}</form><script>document.getElementById('f').submit()</script>"
    )


class Attacker:
    """A web server on another loopback port serving the attacking pages."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {"/": "<!doctype html><title>cats</title><p>cute cats</p>"}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    site = Attacker()
    try:
        yield site
    finally:
        site.close()


def _state(url: str) -> dict[str, Any]:
    """Everything the attacks try to change."""
    locations = httpx.get(url + "/api/locations", timeout=30).json()
    automation = httpx.get(url + "/api/automation", timeout=30).json()
    return {
        "runs": sorted(r["run_id"] for r in httpx.get(url + "/api/runs", timeout=30).json()),
        "backfills": httpx.get(url + "/api/backfills", timeout=30).json(),
        "locations": [(loc["name"], loc["pid"], loc["updated_at"]) for loc in locations],
        "schedules": {item["name"]: item["status"] for item in automation},
    }


def _wait_finished(url: str, run_id: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/api/runs/{run_id}", timeout=30).json()["status"] == "SUCCESS":
            return
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not succeed")


def test_no_form_or_fetch_from_another_origin_changes_anything(
    browser: Any, open_server: DevServer, attacker: Attacker
) -> None:
    url = open_server.url
    # A run to re-execute (launched by a client that is not a browser: JSON, no Origin).
    run_id = httpx.post(url + "/api/runs", json={"selection": "flour"}, timeout=60).json()["run_id"]
    _wait_finished(url, run_id)
    for name, path, enctype, fields in FORMS:
        attacker.pages[f"/{name}"] = _form_page(url + path.format(run_id=run_id), enctype, fields)
    before = _state(url)
    assert before["schedules"]["nightly"] == "STOPPED"

    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    try:
        # The victim has used the server: its form-token cookie is in the browser, and is sent
        # to every port of 127.0.0.1.
        tab.goto(url + "/locations")
        assert any(c["name"].startswith("bh_csrf_") for c in context.cookies())

        answers: dict[str, int] = {}
        for name, path, _, _ in FORMS:
            target = url + path.format(run_id=run_id).split("?")[0]
            with tab.expect_response(lambda r, t=target: r.url.split("?")[0] == t) as response:
                tab.goto(f"{attacker.url}/{name}")
            answers[name] = response.value.status
        assert answers == {name: 403 for name, *_ in FORMS}

        seen: list[tuple[str, str, int]] = []
        tab.on("response", lambda r: seen.append((r.request.method, r.url, r.status)))
        tab.goto(attacker.url + "/")
        results = tab.evaluate(FETCHES, url)
        # no-cors requests are sent and refused; the JSON one dies at its CORS preflight.
        assert results["run_json"] == "blocked"
        assert {k: v for k, v in results.items() if k != "run_json"} == dict.fromkeys(
            ("run_no_cors", "reload", "schedule", "backfill", "materialize"), "opaque"
        )
        posts = [(u, status) for method, u, status in seen if method == "POST"]
        assert len(posts) == 5
        assert all(status == 403 for _, status in posts), posts
        assert not any(method == "POST" and "/api/runs" in u and s != 403 for method, u, s in seen)

        assert _state(url) == before

        # The same form from the server's own page (no scripts: a plain form post) works.
        plain = browser.new_context(java_script_enabled=False)
        try:
            own = plain.new_page()
            own.goto(url + "/assets/flour")
            own.get_by_role("button", name="Materialize", exact=True).click()
            playwright_expect()(own).to_have_url(re.compile(r"/runs/[^/]+$"))
        finally:
            plain.close()
        assert len(_state(url)["runs"]) == len(before["runs"]) + 1
    finally:
        context.close()
