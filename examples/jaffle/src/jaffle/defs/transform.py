"""The dbt project: its seeds, models and snapshot as assets, its tests as asset checks."""

import bakehouse as dg
from bakehouse_dbt import DbtCliResource, dbt_assets
from jaffle.project import jaffle_project


@dbt_assets(manifest=jaffle_project.manifest_path, project=jaffle_project)
def jaffle_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Builds what the run selected: models, seeds and snapshots with their tests."""
    yield from dbt.cli(["build"], context=context).stream()
