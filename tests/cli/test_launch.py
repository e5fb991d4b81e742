"""`bh launch`: a run worker in the location's interpreter, followed through storage."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import RunBh, write

pytestmark = pytest.mark.slow

FIVE = {
    "dry_ingredients",
    "wet_ingredients",
    "cookie_dough",
    "chocolate_chip_cookie_dough",
    "chocolate_chip_cookies",
}


def _runs(bh: RunBh, project: Path) -> list[dict[str, Any]]:
    result = bh("runs", "list", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    runs: list[dict[str, Any]] = json.loads(result.stdout)
    return runs


def _events(bh: RunBh, project: Path, run_id: str) -> list[dict[str, Any]]:
    result = bh("runs", "show", run_id, "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    events: list[dict[str, Any]] = json.loads(result.stdout)["events"]
    return events


def test_launch_star_materializes_the_bakery_and_another_process_sees_it(
    bakery: Path, bh: RunBh
) -> None:
    result = bh("launch", "--assets", "*", cwd=bakery)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Run SUCCESS" in result.stdout
    assert "5 steps succeeded, 0 failed, 0 skipped; 5 assets materialized" in result.stdout
    for key in FIVE:
        assert f"✓ {key}" in result.stdout

    runs = _runs(bh, bakery)  # a separate process, reading the same SQLite file
    assert len(runs) == 1
    run = runs[0]
    assert run["status"] == "SUCCESS"
    assert set(run["asset_selection"]) == FIVE
    assert run["tags"]["bakehouse/launched_by"] == "cli"
    events = _events(bh, bakery, run["run_id"])
    materialized = {
        e["asset_key"]: e["data"]["metadata"]
        for e in events
        if e["event_type"] == "ASSET_MATERIALIZATION"
    }
    assert set(materialized) == FIVE
    assert materialized["cookie_dough"]["weight_g"] == {"type": "int", "value": 826}
    assert materialized["chocolate_chip_cookies"]["oven_temperature_c"]["value"] == 190
    assert materialized["chocolate_chip_cookies"]["preview"]["type"] == "md"
    assert (bakery / ".bakehouse" / "storage" / "chocolate_chip_cookies").is_file()
    kinds = [e["event_type"] for e in events]
    assert kinds[:2] == ["RUN_QUEUED", "RUN_START"]
    assert kinds[-1] == "RUN_SUCCESS"
    # Steps ran in dependency order.
    started = [e["step_key"] for e in events if e["event_type"] == "STEP_START"]
    assert started.index("cookie_dough") > started.index("dry_ingredients")
    assert started.index("chocolate_chip_cookies") == 4


def test_a_selection_needs_its_upstream_values_and_then_runs_only_itself(
    bakery: Path, bh: RunBh
) -> None:
    first = bh("launch", "--assets", "cookie_dough+", cwd=bakery)
    assert first.returncode == 1
    assert "no stored value for asset 'dry_ingredients'" in first.stdout
    assert bh("launch", "--assets", "+wet_ingredients, dry_ingredients", cwd=bakery).returncode == 0
    result = bh("launch", "--assets", "cookie_dough+", cwd=bakery)
    assert result.returncode == 0, result.stdout + result.stderr
    run = _runs(bh, bakery)[0]
    assert run["asset_selection"] == [
        "cookie_dough",
        "chocolate_chip_cookie_dough",
        "chocolate_chip_cookies",
    ]


def test_launch_a_job(bakery: Path, bh: RunBh) -> None:
    result = bh("launch", "--job", "bake_everything", cwd=bakery)
    assert result.returncode == 0, result.stdout + result.stderr
    run = _runs(bh, bakery)[0]
    assert run["job_name"] == "bake_everything"
    assert set(run["asset_selection"]) == FIVE


def test_a_bad_selection_is_refused_before_any_run_exists(bakery: Path, bh: RunBh) -> None:
    result = bh("launch", "--assets", "cookie_doug", cwd=bakery)
    assert result.returncode == 2
    assert "no asset with key 'cookie_doug'" in result.stderr
    assert "Did you mean 'cookie_dough'" in result.stderr
    assert _runs(bh, bakery) == []


def test_a_failing_step_shows_its_traceback_and_skips_downstream(bakery: Path, bh: RunBh) -> None:
    path = write(
        bakery / "src/bakery/defs/burnt.py",
        "import bakehouse as dg\n\n\n@dg.asset\ndef burnt(cookie_dough):\n"
        "    raise RuntimeError('the oven caught fire')\n\n\n"
        "@dg.asset\ndef boxed(burnt):\n    return burnt\n",
    )
    result = bh("launch", "--assets", "*", cwd=bakery)
    assert result.returncode == 1
    assert "RuntimeError: the oven caught fire" in result.stdout
    assert f'File "{path}", line 6, in burnt' in result.stdout
    assert "Run FAILURE" in result.stdout
    run = _runs(bh, bakery)[0]
    events = _events(bh, bakery, run["run_id"])
    failure = next(e for e in events if e["event_type"] == "STEP_FAILURE")
    assert failure["step_key"] == "burnt"
    stack = "".join(failure["data"]["error"]["stack"])
    assert str(path) in stack
    assert "bakehouse/execution" not in stack
    skipped = [e["step_key"] for e in events if e["event_type"] == "STEP_SKIPPED"]
    assert skipped == ["boxed"]
    # Independent branches still ran.
    assert sum(1 for e in events if e["event_type"] == "ASSET_MATERIALIZATION") == 5


def test_a_worker_killed_mid_run_is_recorded_as_a_failure(bakery: Path, bh: RunBh) -> None:
    write(
        bakery / "src/bakery/defs/crash.py",
        "import os, signal\nimport bakehouse as dg\n\n\n@dg.asset\ndef crash():\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n",
    )
    # in_process: the SIGKILL then hits the run worker itself, not one of its step processes.
    result = bh("launch", "--assets", "crash", "--executor", "in_process", cwd=bakery)
    assert result.returncode == 1
    assert "run worker for location 'bakery' exited with code -9" in result.stdout
    run = _runs(bh, bakery)[0]
    assert run["status"] == "FAILURE"


def test_run_config_reaches_a_config_parameter(bakery: Path, bh: RunBh) -> None:
    write(
        bakery / "src/bakery/defs/sprinkles.py",
        "import bakehouse as dg\n\n\nclass SprinkleConfig(dg.Config):\n    colour: str = 'pink'\n"
        "\n\n@dg.asset\ndef sprinkles(config: SprinkleConfig) -> dg.MaterializeResult:\n"
        "    return dg.MaterializeResult(metadata={'colour': config.colour})\n",
    )
    config = '{"ops": {"sprinkles": {"config": {"colour": "blue"}}}}'
    result = bh("launch", "--assets", "sprinkles", "--config-json", config, cwd=bakery)
    assert result.returncode == 0, result.stdout + result.stderr
    run = _runs(bh, bakery)[0]
    events = _events(bh, bakery, run["run_id"])
    meta = next(e for e in events if e["event_type"] == "ASSET_MATERIALIZATION")["data"]
    assert meta["metadata"]["colour"]["value"] == "blue"

    bad = bh(
        "launch",
        "--assets",
        "sprinkles",
        "--config-json",
        '{"ops": {"sprinkles": {"config": {"flavour": 1}}}}',
        cwd=bakery,
    )
    # Refused by the launch service before a second run is stored.
    assert bad.returncode == 2
    assert "invalid config for asset 'sprinkles'" in bad.stderr
    assert "flavour" in bad.stderr
    assert len(_runs(bh, bakery)) == 1


def test_bakehouse_home_moves_the_storage(bakery: Path, bh: RunBh, tmp_path: Path) -> None:
    home = tmp_path / "elsewhere"
    result = bh(
        "launch", "--assets", "dry_ingredients", cwd=bakery, env={"BAKEHOUSE_HOME": str(home)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (bakery / ".bakehouse").exists()
    with sqlite3.connect(home / "bakehouse.db") as db:
        (count,) = db.execute("select count(*) from runs").fetchone()
    assert count == 1
