"""`bh dev` (watching files) follows its workspace file: a project added there loads, a removed
one stops and goes, with no Reload all. A real `bh dev` process and real code servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dev_server import start_dev_server, stop_dev_server
from tests.support.processes import alive
from tests.support.projects import write_project, write_workspace
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


def _asset(name: str) -> dict[str, str]:
    return {
        f"defs/{name}.py": f"import bakehouse as dg\n\n\n@dg.asset\ndef {name}():\n    return 1\n"
    }


def test_bh_dev_adds_and_removes_locations_when_the_workspace_file_changes(
    tmp_path: Path,
) -> None:
    write_project(tmp_path / "a", "ws_a", _asset("one"))
    write_project(tmp_path / "b", "ws_b", _asset("two"))
    write_project(tmp_path / "c", "ws_c", _asset("three"))
    write_workspace(tmp_path, ["a", "b"])
    server = start_dev_server(tmp_path, watch=True)
    try:
        before = {s["name"]: s for s in server.wait_loaded({"ws_a", "ws_b"})}
        old_b = before["ws_b"]["pid"]
        write_workspace(tmp_path, ["a", "c"])  # c added, b removed
        with server.http() as http:

            def followed() -> dict[str, dict[str, object]] | None:
                states = {s["name"]: s for s in http.get("/api/locations").json()}
                ok = set(states) == {"ws_a", "ws_c"} and states["ws_c"]["status"] == "LOADED"
                return states if ok else None

            states = eventually(followed, timeout=90, message="ws_c to load and ws_b to go")
            # The location that stayed was not reloaded for it.
            assert states["ws_a"]["pid"] == before["ws_a"]["pid"]
            assert "three" in http.get("/api/graph").text
        eventually(lambda: not alive(old_b), timeout=30, message="ws_b's code server to exit")
    finally:
        stop_dev_server(server)
