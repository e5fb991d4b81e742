# kind: calling assets directly in tests: with a built context, with inputs, and comparing results
# uses: dagster.build_asset_context, dagster.MaterializeResult, dagster.StaticPartitionsDefinition,
#   dagster.Definitions.get_assets_def
import dagster as dg

files = dg.StaticPartitionsDefinition(["ca.csv", "ny.csv"])


@dg.asset(partitions_def=files)
def population_file_partition(context: dg.AssetExecutionContext) -> str:
    return context.partition_key


@dg.asset
def total_population_meta(rows: list) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"total_population": sum(rows)})


@dg.asset
def squared(number: int) -> int:
    return number * number


assert population_file_partition(dg.build_asset_context(partition_key="ny.csv")) == "ny.csv"
assert total_population_meta([1, 2]) == dg.MaterializeResult(
    asset_key=None, metadata={"total_population": 3}
)
defs = dg.Definitions(assets=[squared])
assert defs.get_assets_def("squared")(5) == 25
