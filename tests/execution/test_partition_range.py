"""A run of a partition range: each partitioned step runs once for the whole range, sees it on
its context, stores and loads one value per partition, and every partition of the range gets
its own planned, materialized or failed status."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.errors import ExecutionError
from bakehouse.storage import Instance
from bakehouse.storage.records import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    EventType,
    PartitionStatus,
)

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-11")
WEEKLY = dg.WeeklyPartitionsDefinition(start_date="2024-01-07", end_date="2024-01-21")

seen: list[dict[str, object]] = []


def _range(start: str, end: str) -> dict[str, str]:
    return {PARTITION_RANGE_START_TAG: start, PARTITION_RANGE_END_TAG: end}


def _days(first: int, last: int) -> list[str]:
    return [f"2024-01-{d:02d}" for d in range(first, last + 1)]


@dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def sales(context: dg.AssetExecutionContext) -> dict[str, str]:
    window = context.partition_time_window
    seen.append(
        {
            "has_key": context.has_partition_key,
            "has_range": context.has_partition_key_range,
            "range": tuple(context.partition_key_range),
            "keys": list(context.partition_keys),
            "window": (window.start, window.end),
        }
    )
    return {key: f"sales of {key}" for key in context.partition_keys}


@dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def sales_doubled(context: dg.AssetExecutionContext, sales: dict[str, str]) -> dict[str, str]:
    seen.append({"doubled_input": dict(sales)})
    return {key: value * 2 for key, value in sales.items()}


@dg.asset(partitions_def=WEEKLY)
def weekly_sales(context: dg.AssetExecutionContext, sales: dict[str, str]) -> int:
    return len(sales)


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    seen.clear()
    with Instance.for_home(tmp_path) as inst:
        yield inst


def test_a_range_runs_each_step_once_and_stores_every_partition(instance: Instance) -> None:
    result = dg.materialize(
        [sales, sales_doubled], instance=instance, tags=_range("2024-01-02", "2024-01-05")
    )

    assert result.success
    days = _days(2, 5)
    # One execution of each step, for the whole range.
    assert seen[0] == {
        "has_key": False,
        "has_range": True,
        "range": ("2024-01-02", "2024-01-05"),
        "keys": days,
        "window": (
            datetime.fromisoformat("2024-01-02T00:00:00+00:00"),
            datetime.fromisoformat("2024-01-06T00:00:00+00:00"),
        ),
    }
    # The downstream step of the same run got the upstream range as a dict by key.
    assert seen[1] == {"doubled_input": {d: f"sales of {d}" for d in days}}
    assert len(seen) == 2
    for day in days:
        stored = instance.storage_dir / "sales" / day
        assert pickle.loads(stored.read_bytes()) == f"sales of {day}"
        doubled = instance.storage_dir / "sales_doubled" / day
        assert pickle.loads(doubled.read_bytes()) == f"sales of {day}" * 2
    assert not (instance.storage_dir / "sales" / "2024-01-01").exists()
    # Planned and materialized: once per partition and asset.
    events = instance.get_events(result.run_id)
    for kind in (EventType.ASSET_MATERIALIZATION_PLANNED, EventType.ASSET_MATERIALIZATION):
        got = sorted((e.asset_key, e.partition_key) for e in events if e.event_type is kind)
        assert got == sorted((a, d) for a in ("sales", "sales_doubled") for d in days)
    assert [e.event_type for e in events].count(EventType.STEP_START) == 2
    for asset in ("sales", "sales_doubled"):
        status = instance.get_partition_status(asset)
        assert status == dict.fromkeys(days, PartitionStatus.MATERIALIZED)
    run = instance.get_run(result.run_id)
    assert run is not None
    assert run.partition_range == ("2024-01-02", "2024-01-05")
    assert run.partition_key is None


def test_a_later_run_reads_a_stored_range_through_its_partition_mapping(
    instance: Instance,
) -> None:
    dg.materialize([sales], instance=instance, tags=_range("2024-01-07", "2024-01-10"))
    # The week of 2024-01-07 reads its days the daily definition has (it ends on the 10th),
    # each from the file the range run wrote for it.
    result = dg.materialize(
        [sales, weekly_sales], selection="weekly_sales", instance=instance,
        partition_key="2024-01-07",
    )  # fmt: skip
    assert result.output_for_node("weekly_sales") == 4


def test_partition_key_on_a_range_of_several_keys_raises_clearly(instance: Instance) -> None:
    @dg.asset(partitions_def=DAILY)
    def needs_one_key(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    with pytest.raises(
        AttributeError, match=r"range of partitions \(2024-01-01\.\.\.2024-01-03, 3 keys\)"
    ):
        dg.materialize([needs_one_key], instance=instance, tags=_range("2024-01-01", "2024-01-03"))
    # A range of one key has that key.
    one = dg.materialize(
        [needs_one_key], instance=instance, tags=_range("2024-01-04", "2024-01-04")
    )
    assert one.output_for_node("needs_one_key") == "2024-01-04"


def test_a_failed_step_marks_every_partition_of_the_range_failed(instance: Instance) -> None:
    @dg.asset(partitions_def=DAILY)
    def fragile(context: dg.AssetExecutionContext) -> dict[str, int]:
        raise RuntimeError(f"bad range {context.partition_key_range.start}")

    result = dg.materialize(
        [fragile], instance=instance, tags=_range("2024-01-03", "2024-01-06"),
        raise_on_error=False,
    )  # fmt: skip
    assert not result.success
    assert instance.get_partition_status("fragile") == dict.fromkeys(
        _days(3, 6), PartitionStatus.FAILED
    )


def test_a_value_that_is_not_one_per_partition_fails_the_step_and_says_what_to_return(
    instance: Instance,
) -> None:
    @dg.asset(partitions_def=DAILY)
    def flat(context: dg.AssetExecutionContext) -> list[int]:
        return [1, 2, 3]

    @dg.asset(partitions_def=DAILY)
    def short(context: dg.AssetExecutionContext) -> dict[str, int]:
        return {"2024-01-01": 1, "2024-02-01": 2}

    with pytest.raises(TypeError, match="returned a list; return a dict with one value per"):
        dg.materialize([flat], instance=instance, tags=_range("2024-01-01", "2024-01-02"))
    with pytest.raises(ValueError, match="no value for 2024-01-02; keys outside the range: 2024"):
        dg.materialize([short], instance=instance, tags=_range("2024-01-01", "2024-01-02"))
    assert instance.get_partition_status("flat") == dict.fromkeys(
        _days(1, 2), PartitionStatus.FAILED
    )


def test_in_memory_io_manager_keeps_each_partition_of_a_range(instance: Instance) -> None:
    memory = dg.InMemoryIOManager()
    dg.materialize(
        [sales], instance=instance, resources={"io_manager": memory},
        tags=_range("2024-01-01", "2024-01-02"),
    )  # fmt: skip
    assert memory.values == {
        (dg.AssetKey("sales"), "2024-01-01"): "sales of 2024-01-01",
        (dg.AssetKey("sales"), "2024-01-02"): "sales of 2024-01-02",
    }


def test_bad_ranges_are_refused_before_any_run(instance: Instance) -> None:
    with pytest.raises(ExecutionError, match=r"range 2024-01-05\.\.\.2024-01-02 is empty"):
        dg.materialize([sales], instance=instance, tags=_range("2024-01-05", "2024-01-02"))
    with pytest.raises(dg.UnknownPartitionError):
        dg.materialize([sales], instance=instance, tags=_range("2024-01-01", "2030-01-01"))
    with pytest.raises(ExecutionError, match="not both"):
        dg.materialize(
            [sales], instance=instance, partition_key="2024-01-01",
            tags=_range("2024-01-01", "2024-01-02"),
        )  # fmt: skip
    with pytest.raises(ExecutionError, match="needs both tags"):
        dg.materialize([sales], instance=instance, tags={PARTITION_RANGE_START_TAG: "2024-01-01"})
    assert instance.get_runs(limit=None) == []


def test_backfill_policy_is_checked_at_import_and_named() -> None:
    assert str(dg.BackfillPolicy.single_run()) == "BackfillPolicy.single_run()"
    assert dg.BackfillPolicy.multi_run(3).max_partitions_per_run == 3
    assert dg.BackfillPolicy.multi_run().policy_type == "MULTI_RUN"
    assert sales.backfill_policy == dg.BackfillPolicy.single_run()
    with pytest.raises(ValueError, match="at least 1, got 0"):
        dg.BackfillPolicy.multi_run(0)
    with pytest.raises(dg.DefinitionError, match="backfill_policy must be BackfillPolicy"):

        @dg.asset(backfill_policy="single")  # type: ignore[call-overload, untyped-decorator]
        def wrong() -> None: ...

    @dg.multi_asset(
        outs={"a": dg.AssetOut(), "b": dg.AssetOut()},
        partitions_def=DAILY,
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=2),
    )
    def both() -> tuple[int, int]:
        return 1, 2

    assert both.backfill_policy == dg.BackfillPolicy.multi_run(2)
