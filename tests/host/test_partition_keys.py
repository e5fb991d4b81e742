"""The host computes the same partition keys from a snapshot as the definition does in user code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pytest

import bakehouse as dg
from bakehouse.codeserver.loader import partitions_snap
from bakehouse.host.partition_keys import partition_keys

NOW = datetime(2024, 11, 5, 7, 30, tzinfo=timezone.utc)
DEFINITIONS: dict[str, Callable[[], dg.PartitionsDefinition]] = {
    "daily": lambda: dg.DailyPartitionsDefinition(start_date="2024-01-01"),
    "daily end_offset=1": lambda: dg.DailyPartitionsDefinition(
        start_date="2024-01-01", end_offset=1
    ),
    "daily New York end_offset=-2": lambda: dg.DailyPartitionsDefinition(
        start_date="2024-01-01", end_offset=-2, timezone="America/New_York"
    ),
    "hourly over a DST change": lambda: dg.HourlyPartitionsDefinition(
        start_date="2024-11-02-00:00", timezone="America/New_York"
    ),
    "weekly with end": lambda: dg.WeeklyPartitionsDefinition(
        start_date="2023-12-01", end_date="2024-06-01"
    ),
    "monthly offsets": lambda: dg.MonthlyPartitionsDefinition(
        start_date="2022-01-01", day_offset=5, hour_offset=3
    ),
    "custom cron": lambda: dg.TimeWindowPartitionsDefinition(
        start="2024-10-01-00:00", fmt="%Y-%m-%d-%H:%M", cron_schedule="0 */6 * * 1-5"
    ),
    "multi": lambda: dg.MultiPartitionsDefinition(
        {
            "date": dg.DailyPartitionsDefinition(start_date="2024-10-01"),
            "region": dg.StaticPartitionsDefinition(["us", "eu"]),
        }
    ),
    "static": lambda: dg.StaticPartitionsDefinition(["b", "a", "c"]),
}


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_keys_from_the_snapshot_equal_the_definitions(name: str) -> None:
    definition = DEFINITIONS[name]()
    snap = partitions_snap(definition)
    assert snap is not None
    expected = list(definition.get_partition_keys(current_time=NOW))
    assert expected  # a case with no keys would prove nothing
    assert partition_keys(snap, dynamic_keys=lambda _: [], now=NOW.timestamp()) == expected


def test_hourly_keys_of_the_repeated_autumn_hour_carry_their_offset() -> None:
    snap = partitions_snap(
        dg.HourlyPartitionsDefinition(start_date="2024-11-03-00:00", timezone="America/New_York")
    )
    assert snap is not None
    keys = partition_keys(snap, dynamic_keys=lambda _: [], now=NOW.timestamp())
    assert keys[:4] == [
        "2024-11-03-00:00",
        "2024-11-03-01:00",
        "2024-11-03-01:00-0500",
        "2024-11-03-02:00",
    ]


def test_dynamic_keys_come_from_the_reader_given() -> None:
    snap = partitions_snap(dg.DynamicPartitionsDefinition(name="files"))
    assert snap is not None
    asked: list[str] = []

    def read(name: str) -> list[str]:
        asked.append(name)
        return ["x.csv", "y.csv"]

    assert partition_keys(snap, dynamic_keys=read) == ["x.csv", "y.csv"]
    assert asked == ["files"]
