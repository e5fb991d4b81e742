"""Time-window partition keys, written out.

Every table row was checked against Dagster 1.13 (the version bench/ compares with) for the same
definition and the same current time; the current time is always injected.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

import bakehouse as dg

NY = "America/New_York"
BERLIN = "Europe/Berlin"


def days(first: str, count: int) -> list[str]:
    start = datetime.strptime(first, "%Y-%m-%d")
    return [(start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(count)]


Case = tuple[str, Callable[[], dg.TimeWindowPartitionsDefinition], datetime, list[str]]

CASES: list[Case] = [
    # -- daily --------------------------------------------------------------------------------
    (
        "daily: complete days only",
        lambda: dg.DailyPartitionsDefinition(start_date="2024-03-01"),
        datetime(2024, 3, 15, 12),
        days("2024-03-01", 14),
    ),
    (
        "daily at 06:30: the 4th is not complete at 03:00",
        lambda: dg.DailyPartitionsDefinition(
            start_date="2024-01-01", hour_offset=6, minute_offset=30
        ),
        datetime(2024, 1, 5, 3),
        ["2024-01-01", "2024-01-02", "2024-01-03"],
    ),
    (
        "daily at 06:30: ... and is at 07:00",
        lambda: dg.DailyPartitionsDefinition(
            start_date="2024-01-01", hour_offset=6, minute_offset=30
        ),
        datetime(2024, 1, 5, 7),
        days("2024-01-01", 4),
    ),
    (
        "end_date excludes the window ending after it",
        lambda: dg.DailyPartitionsDefinition(start_date="2024-03-01", end_date="2024-03-05"),
        datetime(2024, 4, 1),
        days("2024-03-01", 4),
    ),
    (
        "end_date before now still needs complete windows",
        lambda: dg.DailyPartitionsDefinition(start_date="2024-03-01", end_date="2024-03-05"),
        datetime(2024, 3, 3),
        ["2024-03-01", "2024-03-02"],
    ),
    (
        "end_offset=2 adds the current and next day, not past end_date",
        lambda: dg.DailyPartitionsDefinition(
            start_date="2024-01-01", end_date="2024-01-04", end_offset=2
        ),
        datetime(2024, 1, 2, 3),
        ["2024-01-01", "2024-01-02", "2024-01-03"],
    ),
    (
        "end_offset=1 adds the day in progress",
        lambda: dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1),
        datetime(2024, 1, 6),
        days("2024-01-01", 6),
    ),
    (
        "end_offset=1 before the first day starts: nothing",
        lambda: dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1),
        datetime(2023, 12, 31),
        [],
    ),
    (
        "end_offset=-2 drops the two newest",
        lambda: dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=-2),
        datetime(2024, 1, 6),
        ["2024-01-01", "2024-01-02", "2024-01-03"],
    ),
    (
        "a start at noon: the first partition is the next midnight",
        lambda: dg.DailyPartitionsDefinition(start_date=datetime(2024, 1, 1, 12)),
        datetime(2024, 1, 5, 3),
        ["2024-01-02", "2024-01-03", "2024-01-04"],
    ),
    (
        "Berlin, across the March change (a 23-hour day)",
        lambda: dg.DailyPartitionsDefinition(
            start_date="2024-03-29", end_date="2024-04-02", timezone=BERLIN
        ),
        datetime(2024, 4, 5),
        ["2024-03-29", "2024-03-30", "2024-03-31", "2024-04-01"],
    ),
    (
        "Berlin, across the October change (a 25-hour day)",
        lambda: dg.DailyPartitionsDefinition(start_date="2024-10-25", timezone=BERLIN),
        datetime(2024, 10, 30),
        days("2024-10-25", 5),
    ),
    (
        "New York at 02:00, whose March 10 has no 02:00",
        lambda: dg.DailyPartitionsDefinition(start_date="2024-03-08", timezone=NY, hour_offset=2),
        datetime(2024, 3, 13),
        days("2024-03-08", 4),
    ),
    # -- hourly -------------------------------------------------------------------------------
    (
        "hourly at :15",
        lambda: dg.HourlyPartitionsDefinition(start_date="2024-01-01-00:00", minute_offset=15),
        datetime(2024, 1, 1, 3),
        ["2024-01-01-00:15", "2024-01-01-01:15"],
    ),
    (
        "New York, March: 02:00 does not exist",
        lambda: dg.HourlyPartitionsDefinition(start_date="2024-03-09-22:00", timezone=NY),
        datetime(2024, 3, 10, 6),
        [
            "2024-03-09-22:00",
            "2024-03-09-23:00",
            "2024-03-10-00:00",
            "2024-03-10-01:00",
            "2024-03-10-03:00",
            "2024-03-10-04:00",
            "2024-03-10-05:00",
        ],
    ),
    (
        "New York, November: 01:00 twice, the second with its offset",
        lambda: dg.HourlyPartitionsDefinition(start_date="2024-11-02-22:00", timezone=NY),
        datetime(2024, 11, 3, 5),
        [
            "2024-11-02-22:00",
            "2024-11-02-23:00",
            "2024-11-03-00:00",
            "2024-11-03-01:00",
            "2024-11-03-01:00-0500",
            "2024-11-03-02:00",
            "2024-11-03-03:00",
            "2024-11-03-04:00",
        ],
    ),
    (
        "Berlin, October: 02:00 twice",
        lambda: dg.HourlyPartitionsDefinition(start_date="2024-10-26-23:00", timezone=BERLIN),
        datetime(2024, 10, 27, 5),
        [
            "2024-10-26-23:00",
            "2024-10-27-00:00",
            "2024-10-27-01:00",
            "2024-10-27-02:00",
            "2024-10-27-02:00+0100",
            "2024-10-27-03:00",
            "2024-10-27-04:00",
        ],
    ),
    (
        "a fmt with %z spells every offset",
        lambda: dg.HourlyPartitionsDefinition(
            start_date="2024-11-03-00:00-0400", timezone=NY, fmt="%Y-%m-%d-%H:%M%z"
        ),
        datetime(2024, 11, 3, 3),
        [
            "2024-11-03-00:00-0400",
            "2024-11-03-01:00-0400",
            "2024-11-03-01:00-0500",
            "2024-11-03-02:00-0500",
        ],
    ),
    (
        "Kolkata (+05:30): local hours",
        lambda: dg.HourlyPartitionsDefinition(
            start_date="2024-01-01-00:00", timezone="Asia/Kolkata"
        ),
        datetime(2024, 1, 1, 4),
        ["2024-01-01-00:00", "2024-01-01-01:00", "2024-01-01-02:00", "2024-01-01-03:00"],
    ),
    # -- weekly -------------------------------------------------------------------------------
    (
        "weekly starts on Sunday: the first full week from Monday Jan 1 starts Jan 7",
        lambda: dg.WeeklyPartitionsDefinition(start_date="2024-01-01"),
        datetime(2024, 3, 15, 12),
        [
            "2024-01-07",
            "2024-01-14",
            "2024-01-21",
            "2024-01-28",
            "2024-02-04",
            "2024-02-11",
            "2024-02-18",
            "2024-02-25",
            "2024-03-03",
        ],
    ),
    (
        "weekly on Mondays (day_offset=1)",
        lambda: dg.WeeklyPartitionsDefinition(start_date="2024-01-01", day_offset=1),
        datetime(2024, 3, 15, 12),
        [
            "2024-01-01",
            "2024-01-08",
            "2024-01-15",
            "2024-01-22",
            "2024-01-29",
            "2024-02-05",
            "2024-02-12",
            "2024-02-19",
            "2024-02-26",
            "2024-03-04",
        ],
    ),
    (
        "weekly on Wednesdays at 02:30",
        lambda: dg.WeeklyPartitionsDefinition(
            start_date="2024-01-01", day_offset=3, hour_offset=2, minute_offset=30
        ),
        datetime(2024, 2, 1),
        ["2024-01-03", "2024-01-10", "2024-01-17", "2024-01-24"],
    ),
    (
        "weekly in New York at 02:00, across March 10",
        lambda: dg.WeeklyPartitionsDefinition(start_date="2024-02-25", timezone=NY, hour_offset=2),
        datetime(2024, 3, 30),
        ["2024-02-25", "2024-03-03", "2024-03-10", "2024-03-17"],
    ),
    # -- monthly ------------------------------------------------------------------------------
    (
        "monthly: the first full month after the start",
        lambda: dg.MonthlyPartitionsDefinition(start_date="2023-10-15"),
        datetime(2024, 3, 15, 12),
        ["2023-11-01", "2023-12-01", "2024-01-01", "2024-02-01"],
    ),
    (
        "monthly from the 5th",
        lambda: dg.MonthlyPartitionsDefinition(start_date="2023-10-15", day_offset=5),
        datetime(2024, 3, 15, 12),
        ["2023-11-05", "2023-12-05", "2024-01-05", "2024-02-05"],
    ),
    (
        "monthly on the 31st skips months without one",
        lambda: dg.MonthlyPartitionsDefinition(start_date="2024-01-01", day_offset=31),
        datetime(2024, 8, 1),
        ["2024-01-31", "2024-03-31", "2024-05-31"],
    ),
    (
        "monthly with end_offset=1 adds the month in progress",
        lambda: dg.MonthlyPartitionsDefinition(start_date="2023-10-15", end_offset=1),
        datetime(2024, 3, 15, 12),
        ["2023-11-01", "2023-12-01", "2024-01-01", "2024-02-01", "2024-03-01"],
    ),
    (
        "monthly with end_offset=-1",
        lambda: dg.MonthlyPartitionsDefinition(start_date="2023-10-15", end_offset=-1),
        datetime(2024, 3, 15, 12),
        ["2023-11-01", "2023-12-01", "2024-01-01"],
    ),
    # -- any cron schedule --------------------------------------------------------------------
    (
        "every six hours",
        lambda: dg.TimeWindowPartitionsDefinition(
            cron_schedule="0 */6 * * *", start="2024-01-01-00:00", fmt="%Y-%m-%d-%H:%M"
        ),
        datetime(2024, 1, 2, 1),
        ["2024-01-01-00:00", "2024-01-01-06:00", "2024-01-01-12:00", "2024-01-01-18:00"],
    ),
    (
        "every 30 minutes in New York, November",
        lambda: dg.TimeWindowPartitionsDefinition(
            cron_schedule="*/30 * * * *",
            start="2024-11-03-00:00",
            fmt="%Y-%m-%d-%H:%M",
            timezone=NY,
        ),
        datetime(2024, 11, 3, 3),
        [
            "2024-11-03-00:00",
            "2024-11-03-00:30",
            "2024-11-03-01:00",
            "2024-11-03-01:30",
            "2024-11-03-01:00-0500",
            "2024-11-03-01:30-0500",
            "2024-11-03-02:00",
            "2024-11-03-02:30",
        ],
    ),
    (
        "every 30 minutes in New York, March",
        lambda: dg.TimeWindowPartitionsDefinition(
            cron_schedule="*/30 * * * *",
            start="2024-03-10-00:00",
            fmt="%Y-%m-%d-%H:%M",
            timezone=NY,
        ),
        datetime(2024, 3, 10, 4),
        [
            "2024-03-10-00:00",
            "2024-03-10-00:30",
            "2024-03-10-01:00",
            "2024-03-10-01:30",
            "2024-03-10-03:00",
            "2024-03-10-03:30",
        ],
    ),
    (
        "weekdays at 09:00",
        lambda: dg.TimeWindowPartitionsDefinition(
            cron_schedule="0 9 * * 1-5", start="2024-01-01", fmt="%Y-%m-%d"
        ),
        datetime(2024, 1, 10),
        ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"],
    ),
]


@pytest.mark.parametrize(
    ("make", "now", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_partition_keys(
    make: Callable[[], dg.TimeWindowPartitionsDefinition], now: datetime, expected: list[str]
) -> None:
    partitions = make()

    keys = list(partitions.get_partition_keys(current_time=now))

    assert keys == expected
    assert all(partitions.has_partition_key(k, current_time=now) for k in keys)
    assert partitions.get_first_partition_key(current_time=now) == (keys[0] if keys else None)
    assert partitions.get_last_partition_key(current_time=now) == (keys[-1] if keys else None)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


def in_utc(window: dg.TimeWindow) -> tuple[datetime, datetime]:
    # Aware datetimes of two zones compare unequal when one is a repeated local time (PEP 495),
    # so windows are compared in UTC.
    return (window.start.astimezone(timezone.utc), window.end.astimezone(timezone.utc))


def test_berlin_days_last_23_and_25_hours() -> None:
    partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone=BERLIN)

    spring = partitions.time_window_for_partition_key("2024-03-31")
    autumn = partitions.time_window_for_partition_key("2024-10-27")

    assert in_utc(spring) == (utc(2024, 3, 30, 23), utc(2024, 3, 31, 22))
    assert in_utc(autumn) == (utc(2024, 10, 26, 22), utc(2024, 10, 27, 23))


def test_new_york_hourly_windows_around_the_november_change() -> None:
    partitions = dg.HourlyPartitionsDefinition(start_date="2024-11-01-00:00", timezone=NY)

    first = partitions.time_window_for_partition_key("2024-11-03-01:00")
    second = partitions.time_window_for_partition_key("2024-11-03-01:00-0500")

    assert in_utc(first) == (utc(2024, 11, 3, 5), utc(2024, 11, 3, 6))
    assert in_utc(second) == (utc(2024, 11, 3, 6), utc(2024, 11, 3, 7))
    assert second.start.fold == 1
    assert not partitions.has_partition_key("2024-11-03-01:00-0400", current_time=utc(2024, 12, 1))


def test_daily_windows_whose_local_time_is_skipped_or_repeated() -> None:
    # Skipped (02:00 on March 10): the window starts when the gap ends. Repeated (01:00 on
    # November 3): it starts at the second 01:00.
    at_two = dg.DailyPartitionsDefinition(start_date="2024-03-08", timezone=NY, hour_offset=2)
    at_one = dg.DailyPartitionsDefinition(start_date="2024-11-01", timezone=NY, hour_offset=1)

    march = at_two.time_window_for_partition_key("2024-03-10")
    november = at_one.time_window_for_partition_key("2024-11-03")

    assert in_utc(march) == (utc(2024, 3, 10, 7), utc(2024, 3, 11, 6))  # 03:00 EDT, 02:00 EDT
    assert in_utc(november)[0] == utc(2024, 11, 3, 6)  # the second 01:00, in EST
    assert in_utc(at_one.time_window_for_partition_key("2024-11-02"))[1] == utc(2024, 11, 3, 6)


def test_weekly_window_is_seven_days_from_sunday() -> None:
    partitions = dg.WeeklyPartitionsDefinition(start_date="2024-01-01")

    window = partitions.time_window_for_partition_key("2024-01-07")

    assert in_utc(window) == (utc(2024, 1, 7), utc(2024, 1, 14))
    assert window.start.strftime("%A") == "Sunday"


def test_keys_in_range_and_in_window() -> None:
    partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-02-01")

    assert partitions.get_partition_keys_in_range(
        dg.PartitionKeyRange("2024-01-03", "2024-01-05")
    ) == ["2024-01-03", "2024-01-04", "2024-01-05"]
    window = dg.WeeklyPartitionsDefinition(start_date="2024-01-01").time_window_for_partition_key(
        "2024-01-07"
    )
    assert partitions.get_partition_keys_in_time_window(window) == days("2024-01-07", 7)
    with pytest.raises(dg.UnknownPartitionError):
        partitions.get_partition_keys_in_range(dg.PartitionKeyRange("2023-12-30", "2024-01-02"))


def test_has_partition_key_refuses_keys_not_on_a_window_start() -> None:
    partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-10")
    now = datetime(2024, 6, 1)

    assert partitions.has_partition_key("2024-01-09", current_time=now)
    assert not partitions.has_partition_key("2024-01-10", current_time=now)  # after end_date
    assert not partitions.has_partition_key("2023-12-31", current_time=now)
    assert not partitions.has_partition_key("2024-1-5x", current_time=now)
    assert not dg.WeeklyPartitionsDefinition(start_date="2024-01-01").has_partition_key(
        "2024-01-08", current_time=now
    )


def test_the_default_formats_and_offsets_are_dagsters() -> None:
    hourly = dg.HourlyPartitionsDefinition(start_date="2024-01-01-00:00")
    weekly = dg.WeeklyPartitionsDefinition(start_date="2024-01-01", day_offset=2, hour_offset=3)
    monthly = dg.MonthlyPartitionsDefinition(start_date="2024-01-01")

    assert hourly.fmt == "%Y-%m-%d-%H:%M"
    assert monthly.fmt == weekly.fmt == "%Y-%m-%d"
    assert (hourly.cron_schedule, weekly.cron_schedule) == ("0 * * * *", "0 3 * * 2")
    assert monthly.cron_schedule == "0 0 1 * *"
    assert (weekly.day_offset, weekly.hour_offset, monthly.day_offset) == (2, 3, 1)
    assert str(monthly) == "Monthly, starting 2024-01-01 UTC."
    assert dg.DailyPartitionsDefinition(
        start_date="2024-01-01"
    ) == dg.TimeWindowPartitionsDefinition(
        cron_schedule="0 0 * * *", start="2024-01-01", fmt="%Y-%m-%d"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: dg.HourlyPartitionsDefinition(start_date="2024-03-01"),
            "start '2024-03-01' does not match fmt '%Y-%m-%d-%H:%M'",
        ),
        (
            lambda: dg.DailyPartitionsDefinition(start_date="2024-01-01", fmt="%Y-%m"),
            "does not match fmt",
        ),
        (
            lambda: dg.DailyPartitionsDefinition(start_date="2024-01", fmt="%Y-%m"),
            "fmt '%Y-%m' gives two partitions the same key ('2024-01')",
        ),
        (
            lambda: dg.DailyPartitionsDefinition(start_date="2024-03-01", end_date="2024-02-01"),
            "start 2024-03-01 00:00 UTC is not before end 2024-02-01 00:00 UTC",
        ),
        (
            lambda: dg.DailyPartitionsDefinition(start_date="2024-03-01", timezone="Mars/Base"),
            "unknown timezone 'Mars/Base'",
        ),
        (
            lambda: dg.WeeklyPartitionsDefinition(start_date="2024-03-01", day_offset=7),
            "day_offset must be an int from 0 to 6",
        ),
        (
            lambda: dg.MonthlyPartitionsDefinition(start_date="2024-03-01", day_offset=0),
            "day_offset must be an int from 1 to 31",
        ),
        (
            lambda: dg.TimeWindowPartitionsDefinition(
                cron_schedule="every day", start="2024-01-01", fmt="%Y-%m-%d"
            ),
            "invalid cron schedule 'every day'",
        ),
        (
            lambda: dg.DailyPartitionsDefinition(start_date="2024-01-01", fmt="daily"),
            "fmt 'daily' is not a date format",
        ),
    ],
)
def test_definition_errors_name_the_line(make: Callable[[], object], message: str) -> None:
    with pytest.raises(dg.DefinitionError) as err:
        make()

    assert message in str(err.value)
    assert err.value.source is not None
    assert err.value.source.file == __file__
