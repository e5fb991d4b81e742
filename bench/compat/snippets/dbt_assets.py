# kind: dbt models as assets with dagster_dbt (dbt_assets, DbtCliResource, a custom translator)
# uses: dagster_dbt.dbt_assets, dagster_dbt.DbtCliResource, dagster_dbt.DagsterDbtTranslator,
#   dagster.AssetKey, dagster.AssetExecutionContext
# needs: dagster_dbt
import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets


class Translator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props):
        return dg.AssetKey(f"taxi_{dbt_resource_props['name']}")


@dbt_assets(manifest="target/manifest.json", dagster_dbt_translator=Translator())
def dbt_analytics(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["run"], context=context).stream()
