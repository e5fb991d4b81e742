"""Runs of `@dbt_assets` on real dbt-core and dbt-duckdb: dbt builds what the run selected and
its results become materializations and check evaluations as dbt reports them."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import bakehouse as dg
from bakehouse_dbt import DbtCliInvocation, DbtCliResource, DbtProject, dbt_assets
from bakehouse_duckdb_pandas import DuckDBPandasIOManager
from tests.support.dbt_projects import JAFFLE, load_raw_tables, table_rows

# every test runs dbt in a subprocess, seconds each
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("dbt_executable")]


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DuckDB file holding the raw tables, which the project's profiles.yml points at."""
    database = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("JAFFLE_DUCKDB", str(database))
    load_raw_tables(database)
    return database


def jaffle_assets(project_dir: Path, invocations: list[DbtCliInvocation]) -> dg.AssetsDefinition:
    @dbt_assets(manifest=project_dir / "target" / "manifest.json")
    def jaffle(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        invocation = dbt.cli(["build"], context=context)
        invocations.append(invocation)
        yield from invocation.stream()

    return jaffle


def ran(invocation: DbtCliInvocation) -> list[str]:
    """What dbt itself says it ran (the invocation's run_results.json)."""
    return [r["unique_id"] for r in invocation.get_artifact("run_results.json")["results"]]


def test_a_build_materializes_models_evaluates_tests_and_feeds_a_pandas_asset(
    parsed_jaffle: Path, warehouse: Path
) -> None:
    invocations: list[DbtCliInvocation] = []
    jaffle = jaffle_assets(parsed_jaffle, invocations)

    @dg.asset(ins={"customers": dg.AssetIn(key="customers")})
    def report(customers: pd.DataFrame) -> dg.MaterializeResult[None]:
        return dg.MaterializeResult(metadata={"orders": int(customers["number_of_orders"].sum())})

    result = dg.materialize(
        [jaffle, report],
        resources={
            "dbt": DbtCliResource(project_dir=str(parsed_jaffle)),
            "io_manager": DuckDBPandasIOManager(database=str(warehouse), schema="main"),
        },
    )
    assert result.success
    materialized = {
        e.asset_key.to_user_string(): e for e in result.get_asset_materialization_events()
    }
    assert set(materialized) == {
        "payment_methods",
        "stg_customers",
        "stg_orders",
        "stg_payments",
        "orders",
        "customers",
        "customers_snapshot",
        "report",
    }
    seed = materialized["payment_methods"].materialization.metadata
    assert seed["dagster/row_count"] == 4  # dbt-duckdb reports the rows a seed loaded
    assert seed["unique_id"] == "seed.jaffle_shop.payment_methods"
    orders = materialized["orders"].materialization.metadata
    assert orders["Execution Duration"].value > 0
    assert "dbt/execute_seconds" in orders
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 13
    assert all(c.passed for c in checks)
    # Every order, read back from dbt's table by the pandas asset.
    assert materialized["report"].materialization.metadata["orders"] == 12
    assert table_rows(warehouse, "select count(*) from main.customers") == [(8,)]
    assert len(ran(invocations[0])) == 20  # 1 seed, 5 models, 1 snapshot, 13 tests


def test_selecting_one_model_runs_only_that_model_and_its_tests(
    parsed_jaffle: Path, warehouse: Path
) -> None:
    invocations: list[DbtCliInvocation] = []
    jaffle = jaffle_assets(parsed_jaffle, invocations)

    result = dg.materialize(
        [jaffle],
        selection=dg.AssetSelection.assets("stg_orders"),
        resources={"dbt": DbtCliResource(project_dir=str(parsed_jaffle))},
    )
    assert result.success
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [
        dg.AssetKey("stg_orders")
    ]
    ids = ran(invocations[0])
    assert [i for i in ids if not i.startswith("test.")] == ["model.jaffle_shop.stg_orders"]
    assert len([i for i in ids if i.startswith("test.")]) == 3  # the model's own tests
    assert {c.asset_key for c in result.get_asset_check_evaluations()} == {
        dg.AssetKey("stg_orders")
    }


def test_a_failing_dbt_test_is_a_failed_check_and_fails_the_step(
    parsed_jaffle: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAFFLE_FAIL_CHECK", "1")  # the singular test returns every order
    jaffle = jaffle_assets(parsed_jaffle, [])

    result = dg.materialize(
        [jaffle],
        resources={"dbt": DbtCliResource(project_dir=str(parsed_jaffle))},
        raise_on_error=False,
    )
    assert not result.success
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert [(c.asset_key, c.check_name) for c in failed] == [
        (dg.AssetKey("orders"), "assert_order_amounts_not_negative")
    ]
    assert failed[0].metadata["dagster_dbt/failed_row_count"] == 12
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    # dbt built orders before testing it, and skipped customers, downstream of the failure.
    assert "orders" in materialized
    assert "customers" not in materialized


def test_partitioned_dbt_assets_get_their_partition_through_vars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project_dir = tmp_path / "events"
    (project_dir / "models").mkdir(parents=True)
    (project_dir / "dbt_project.yml").write_text(
        "name: events\nversion: '1.0'\nprofile: events\n"
        "models:\n  events:\n    +materialized: incremental\n",
        encoding="utf-8",
    )
    (project_dir / "profiles.yml").write_text(
        f"events:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {tmp_path / 'events.duckdb'}\n",
        encoding="utf-8",
    )
    (project_dir / "models" / "daily_events.sql").write_text(
        textwrap.dedent(
            """\
            select cast('{{ var("min_date") }}' as date) as day, 1 as events
            """
        ),
        encoding="utf-8",
    )
    project = DbtProject(project_dir)
    project.prepare_if_dev()
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")

    @dbt_assets(manifest=project.manifest_path, partitions_def=daily, project=project)
    def events(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        window = context.partition_time_window
        dbt_vars = {"min_date": window.start.isoformat(), "max_date": window.end.isoformat()}
        yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()

    resources = {"dbt": DbtCliResource(project_dir=project)}
    for day in ("2024-01-02", "2024-01-03"):
        result = dg.materialize([events], partition_key=day, resources=resources)
        assert result.success
        event = result.get_asset_materialization_events()[0]
        assert event.materialization.partition == day
    assert table_rows(
        tmp_path / "events.duckdb", "select cast(day as varchar) from daily_events order by day"
    ) == [
        ("2024-01-02",),
        ("2024-01-03",),
    ]
    assert events.backfill_policy == dg.BackfillPolicy.single_run()


def test_the_example_project_is_where_the_tests_read_it() -> None:
    assert (JAFFLE / "jaffle_dbt" / "dbt_project.yml").is_file()
