# kind: assets taking a DuckDBResource from dagster_duckdb
# uses: dagster_duckdb.DuckDBResource, dagster.EnvVar, dagster.asset, dagster.materialize
import os
import tempfile

import dagster as dg
from dagster_duckdb import DuckDBResource

os.environ["DUCKDB_DATABASE"] = os.path.join(tempfile.mkdtemp(), "data.duckdb")
database_resource = DuckDBResource(database=dg.EnvVar("DUCKDB_DATABASE"))


@dg.asset(kinds={"duckdb"})
def zones(database: DuckDBResource) -> None:
    with database.get_connection() as conn:
        conn.execute("create or replace table zones as select 1 as zone_id")


@dg.asset(deps=["zones"])
def zone_count(database: DuckDBResource) -> int:
    with database.get_connection() as conn:
        return conn.execute("select count(*) from zones").fetchone()[0]


result = dg.materialize([zones, zone_count], resources={"database": database_resource})
assert result.success
assert result.output_for_node("zone_count") == 1
