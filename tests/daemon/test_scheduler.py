"""The scheduler, on a real code server and real storage, with an injected clock."""

from __future__ import annotations

import datetime as dt

import pytest

from bakehouse.daemon.scheduler import Scheduler, cron_ticks
from bakehouse.storage import RunStatus
from bakehouse.storage.records import InstigatorType, RunRecord, TickRecord, TickStatus
from tests.daemon.conftest import FakeClock, MakeParts, Parts

pytestmark = pytest.mark.slow

EVERY_MINUTE = {
    "defs/bake.py": """\
        import bakehouse as dg


        @dg.asset
        def bread():
            return "loaf"


        bake = dg.define_asset_job("bake", selection=[bread])
        every_minute = dg.ScheduleDefinition(
            job=bake, cron_schedule="* * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
        )


        @dg.schedule(cron_schedule="0 6 * * *", job=bake, execution_timezone="Europe/Paris")
        def breakfast(context):
            if context.scheduled_execution_time.weekday() >= 5:
                return dg.SkipReason("closed at the weekend")
            return dg.RunRequest(tags={"meal": "breakfast"})
        """
}

T0 = dt.datetime(2026, 11, 23, 10, 0, 30, tzinfo=dt.timezone.utc).timestamp()


def _schedule_runs(parts: Parts, name: str) -> list[RunRecord]:
    return [
        r for r in parts.instance.get_runs(limit=None) if r.tags.get("bakehouse/schedule") == name
    ]


def test_a_schedule_fires_on_time_once_per_tick_and_catches_up_once(make_parts: MakeParts) -> None:
    parts = make_parts("sched_minute", EVERY_MINUTE)
    clock = FakeClock(T0)
    scheduler = Scheduler(parts.instance, parts.supervisor, clock=clock)
    assert scheduler.tick() == []  # first pass: the schedule starts from now
    clock.now = T0 + 29  # 10:00:59
    assert scheduler.tick() == []
    clock.now = T0 + 30  # 10:01:00 exactly
    (tick,) = scheduler.tick()
    assert tick.status == TickStatus.SUCCESS
    assert tick.tick_at == T0 + 30
    runs = _schedule_runs(parts, "bake_schedule")
    assert len(runs) == 1
    assert runs[0].status == RunStatus.QUEUED
    assert runs[0].job_name == "bake"
    assert runs[0].asset_selection == ("bread",)
    clock.now = T0 + 40
    assert scheduler.tick() == []  # nothing new within the minute
    assert len(_schedule_runs(parts, "bake_schedule")) == 1

    # The daemon is killed; a new one starts 2 minutes later and catches up 10:02 and 10:03.
    clock.now = T0 + 155  # 10:03:05
    restarted = Scheduler(parts.instance, parts.supervisor, clock=clock)
    ticks = restarted.tick()
    assert [t.tick_at for t in ticks] == [T0 + 90, T0 + 150]
    assert all(t.status == TickStatus.SUCCESS for t in ticks)
    assert restarted.tick() == []
    runs = _schedule_runs(parts, "bake_schedule")
    assert sorted(float(r.tags["bakehouse/tick"]) for r in runs) == [T0 + 30, T0 + 90, T0 + 150]


def test_a_tick_left_half_done_by_a_killed_daemon_is_finished_exactly_once(
    make_parts: MakeParts,
) -> None:
    parts = make_parts("sched_crash", EVERY_MINUTE)
    clock = FakeClock(T0)
    scheduler = Scheduler(parts.instance, parts.supervisor, clock=clock)
    scheduler.tick()
    # A daemon recorded the 10:01 tick and died before launching its run.
    origin = "sched_crash:bake_schedule"
    stored = parts.instance.create_tick(
        TickRecord(origin=origin, type=InstigatorType.SCHEDULE, tick_at=T0 + 30)
    )
    assert stored is not None
    clock.now = T0 + 35
    (tick,) = Scheduler(parts.instance, parts.supervisor, clock=clock).tick()
    assert tick.tick_id == stored.tick_id
    assert tick.status == TickStatus.SUCCESS
    assert len(tick.run_ids) == 1
    clock.now = T0 + 45
    assert scheduler.tick() == []
    assert len(_schedule_runs(parts, "bake_schedule")) == 1


def test_a_schedule_function_sees_the_tick_in_its_time_zone_and_may_skip(
    make_parts: MakeParts,
) -> None:
    from bakehouse.storage.records import InstigatorState, InstigatorStatus

    parts = make_parts("sched_tz", EVERY_MINUTE)
    saturday = dt.datetime(2026, 11, 28, 4, 0, tzinfo=dt.timezone.utc).timestamp()
    parts.instance.set_instigator_state(
        InstigatorState(
            origin="sched_tz:breakfast",
            name="breakfast",
            location="sched_tz",
            type=InstigatorType.SCHEDULE,
            status=InstigatorStatus.RUNNING,
            last_tick_at=saturday,
        )
    )
    # 06:00 in Paris is 05:00 UTC in November.
    clock = FakeClock(saturday + 2 * 86400)  # Monday 04:00 UTC
    scheduler = Scheduler(parts.instance, parts.supervisor, clock=clock)
    ticks = [t for t in scheduler.tick() if t.origin == "sched_tz:breakfast"]
    assert [dt.datetime.fromtimestamp(t.tick_at, dt.timezone.utc).hour for t in ticks] == [5, 5]
    assert [t.status for t in ticks] == [TickStatus.SKIPPED, TickStatus.SKIPPED]
    assert ticks[0].skip_reason == "closed at the weekend"
    clock.now = saturday + 2 * 86400 + 3600  # Monday 05:00 UTC = 06:00 Paris
    (monday,) = [t for t in scheduler.tick() if t.origin == "sched_tz:breakfast"]
    assert monday.status == TickStatus.SUCCESS
    run = parts.instance.get_run(monday.run_ids[0])
    assert run.tags["meal"] == "breakfast"


def test_cron_ticks_cross_daylight_saving_time() -> None:
    start = dt.datetime(2026, 3, 28, 12, 0, tzinfo=dt.timezone.utc).timestamp()
    end = start + 3 * 86400
    ticks = list(cron_ticks("0 2 * * *", "Europe/Paris", start, end))
    local = [dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat() for t in ticks]
    # 2026-03-29 02:00 does not exist in Paris (clocks jump to 03:00).
    assert local == [
        "2026-03-29T01:00:00+00:00",
        "2026-03-30T00:00:00+00:00",
        "2026-03-31T00:00:00+00:00",
    ]
