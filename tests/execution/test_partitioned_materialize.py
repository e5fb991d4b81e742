"""Materializing partitioned assets in process: one partition per run, inputs through mappings."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import bakehouse as dg
from bakehouse.storage import Instance
from bakehouse.storage.records import EventType, PartitionStatus

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01")
WEEKLY = dg.WeeklyPartitionsDefinition(start_date="2024-01-01")
MONTHLY = dg.MonthlyPartitionsDefinition(start_date="2024-01-01")
REGIONS = dg.StaticPartitionsDefinition(["us", "eu"])

seen: dict[str, Any] = {}


@dg.asset(partitions_def=DAILY)
def daily_sales(context: dg.AssetExecutionContext) -> str:
    context.log.info(f"day {context.partition_key}")
    return f"sales of {context.partition_key}"


@dg.asset(partitions_def=MONTHLY)
def monthly_plan(context: dg.AssetExecutionContext) -> str:
    return f"plan of {context.partition_key}"


@dg.asset(partitions_def=WEEKLY)
def weekly_sales(context: dg.AssetExecutionContext, daily_sales: dict[str, str]) -> int:
    seen["weekly_sales"] = daily_sales
    seen["window"] = context.partition_time_window
    seen["range"] = context.partition_key_range
    return len(daily_sales)


@dg.asset(partitions_def=WEEKLY)
def weekly_plan(monthly_plan: dict[str, str]) -> None:
    seen["weekly_plan"] = monthly_plan


@dg.asset(partitions_def=DAILY)
def day_of_week(weekly_sales: int) -> None:
    seen["day_of_week"] = weekly_sales


@dg.asset(
    partitions_def=DAILY,
    ins={
        "daily_sales": dg.AssetIn(
            partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
        )
    },
)
def day_before(daily_sales: str) -> None:
    seen["day_before"] = daily_sales


@dg.asset
def company_config() -> dict[str, int]:
    return {"target": 10}


@dg.asset(partitions_def=DAILY)
def daily_target(company_config: dict[str, int]) -> None:
    seen["daily_target"] = company_config


ALL = [
    daily_sales,
    monthly_plan,
    weekly_sales,
    weekly_plan,
    day_of_week,
    day_before,
    company_config,
    daily_target,
]


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    seen.clear()
    with Instance.for_home(tmp_path) as inst:
        yield inst


def days(first: int, last: int) -> list[str]:
    return [f"2024-01-{d:02d}" for d in range(first, last + 1)]


def fill_days(instance: Instance, first: int, last: int) -> None:
    for key in days(first, last):
        dg.materialize([daily_sales], partition_key=key, instance=instance)


def test_a_partition_is_stored_below_its_asset_and_every_step_event_names_it(
    instance: Instance,
) -> None:
    result = dg.materialize([daily_sales], partition_key="2024-01-03", instance=instance)

    path = instance.storage_dir / "daily_sales" / "2024-01-03"
    assert pickle.loads(path.read_bytes()) == "sales of 2024-01-03"
    step_events = [e for e in result.all_events if e.step_key]
    assert {e.event_type for e in step_events} >= {
        EventType.STEP_START,
        EventType.LOG,
        EventType.STEP_OUTPUT,
        EventType.ASSET_MATERIALIZATION,
        EventType.STEP_SUCCESS,
    }
    assert {e.partition_key for e in step_events} == {"2024-01-03"}
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.partition == "2024-01-03"
    assert instance.get_run(result.run_id).partition_key == "2024-01-03"
    latest = instance.get_latest_materializations(["daily_sales"])["daily_sales"]
    assert latest.partition_key == "2024-01-03"


def test_rerunning_a_partition_replaces_it(instance: Instance, tmp_path: Path) -> None:
    counter = {"n": 0}

    @dg.asset(partitions_def=DAILY, name="daily_sales")
    def counted(context: dg.AssetExecutionContext) -> str:
        counter["n"] += 1
        return f"run {counter['n']} of {context.partition_key}"

    dg.materialize([counted], partition_key="2024-01-03", instance=instance)
    dg.materialize([counted], partition_key="2024-01-04", instance=instance)
    dg.materialize([counted], partition_key="2024-01-03", instance=instance)

    folder = instance.storage_dir / "daily_sales"
    assert sorted(p.name for p in folder.iterdir()) == ["2024-01-03", "2024-01-04"]
    assert pickle.loads((folder / "2024-01-03").read_bytes()) == "run 3 of 2024-01-03"


def test_weekly_over_daily_reads_exactly_the_seven_days_of_its_week(instance: Instance) -> None:
    fill_days(instance, 5, 15)

    result = dg.materialize(
        ALL, selection=[weekly_sales], partition_key="2024-01-07", instance=instance
    )

    assert seen["weekly_sales"] == {key: f"sales of {key}" for key in days(7, 13)}
    assert list(seen["weekly_sales"]) == days(7, 13)
    assert seen["range"] == dg.PartitionKeyRange("2024-01-07", "2024-01-07")
    assert seen["window"] == WEEKLY.time_window_for_partition_key("2024-01-07")
    loaded = [e for e in result.all_events if e.event_type == EventType.STEP_INPUT]
    assert loaded[0].data["upstream_partitions"] == days(7, 13)


def test_weekly_over_monthly_reads_the_months_its_week_overlaps(instance: Instance) -> None:
    for key in ["2024-01-01", "2024-02-01"]:
        dg.materialize([monthly_plan], partition_key=key, instance=instance)

    dg.materialize(ALL, selection=[weekly_plan], partition_key="2024-01-28", instance=instance)

    assert seen["weekly_plan"] == {
        "2024-01-01": "plan of 2024-01-01",
        "2024-02-01": "plan of 2024-02-01",
    }


def test_daily_over_weekly_reads_its_week_as_one_value(instance: Instance) -> None:
    fill_days(instance, 7, 13)
    dg.materialize(ALL, selection=[weekly_sales], partition_key="2024-01-07", instance=instance)

    dg.materialize(ALL, selection=[day_of_week], partition_key="2024-01-10", instance=instance)

    assert seen["day_of_week"] == 7


def test_an_offset_mapping_reads_the_day_before(instance: Instance) -> None:
    fill_days(instance, 4, 5)

    dg.materialize(ALL, selection=[day_before], partition_key="2024-01-05", instance=instance)
    assert seen["day_before"] == "sales of 2024-01-04"
    # The first day has no day before: the input is None, as with Dagster's IO managers.
    dg.materialize(ALL, selection=[day_before], partition_key="2024-01-01", instance=instance)
    assert seen["day_before"] is None


def test_partitioned_and_unpartitioned_assets_in_one_call(instance: Instance) -> None:
    result = dg.materialize(
        [company_config, daily_target], partition_key="2024-01-02", instance=instance
    )

    assert seen["daily_target"] == {"target": 10}
    materialized = {
        (e.asset_key.to_user_string(), e.materialization.partition)
        for e in result.get_asset_materialization_events()
    }
    assert materialized == {("company_config", None), ("daily_target", "2024-01-02")}
    assert (instance.storage_dir / "company_config").is_file()


def test_an_unpartitioned_asset_reads_every_partition(instance: Instance) -> None:
    days_three = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")

    @dg.asset(partitions_def=days_three)
    def visits(context: dg.AssetExecutionContext) -> int:
        return int(context.partition_key[-2:])

    @dg.asset
    def all_visits(visits: dict[str, int]) -> int:
        seen["all_visits"] = visits
        return sum(visits.values())

    for key in days_three.get_partition_keys():
        dg.materialize([visits], partition_key=key, instance=instance)
    result = dg.materialize([visits, all_visits], selection=[all_visits], instance=instance)

    assert seen["all_visits"] == {"2024-01-01": 1, "2024-01-02": 2, "2024-01-03": 3}
    assert result.asset_value("all_visits") == 6


def test_multi_partitions_map_to_a_single_dimension(instance: Instance) -> None:
    days_two = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-03")
    by_region = dg.MultiPartitionsDefinition({"date": days_two, "region": REGIONS})

    @dg.asset(partitions_def=by_region)
    def orders(context: dg.AssetExecutionContext) -> str:
        key = context.partition_key
        assert isinstance(key, dg.MultiPartitionKey)
        return f"{key.keys_by_dimension['region']} on {key.keys_by_dimension['date']}"

    @dg.asset(partitions_def=days_two)
    def orders_per_day(orders: dict[str, str]) -> None:
        seen["orders_per_day"] = orders

    for key in by_region.get_partition_keys():
        dg.materialize([orders], partition_key=key, instance=instance)
    dg.materialize(
        [orders, orders_per_day],
        selection=[orders_per_day],
        partition_key="2024-01-02",
        instance=instance,
    )

    assert seen["orders_per_day"] == {
        "2024-01-02|us": "us on 2024-01-02",
        "2024-01-02|eu": "eu on 2024-01-02",
    }
    assert (instance.storage_dir / "orders" / "2024-01-02" / "eu").is_file()


def test_static_partition_mapping(instance: Instance) -> None:
    raw = dg.StaticPartitionsDefinition(["raw_us", "raw_eu", "raw_all"])

    @dg.asset(partitions_def=raw)
    def feeds(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    @dg.asset(
        partitions_def=REGIONS,
        deps=[],
        ins={
            "feeds": dg.AssetIn(
                partition_mapping=dg.StaticPartitionMapping(
                    {"raw_us": "us", "raw_eu": "eu", "raw_all": ["us", "eu"]}
                )
            )
        },
    )
    def region_feed(feeds: dict[str, str]) -> None:
        seen["region_feed"] = feeds

    for key in raw.get_partition_keys():
        dg.materialize([feeds], partition_key=key, instance=instance)
    dg.materialize(
        [feeds, region_feed], selection=[region_feed], partition_key="us", instance=instance
    )

    assert seen["region_feed"] == {"raw_us": "raw_us", "raw_all": "raw_all"}


def test_dynamic_partitions_are_checked_against_the_instance(instance: Instance) -> None:
    fruits = dg.DynamicPartitionsDefinition(name="fruits")

    @dg.asset(partitions_def=fruits)
    def fruit(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    instance.add_dynamic_partitions("fruits", ["apple"])

    assert dg.materialize([fruit], partition_key="apple", instance=instance).success
    with pytest.raises(dg.UnknownPartitionError, match="no partition 'kiwi'"):
        dg.materialize([fruit], partition_key="kiwi", instance=instance)


def test_context_partition_api_and_direct_invocation() -> None:
    @dg.asset(partitions_def=WEEKLY)
    def probe(context: dg.AssetExecutionContext) -> dict[str, Any]:
        return {
            "has": context.has_partition_key,
            "key": context.partition_key,
            "output": context.asset_partition_key_for_output(),
            "start": context.partition_time_window.start.isoformat(),
        }

    result = probe(dg.build_asset_context(partition_key="2024-01-14"))

    assert result == {
        "has": True,
        "key": "2024-01-14",
        "output": "2024-01-14",
        "start": "2024-01-14T00:00:00+00:00",
    }
    plain = dg.build_asset_context()
    assert plain.has_partition_key is False
    with pytest.raises(AttributeError, match="non-partitioned run"):
        _ = plain.partition_key


@pytest.mark.parametrize(
    ("assets", "key", "message"),
    [
        ([daily_sales], "2023-12-31", "no partition '2023-12-31'"),
        ([daily_sales], None, "['daily_sales'] are partitioned: choose a partition"),
        ([company_config], "2024-01-01", "no asset in this run is partitioned"),
        ([daily_sales, weekly_sales], "2024-01-07", "must share one partitions definition"),
    ],
)
def test_wrong_partitions_are_refused_before_the_run(
    instance: Instance, assets: list[dg.AssetsDefinition], key: str | None, message: str
) -> None:
    with pytest.raises(dg.BakehouseError) as err:
        dg.materialize(assets, partition_key=key, instance=instance)

    assert message in str(err.value)
    assert instance.get_runs() == []


def test_jobs_run_one_partition(instance: Instance) -> None:
    job = dg.define_asset_job("daily_job", selection=[daily_sales], partitions_def=DAILY)
    defs = dg.Definitions(assets=[daily_sales], jobs=[job])

    result = defs.resolve_job_def("daily_job").execute_in_process(
        partition_key="2024-01-09", instance=instance
    )

    assert result.success
    assert (instance.storage_dir / "daily_sales" / "2024-01-09").is_file()


def test_a_job_mixing_partitions_definitions_is_refused_at_load() -> None:
    job = dg.define_asset_job("mixed", selection=[daily_sales, weekly_sales])
    defs = dg.Definitions(assets=[daily_sales, weekly_sales], jobs=[job])

    with pytest.raises(dg.DefinitionError, match="selects assets partitioned differently"):
        defs.validate()


def test_a_static_mapping_between_time_partitions_is_refused_at_load() -> None:
    @dg.asset(
        partitions_def=WEEKLY,
        ins={"daily_sales": dg.AssetIn(partition_mapping=dg.StaticPartitionMapping({}))},
    )
    def misfit(daily_sales: str) -> None: ...

    with pytest.raises(dg.DefinitionError, match="needs static partitions on both sides"):
        dg.Definitions(assets=[daily_sales, misfit]).validate()


def test_partition_status_follows_materialize_runs(instance: Instance) -> None:
    seen_status: list[dict[str, PartitionStatus]] = []
    fail = {"2024-01-02"}

    @dg.asset(partitions_def=DAILY, name="daily_sales")
    def flaky(context: dg.AssetExecutionContext) -> str:
        # While the step runs, storage shows the run's partition in progress.
        seen_status.append(context.instance.get_partition_status("daily_sales"))
        if context.partition_key in fail:
            raise ValueError(f"no data for {context.partition_key}")
        return context.partition_key

    first = dg.materialize([flaky], partition_key="2024-01-01", instance=instance)
    failed = dg.materialize(
        [flaky], partition_key="2024-01-02", instance=instance, raise_on_error=False
    )

    assert not failed.success
    assert seen_status == [
        {"2024-01-01": PartitionStatus.IN_PROGRESS},
        {"2024-01-01": PartitionStatus.MATERIALIZED, "2024-01-02": PartitionStatus.IN_PROGRESS},
    ]
    assert instance.get_partition_status("daily_sales") == {
        "2024-01-01": PartitionStatus.MATERIALIZED,
        "2024-01-02": PartitionStatus.FAILED,
    }
    planned = [
        (e.asset_key, e.partition_key)
        for e in instance.get_events(failed.run_id)
        if e.event_type == EventType.ASSET_MATERIALIZATION_PLANNED
    ]
    assert planned == [("daily_sales", "2024-01-02")]

    # A re-run that succeeds replaces the failure; one that fails replaces the success.
    fail.clear()
    dg.materialize([flaky], partition_key="2024-01-02", instance=instance)
    fail.add("2024-01-01")
    dg.materialize([flaky], partition_key="2024-01-01", instance=instance, raise_on_error=False)
    assert instance.get_partition_status("daily_sales") == {
        "2024-01-01": PartitionStatus.FAILED,
        "2024-01-02": PartitionStatus.MATERIALIZED,
    }
    assert instance.get_partition_status_counts("daily_sales") == {
        PartitionStatus.FAILED: 1,
        PartitionStatus.MATERIALIZED: 1,
    }
    # The failed partition's last good materialization is still the first run's.
    latest = instance.get_latest_partition_materializations("daily_sales")
    assert latest["2024-01-01"].run_id == first.run_id
    assert sorted(latest) == ["2024-01-01", "2024-01-02"]


def test_unpartitioned_assets_of_a_partitioned_run_get_no_partition_status(
    instance: Instance,
) -> None:
    result = dg.materialize(
        [company_config, daily_target], partition_key="2024-01-02", instance=instance
    )
    planned = [
        e.asset_key
        for e in instance.get_events(result.run_id)
        if e.event_type == EventType.ASSET_MATERIALIZATION_PLANNED
    ]
    assert planned == ["daily_target"]
    assert instance.get_partition_status("company_config") == {}
    assert instance.get_partition_status("daily_target") == {
        "2024-01-02": PartitionStatus.MATERIALIZED
    }
