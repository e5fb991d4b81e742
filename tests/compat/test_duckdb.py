"""`bakehouse_duckdb`, from the examples of Dagster's dagster-duckdb docs and the Essentials
course, run unchanged but for the imports (``dagster_duckdb`` -> ``bakehouse_duckdb``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pytest

import bakehouse as dg
from bakehouse_duckdb import DuckDBResource
from bakehouse_duckdb_pandas import DuckDBPandasIOManager
from bakehouse_duckdb_polars import DuckDBPolarsIOManager
from tests.support.faults import bh
from tests.support.projects import write_project
from tests.support.waiting import eventually


def rows(database: Path, query: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(query).fetchall()


# -- DuckDBResource ------------------------------------------------------------------------


def test_an_asset_writes_a_table_through_the_resource_as_in_the_essentials_course(
    tmp_path: Path,
) -> None:
    database = tmp_path / "taxi.duckdb"

    @dg.asset
    def taxi_trips(database: DuckDBResource) -> None:
        query = """
            create or replace table trips as (
                select * from (values (1, 2.5), (2, 7.0)) as t(trip_id, distance)
            );
        """
        with database.get_connection() as conn:
            conn.execute(query)

    @dg.asset(deps=["taxi_trips"])
    def trip_count(database: DuckDBResource) -> dg.MaterializeResult:
        with database.get_connection() as conn:
            count = conn.execute("select count(*) from trips").fetchone()[0]
        return dg.MaterializeResult(metadata={"count": count})

    result = dg.materialize(
        [taxi_trips, trip_count], resources={"database": DuckDBResource(database=str(database))}
    )

    assert result.success
    assert rows(database, "select trip_id from trips order by 1") == [(1,), (2,)]
    [event] = [e for e in result.get_asset_materialization_events() if e.step_key == "trip_count"]
    assert event.materialization.metadata["count"].value == 2


def test_get_connection_closes_the_connection_when_the_block_ends(tmp_path: Path) -> None:
    resource = DuckDBResource(database=str(tmp_path / "db.duckdb"))
    with resource.get_connection() as conn:
        conn.execute("create table t as select 1 as x")
    with pytest.raises(duckdb.ConnectionException):
        conn.execute("select 1")


def test_connection_config_reaches_duckdb(tmp_path: Path) -> None:
    resource = DuckDBResource(
        database=str(tmp_path / "db.duckdb"), connection_config={"threads": 3}
    )
    with resource.get_connection() as conn:
        assert conn.execute("select current_setting('threads')").fetchone()[0] == 3


HOLDER = textwrap.dedent(
    """
    import pathlib, sys, time
    from bakehouse_duckdb import DuckDBResource

    database, holding, release = sys.argv[1:]
    with DuckDBResource(database=database).get_connection() as conn:
        conn.execute("create table events (source varchar)")
        conn.execute("insert into events values ('holder')")
        pathlib.Path(holding).touch()
        while not pathlib.Path(release).exists():
            time.sleep(0.01)
    """
)


def test_a_second_process_waits_for_the_file_lock_instead_of_failing(tmp_path: Path) -> None:
    database, holding, release = tmp_path / "db.duckdb", tmp_path / "holding", tmp_path / "go"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(database), str(holding), str(release)]
    )
    try:
        eventually(holding.exists, message="the other process holding the database")
        # Really contended: a plain connect from this process is refused while it holds it.
        with pytest.raises(duckdb.IOException, match=r"(?i)lock"):
            duckdb.connect(str(database))

        outcome: list[object] = []

        def write() -> None:
            try:
                with DuckDBResource(database=str(database)).get_connection() as conn:
                    conn.execute("insert into events values ('waiter')")
                outcome.append("written")
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                outcome.append(exc)

        waiter = threading.Thread(target=write)
        waiter.start()
        waiter.join(timeout=0.5)
        assert waiter.is_alive(), f"get_connection gave up while the file was locked: {outcome}"
        release.touch()
        waiter.join(timeout=60)
        assert outcome == ["written"]
    finally:
        release.touch()
        holder.wait(timeout=60)
    assert holder.returncode == 0
    assert rows(database, "select source from events order by 1") == [("holder",), ("waiter",)]


def test_errors_other_than_the_lock_are_raised_at_once(tmp_path: Path) -> None:
    resource = DuckDBResource(database=str(tmp_path / "missing-folder" / "db.duckdb"))
    with pytest.raises(duckdb.IOException), resource.get_connection():
        pass


# -- DuckDBPandasIOManager and DuckDBPolarsIOManager ---------------------------------------


def test_pandas_frames_are_stored_as_tables_in_the_key_prefix_schema(tmp_path: Path) -> None:
    database = tmp_path / "my_db.duckdb"

    @dg.asset(key_prefix=["my_schema"])  # will be used as the schema in duckdb
    def my_table() -> pd.DataFrame:  # the name of the asset will be the table name
        return pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})

    @dg.asset(key_prefix=["my_schema"])
    def doubled(my_table: pd.DataFrame) -> pd.DataFrame:
        return my_table.assign(a=my_table["a"] * 2)

    result = dg.materialize(
        [my_table, doubled],
        resources={"io_manager": DuckDBPandasIOManager(database=str(database))},
    )

    assert result.success
    assert rows(database, "select a, b from my_schema.my_table order by a") == [
        (1, "x"),
        (2, "y"),
        (3, "z"),
    ]
    assert rows(database, "select a from my_schema.doubled order by a") == [(2,), (4,), (6,)]
    [event] = [
        e
        for e in result.get_asset_materialization_events()
        if (e.step_key or "").endswith("doubled")
    ]
    assert event.materialization.metadata["dagster/row_count"].value == 3


def test_a_second_materialization_replaces_the_table(tmp_path: Path) -> None:
    database = tmp_path / "db.duckdb"
    size = {"n": 3}

    @dg.asset
    def numbers() -> pd.DataFrame:
        return pd.DataFrame({"n": range(size["n"])})

    manager = DuckDBPandasIOManager(database=str(database))
    assert dg.materialize([numbers], resources={"io_manager": manager}).success
    size["n"] = 2
    assert dg.materialize([numbers], resources={"io_manager": manager}).success
    assert rows(database, "select n from public.numbers order by n") == [(0,), (1,)]


def test_schema_comes_from_metadata_then_the_key_prefix_then_the_io_manager(
    tmp_path: Path,
) -> None:
    database = tmp_path / "db.duckdb"

    @dg.asset(metadata={"schema": "from_metadata"})
    def a() -> pd.DataFrame:
        return pd.DataFrame({"x": [1]})

    @dg.asset(key_prefix="from_prefix")
    def b() -> pd.DataFrame:
        return pd.DataFrame({"x": [2]})

    @dg.asset
    def c() -> pd.DataFrame:
        return pd.DataFrame({"x": [3]})

    manager = DuckDBPandasIOManager(database=str(database), schema="from_config")
    assert dg.materialize([a, b, c], resources={"io_manager": manager}).success
    assert rows(database, "select x from from_metadata.a") == [(1,)]
    assert rows(database, "select x from from_prefix.b") == [(2,)]
    assert rows(database, "select x from from_config.c") == [(3,)]


def test_an_input_loads_only_the_columns_its_asset_in_names(tmp_path: Path) -> None:
    @dg.asset
    def iris_dataset() -> pd.DataFrame:
        return pd.DataFrame(
            {"sepal_length_cm": [5.1], "sepal_width_cm": [3.5], "species": ["Iris-setosa"]}
        )

    seen: dict[str, list[str]] = {}

    @dg.asset(
        ins={
            "iris_sepal": dg.AssetIn(
                key="iris_dataset", metadata={"columns": ["sepal_length_cm", "sepal_width_cm"]}
            )
        }
    )
    def sepal_data(iris_sepal: pd.DataFrame) -> pd.DataFrame:
        seen["columns"] = list(iris_sepal.columns)
        return iris_sepal

    manager = DuckDBPandasIOManager(database=str(tmp_path / "db.duckdb"))
    assert dg.materialize([iris_dataset, sepal_data], resources={"io_manager": manager}).success
    assert seen["columns"] == ["sepal_length_cm", "sepal_width_cm"]


def test_static_partitions_are_rows_where_the_partition_column_matches(tmp_path: Path) -> None:
    database = tmp_path / "db.duckdb"

    @dg.asset(
        partitions_def=dg.StaticPartitionsDefinition(["Iris-setosa", "Iris-virginica"]),
        metadata={"partition_expr": "species"},
    )
    def iris_dataset_partitioned(context: dg.AssetExecutionContext) -> pd.DataFrame:
        species = context.partition_key
        return pd.DataFrame({"species": [species, species], "run": [context.run_id] * 2})

    seen: list[list[str]] = []

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["Iris-setosa", "Iris-virginica"]))
    def iris_cleaned(iris_dataset_partitioned: pd.DataFrame) -> None:
        seen.append(sorted(set(iris_dataset_partitioned["species"])))

    manager = DuckDBPandasIOManager(database=str(database))
    defs = [iris_dataset_partitioned, iris_cleaned]
    for species in ["Iris-setosa", "Iris-virginica", "Iris-setosa"]:
        result = dg.materialize(defs, partition_key=species, resources={"io_manager": manager})
        assert result.success
    # Each partition's rows were replaced by its latest run, the other partition's kept.
    assert rows(
        database,
        "select species, count(*), count(distinct run) from "
        "public.iris_dataset_partitioned group by 1 order by 1",
    ) == [
        ("Iris-setosa", 2, 1),
        ("Iris-virginica", 2, 1),
    ]
    assert seen == [["Iris-setosa"], ["Iris-virginica"], ["Iris-setosa"]]


def test_time_partitions_are_a_window_on_the_partition_expression(tmp_path: Path) -> None:
    database = tmp_path / "db.duckdb"
    daily = dg.DailyPartitionsDefinition(start_date="2023-01-01")

    @dg.asset(partitions_def=daily, metadata={"partition_expr": "TO_TIMESTAMP(TIME)"})
    def iris_data_per_day(context: dg.AssetExecutionContext) -> pd.DataFrame:
        start = context.partition_time_window.start.timestamp()
        return pd.DataFrame({"TIME": [int(start) + 60, int(start) + 3600], "n": [1, 2]})

    manager = DuckDBPandasIOManager(database=str(database))
    for day in ["2023-01-01", "2023-01-02", "2023-01-01"]:
        assert dg.materialize(
            [iris_data_per_day], partition_key=day, resources={"io_manager": manager}
        ).success
    assert rows(
        database,
        "select cast(to_timestamp(TIME) as date)::varchar, count(*) from "
        "public.iris_data_per_day group by 1 order by 1",
    ) == [("2023-01-01", 2), ("2023-01-02", 2)]


def test_multi_partitions_take_one_partition_expression_per_dimension(tmp_path: Path) -> None:
    database = tmp_path / "db.duckdb"
    partitions = dg.MultiPartitionsDefinition(
        {
            "date": dg.DailyPartitionsDefinition(start_date="2023-01-01"),
            "species": dg.StaticPartitionsDefinition(["Iris-setosa", "Iris-virginica"]),
        }
    )

    @dg.asset(
        partitions_def=partitions,
        metadata={"partition_expr": {"date": "TO_TIMESTAMP(TIME)", "species": "SPECIES"}},
    )
    def iris_dataset_partitioned(context: dg.AssetExecutionContext) -> pd.DataFrame:
        # A MultiPartitionKey, which is a str; Dagster types partition_key as str too.
        keys = context.partition_key.keys_by_dimension  # type: ignore[attr-defined]
        start = (
            partitions.get_partitions_def_for_dimension("date")
            .time_window_for_partition_key(keys["date"])
            .start
        )
        return pd.DataFrame({"TIME": [int(start.timestamp()) + 10], "SPECIES": [keys["species"]]})

    manager = DuckDBPandasIOManager(database=str(database))
    for date, species in [
        ("2023-01-01", "Iris-setosa"),
        ("2023-01-01", "Iris-virginica"),
        ("2023-01-01", "Iris-setosa"),
    ]:
        key = dg.MultiPartitionKey({"date": date, "species": species})
        assert dg.materialize(
            [iris_dataset_partitioned], partition_key=key, resources={"io_manager": manager}
        ).success
    assert rows(
        database,
        "select SPECIES, count(*) from public.iris_dataset_partitioned group by 1 order by 1",
    ) == [("Iris-setosa", 1), ("Iris-virginica", 1)]


def test_a_partitioned_asset_without_partition_expr_fails_naming_the_metadata(
    tmp_path: Path,
) -> None:
    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a"]))
    def letters() -> pd.DataFrame:
        return pd.DataFrame({"x": [1]})

    manager = DuckDBPandasIOManager(database=str(tmp_path / "db.duckdb"))
    with pytest.raises(dg.DefinitionError, match="partition_expr"):
        dg.materialize([letters], partition_key="a", resources={"io_manager": manager})


def test_polars_frames_are_stored_and_loaded_as_polars(tmp_path: Path) -> None:
    database = tmp_path / "db.duckdb"

    @dg.asset(key_prefix=["analytics"])
    def trips() -> pl.DataFrame:
        return pl.DataFrame({"trip_id": [1, 2], "km": [2.5, 7.0]})

    loaded: list[object] = []

    @dg.asset(key_prefix=["analytics"])
    def long_trips(trips: pl.DataFrame) -> pl.LazyFrame:
        loaded.append(trips)
        return trips.lazy().filter(pl.col("km") > 5)

    manager = DuckDBPolarsIOManager(database=str(database))
    assert dg.materialize([trips, long_trips], resources={"io_manager": manager}).success
    assert isinstance(loaded[0], pl.DataFrame)
    assert rows(database, "select trip_id from analytics.long_trips") == [(2,)]


def test_a_value_the_io_manager_cannot_store_is_refused_by_type(tmp_path: Path) -> None:
    @dg.asset
    def not_a_frame() -> dict[str, int]:
        return {"a": 1}

    manager = DuckDBPandasIOManager(database=str(tmp_path / "db.duckdb"))
    with pytest.raises(TypeError, match="cannot store the dict returned by asset 'not_a_frame'"):
        dg.materialize([not_a_frame], resources={"io_manager": manager})


# -- two steps of one run sharing a database file ------------------------------------------

WRITERS = """
import pathlib
import time

