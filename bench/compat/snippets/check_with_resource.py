# kind: assets keyed by a list and an asset check that queries DuckDB through a resource
# uses: dagster.asset_check, dagster.AssetCheckResult, dagster_duckdb.DuckDBResource, dagster.asset
import os
import tempfile

import dagster as dg
from dagster_duckdb import DuckDBResource


@dg.asset(kinds={"duckdb"}, key=["target", "main", "raw_customers"])
def raw_customers(duckdb: DuckDBResource) -> None:
    with duckdb.get_connection() as conn:
        conn.execute("create or replace table raw_customers as select 1 as id")


@dg.asset_check(asset=raw_customers, description="No null customer ids")
def missing_dimension_check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        row = conn.execute("select count(*) from raw_customers where id is null").fetchone()
    count = row[0] if row else 0
    return dg.AssetCheckResult(passed=count == 0, metadata={"customer_id is null": count})


database = DuckDBResource(database=os.path.join(tempfile.mkdtemp(), "jaffle.duckdb"))
result = dg.materialize([raw_customers, missing_dimension_check], resources={"duckdb": database})
assert result.success
assert all(e.passed for e in result.get_asset_check_evaluations())
