"""`bh schedule` / `bh sensor`, and the load errors of bad schedules, on real projects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import RunBh, write

pytestmark = pytest.mark.slow

AUTOMATION = """\
import os

import bakehouse as dg

from bakery.defs.resources import bake_everything

nightly = dg.ScheduleDefinition(
    name="nightly", job=bake_everything, cron_schedule="0 3 * * *",
    execution_timezone="Europe/Berlin",
)


@dg.sensor(job=bake_everything, minimum_interval_seconds=60)
def new_orders(context):
    count = int(context.cursor or 0) + 1
    context.update_cursor(str(count))
    yield dg.RunRequest(run_key=f"order-{count}")
"""


def test_schedules_and_sensors_list_start_stop_and_preview(bakery: Path, bh: RunBh) -> None:
    write(bakery / "src/bakery/defs/automation.py", AUTOMATION)
    listed = bh("schedule", "list", "--json", cwd=bakery)
    assert listed.returncode == 0, listed.stderr
    (nightly,) = json.loads(listed.stdout)
    assert nightly["status"] == "STOPPED"
    assert nightly["cron_schedule"] == "0 3 * * *"
    assert nightly["execution_timezone"] == "Europe/Berlin"
    assert nightly["job"] == "bake_everything"
    assert nightly["next_tick"] is None

    started = bh("schedule", "start", "nightly", cwd=bakery)
    assert started.returncode == 0, started.stderr
    assert "started" in started.stdout
    (nightly,) = json.loads(bh("schedule", "list", "--json", cwd=bakery).stdout)
    assert nightly["status"] == "RUNNING"
    assert nightly["next_tick"] is not None
    table = bh("schedule", "list", cwd=bakery).stdout
    assert "nightly" in table
    assert "RUNNING" in table
    assert bh("schedule", "stop", "nightly", cwd=bakery).returncode == 0
    assert json.loads(bh("schedule", "list", "--json", cwd=bakery).stdout)[0]["status"] == "STOPPED"

    missing = bh("schedule", "start", "weekly", cwd=bakery)
    assert missing.returncode == 1
    assert "no schedule named 'weekly'" in missing.stderr

    (sensor,) = json.loads(bh("sensor", "list", "--json", cwd=bakery).stdout)
    assert (sensor["name"], sensor["kind"], sensor["status"]) == (
        "new_orders",
        "standard",
        "STOPPED",
    )
    preview = bh("sensor", "preview", "new_orders", cwd=bakery)
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "run request key='order-1'" in preview.stdout
    assert "bake_everything" in preview.stdout
    assert "New cursor: '1'" in preview.stdout
    # A preview saves nothing: the next preview starts from the same cursor.
    assert "run request key='order-1'" in bh("sensor", "preview", "new_orders", cwd=bakery).stdout


def test_a_bad_cron_string_is_a_load_error_naming_the_line(bakery: Path, bh: RunBh) -> None:
    path = write(
        bakery / "src/bakery/defs/bad_cron.py",
        "import bakehouse as dg\nfrom bakery.defs.resources import bake_everything\n\n"
        "oops = dg.ScheduleDefinition(job=bake_everything, cron_schedule='every day')\n",
    )
    result = bh("check", "defs", cwd=bakery)
    assert result.returncode == 1
    assert f"{path}:4" in result.stdout
    assert "invalid cron_schedule 'every day'" in result.stdout


def test_a_schedule_on_a_job_that_does_not_exist_is_named(bakery: Path, bh: RunBh) -> None:
    path = write(
        bakery / "src/bakery/defs/ghost.py",
        "import bakehouse as dg\n\n"
        "ghost = dg.ScheduleDefinition(job_name='ghost_job', cron_schedule='@daily')\n",
    )
    result = bh("check", "defs", cwd=bakery)
    assert result.returncode == 1
    assert f"{path}:3" in result.stdout
    assert "schedule 'ghost_job_schedule' targets job 'ghost_job', which does not exist" in (
        result.stdout
    )


def test_a_job_selecting_nothing_is_named(bakery: Path, bh: RunBh) -> None:
    path = write(
        bakery / "src/bakery/defs/empty_job.py",
        "import bakehouse as dg\n\n"
        "nothing = dg.define_asset_job('nothing', selection='group:nope')\n",
    )
    result = bh("check", "defs", cwd=bakery)
    assert result.returncode == 1
    assert f"{path}:3" in result.stdout
    assert "job 'nothing' selects no asset" in result.stdout
