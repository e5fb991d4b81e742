"""Schedules on partitioned jobs: the cadence they take from the partitions (Dagster's rules for
build_schedule_from_partitioned_job) and the partition each tick asks for."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import bakehouse as dg
from bakehouse.errors import DefinitionError

UTC = dt.timezone.utc
DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@dg.asset(partitions_def=DAYS)
def sales() -> int:
    return 1


def _job(partitions_def: dg.PartitionsDefinition, name: str = "job") -> dg.AssetJobDefinition:
    return dg.define_asset_job(name, selection=[sales], partitions_def=partitions_def)


@pytest.mark.parametrize(
    ("partitions_def", "kwargs", "cron"),
    [
        (DAYS, {}, "0 0 * * *"),
        (DAYS, {"hour_of_day": 2, "minute_of_hour": 30}, "30 2 * * *"),
        (dg.DailyPartitionsDefinition("2024-01-01", hour_offset=6), {}, "0 6 * * *"),
        (dg.DailyPartitionsDefinition("2024-01-01", hour_offset=6), {"minute_of_hour": 5},
         "5 6 * * *"),
        (dg.HourlyPartitionsDefinition("2024-01-01-00:00"), {"minute_of_hour": 15}, "15 * * * *"),
        (dg.WeeklyPartitionsDefinition("2024-01-07"), {}, "0 0 * * 0"),
        (dg.WeeklyPartitionsDefinition("2024-01-07"), {"day_of_week": 1, "hour_of_day": 3},
         "0 3 * * 1"),
        (dg.MonthlyPartitionsDefinition("2024-01-01"), {}, "0 0 1 * *"),
        (dg.MonthlyPartitionsDefinition("2024-01-01"), {"day_of_month": 5}, "0 0 5 * *"),
        (dg.MonthlyPartitionsDefinition("2024-01-03", day_offset=3), {"hour_of_day": 1},
         "0 1 3 * *"),
    ],
)  # fmt: skip
def test_the_cadence_comes_from_the_partitions_with_dagsters_overrides(
    partitions_def: dg.PartitionsDefinition, kwargs: dict[str, Any], cron: str
) -> None:
    schedule = dg.build_schedule_from_partitioned_job(_job(partitions_def), **kwargs)
    assert schedule.cron_schedule == cron
    assert schedule.name == "job_schedule"


def test_the_time_zone_is_the_partitions_one() -> None:
    paris = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="Europe/Paris")
    schedule = dg.build_schedule_from_partitioned_job(_job(paris), name="paris")
    assert (schedule.name, schedule.execution_timezone) == ("paris", "Europe/Paris")


@pytest.mark.parametrize(
    ("partitions_def", "kwargs", "message"),
    [
        (DAYS, {"day_of_week": 1}, "daily partitions take no day_of_week"),
        (dg.HourlyPartitionsDefinition("2024-01-01-00:00"), {"hour_of_day": 1},
         "hourly partitions take no hour_of_day"),
        (DAYS, {"day_of_week": 1, "day_of_month": 2}, "not both"),
        (DAYS, {"cron_schedule": "0 3 * * *"}, "partitioned by time"),
        (DAYS, {"cron_schedule": "0 3 * * *", "hour_of_day": 3}, "not both"),
        (dg.StaticPartitionsDefinition(["a", "b"]), {}, "give cron_schedule="),
        (dg.DynamicPartitionsDefinition(name="shops"), {}, "cannot pick a partition"),
        (dg.TimeWindowPartitionsDefinition(start="2024-01-01", fmt="%Y-%m-%d",
                                           cron_schedule="0 0 */2 * *"),
         {"hour_of_day": 1}, "take no minute_of_hour"),
    ],
)  # fmt: skip
def test_schedules_that_cannot_follow_the_partitions_are_refused(
    partitions_def: dg.PartitionsDefinition, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(DefinitionError, match=message) as caught:
        dg.build_schedule_from_partitioned_job(_job(partitions_def), **kwargs)  # type: ignore[arg-type]
    assert caught.value.source is not None


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_each_tick_asks_for_the_newest_complete_partition() -> None:
    schedule = dg.build_schedule_from_partitioned_job(_job(DAYS), minute_of_hour=5, tags={"t": "1"})
    (request,) = schedule.evaluate(_at(2024, 1, 2, 0, 5))  # type: ignore[misc]
    assert (request.partition_key, request.run_key) == ("2024-01-01", "2024-01-01")
    assert dict(request.tags) == {"t": "1"}
    (later,) = schedule.evaluate(_at(2024, 3, 1, 0, 5))  # type: ignore[misc]
    assert later.partition_key == "2024-02-29"
    # Before the first partition is complete there is nothing to run.
    skipped = schedule.evaluate(_at(2024, 1, 1, 0, 5))
    assert isinstance(skipped, dg.SkipReason)
    assert "no partition" in str(skipped.skip_message)


def test_a_static_job_runs_every_key_and_a_multi_job_the_newest_day_of_every_key() -> None:
    static = dg.build_schedule_from_partitioned_job(
        _job(dg.StaticPartitionsDefinition(["eu", "us"])), cron_schedule="0 1 * * *"
    )
    assert static.cron_schedule == "0 1 * * *"
    requests = static.evaluate(_at(2024, 1, 2, 1))
    assert [r.partition_key for r in requests] == ["eu", "us"]  # type: ignore[union-attr]

    multi = dg.MultiPartitionsDefinition(
        {"date": DAYS, "region": dg.StaticPartitionsDefinition(["eu", "us"])}
    )
    schedule = dg.build_schedule_from_partitioned_job(_job(multi))
    assert schedule.cron_schedule == "0 0 * * *"
    requests = schedule.evaluate(_at(2024, 1, 3))
    assert [r.partition_key for r in requests] == ["2024-01-02|eu", "2024-01-02|us"]  # type: ignore[union-attr]


def test_a_job_partitioned_by_its_assets_is_resolved_by_definitions() -> None:
    job = dg.define_asset_job("from_assets", selection=[sales])
    schedule = dg.build_schedule_from_partitioned_job(job, hour_of_day=4)
    plain = dg.ScheduleDefinition(name="plain", job=job, cron_schedule="0 9 * * *")
    defs = dg.Definitions(assets=[sales], schedules=[schedule, plain])
    defs.validate()
    assert schedule.cron_schedule == "0 4 * * *"
    assert schedule.name == "from_assets_schedule"
    (request,) = schedule.evaluate(_at(2024, 1, 5, 4))  # type: ignore[misc]
    assert request.partition_key == "2024-01-04"
    # A plain schedule on the same job picks its partition by the same rule, keeping its cron.
    (noon,) = plain.evaluate(_at(2024, 1, 5, 9))  # type: ignore[misc]
    assert noon.partition_key == "2024-01-04"
    assert plain.cron_schedule == "0 9 * * *"


def test_an_unpartitioned_or_dynamic_job_is_refused_when_definitions_load() -> None:
    @dg.asset
    def flat() -> int:
        return 1

    job = dg.define_asset_job("flat_job", selection=[flat])
    schedule = dg.build_schedule_from_partitioned_job(job)
    with pytest.raises(DefinitionError, match="job 'flat_job' is not partitioned"):
        dg.Definitions(assets=[flat], schedules=[schedule]).validate()

    shops = dg.DynamicPartitionsDefinition(name="shops")

    @dg.asset(partitions_def=shops)
    def per_shop() -> int:
        return 1

    by_shop = dg.define_asset_job("by_shop", selection=[per_shop])
    nightly = dg.ScheduleDefinition(name="nightly", job=by_shop, cron_schedule="0 0 * * *")
    with pytest.raises(DefinitionError, match=r"schedule 'nightly'.*cannot pick a partition"):
        dg.Definitions(assets=[per_shop], schedules=[nightly]).validate()
