"""`bakehouse_dbt`, from the examples of Dagster's dagster-dbt docs (the dbt quickstart, custom
translators, upstream and downstream assets, partitioned dbt assets), run unchanged but for the
imports (``dagster`` -> ``bakehouse``, ``dagster_dbt`` -> ``bakehouse_dbt``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pytest

import bakehouse as dg
from bakehouse_dbt import (
    DagsterDbtTranslator,
    DbtCliResource,
    DbtProject,
    dbt_assets,
    get_asset_key_for_model,
)
from bakehouse_duckdb_pandas import DuckDBPandasIOManager
from tests.support.dbt_projects import copy_jaffle_dbt, table_rows

pytestmark = pytest.mark.usefixtures("dbt_executable")


def test_the_quickstart_definitions_load_and_name_every_model(parsed_jaffle: Path) -> None:
    # "Load dbt models as Dagster assets": a DbtProject, its manifest, one @dbt_assets.
    my_project = DbtProject(project_dir=parsed_jaffle)
    my_project.prepare_if_dev()

    @dbt_assets(manifest=my_project.manifest_path)
    def my_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        yield from dbt.cli(["build"], context=context).stream()

    defs = dg.Definitions(
        assets=[my_dbt_assets], resources={"dbt": DbtCliResource(project_dir=my_project)}
    )
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey("customers") in graph.get_all_asset_keys()
    assert dg.AssetKey(["raw", "orders"]) in graph.get_all_asset_keys()  # the source, external


def test_a_custom_translator_prefixes_keys_and_names_groups(parsed_jaffle: Path) -> None:
    # "Customizing asset keys" and "Customizing group names" of the dbt reference.
    class CustomDagsterDbtTranslator(DagsterDbtTranslator):
        def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
            return super().get_asset_key(dbt_resource_props).with_prefix("snowflake")

        def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
            return "snowflake"

    @dbt_assets(
        manifest=parsed_jaffle / "target" / "manifest.json",
        dagster_dbt_translator=CustomDagsterDbtTranslator(),
    )
    def my_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        yield from dbt.cli(["build"], context=context).stream()

    assert dg.AssetKey(["snowflake", "orders"]) in my_dbt_assets.keys
    assert set(my_dbt_assets.group_names_by_key.values()) == {"snowflake"}


def test_the_course_translator_maps_sources_to_python_assets(parsed_jaffle: Path) -> None:
    # The dbt lesson of Dagster Essentials: sources named after the Python assets loading them.
    class CustomizedDagsterDbtTranslator(DagsterDbtTranslator):
        def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
            resource_type = dbt_resource_props["resource_type"]
            name = dbt_resource_props["name"]
            if resource_type == "source":
                return dg.AssetKey(f"taxi_{name}")
            return super().get_asset_key(dbt_resource_props)

    @dbt_assets(
        manifest=parsed_jaffle / "target" / "manifest.json",
        dagster_dbt_translator=CustomizedDagsterDbtTranslator(),
    )
    def dbt_analytics(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        yield from dbt.cli(["build"], context=context).stream()

    assert dbt_analytics.specs_by_key[dg.AssetKey("stg_orders")].deps == (
        dg.AssetKey("taxi_orders"),
    )


@pytest.mark.slow  # runs dbt
def test_upstream_and_downstream_python_assets_around_dbt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Upstream dependencies" (an asset keyed like the dbt source) and "Downstream
    # dependencies" (deps=[get_asset_key_for_model(...)]) of the dbt reference.
    database = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("JAFFLE_DUCKDB", str(database))
    project = DbtProject(copy_jaffle_dbt(tmp_path / "jaffle_dbt"))
    project.prepare_if_dev()

    def frame(name: str) -> pd.DataFrame:
        return pd.read_csv(Path(__file__).parents[2] / "examples/jaffle/data" / f"raw_{name}.csv")

    @dg.asset(key_prefix="raw")
    def customers() -> pd.DataFrame:
        return frame("customers")

    @dg.asset(key_prefix="raw")
    def orders() -> pd.DataFrame:
        return frame("orders")

    @dg.asset(key_prefix="raw")
    def payments() -> pd.DataFrame:
        return frame("payments")

    @dbt_assets(manifest=project.manifest_path)
    def my_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        yield from dbt.cli(["build"], context=context).stream()

    seen: list[int] = []

    @dg.asset(deps=[get_asset_key_for_model([my_dbt_assets], "customers")])
    def customers_report() -> None:
        (count,) = table_rows(database, "select count(*) from main.customers")
        seen.append(cast(int, count[0]))

    result = dg.materialize(
        [customers, orders, payments, my_dbt_assets, customers_report],
        resources={
            "dbt": DbtCliResource(project_dir=project),
            "io_manager": DuckDBPandasIOManager(database=str(database)),
        },
    )
    assert result.success
    assert seen == [8]
