"""Issue 12 item 8: `DagsterInstance`, from Dagster's docs (testing sensors, dynamic partitions,
"how to get the metadata of the latest materialization"), run with ``import bakehouse as dg``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import bakehouse as dg


@dg.asset
def my_table() -> int:
    return 1


@dg.asset
def asset1() -> dg.Output[int]:
    return dg.Output(value=5, metadata={"num_rows": 5})


def test_materialize_into_an_ephemeral_instance_and_read_the_latest_materialization() -> None:
    instance = dg.DagsterInstance.ephemeral()
    assert instance.get_latest_materialization_event(dg.AssetKey(["asset1"])) is None
    result = dg.materialize([asset1], instance=instance)
    assert result.success
    assert result.instance is instance
    event = instance.get_latest_materialization_event(dg.AssetKey(["asset1"]))
    assert event is not None
    assert event.run_id == result.run_id
    assert event.asset_materialization.metadata["num_rows"].value == 5
    assert event.dagster_event.asset_key == dg.AssetKey("asset1")
    instance.close()


def test_an_asset_reads_another_assets_metadata_through_context_instance() -> None:
    @dg.asset
    def asset_1_num_rows(context: dg.AssetExecutionContext) -> int:
        instance = context.instance
        materialization = instance.get_latest_materialization_event(
            dg.AssetKey(["asset1"])
        ).asset_materialization
        return int(materialization.metadata["num_rows"].value)

    with dg.DagsterInstance.ephemeral() as instance:
        dg.materialize([asset1], instance=instance)
        result = dg.materialize([asset_1_num_rows], instance=instance)
        assert result.output_for_node("asset_1_num_rows") == 5


def test_the_asset_sensor_testing_example_from_dagsters_docs() -> None:
    @dg.job
    def my_job() -> None:
        pass

    @dg.asset_sensor(asset_key=dg.AssetKey("my_table"), job=my_job)
    def my_asset_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):  # type: ignore[no-untyped-def]
        assert asset_event.dagster_event
        assert asset_event.dagster_event.asset_key
        yield dg.RunRequest(run_key=context.cursor)

    instance = dg.DagsterInstance.ephemeral()
    ctx = dg.build_sensor_context(instance)

    result = list(my_asset_sensor(ctx))
    assert len(result) == 1
    assert isinstance(result[0], dg.SkipReason)

    dg.materialize([my_table], instance=instance)

    result = list(my_asset_sensor(ctx))
    assert len(result) == 1
    assert isinstance(result[0], dg.RunRequest)
    # The cursor moved past the event: the same materialization is not seen twice.
    assert isinstance(next(iter(my_asset_sensor(ctx))), dg.SkipReason)


def test_a_sensor_adds_dynamic_partitions_through_its_instance() -> None:
    fruits = dg.DynamicPartitionsDefinition(name="fruits")

    @dg.sensor(asset_selection=["fruit"])
    def new_fruits(context: dg.SensorEvaluationContext) -> list[dg.RunRequest]:
        new = [
            k for k in ("apple", "pear") if not context.instance.has_dynamic_partition("fruits", k)
        ]
        context.instance.add_dynamic_partitions("fruits", new)
        return [dg.RunRequest(partition_key=k) for k in new]

    with dg.DagsterInstance.ephemeral() as instance:
        requests = new_fruits(dg.build_sensor_context(instance=instance))
        assert [r.partition_key for r in requests] == ["apple", "pear"]
        assert new_fruits(dg.build_sensor_context(instance=instance)) == []
        assert instance.get_dynamic_partitions("fruits") == ["apple", "pear"]
        assert fruits.get_partition_keys(dynamic_partitions_store=instance) == ["apple", "pear"]
        instance.delete_dynamic_partition("fruits", "apple")
        assert instance.get_dynamic_partitions("fruits") == ["pear"]
        assert not instance.has_dynamic_partition("fruits", "apple")


def test_get_runs_and_get_run_by_id() -> None:
    @dg.asset
    def fails() -> None:
        raise ValueError("no")

    with dg.DagsterInstance.ephemeral() as instance:
        ok = dg.materialize([my_table], instance=instance)
        bad = dg.materialize([fails], instance=instance, raise_on_error=False)
        runs = instance.get_runs()
        assert [r.run_id for r in runs] == [bad.run_id, ok.run_id]
        ok_run = instance.get_run_by_id(ok.run_id)
        assert ok_run is not None
        assert ok_run.status == dg.DagsterRunStatus.SUCCESS
        assert instance.get_run_by_id("nope") is None
        failed = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
        assert [r.run_id for r in failed] == [bad.run_id]
        assert len(instance.get_runs(limit=1)) == 1


def test_event_records_of_one_partition() -> None:
    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
    def parted() -> dg.Output[int]:
        return dg.Output(value=1, metadata={"num_rows": 5})

    with dg.DagsterInstance.ephemeral() as instance:
        dg.materialize([parted], instance=instance, partition_key="a")
        dg.materialize([parted], instance=instance, partition_key="b")
        records = instance.get_event_records(
            event_records_filter=dg.EventRecordsFilter(
                event_type=dg.DagsterEventType.ASSET_MATERIALIZATION,
                asset_key=dg.AssetKey(["parted"]),
                asset_partitions=["a"],
            ),
            limit=1,
        )
        assert [r.partition_key for r in records] == ["a"]
        assert records[0].asset_materialization.metadata["num_rows"].value == 5
        page = instance.fetch_materializations(dg.AssetKey("parted"), limit=1)
        assert [r.partition_key for r in page.records] == ["b"]
        assert page.has_more
        rest = instance.fetch_materializations(dg.AssetKey("parted"), limit=5, cursor=page.cursor)
        assert [r.partition_key for r in rest.records] == ["a"]
        assert not rest.has_more


def test_build_asset_context_takes_an_instance() -> None:
    @dg.asset
    def reads(context: dg.AssetExecutionContext) -> int:
        return len(context.instance.get_runs())

    with dg.DagsterInstance.ephemeral() as instance:
        dg.materialize([my_table], instance=instance)
        assert reads(dg.build_asset_context(instance=instance)) == 1


def test_get_opens_the_projects_storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAKEHOUSE_STORAGE_URL", raising=False)
    monkeypatch.setenv("BAKEHOUSE_HOME", str(tmp_path / "home"))
    with dg.DagsterInstance.get() as instance:
        run = dg.materialize([my_table], instance=instance)
    with dg.DagsterInstance.get() as again:
        assert again.get_run_by_id(run.run_id) is not None
    assert (tmp_path / "home" / "bakehouse.db").exists()


def test_get_outside_a_project_without_a_home_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Differs on purpose: Dagster's message names DAGSTER_HOME; ours the bakehouse variables.
    monkeypatch.delenv("BAKEHOUSE_STORAGE_URL", raising=False)
    monkeypatch.delenv("BAKEHOUSE_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert not os.path.exists(tmp_path / "pyproject.toml")
    with pytest.raises(dg.BakehouseError, match="BAKEHOUSE_HOME"):
        dg.DagsterInstance.get()
