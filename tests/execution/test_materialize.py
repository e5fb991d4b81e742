"""`materialize()`: selections, instances, and what the result offers."""

from __future__ import annotations

from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.errors import ExecutionError, SelectionError
from bakehouse.storage import Instance
from bakehouse.storage.records import RunStatus

VENDOR = dg.AssetSpec("vendor_feed")


@dg.asset(deps=[VENDOR, "never_defined"])
def raw() -> list[int]:
    return [1, 2, 3]


@dg.asset
def clean(raw: list[int]) -> list[int]:
    return [x * 10 for x in raw]


@dg.asset
def report(clean: list[int]) -> int:
    return sum(clean)


@dg.asset(group_name="other")
def unrelated() -> str:
    return "x"


ASSETS: list[dg.AssetsDefinition | dg.AssetSpec] = [VENDOR, raw, clean, report, unrelated]


def materialized(result: dg.ExecuteInProcessResult) -> list[str]:
    return [str(e.asset_key) for e in result.get_asset_materialization_events()]


def test_everything_with_a_function_runs_in_dependency_order() -> None:
    result = dg.materialize(ASSETS)
    assert result.success
    done = materialized(result)
    assert sorted(done) == ["clean", "raw", "report", "unrelated"]
    assert done.index("raw") < done.index("clean") < done.index("report")
    assert result.asset_value("report") == 60


def test_a_selection_reaching_external_assets_runs_what_has_a_function() -> None:
    # `+report` reaches vendor_feed (a spec) and never_defined (nobody's): inputs, not steps.
    result = dg.materialize(ASSETS, selection="+report")
    assert result.success
    assert materialized(result) == ["raw", "clean", "report"]


@pytest.mark.parametrize(
    "selection",
    [
        "clean+",
        dg.AssetSelection.keys("clean").downstream(),
        [clean, report],
        ["clean", "report"],
    ],
)
def test_a_selection_loads_what_it_does_not_run_from_storage(
    tmp_path: Path, selection: object
) -> None:
    with Instance.for_home(tmp_path) as instance:
        first = dg.materialize([raw], instance=instance)
        second = dg.materialize(ASSETS, selection=selection, instance=instance)

    assert first.success
    assert second.success
    assert materialized(second) == ["clean", "report"]
    assert second.asset_value("report") == 60


def test_a_selection_with_nothing_to_run_is_refused() -> None:
    with pytest.raises(ExecutionError, match="nothing to materialize"):
        dg.materialize(ASSETS, selection="vendor_feed")
    with pytest.raises(SelectionError, match="Did you mean 'report'"):
        dg.materialize(ASSETS, selection="reprt")


def test_a_given_instance_keeps_the_run_its_tags_and_config(tmp_path: Path) -> None:
    class Limit(dg.Config):
        n: int

    @dg.asset
    def limited(config: Limit) -> int:
        return config.n

    with Instance.for_home(tmp_path) as instance:
        result = dg.materialize(
            [limited],
            instance=instance,
            tags={"team": "data"},
            run_config=dg.RunConfig(ops={"limited": Limit(n=4)}),
        )
        run = instance.get_run(result.run_id)
        stored_events = instance.get_events(result.run_id)

    assert result.instance is instance
    assert run.status == RunStatus.SUCCESS
    assert run.tags == {"team": "data"}
    assert run.run_config == {"ops": {"limited": {"config": {"n": 4}}}}
    assert run.asset_selection == ("limited",)
    assert [e.event_type for e in stored_events] == [e.event_type for e in result.all_events]


def test_a_temporary_instance_is_cleaned_up() -> None:
    result = dg.materialize([raw])
    path = Path(result.metadata_for("raw")["path"]["value"])
    assert result.instance is None
    assert not path.exists()


def test_result_lookups() -> None:
    result = dg.materialize_to_memory(ASSETS)

    assert result.output_for_node("clean") == [10, 20, 30]
    [report_materialization] = result.asset_materializations_for_node("report")
    assert report_materialization.asset_key == dg.AssetKey("report")
    with pytest.raises(KeyError, match="asset 'nope' produced no value in this run"):
        result.asset_value("nope")
    with pytest.raises(KeyError, match="no output 'result' of node 'nope'"):
        result.output_for_node("nope")
    with pytest.raises(KeyError, match="asset 'vendor_feed' was not materialized in this run"):
        result.metadata_for("vendor_feed")


def test_materialize_to_memory_writes_no_files_and_keeps_given_resources(tmp_path: Path) -> None:
    memory = dg.InMemoryIOManager()
    result = dg.materialize_to_memory([raw, clean], resources={"io_manager": memory})
    assert result.success
    assert {k.to_user_string() for k, _ in memory.values} == {"raw", "clean"}
    assert "path" not in result.metadata_for("raw")


def test_materialization_events_read_like_dagsters() -> None:
    @dg.asset(key_prefix="lake")
    def counted() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 3, "preview": dg.MetadataValue.md("# x")})

    result = dg.materialize_to_memory([counted])

    [event] = result.get_asset_materialization_events()
    assert event.asset_key == dg.AssetKey(["lake", "counted"])
    assert event.step_key == "lake__counted"
    assert event.event_type_value == "ASSET_MATERIALIZATION"
    metadata = event.materialization.metadata
    assert metadata["rows"].value == 3
    assert metadata["preview"] == dg.MetadataValue.md("# x")
    assert event.step_materialization_data.materialization is event.materialization
    assert event.event_specific_data.materialization.metadata["rows"].value == 3
    assert event.record.asset_key == "lake/counted"
    [materialization] = result.asset_materializations_for_node("lake__counted")
    assert materialization.metadata["rows"] == dg.MetadataValue.int(3)


def test_output_for_node_by_step_and_output_name() -> None:
    @dg.multi_asset(outs={"left": dg.AssetOut(key_prefix="p"), "right": dg.AssetOut()})
    def split() -> tuple[str, str]:
        return "L", "R"

    @dg.asset(key_prefix="lake")
    def clean() -> str:
        return "lake clean"

    result = dg.materialize_to_memory([split, clean])

    assert result.output_for_node("split", "left") == "L"
    assert result.output_for_node("split", "right") == "R"
    assert result.output_for_node("lake__clean") == "lake clean"
    assert result.output_for_node("clean") == "lake clean"  # a key's last part, when unique
    with pytest.raises(KeyError, match="no output 'result' of node 'split'"):
        result.output_for_node("split")
    with pytest.raises(KeyError, match="no output 'middle' of node 'split'"):
        result.output_for_node("split", "middle")
