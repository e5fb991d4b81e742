"""`[tool.bakehouse.code_servers] local_startup_timeout`: read from the settings (Dagster's key
and default), errors naming the file and key, and it reaches every location's target."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakehouse.cli.context import workspace_targets
from bakehouse.errors import ProjectError
from bakehouse.project.code_server_settings import DEFAULT_LOAD_TIMEOUT
from bakehouse.project.settings import settings_warnings
from bakehouse.project.workspace import find_workspace
from tests.support.projects import write_project


def _project(tmp_path: Path, text: str) -> Path:
    root = write_project(tmp_path / "shop", "cs_shop", {})
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n" + text)
    return root


def test_unset_the_limit_is_dagsters_default(tmp_path: Path) -> None:
    root = write_project(tmp_path / "shop", "cs_shop", {})
    workspace = find_workspace(root)
    assert workspace.load_limit.seconds == DEFAULT_LOAD_TIMEOUT == 180
    assert "local_startup_timeout" in workspace.load_limit.setting
    assert str(root / "pyproject.toml") in workspace.load_limit.setting


@pytest.mark.parametrize(("value", "seconds"), [("600", 600.0), ("2.5", 2.5), ("0", 0.0)])
def test_the_limit_reaches_every_target(tmp_path: Path, value: str, seconds: float) -> None:
    root = _project(tmp_path, f"[tool.bakehouse.code_servers]\nlocal_startup_timeout = {value}\n")
    targets = workspace_targets(find_workspace(root))
    limit = targets["cs_shop"].load_limit
    assert limit.seconds == seconds
    assert limit.limited is (seconds > 0)
    assert f"local_startup_timeout = {value} in {root / 'pyproject.toml'}" in limit.setting
    assert settings_warnings(root / "pyproject.toml") == []


@pytest.mark.parametrize(
    "text",
    [
        "[tool.bakehouse.code_servers]\nlocal_startup_timeout = -1\n",
        '[tool.bakehouse.code_servers]\nlocal_startup_timeout = "10m"\n',
        "[tool.bakehouse.code_servers]\nlocal_startup_timeout = true\n",
    ],
)
def test_a_bad_limit_names_the_file_and_key(tmp_path: Path, text: str) -> None:
    root = _project(tmp_path, text)
    with pytest.raises(ProjectError, match=r"\.local_startup_timeout must be") as raised:
        find_workspace(root)
    assert str(root / "pyproject.toml") in str(raised.value)


def test_code_servers_must_be_a_table(tmp_path: Path) -> None:
    root = write_project(tmp_path / "shop", "cs_shop", {})
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("[tool.bakehouse]\n", "[tool.bakehouse]\ncode_servers = 5\n")
    )
    with pytest.raises(ProjectError, match="code_servers must be a table"):
        find_workspace(root)


def test_an_unknown_code_servers_key_is_a_warning(tmp_path: Path) -> None:
    root = _project(tmp_path, "[tool.bakehouse.code_servers]\nlocal_startup_timout = 10\n")
    warnings = settings_warnings(root / "pyproject.toml")
    assert any(
        "code_servers.local_startup_timout: unknown key" in w and "local_startup_timeout" in w
        for w in warnings
    )
