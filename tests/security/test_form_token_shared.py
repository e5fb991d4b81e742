"""The form token's signing key is kept in storage: a token one ``bh dev`` process issued is
accepted by another process on the same storage (a restart, or a second webserver behind one
proxy), and a cookie signed with any other key is still refused."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.security.conftest import write_bakery
from tests.support.dev_server import running_dev_server
from tests.support.forms import form_token

pytestmark = pytest.mark.slow


def _port(url: str) -> str:
    return url.rsplit(":", 1)[1]


def test_a_form_token_from_one_server_process_is_good_in_another(tmp_path: Path) -> None:
    root = write_bakery(tmp_path / "bakery")
    with running_dev_server(root, loaded=set()) as first, first.http() as http:
        token = form_token(http)
        cookie = http.cookies[f"bh_csrf_{_port(first.url)}"]
        first_pid = first.process.pid
    with running_dev_server(root, loaded=set()) as second:
        assert second.process.pid != first_pid
        name = f"bh_csrf_{_port(second.url)}"

        def post(cookie_value: str) -> httpx.Response:
            # As a browser sends it to the second process (one site: the cookie travels along).
            with httpx.Client(base_url=second.url, timeout=60) as client:
                client.cookies.set(name, cookie_value)
                return client.post(
                    "/locations/reload",
                    data={"csrf_token": token},
                    headers={"Origin": second.url},
                )

        accepted = post(cookie)
        assert accepted.status_code == 303, accepted.text
        value, _, _ = cookie.partition(".")
        forged = post(f"{value}.{'0' * 64}")
        assert forged.status_code == 403
        assert "reload the page" in forged.json()["detail"]
