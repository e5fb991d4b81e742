# kind: assets with MaterializeResult metadata, AssetKey deps and key_prefix, materialized in a test
# uses: dagster.MetadataValue.md, dagster.asset, dagster.MaterializeResult,
#   dagster.MetadataValue.int, dagster.AssetKey, dagster.materialize
import dagster as dg


@dg.asset(group_name="raw_files", kinds={"python"})
def zones_file() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"Number of records": dg.MetadataValue.int(3)})


@dg.asset(deps=[dg.AssetKey(["zones_file"])], key_prefix="manhattan")
def stats() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"preview": dg.MetadataValue.md("| a |\n|---|\n| 1 |")})


@dg.asset(deps=[dg.AssetKey(["manhattan", "stats"])])
def stats_map() -> None:
    pass


result = dg.materialize([zones_file, stats, stats_map])
assert result.success
