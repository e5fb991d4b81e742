"""DNS rebinding: the server answers only to the names it serves under (issue 13, item 2)."""

from __future__ import annotations

import httpx
import pytest

from tests.security.conftest import AuthServer
from tests.support.dev_server import DevServer

pytestmark = pytest.mark.slow


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/locations"), ("GET", "/api/runs"), ("GET", "/lineage"), ("POST", "/api/runs")],
)
def test_a_foreign_host_gets_400_everywhere(open_server: DevServer, method: str, path: str) -> None:
    answer = httpx.request(
        method,
        open_server.url + path,
        headers={"Host": "rebind.attacker.example"},
        json={"selection": "*"} if method == "POST" else None,
        timeout=30,
    )
    assert answer.status_code == 400
    assert "rebind.attacker.example" in answer.json()["detail"]
    assert "--allowed-host" in answer.json()["detail"]
    assert httpx.get(open_server.url + "/api/runs", timeout=30).json() == []


@pytest.mark.parametrize(
    "host",
    [
        "rebind.attacker.example:{port}",
        "localhost.attacker.example:{port}",
        "127.0.0.1.nip.io:{port}",
        "127.0.0.1:1",  # the loopback names count on this server's own port only
        "localhost",
        "",
        "a" * 5000,
    ],
)
def test_foreign_names_and_ports_are_refused(open_server: DevServer, host: str) -> None:
    header = host.format(port=_port(open_server.url))
    answer = httpx.get(open_server.url + "/api/locations", headers={"Host": header}, timeout=30)
    assert answer.status_code == 400
    assert len(answer.text) < 500  # the refusal does not echo a long header back


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]"])
def test_the_loopback_names_work_on_the_servers_port(open_server: DevServer, name: str) -> None:
    host = f"{name}:{_port(open_server.url)}"
    answer = httpx.get(open_server.url + "/api/locations", headers={"Host": host}, timeout=30)
    assert answer.status_code == 200
    page = httpx.get(open_server.url + "/lineage", headers={"Host": host}, timeout=30)
    assert page.status_code == 200


def test_allowed_host_adds_a_name_on_any_port(auth_server: AuthServer) -> None:
    headers = auth_server.bearer("admin")
    port = _port(auth_server.url)
    for host in (f"bakehouse.test:{port}", "bakehouse.test", "BakeHouse.Test:8443"):
        answer = httpx.get(
            auth_server.url + "/api/locations", headers={**headers, "Host": host}, timeout=30
        )
        assert answer.status_code == 200, host
    for host in (f"evil.test:{port}", f"bakehouse.test.evil:{port}"):
        answer = httpx.get(
            auth_server.url + "/api/locations", headers={**headers, "Host": host}, timeout=30
        )
        assert answer.status_code == 400, host
