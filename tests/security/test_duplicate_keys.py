"""The same asset key in two code locations is never silent: the later location fails to load
with both definitions' file:line (``bh check defs``, the supervisor's code servers), or, with
``allow_duplicate_asset_keys``, both load and the conflict is shown in ``bh check defs``, on the
locations page and on the asset page. Real code servers and ``bh`` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bakehouse.host.client import target_for_project
from bakehouse.host.supervisor import LocationStatus, LocationSupervisor
from bakehouse.project.workspace import find_workspace
from tests.support.dev_server import DevServer, running_dev_server
from tests.support.faults import bh, small_project

pytestmark = pytest.mark.slow

ORDERS = """\
import bakehouse as dg


@dg.asset
def orders() -> int:
    return 1
"""


def _workspace(root: Path, *, allow: bool) -> Path:
    small_project(root / "alpha", "alpha", ORDERS)
    small_project(root / "beta", "beta", "\n\n" + ORDERS)  # orders on line 6, not 4
    setting = "allow_duplicate_asset_keys = true\n" if allow else ""
    (root / "pyproject.toml").write_text(
        '[tool.bakehouse]\ndirectory_type = "workspace"\n\n'
        f"[tool.bakehouse.workspace]\n{setting}\n"
        '[[tool.bakehouse.workspace.projects]]\npath = "alpha"\n\n'
        '[[tool.bakehouse.workspace.projects]]\npath = "beta"\n'
    )
    return root


def test_check_defs_fails_the_later_location_naming_both_definitions(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws", allow=False)
    done = bh("check", "defs", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    text = " ".join(done.stdout.split())  # rich wraps long lines
    assert "Code location 'beta' failed to load" in text
    assert "beta/defs/assets.py:6 in code location 'beta'" in text
    assert "alpha/defs/assets.py:4 in code location 'alpha'" in text
    assert "allow_duplicate_asset_keys" in text
    assert "1 of 2 code locations failed to load." in text


def test_the_supervisor_fails_the_location_that_loads_second(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws", allow=False)
    workspace = find_workspace(root)
    targets = [target_for_project(p) for p in workspace.projects]
    with LocationSupervisor(targets) as supervisor:
        supervisor.start(wait=True)
        states = {s.name: s for s in supervisor.states()}
        failed = [s for s in states.values() if s.status == LocationStatus.FAILED]
        loaded = [s for s in states.values() if s.status == LocationStatus.LOADED]
        assert len(failed) == 1
        assert len(loaded) == 1
        assert failed[0].error is not None
        message = failed[0].error.message
        assert "alpha/defs/assets.py:4" in message
        assert "beta/defs/assets.py:6" in message
        assert supervisor.global_graph().conflicts == {}
        assert supervisor.global_graph().location_of("orders") == loaded[0].name


@pytest.fixture(scope="module")
def allowed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose two locations both define orders, with the setting that allows it."""
    return _workspace(tmp_path_factory.mktemp("dup") / "ws", allow=True)


@pytest.fixture(scope="module")
def server(allowed: Path) -> Iterator[DevServer]:
    """``bh dev`` on it."""
    with running_dev_server(allowed) as running:
        yield running


def test_with_the_setting_check_defs_shows_the_conflict(allowed: Path) -> None:
    done = bh("check", "defs", cwd=allowed)
    assert done.returncode == 0, done.stdout + done.stderr
    text = " ".join(done.stdout.split())
    assert "! conflict: asset key 'orders' is defined at" in text
    assert "'alpha' materializes it" in text


def test_with_the_setting_the_pages_show_the_conflict(server: DevServer) -> None:
    deadline_pages = ["/locations", "/assets/orders"]
    for path in deadline_pages:
        page = httpx.get(server.url + path, timeout=30, follow_redirects=True)
        assert page.status_code == 200
        assert 'data-conflict="orders"' in page.text, path
        assert "alpha, beta" in page.text
