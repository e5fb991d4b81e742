# kind: replication assets from dagster_sling (sling_assets, SlingResource)
# uses: dagster_sling.sling_assets, dagster_sling.SlingResource, dagster.file_relative_path
# needs: dagster_sling
import dagster as dg
from dagster_sling import SlingResource, sling_assets

replication_config = dg.file_relative_path(__file__, "sling_replication.yaml")


@sling_assets(replication_config=replication_config)
def postgres_sling_assets(context, sling: SlingResource):
    yield from sling.replicate(context=context)
