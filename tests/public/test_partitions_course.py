"""A course-style project with monthly, weekly and daily partitions, in real files.

Materialized one partition at a time in process (``dg.materialize(..., partition_key=...)``) and
through ``bh launch --partition`` (real run workers). Only the public API and the CLI.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import bakehouse as dg
from tests.support.projects import write_project

pytestmark = pytest.mark.slow

DEFINITIONS = """\
from pathlib import Path

import bakehouse as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(project_root=Path(__file__).parent.parent.parent)
"""

TRIPS = """\
import os

import bakehouse as dg

monthly = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_date="2024-04-01")
weekly = dg.WeeklyPartitionsDefinition(start_date="2024-01-01", end_date="2024-04-01")
daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-04-01")


@dg.asset(partitions_def=monthly, group_name="raw", compute_kind="python")
def taxi_zones_file(context: dg.AssetExecutionContext) -> dict:
    \"\"\"The zones file of one month.\"\"\"
    return {"month": context.partition_key, "zones": 263}


@dg.asset(partitions_def=daily, group_name="raw")
def daily_trips(context: dg.AssetExecutionContext) -> dict:
    \"\"\"Trips of one day; TRIPS_FACTOR changes the numbers between runs.\"\"\"
    factor = int(os.environ.get("TRIPS_FACTOR", "1"))
    trips = int(context.partition_key[-2:]) * factor
    context.add_output_metadata({"trips": trips})
    return {"day": context.partition_key, "trips": trips}


@dg.asset(partitions_def=weekly, group_name="metrics")
def trips_by_week(context: dg.AssetExecutionContext, daily_trips: dict) -> dict:
    \"\"\"The week's trips, from the seven days of its window.\"\"\"
    window = context.partition_time_window
    return {
        "week": context.partition_key,
        "received": {day: value["trips"] for day, value in daily_trips.items()},
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
    }


@dg.asset(partitions_def=weekly, group_name="metrics")
def zones_by_week(taxi_zones_file: dict) -> dict:
    \"\"\"The zone files of the months a week touches.\"\"\"
    if "month" in taxi_zones_file:  # one month: the value itself
        return {"months": [taxi_zones_file["month"]]}
    return {"months": sorted(taxi_zones_file)}


@dg.asset(group_name="metrics")
def report_settings() -> dict:
    \"\"\"Not partitioned: runs once whatever the partition.\"\"\"
    return {"currency": "USD"}
