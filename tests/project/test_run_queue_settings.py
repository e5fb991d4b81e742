"""`[tool.bakehouse.run_queue]`: the run queue's limits, read with errors naming file and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bakehouse.errors import ProjectError
from bakehouse.project.run_queue import RunQueueSettings, TagLimit
from bakehouse.project.workspace import find_workspace
from tests.support.projects import write_project


def _project(tmp_path: Path, run_queue: str) -> Path:
    root = write_project(tmp_path / "shop", "rq_shop", {})
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n" + textwrap.dedent(run_queue))
    return root


def test_without_a_run_queue_table_the_defaults_hold(tmp_path: Path) -> None:
    root = write_project(tmp_path / "shop", "rq_shop", {})
    assert find_workspace(root).run_queue == RunQueueSettings(max_concurrent_runs=10)


def test_limits_are_read_from_the_settings(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        """\
        [tool.bakehouse.run_queue]
        max_concurrent_runs = 4
        tag_concurrency_limits = [
            { key = "database", value = "warehouse", limit = 1 },
            { key = "team", limit = 3 },
            { key = "customer", limit = 1, per_value = true },
        ]
        """,
    )
    assert find_workspace(root).run_queue == RunQueueSettings(
        max_concurrent_runs=4,
        tag_concurrency_limits=(
            TagLimit("database", 1, value="warehouse"),
            TagLimit("team", 3),
            TagLimit("customer", 1, per_value=True),
        ),
    )


def test_a_workspace_sets_them_for_all_its_locations(tmp_path: Path) -> None:
    write_project(tmp_path / "projects" / "a", "rq_a", {})
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [tool.bakehouse]
            directory_type = "workspace"

            [[tool.bakehouse.workspace.projects]]
            path = "projects/a"

            [tool.bakehouse.run_queue]
            max_concurrent_runs = 2
            """
        )
    )
    assert find_workspace(tmp_path).run_queue.max_concurrent_runs == 2


LIMITS = "tag_concurrency_limits"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("max_concurrent_runs = 0",
         r"run_queue\.max_concurrent_runs must be a whole number, 1 or more; got 0"),
        ("max_concurrent_runs = true", r"max_concurrent_runs must be a whole number"),
        ("max_concurent_runs = 3", r"unknown key 'max_concurent_runs'"),
        (f"{LIMITS} = [{{ key = 'db' }}]", r"tag_concurrency_limits\[0\]\.limit is missing"),
        (f"{LIMITS} = [{{ key = 'db', limit = -1 }}]",
         r"\[0\]\.limit must be a whole number, 0 or more"),
        (f"{LIMITS} = [{{ limit = 1 }}]", r"\[0\]\.key must be a tag name"),
        (f"{LIMITS} = [{{ key = 'db', limit = 1, valeu = 'x' }}]", r"\[0\]: unknown key 'valeu'"),
        (f"{LIMITS} = [{{ key = 'db', limit = 1, value = 'x', per_value = true }}]",
         r"either value or per_value"),
        (f"{LIMITS} = 'db'", r"tag_concurrency_limits must be a list of tables"),
    ],
)  # fmt: skip
def test_bad_limits_are_errors_naming_the_file_and_key(
    tmp_path: Path, table: str, message: str
) -> None:
    root = _project(tmp_path, f"[tool.bakehouse.run_queue]\n{table}\n")
    with pytest.raises(ProjectError, match=message) as raised:
        find_workspace(root)
    assert str(root / "pyproject.toml") in str(raised.value)


def test_the_deployment_queues_runs_under_the_settings_limits(tmp_path: Path) -> None:
    from bakehouse.daemon.run_queue import TagConcurrencyLimit
    from bakehouse.host.deployment import Deployment
    from bakehouse.storage import Instance

    root = _project(
        tmp_path,
        """\
        [tool.bakehouse.run_queue]
        max_concurrent_runs = 3
        tag_concurrency_limits = [{ key = "customer", limit = 1, per_value = true }]
        """,
    )
    workspace = find_workspace(root)
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        configured = Deployment(workspace, instance)  # built, never started: no processes
        assert configured.run_queue.max_concurrent_runs == 3
        assert configured.run_queue.tag_concurrency_limits == [
            TagConcurrencyLimit("customer", 1, per_value=True)
        ]
        overridden = Deployment(workspace, instance, max_concurrent_runs=7)  # --max-concurrent-runs
        assert overridden.run_queue.max_concurrent_runs == 7
