"""The warehouse and dbt: one DuckDB file, written by the raw assets and by dbt."""

import bakehouse as dg
from bakehouse_dbt import DbtCliResource
from bakehouse_duckdb_pandas import DuckDBPandasIOManager
from jaffle.project import WAREHOUSE, jaffle_project


@dg.definitions
def resources() -> dg.Definitions:
    """DataFrames go to DuckDB tables (dbt's schema `main` for keys without a prefix)."""
    WAREHOUSE.parent.mkdir(parents=True, exist_ok=True)
    return dg.Definitions(
        resources={
            "io_manager": DuckDBPandasIOManager(database=str(WAREHOUSE), schema="main"),
            "dbt": DbtCliResource(project_dir=jaffle_project),
        }
    )
