# kind: dbt models as assets with dagster_dbt (dbt_assets, DbtCliResource, a custom translator)
# uses: dagster_dbt.dbt_assets, dagster_dbt.DbtCliResource, dagster_dbt.DagsterDbtTranslator,
#   dagster.AssetKey, dagster.AssetExecutionContext
# needs: dagster_dbt
import json
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

# The manifest `dbt parse` writes for a one-model project (the course's has more models): the
# model `trips` reads the source `raw.trips`.
Path("target").mkdir(exist_ok=True)
source = {
    "unique_id": "source.analytics.raw.trips",
    "resource_type": "source",
    "source_name": "raw",
    "name": "trips",
    "fqn": ["analytics", "raw", "trips"],
    "database": "dev",
    "schema": "raw",
    "identifier": "trips",
    "package_name": "analytics",
    "original_file_path": "models/sources.yml",
    "config": {"enabled": True},
    "meta": {},
    "tags": [],
    "description": "",
    "columns": {},
}
model = {
    "unique_id": "model.analytics.trips",
    "resource_type": "model",
    "name": "trips",
    "package_name": "analytics",
    "fqn": ["analytics", "trips"],
    "database": "dev",
    "schema": "main",
    "alias": "trips",
    "config": {"enabled": True, "materialized": "table", "meta": {}, "tags": []},
    "meta": {},
    "tags": [],
    "description": "Taxi trips, cleaned.",
    "columns": {},
    "checksum": {"name": "sha256", "checksum": "0f3c"},
    "original_file_path": "models/trips.sql",
    "raw_code": "select * from {{ source('raw', 'trips') }}",
    "depends_on": {"nodes": [source["unique_id"]], "macros": []},
}
manifest = {
    "metadata": {"adapter_type": "duckdb", "project_name": "analytics"},
    "nodes": {model["unique_id"]: model},
    "sources": {source["unique_id"]: source},
    "child_map": {source["unique_id"]: [model["unique_id"]], model["unique_id"]: []},
    "parent_map": {model["unique_id"]: [source["unique_id"]], source["unique_id"]: []},
    **{
        kind: {}
        for kind in ("metrics", "exposures", "semantic_models", "saved_queries", "unit_tests")
    },
    **{kind: {} for kind in ("macros", "docs", "groups", "selectors", "disabled")},
}
Path("target/manifest.json").write_text(json.dumps(manifest))


class Translator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props):
        resource_type = dbt_resource_props["resource_type"]
        name = dbt_resource_props["name"]
        if resource_type == "source":
            return dg.AssetKey(f"taxi_{name}")
        return super().get_asset_key(dbt_resource_props)


@dbt_assets(manifest="target/manifest.json", dagster_dbt_translator=Translator())
def dbt_analytics(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["run"], context=context).stream()


assert dg.AssetKey("trips") in dbt_analytics.keys
