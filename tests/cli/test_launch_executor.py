"""`bh launch --executor`: both executors materialize the bakery; worker processes by default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import RunBh

pytestmark = pytest.mark.slow


def _last_run(bh: RunBh, project: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    listed = bh("runs", "list", "--json", cwd=project)
    assert listed.returncode == 0, listed.stderr
    run = json.loads(listed.stdout)[0]
    shown = bh("runs", "show", run["run_id"], "--json", cwd=project)
    assert shown.returncode == 0, shown.stderr
    return run, json.loads(shown.stdout)["events"]


@pytest.mark.parametrize(
    ("args", "engine"),
    [
        ((), "worker processes ("),
        (("--executor", "multiprocess"), "worker processes ("),
        (("--executor", "in_process"), "steps in process."),
    ],
)
def test_launch_materializes_the_bakery_with_either_executor(
    bakery: Path, bh: RunBh, args: tuple[str, ...], engine: str
) -> None:
    result = bh("launch", "--assets", "*", *args, cwd=bakery)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 steps succeeded, 0 failed, 0 skipped; 5 assets materialized" in result.stdout
    run, events = _last_run(bh, bakery)
    assert run["status"] == "SUCCESS"
    assert run["tags"].get("bakehouse/executor") == (args[1] if args else None)
    messages = [e["message"] for e in events if e["event_type"] == "ENGINE"]
    assert any(engine in m for m in messages), messages
    materialized = {e["asset_key"] for e in events if e["event_type"] == "ASSET_MATERIALIZATION"}
    assert materialized == set(run["asset_selection"])
    assert len(materialized) == 5
    started = [e["step_key"] for e in events if e["event_type"] == "STEP_START"]
    assert started.index("cookie_dough") > started.index("dry_ingredients")
    assert (bakery / ".bakehouse" / "storage" / "chocolate_chip_cookies").is_file()


def test_an_unknown_executor_is_refused_before_any_run(bakery: Path, bh: RunBh) -> None:
    result = bh("launch", "--assets", "*", "--executor", "dask", cwd=bakery)

    assert result.returncode == 2
    assert "'dask' is not one of 'in_process', 'multiprocess', 'celery'" in result.stderr
