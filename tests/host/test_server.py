"""The code server protocol, spoken to a real code server process."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest

from bakehouse.errors import ProtocolError
from bakehouse.host.client import target_for_project
from bakehouse.host.process import CodeServerProcess, CodeServerStartError
from bakehouse.project.settings import read_project
from bakehouse.protocol.snapshot import PROTOCOL_VERSION, LoadFailure, LocationSnap
from tests.support.projects import write_project
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

ASSETS = {
    "defs/things.py": """\
        import bakehouse as dg

        print("user code may print on import")


        @dg.asset(group_name="g", kinds={"python"}, metadata={"owner_note": "hi"})
        def thing():
            \"\"\"A thing.\"\"\"
            return 1


        @dg.asset(deps=[thing, "elsewhere/table"])
        def other():
            return 2
        """
}


def _server(root: Path, **kw: float) -> CodeServerProcess:
    return CodeServerProcess(target_for_project(read_project(root / "pyproject.toml")), **kw)


def test_ping_snapshot_and_shutdown(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", "proto_things", ASSETS)
    server = _server(root)
    try:
        snap = server.start(timeout=60)
        assert isinstance(snap, LocationSnap)
        by_key = {a.key: a for a in snap.assets}
        assert by_key["thing"].group == "g"
        assert by_key["thing"].kinds == ("python",)
        assert by_key["thing"].description == "A thing."
        assert by_key["thing"].metadata == {"owner_note": {"type": "text", "value": "hi"}}
        assert by_key["thing"].source_file is not None
        assert by_key["thing"].source_file.endswith("defs/things.py")
        assert by_key["thing"].source_line == 6
        assert by_key["other"].deps == ("thing", "elsewhere/table")
        assert by_key["elsewhere/table"].is_undefined
        assert snap.python_version
        assert "bakehouse" in snap.packages
        ping = server.ping()
        assert ping["protocol"] == PROTOCOL_VERSION
        assert ping["status"] == "LOADED"
        assert ping["pid"] == server.pid
        assert "user code may print on import" in server.stderr_tail()
        conn = http.client.HTTPConnection(server.host, server.port or 0, timeout=5)
        conn.request("GET", "/nope")
        response = conn.getresponse()
        assert response.status == 404
        assert "unknown path" in json.loads(response.read())["error"]
        conn.close()
    finally:
        server.stop()
    assert not server.alive()
    with pytest.raises(ProtocolError):
        server.ping(timeout=1)


def test_a_failed_import_still_serves_the_error_as_data(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "p",
        "proto_broken",
        {"defs/bad.py": "import bakehouse\n\n1 / 0\n"},
        defs_errors="fail",
    )
    server = _server(root)
    try:
        snap = server.start(timeout=60)
        assert isinstance(snap, LoadFailure)
        assert server.ping()["status"] == "FAILED"
        rendered = snap.error.render()
        assert "ZeroDivisionError" in rendered
        assert f"{root}/src/proto_broken/defs/bad.py:3" in snap.error.message
    finally:
        server.stop()


def test_a_server_that_cannot_start_reports_its_stderr(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", "proto_nopython", {})
    target = target_for_project(read_project(root / "pyproject.toml"))
    object.__setattr__(target, "python", str(tmp_path / "missing-python"))
    with pytest.raises(CodeServerStartError, match="cannot start"):
        CodeServerProcess(target).start(timeout=10)


def test_the_server_stops_by_itself_when_the_host_goes_quiet(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", "proto_quiet", ASSETS)
    server = _server(root, heartbeat_timeout=1.0)
    try:
        server.start(timeout=60)
        eventually(lambda: not server.alive(), timeout=30, message="the server to stop itself")
        server.wait_stderr()
        assert "the host stopped calling" in server.stderr_tail()
    finally:
        server.kill()