"""

WEEK = ["2024-01-07", "2024-01-08", "2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12"]
WEEK += ["2024-01-13"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    # The course's definitions.py, which names the project root itself.
    files = {"definitions.py": DEFINITIONS, "defs/trips.py": TRIPS}
    return write_project(tmp_path / "rides", "rides", files)


def bh(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("BAKEHOUSE_", "TRIPS_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bakehouse", *args],
        cwd=project,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def launch(
    project: Path, assets: str, partition: str, **env: str
) -> subprocess.CompletedProcess[str]:
    done = bh(
        project,
        "launch",
        "--local",
        "--executor",
        "in_process",
        "--assets",
        assets,
        "--partition",
        partition,
        "--quiet",
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def stored(project: Path, asset: str, partition: str) -> Any:
    return pickle.loads((project / ".bakehouse" / "storage" / asset / partition).read_bytes())


def test_bh_launch_materializes_one_partition_at_a_time(project: Path) -> None:
    for day in WEEK:
        launch(project, "daily_trips", day)
    launch(project, "trips_by_week", "2024-01-07")

    week = stored(project, "trips_by_week", "2024-01-07")
    assert week["received"] == {day: int(day[-2:]) for day in WEEK}
    assert (week["start"], week["end"]) == (
        "2024-01-07T00:00:00+00:00",
        "2024-01-14T00:00:00+00:00",
    )

    # Re-running a partition replaces it, and only it.
    launch(project, "daily_trips", "2024-01-08", TRIPS_FACTOR="10")
    folder = project / ".bakehouse" / "storage" / "daily_trips"
    assert sorted(p.name for p in folder.iterdir()) == WEEK
    assert stored(project, "daily_trips", "2024-01-08")["trips"] == 80
    assert stored(project, "daily_trips", "2024-01-09")["trips"] == 9
    launch(project, "trips_by_week", "2024-01-07")
    assert stored(project, "trips_by_week", "2024-01-07")["received"]["2024-01-08"] == 80

    # The run and its events carry the partition.
    runs = json.loads(bh(project, "runs", "list", "--json").stdout)
    assert runs[0]["partition_key"] == "2024-01-07"
    events = json.loads(bh(project, "runs", "show", runs[0]["run_id"], "--json").stdout)["events"]
    step_events = [e for e in events if e["step_key"] == "trips_by_week"]
    assert step_events
    assert {e["partition_key"] for e in step_events} == {"2024-01-07"}
    (materialized,) = [e for e in events if e["event_type"] == "ASSET_MATERIALIZATION"]
    assert materialized["partition_key"] == "2024-01-07"


def test_bh_launch_weekly_over_monthly_and_partition_errors(project: Path) -> None:
    for month in ["2024-01-01", "2024-02-01"]:
        launch(project, "taxi_zones_file", month)
    launch(project, "zones_by_week", "2024-01-28")  # Jan 28 to Feb 4: two months

    assert stored(project, "zones_by_week", "2024-01-28") == {
        "months": ["2024-01-01", "2024-02-01"]
    }

    # The default executor (worker processes) materializes the partition too.
    default = bh(
        project, "launch", "--local", "--assets", "daily_trips", "--partition", "2024-01-02"
    )
    assert default.returncode == 0, default.stdout + default.stderr
    assert stored(project, "daily_trips", "2024-01-02") == {"day": "2024-01-02", "trips": 2}

    missing = bh(project, "launch", "--local", "--assets", "daily_trips")
    assert missing.returncode == 2
    assert "daily_trips is partitioned: give a partition key" in missing.stderr
    unpartitioned = bh(
        project, "launch", "--local", "--assets", "report_settings", "--partition", "x"
    )
    assert unpartitioned.returncode == 2
    assert "no selected asset is partitioned" in unpartitioned.stderr
    unknown = bh(
        project, "launch", "--local", "--assets", "daily_trips", "--partition", "2030-01-01"
    )
    # Refused by the launch service before any run exists, as the API refuses it.
    assert unknown.returncode == 2
    assert "unknown partition key '2030-01-01'" in unknown.stderr


@pytest.fixture
def rides_module(project: Path) -> Iterator[Any]:
    sys.path.insert(0, str(project / "src"))
    try:
        yield importlib.import_module("rides.defs.trips")
    finally:
        sys.path.remove(str(project / "src"))
        for name in [m for m in sys.modules if m == "rides" or m.startswith("rides.")]:
            del sys.modules[name]


def test_materialize_in_process_one_partition_at_a_time(rides_module: Any, tmp_path: Path) -> None:
    m = rides_module
    io = {"io_manager": dg.FilesystemIOManager(base_dir=tmp_path / "storage")}
    everything = [
        m.taxi_zones_file,
        m.daily_trips,
        m.trips_by_week,
        m.zones_by_week,
        m.report_settings,
    ]

    for day in ["2024-01-06", *WEEK, "2024-01-14"]:
        result = dg.materialize([m.daily_trips], partition_key=day, resources=io)
        assert result.success
    result = dg.materialize(
        everything,
        selection=[m.trips_by_week, m.report_settings],
        partition_key="2024-01-07",
        resources=io,
    )

    assert result.asset_value("trips_by_week")["received"] == {day: int(day[-2:]) for day in WEEK}
    assert result.asset_value("report_settings") == {"currency": "USD"}
    partitions = {
        e.asset_key.to_user_string(): e.materialization.partition
        for e in result.get_asset_materialization_events()
    }
    assert partitions == {"trips_by_week": "2024-01-07", "report_settings": None}
    assert (tmp_path / "storage" / "report_settings").is_file()
    with pytest.raises(dg.UnknownPartitionError):
        dg.materialize([m.trips_by_week], partition_key="2024-01-08", resources=io)
