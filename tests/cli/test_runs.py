"""`bh runs list` and `bh runs show` read what runs stored, from any process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bakehouse.storage import Instance
from bakehouse.storage.records import RunRecord
from tests.cli.helpers import RunBh

pytestmark = pytest.mark.slow


def test_runs_show_prints_each_step_event_and_metadata(bakery: Path, bh: RunBh) -> None:
    assert bh("launch", "--assets", "*", "-q", cwd=bakery).returncode == 0
    listed = bh("runs", "list", cwd=bakery)
    assert listed.returncode == 0, listed.stderr
    assert "SUCCESS" in listed.stdout
    run_id = json.loads(bh("runs", "list", "--json", cwd=bakery).stdout)[0]["run_id"]
    assert run_id[:8] in listed.stdout

    shown = bh("runs", "show", run_id[:8], cwd=bakery)  # the short id works too
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert run_id in out
    for event in (
        "RUN_START",
        "STEP_START",
        "ASSET_MATERIALIZATION",
        "STEP_SUCCESS",
        "RUN_SUCCESS",
    ):
        assert event in out
    assert "weight_g: 826" in out
    assert "mixed 7 ingredients into 826 g of dough" in out  # context.log line
    assert "STEP_INPUT" not in out
    assert "STEP_INPUT" in bh("runs", "show", run_id, "--all", cwd=bakery).stdout


def test_runs_show_an_unknown_run_says_so(bakery: Path, bh: RunBh) -> None:
    result = bh("runs", "show", "does-not-exist", cwd=bakery)
    assert result.returncode == 1
    assert "no run with id 'does-not-exist'" in result.stderr


def test_runs_show_an_ambiguous_short_id_lists_the_runs_it_could_be(
    bakery: Path, bh: RunBh
) -> None:
    with Instance.for_home(bakery / ".bakehouse") as instance:
        for run_id in ("cafe0001", "cafe0002", "beef0001"):
            instance.create_run(RunRecord(run_id=run_id))
    result = bh("runs", "show", "cafe", cwd=bakery)
    assert result.returncode == 1
    assert "run id 'cafe' is the start of 2 runs' ids: cafe0001, cafe0002" in result.stderr
    shown = bh("runs", "show", "beef", "--json", cwd=bakery)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["run"]["run_id"] == "beef0001"


def test_runs_list_on_a_new_project_says_how_to_start(bakery: Path, bh: RunBh) -> None:
    result = bh("runs", "list", cwd=bakery)
    assert result.returncode == 0
    assert "No runs yet" in result.stdout


def test_runs_of_partitions_say_which(bakery: Path, bh: RunBh) -> None:
    # Runs as a partitioned launch and a single-run backfill store them.
    with Instance.for_home(bakery / ".bakehouse") as instance:
        instance.create_run(RunRecord(run_id="one-day", partition_key="2024-01-03"))
        instance.create_run(
            RunRecord(
                run_id="a-fortnight",
                partition_range_start="2024-01-01",
                partition_range_end="2024-01-14",
            )
        )
    listed = bh("runs", "list", cwd=bakery, env={"COLUMNS": "200"})
    assert listed.returncode == 0, listed.stderr
    assert "Partition" in listed.stdout
    assert "2024-01-03" in listed.stdout
    assert "2024-01-01...2024-01-14" in listed.stdout
    shown = bh("runs", "show", "a-fortnight", cwd=bakery, env={"COLUMNS": "200"})
    assert "partition 2024-01-01...2024-01-14" in shown.stdout
