# kind: assets that log through their context and yield MaterializeResult, called directly in tests
# uses: dagster.build_asset_context, dagster.MaterializeResult, dagster.asset
import dagster as dg


@dg.asset(compute_kind="Python")
def state_population_file_logging(context: dg.AssetExecutionContext) -> list:
    context.log.info("reading the file")
    return [{"City": "New York"}]


@dg.asset
def total_population_meta_yield(rows: list):
    yield dg.MaterializeResult(metadata={"total_population": len(rows)})


assert state_population_file_logging(dg.build_asset_context()) == [{"City": "New York"}]
assert total_population_meta_yield([1, 2]).__next__() == dg.MaterializeResult(
    asset_key=None, metadata={"total_population": 2}
)