import bakehouse as dg
from bakehouse_duckdb import DuckDBResource

MARKS = pathlib.Path(__file__).resolve().parents[3] / "marks"


def wait_for(name: str) -> None:
    deadline = time.monotonic() + 60
    while not (MARKS / name).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {name} marker: the two steps did not run at once")
        time.sleep(0.01)


@dg.asset
def first_writer(duckdb: DuckDBResource) -> None:
    with duckdb.get_connection() as conn:
        conn.execute("create table if not exists events (source varchar)")
        conn.execute("insert into events values ('first')")
        (MARKS / "first_holding").touch()
        wait_for("second_waiting")
        # Held a little longer: the other step is now inside get_connection, retrying.
        time.sleep(0.5)


@dg.asset
def second_writer(duckdb: DuckDBResource) -> None:
    wait_for("first_holding")
    (MARKS / "second_waiting").touch()
    with duckdb.get_connection() as conn:
        conn.execute("create table if not exists events (source varchar)")
        conn.execute("insert into events values ('second')")


both_writers = dg.define_asset_job(
    "both_writers",
    selection=[first_writer, second_writer],
    executor_def=dg.multiprocess_executor.configured({"max_concurrent": 2}),
)

defs = dg.Definitions(
    resources={"duckdb": DuckDBResource(database=str(MARKS.parent / "warehouse.duckdb"))}
)
"""


@pytest.mark.slow
def test_two_steps_of_a_multiprocess_run_share_the_database_file_in_turn(tmp_path: Path) -> None:
    project = write_project(tmp_path / "shop", "shop", {"defs/writers.py": WRITERS})
    (project / "marks").mkdir()
    done = bh("launch", "--job", "both_writers", cwd=project, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (project / "marks" / "second_waiting").exists()  # they really overlapped
    assert rows(project / "warehouse.duckdb", "select source from events order by 1") == [
        ("first",),
        ("second",),
    ]
