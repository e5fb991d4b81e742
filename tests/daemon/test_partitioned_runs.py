"""Partitioned runs from the daemon: schedules on partitioned jobs and RunRequest(partition_key=),
on a real code server and real storage, with an injected clock."""

from __future__ import annotations

import datetime as dt

import pytest

from bakehouse.daemon.scheduler import Scheduler
from bakehouse.daemon.sensors import SensorDaemon
from bakehouse.storage.records import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    RunRecord,
    TickStatus,
)
from tests.daemon.conftest import FakeClock, MakeParts, Parts

pytestmark = pytest.mark.slow

DAILY = {
    "defs/daily.py": """\
        import bakehouse as dg

        days = dg.DailyPartitionsDefinition(start_date="2024-01-01")


        @dg.asset(partitions_def=days)
        def sales(context):
            return context.partition_key


        @dg.asset
        def plain():
            return 1


        daily_job = dg.define_asset_job("daily_job", selection=[sales])
        nightly = dg.build_schedule_from_partitioned_job(
            daily_job, minute_of_hour=5, default_status=dg.DefaultScheduleStatus.RUNNING
        )
        at_noon = dg.ScheduleDefinition(
            name="at_noon", job=daily_job, cron_schedule="0 12 * * *",
            default_status=dg.DefaultScheduleStatus.RUNNING,
        )


        @dg.sensor(job=daily_job, minimum_interval_seconds=1,
                   default_status=dg.DefaultSensorStatus.RUNNING)
        def asks_for_a_day(context):
            return dg.RunRequest(run_key="jan3", partition_key="2024-01-03")


        @dg.sensor(job=daily_job, minimum_interval_seconds=1)
        def asks_for_no_such_day(context):
            return dg.RunRequest(partition_key="2024-13-45")


        @dg.sensor(asset_selection=["plain"], minimum_interval_seconds=1)
        def asks_for_a_partition_of_a_plain_asset(context):
            return dg.RunRequest(asset_selection=["plain"], partition_key="2024-01-03")
        """
}

# Tuesday 2024-01-02 00:00:30 UTC.
T0 = dt.datetime(2024, 1, 2, 0, 0, 30, tzinfo=dt.timezone.utc).timestamp()


def _runs(parts: Parts, tag: str, name: str) -> list[RunRecord]:
    return [r for r in parts.instance.get_runs(limit=None) if r.tags.get(tag) == name]


def test_a_daily_partitioned_schedule_runs_the_newest_partition_once_per_tick(
    make_parts: MakeParts,
) -> None:
    parts = make_parts("part_sched", DAILY)
    (location,) = parts.supervisor.states()
    assert location.snapshot is not None
    snaps = {s.name: s for s in location.snapshot.schedules}
    # The cadence comes from the daily partitions, moved to 5 past midnight, in their zone.
    assert snaps["daily_job_schedule"].cron_schedule == "5 0 * * *"
    assert snaps["daily_job_schedule"].execution_timezone == "UTC"

    clock = FakeClock(T0)
    scheduler = Scheduler(parts.instance, parts.supervisor, clock=clock)
    assert scheduler.tick() == []  # starts from now
    clock.now = T0 + 5 * 60  # 00:05:30 on the 2nd: the tick of 00:05 is due
    (tick,) = scheduler.tick()
    assert tick.status == TickStatus.SUCCESS, tick.error
    (run,) = _runs(parts, "bakehouse/schedule", "daily_job_schedule")
    assert run.partition_key == "2024-01-01"  # the newest complete day at 00:05 on the 2nd
    assert run.job_name == "daily_job"
    assert run.asset_selection == ("sales",)
    assert scheduler.tick() == []
    assert len(_runs(parts, "bakehouse/schedule", "daily_job_schedule")) == 1

    # A day later, and (after a restart) the tick is caught up once, for the next partition.
    clock.now = T0 + 86400 + 5 * 60 + 10
    restarted = Scheduler(parts.instance, parts.supervisor, clock=clock)
    ticks = [t for t in restarted.tick() if t.origin.endswith("daily_job_schedule")]
    assert [t.status for t in ticks] == [TickStatus.SUCCESS]
    assert restarted.tick() == []
    keys = sorted(
        r.partition_key or "" for r in _runs(parts, "bakehouse/schedule", "daily_job_schedule")
    )
    assert keys == ["2024-01-01", "2024-01-02"]

    # The plain ScheduleDefinition on the same job picks its partition by the same rule: at
    # noon on the 2nd, the 1st (the 2nd is not complete yet).
    (noon,) = _runs(parts, "bakehouse/schedule", "at_noon")
    assert noon.partition_key == "2024-01-01"


def test_a_sensor_run_request_with_a_partition_key_launches_that_partition(
    make_parts: MakeParts,
) -> None:
    parts = make_parts("part_sensor", DAILY)
    clock = FakeClock(T0)
    sensors = SensorDaemon(parts.instance, parts.supervisor, clock=clock)
    ticks = {t.origin: t for t in sensors.tick()}
    tick = ticks["part_sensor:asks_for_a_day"]
    assert tick.status == TickStatus.SUCCESS, tick.error
    (run,) = _runs(parts, "bakehouse/sensor", "asks_for_a_day")
    assert run.partition_key == "2024-01-03"
    assert run.asset_selection == ("sales",)
    assert tick.run_ids == (run.run_id,)
    clock.now += 2
    sensors.tick()  # the same run key: no second run
    assert len(_runs(parts, "bakehouse/sensor", "asks_for_a_day")) == 1


def _turn_on(parts: Parts, name: str) -> None:
    parts.instance.set_instigator_state(
        InstigatorState(origin=f"part_bad:{name}", name=name, location="part_bad",
                        type=InstigatorType.SENSOR, status=InstigatorStatus.RUNNING)
    )  # fmt: skip


def test_an_unknown_partition_key_is_a_failed_tick_with_a_clear_error(
    make_parts: MakeParts,
) -> None:
    parts = make_parts("part_bad", DAILY)
    _turn_on(parts, "asks_for_no_such_day")
    _turn_on(parts, "asks_for_a_partition_of_a_plain_asset")
    clock = FakeClock(T0)
    sensors = SensorDaemon(parts.instance, parts.supervisor, clock=clock)
    ticks = {t.origin.split(":")[1]: t for t in sensors.tick()}

    bad_key = ticks["asks_for_no_such_day"]
    assert bad_key.status == TickStatus.FAILURE
    assert bad_key.error is not None
    # The launch service's message, as bh launch --partition 2024-13-45 gives it.
    message = str(bad_key.error["message"])
    assert message.startswith("LaunchError: unknown partition key '2024-13-45' (2024-01-01 … ")

    plain = ticks["asks_for_a_partition_of_a_plain_asset"]
    assert plain.status == TickStatus.FAILURE
    assert plain.error is not None
    assert "no selected asset is partitioned" in str(plain.error["message"])

    assert _runs(parts, "bakehouse/sensor", "asks_for_no_such_day") == []
    assert _runs(parts, "bakehouse/sensor", "asks_for_a_partition_of_a_plain_asset") == []
    # The daemon carries on: the next pass evaluates again and fails the same way.
    clock.now += 2
    again = {t.origin.split(":")[1]: t for t in sensors.tick()}
    assert again["asks_for_no_such_day"].status == TickStatus.FAILURE
