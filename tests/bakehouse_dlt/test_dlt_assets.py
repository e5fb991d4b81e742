"""`bakehouse_dlt` as Dagster's "Using dlt with Dagster" guide uses `dagster_dlt`: a dlt source
of several resources becomes one asset per resource, loaded into DuckDB by dlt's own pipeline,
with the load's metadata on each materialization."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest

import bakehouse as dg
from bakehouse_dlt import (
    DagsterDltResource,
    DagsterDltTranslator,
    DltResourceTranslatorData,
    dlt_assets,
)
from tests.support.faults import bh
from tests.support.projects import write_project


@dlt.source
def shop() -> Any:
    @dlt.resource(primary_key="id", write_disposition="replace")
    def customers() -> Iterator[list[dict[str, Any]]]:
        """Customers of the shop."""
        yield [{"id": 1, "name": "ada"}, {"id": 2, "name": "grace"}]

    @dlt.resource(write_disposition="replace")
    def orders() -> Iterator[list[dict[str, Any]]]:
        yield [
            {"id": 1, "customer_id": 1, "amount": 3.5, "items": [{"sku": "a"}, {"sku": "b"}]},
            {"id": 2, "customer_id": 2, "amount": 1.25, "items": [{"sku": "c"}]},
            {"id": 3, "customer_id": 1, "amount": 8.0, "items": []},
        ]

    @dlt.transformer(data_from=customers, write_disposition="replace")
    def customer_names(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for row in rows:
            yield {"id": row["id"], "upper": row["name"].upper()}

    return customers, orders, customer_names


def _pipeline(tmp_path: Path) -> Any:
    return dlt.pipeline(
        pipeline_name="shop_pipeline",
        destination=dlt.destinations.duckdb(str(tmp_path / "shop.duckdb")),
        dataset_name="raw",
        pipelines_dir=str(tmp_path / "pipelines"),
    )


def _tables(tmp_path: Path) -> set[str]:
    with duckdb.connect(str(tmp_path / "shop.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    return {r[0] for r in rows if not r[0].startswith("_dlt")}


def _assets(tmp_path: Path, **kwargs: Any) -> dg.AssetsDefinition:
    @dlt_assets(dlt_source=shop(), dlt_pipeline=_pipeline(tmp_path), **kwargs)
    def shop_assets(context: dg.AssetExecutionContext, dlt: DagsterDltResource) -> Any:
        yield from dlt.run(context=context)

    return shop_assets


def test_one_asset_per_resource_with_dagsters_default_keys_deps_and_kinds(tmp_path: Path) -> None:
    assets = _assets(tmp_path, group_name="ingest")
    specs = {s.key.to_user_string(): s for s in assets.specs}
    assert sorted(specs) == ["dlt_shop_customer_names", "dlt_shop_customers", "dlt_shop_orders"]
    assert list(specs["dlt_shop_orders"].deps) == [dg.AssetKey("shop_orders")]
    # A transformer depends on the data its parent resource loads.
    assert list(specs["dlt_shop_customer_names"].deps) == [dg.AssetKey("shop_customers")]
    assert specs["dlt_shop_customers"].description == "Customers of the shop."
    assert set(specs["dlt_shop_orders"].kinds) == {"dlt", "duckdb"}
    assert {s.group_name for s in specs.values()} == {"ingest"}


def test_materializing_loads_every_table_and_reports_dlts_load_metadata(tmp_path: Path) -> None:
    result = dg.materialize([_assets(tmp_path)], resources={"dlt": DagsterDltResource()})
    assert result.success
    assert _tables(tmp_path) == {"customers", "orders", "orders__items", "customer_names"}
    events = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    orders = events["dlt_shop_orders"]
    assert orders["rows_loaded"].value == 3
    assert orders["dataset_name"].value == "raw"
    assert orders["destination_name"].value == "duckdb"
    assert orders["dagster/table_name"].value == "duckdb.raw.orders"
    columns = {c["name"]: c["type"] for c in orders["dagster/column_schema"].value["columns"]}
    assert columns["amount"] == "double"
    assert columns["customer_id"] == "bigint"
    assert orders["jobs"].value
    assert all(j["table_name"] == "orders" for j in orders["jobs"].value)
    assert events["dlt_shop_customer_names"]["rows_loaded"].value == 2


def test_a_subset_run_loads_only_the_selected_resources(tmp_path: Path) -> None:
    result = dg.materialize(
        [_assets(tmp_path)], resources={"dlt": DagsterDltResource()}, selection=["dlt_shop_orders"]
    )
    assert result.success
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [
        dg.AssetKey("dlt_shop_orders")
    ]
    assert _tables(tmp_path) == {"orders", "orders__items"}


def test_fetch_row_count_adds_the_destination_tables_row_count(tmp_path: Path) -> None:
    @dlt_assets(dlt_source=shop().with_resources("orders"), dlt_pipeline=_pipeline(tmp_path))
    def counted(context: dg.AssetExecutionContext, dlt: DagsterDltResource) -> Any:
        yield from dlt.run(context=context).fetch_row_count()

    result = dg.materialize([counted], resources={"dlt": DagsterDltResource()})
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["dagster/row_count"].value == 3


def test_a_translator_changes_keys_and_the_run_follows_it(tmp_path: Path) -> None:
    class Prefixed(DagsterDltTranslator):
        def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
            default = super().get_asset_spec(data)
            return default.replace_attributes(key=dg.AssetKey(["raw", data.resource.name]))

    assets = _assets(tmp_path, dagster_dlt_translator=Prefixed())
    assert {k.to_user_string() for k in assets.keys} == {
        "raw/customers",
        "raw/orders",
        "raw/customer_names",
    }
    result = dg.materialize(
        [assets], resources={"dlt": DagsterDltResource()}, selection=["raw/customers"]
    )
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [
        dg.AssetKey(["raw", "customers"])
    ]


def test_a_failing_resource_fails_the_step_with_dlts_error(tmp_path: Path) -> None:
    @dlt.source
    def broken() -> Any:
        @dlt.resource
        def rows() -> Iterator[dict[str, Any]]:
            yield {"id": 1}
            raise RuntimeError("the API returned 503")

        return rows

    @dlt_assets(dlt_source=broken(), dlt_pipeline=_pipeline(tmp_path))
    def broken_assets(context: dg.AssetExecutionContext, dlt: DagsterDltResource) -> Any:
        yield from dlt.run(context=context)

    result = dg.materialize(
        [broken_assets], resources={"dlt": DagsterDltResource()}, raise_on_error=False
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type.value == "STEP_FAILURE"]
    assert "the API returned 503" in failure.message + json.dumps(failure.data)


def test_run_from_an_op_needs_the_source_and_pipeline(tmp_path: Path) -> None:
    with pytest.raises(dg.DefinitionError, match="give dlt_source and dlt_pipeline"):
        DagsterDltResource().run(context=dg.build_op_context())
    events = list(
        DagsterDltResource().run(
            context=dg.build_op_context(),
            dlt_source=shop().with_resources("customers"),
            dlt_pipeline=_pipeline(tmp_path),
        )
    )
    assert [e.asset_key for e in events] == [dg.AssetKey("dlt_shop_customers")]


@pytest.mark.slow
def test_dlt_assets_load_in_a_code_location_and_run_through_bh_launch(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "ingest",
        "ingest",
        {
            "defs/loads.py": f"""
            import dlt
            import bakehouse as dg
            from bakehouse_dlt import DagsterDltResource, dlt_assets

            @dlt.source
            def weather():
                @dlt.resource(write_disposition="replace")
                def readings():
                    yield [{{"city": "Oslo", "celsius": -3.5}}, {{"city": "Lima", "celsius": 19.0}}]
                return readings

            pipeline = dlt.pipeline(
                pipeline_name="weather",
                destination=dlt.destinations.duckdb({str(tmp_path / "weather.duckdb")!r}),
                dataset_name="raw",
                pipelines_dir={str(tmp_path / "pipelines")!r},
            )

            @dlt_assets(dlt_source=weather(), dlt_pipeline=pipeline)
            def weather_assets(context: dg.AssetExecutionContext, dlt: DagsterDltResource):
                yield from dlt.run(context=context)

            @dg.asset(deps=["dlt_weather_readings"])
            def warmest() -> str:
                import duckdb
                with duckdb.connect({str(tmp_path / "weather.duckdb")!r}, read_only=True) as con:
                    return con.execute(
                        "select city from raw.readings order by celsius desc limit 1"
                    ).fetchone()[0]

            defs = dg.Definitions(resources={{"dlt": DagsterDltResource()}})
            """,
        },
    )
    env = {"RUNTIME__DLTHUB_TELEMETRY": "false"}
    listed = bh("list", "defs", "--json", cwd=project, env=env)
    assert listed.returncode == 0, listed.stderr
    keys = sorted(a["key"] for a in json.loads(listed.stdout)["assets"])
    # The data dlt reads is an upstream asset of its own, as in Dagster.
    assert keys == ["dlt_weather_readings", "warmest", "weather_readings"]
    launched = bh("launch", "--assets", "*", cwd=project, env=env)
    assert launched.returncode == 0, launched.stdout + launched.stderr
    assert "SUCCESS" in launched.stdout
    assert "2 assets materialized" in launched.stdout
    with duckdb.connect(str(tmp_path / "weather.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.readings").fetchone() == (2,)
