"""A corrupt backfill, tick or schedule state row spoils only itself: the lists (pages, API,
``bh backfill list``, ``bh schedule list``) mark it with its id and reason in its place, and a
page that needs it says which row and why (real SQLite file, real ``bh`` processes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bakehouse.daemon.scheduler import Scheduler
from bakehouse.daemon.sensors import SensorDaemon
from bakehouse.host.deployment import Deployment
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import Instance
from bakehouse.storage.records import (
    BackfillRecord,
    BackfillStatus,
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    TickRecord,
    TickStatus,
)
from tests.daemon.conftest import FakeClock
from tests.support.dev_server import DevServer, running_dev_server
from tests.support.faults import bh, database, small_project

pytestmark = pytest.mark.slow

ASSETS = """\
    import bakehouse as dg


    @dg.asset
    def orders() -> int:
        return 1


    orders_job = dg.define_asset_job("orders_job", selection="orders")
    nightly = dg.ScheduleDefinition(name="nightly", cron_schedule="0 3 * * *", job=orders_job)
    hourly = dg.ScheduleDefinition(name="hourly", cron_schedule="0 * * * *", job=orders_job)
    """


@dataclass(frozen=True)
class Damaged:
    """The project and the ids of its good and bad rows."""

    project: Path
    good_backfill: str
    bad_backfill: str
    good_tick: int
    bad_tick: int


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Damaged:
    """Two backfills, two ticks of ``nightly`` and the state of ``hourly``, stored through the
    instance; then the body of one backfill, one tick and the state is made garbage."""
    project = small_project(tmp_path_factory.mktemp("corrupt") / "shop", assets=ASSETS)
    with Instance.for_home(project / ".bakehouse") as instance:
        for n, backfill_id in enumerate(("goodfill", "badfill")):
            instance.create_backfill(
                BackfillRecord(
                    backfill_id=backfill_id,
                    status=BackfillStatus.COMPLETED,
                    asset_selection=("orders",),
                    selection_query="orders",
                    created_at=1_000.0 + n,
                )
            )
        ticks = [
            instance.create_tick(
                TickRecord(
                    origin="shop:nightly",
                    type=InstigatorType.SCHEDULE,
                    tick_at=at,
                    status=TickStatus.SKIPPED,
                    skip_reason="nothing to do",
                )
            )
            for at in (2_000.0, 3_000.0)
        ]
        instance.set_instigator_state(
            InstigatorState(
                origin="shop:hourly",
                name="hourly",
                location="shop",
                type=InstigatorType.SCHEDULE,
                status=InstigatorStatus.STOPPED,
            )
        )
    good_tick, bad_tick = [t.tick_id for t in ticks if t is not None and t.tick_id is not None]
    db = database(project)
    db.execute("UPDATE backfills SET body = '{not json' WHERE backfill_id = 'badfill'")
    db.execute("UPDATE ticks SET body = '[1, 2' WHERE id = ?", (bad_tick,))
    db.execute("UPDATE instigators SET body = 'nope' WHERE origin = 'shop:hourly'")
    db.close()
    return Damaged(project, "goodfill", "badfill", good_tick, bad_tick)


@pytest.fixture(scope="module")
def server(damaged: Damaged) -> Iterator[DevServer]:
    """``bh dev`` on the damaged project."""
    with running_dev_server(damaged.project) as running:
        yield running


@pytest.mark.parametrize("path", ["/backfills", "/automation", "/api/backfills", "/api/automation"])
def test_the_lists_still_answer(server: DevServer, path: str) -> None:
    answer = httpx.get(server.url + path, timeout=30)
    assert answer.status_code == 200, answer.text[:500]


def test_the_backfill_lists_mark_the_bad_backfill(server: DevServer, damaged: Damaged) -> None:
    listed = httpx.get(server.url + "/api/backfills", timeout=30).json()
    assert [b["backfill_id"] for b in listed] == [damaged.bad_backfill, damaged.good_backfill]
    bad, good = listed
    assert bad["corrupt"] is True
    assert "backfill" in bad["reason"]
    assert good["status"] == "COMPLETED"
    assert "corrupt" not in good
    page = httpx.get(server.url + "/backfills", timeout=30).text
    assert f'data-backfill="{damaged.bad_backfill}" data-corrupt="true"' in page
    assert f'data-backfill="{damaged.good_backfill}" data-status="COMPLETED"' in page


def test_the_bad_backfills_page_says_which_row_and_why(server: DevServer, damaged: Damaged) -> None:
    page = httpx.get(f"{server.url}/backfills/{damaged.bad_backfill}", timeout=30)
    assert page.status_code == 409
    assert "This row of backfills cannot be read" in page.text
    assert damaged.bad_backfill in page.text
    assert "bh doctor" in page.text
    assert 'href="/backfills"' in page.text
    api = httpx.get(f"{server.url}/api/backfills/{damaged.bad_backfill}", timeout=30)
    assert api.status_code == 409
    assert {"corrupt": True, "table": "backfills", "key": damaged.bad_backfill}.items() <= (
        api.json().items()
    )


def test_the_tick_lists_mark_the_bad_tick_and_the_bad_state(
    server: DevServer, damaged: Damaged
) -> None:
    items = {i["name"]: i for i in httpx.get(server.url + "/api/automation", timeout=30).json()}
    newest, older = items["nightly"]["ticks"]
    assert newest == {
        "tick_id": damaged.bad_tick,
        "tick_at": 3_000.0,
        "corrupt": True,
        "reason": newest["reason"],
    }
    assert newest["reason"]
    assert older["status"] == "SKIPPED"
    assert items["nightly"]["state_corrupt"] is None
    assert items["hourly"]["state_corrupt"]
    assert items["hourly"]["status"] == "STOPPED"  # its default, as it cannot be read
    page = httpx.get(server.url + "/automation", timeout=30).text
    assert f'data-corrupt-tick="{damaged.bad_tick}"' in page
    assert f"Tick {damaged.bad_tick}'s stored row cannot be read" in page
    assert 'data-corrupt-state="shop:hourly"' in page


def test_bh_backfill_list_names_the_bad_backfill(damaged: Damaged) -> None:
    listed = bh("backfill", "list", cwd=damaged.project)
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr
    assert f"backfill {damaged.bad_backfill} cannot be read" in listed.stderr
    assert damaged.good_backfill in listed.stdout
    as_json = json.loads(bh("backfill", "list", "--json", cwd=damaged.project).stdout)
    assert {"backfill_id": damaged.bad_backfill, "corrupt": True}.items() <= as_json[0].items()
    assert as_json[1]["backfill_id"] == damaged.good_backfill
    shown = bh("backfill", "show", damaged.bad_backfill, cwd=damaged.project)
    assert shown.returncode == 1
    assert "Traceback" not in shown.stderr
    assert f"corrupt row in backfills ({damaged.bad_backfill})" in shown.stderr
    assert "bh doctor" in shown.stderr


def test_bh_schedule_list_marks_the_bad_tick_and_state(damaged: Damaged) -> None:
    listed = bh("schedule", "list", "--json", cwd=damaged.project)
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    last = rows["nightly"]["last_tick"]
    assert last["corrupt"] is True
    assert last["tick_id"] == damaged.bad_tick
    assert "state_corrupt" in rows["hourly"]
    table = bh("schedule", "list", cwd=damaged.project)
    assert table.returncode == 0, table.stderr
    assert "Traceback" not in table.stderr
    assert "hourly (shop): its stored state cannot be read" in " ".join(table.stderr.split())
    assert f"tick {damaged.bad_tick} cannot be read" in " ".join(table.stdout.split())


RUNNING_PAIR = """\
    import bakehouse as dg


    @dg.asset
    def orders() -> int:
        return 1


    orders_job = dg.define_asset_job("orders_job", selection="orders")
    RUNNING = dg.DefaultScheduleStatus.RUNNING
    first = dg.ScheduleDefinition(name="first", cron_schedule="* * * * *", job=orders_job,
                                  default_status=RUNNING)
    second = dg.ScheduleDefinition(name="second", cron_schedule="* * * * *", job=orders_job,
                                   default_status=RUNNING)


    @dg.sensor(job=orders_job, default_status=dg.DefaultSensorStatus.RUNNING)
    def first_sensor(context):
        return dg.SkipReason("nothing new")


    @dg.sensor(job=orders_job, default_status=dg.DefaultSensorStatus.RUNNING)
    def second_sensor(context):
        return dg.SkipReason("nothing new")
    """


def test_a_bad_state_row_stops_only_its_own_schedule_or_sensor(tmp_path: Path) -> None:
    project = small_project(tmp_path / "shop", assets=RUNNING_PAIR)
    with Instance.for_home(project / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(project), instance, daemon=False)
        deployment.start()
        try:
            clock = FakeClock(5_000_000.0)
            scheduler = Scheduler(instance, deployment.supervisor, clock=clock)
            sensors = SensorDaemon(instance, deployment.supervisor, clock=clock)
            scheduler.tick()  # each schedule starts from now: its state is stored
            sensors.tick()
            db = database(project)
            for origin in ("shop:first", "shop:first_sensor"):
                db.execute("UPDATE instigators SET body = 'nope' WHERE origin = ?", (origin,))
            db.close()
            clock.now += 120
            ticked = {t.origin for t in scheduler.tick()} | {t.origin for t in sensors.tick()}
            assert ticked == {"shop:second", "shop:second_sensor"}
        finally:
            deployment.stop()
