"""examples/jaffle end to end, through `bh` and `bh dev` in real processes: Python assets load
raw tables into DuckDB, dbt models them, a pandas asset reports on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dbt_projects import copy_jaffle, last_run_results, table_rows
from tests.support.dev_server import StartDevServer
from tests.support.faults import bh

# code servers, run workers and dbt processes
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("dbt_executable")]

PYTHON_TO_DBT = ("raw/orders", "stg_orders")
DBT_TO_PYTHON = ("customers", "customer_value_report")


@pytest.fixture(scope="module")
def built_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example after ``bh launch --assets '*'``."""
    root = copy_jaffle(tmp_path_factory.mktemp("example") / "jaffle")
    done = bh("launch", "--assets", "*", cwd=root, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Run SUCCESS" in done.stdout
    return root


def test_launch_of_everything_builds_python_dbt_and_pandas_assets(built_example: Path) -> None:
    ran = last_run_results(built_example / "jaffle_dbt")
    assert len(ran) == 20  # 1 seed, 5 models, 1 snapshot, 13 tests: the whole project
    database = built_example / "data" / "warehouse.duckdb"
    assert table_rows(database, "select count(*) from raw.orders") == [(12,)]
    assert table_rows(database, "select count(*) from main.customers") == [(8,)]
    shown = bh("runs", "list", cwd=built_example)
    assert "SUCCESS" in shown.stdout


def test_selecting_one_dbt_model_runs_only_that_model(built_example: Path) -> None:
    done = bh("launch", "--assets", "orders", cwd=built_example, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    ran = last_run_results(built_example / "jaffle_dbt")
    assert [i for i in ran if not i.startswith("test.")] == ["model.jaffle_shop.orders"]
    assert "--select fqn:jaffle_shop.marts.orders" in done.stdout


def test_a_failing_dbt_test_shows_as_a_failed_check(built_example: Path) -> None:
    done = bh(
        "launch",
        "--assets",
        "orders",
        cwd=built_example,
        env={"JAFFLE_FAIL_CHECK": "1"},
        timeout=600,
    )
    assert done.returncode != 0
    assert "check orders:assert_order_amounts_not_negative failed (ERROR)" in done.stdout
    assert "dagster_dbt/failed_row_count=12" in done.stdout


def test_lineage_shows_python_to_dbt_to_python_edges_and_the_failed_check(
    built_example: Path, dev_server: StartDevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAFFLE_FAIL_CHECK", "1")  # bh dev's runs inherit it
    server = dev_server(built_example)
    server.wait_loaded({"jaffle"})
    with server.http(timeout=60) as http:
        graph = http.get("/api/graph").json()
        keys = [node["key"] for node in graph["nodes"]]
        edges = {(keys[parent], keys[child]) for parent, child in graph["edges"]}
        assert PYTHON_TO_DBT in edges
        assert DBT_TO_PYTHON in edges
        assert ("payment_methods", "stg_payments") in edges  # a seed feeds a model
        kinds = {node["key"]: set(node["kinds"]) for node in graph["nodes"]}
        assert kinds["orders"] == {"dbt", "duckdb"}
        launched = http.post("/api/runs", json={"selection": "orders"}).json()
        run = server.wait_finished(launched["run_id"], timeout=300)
        assert run["status"] == "FAILURE"
        orders = http.get("/api/assets/orders").json()
        checks = {check["name"]: check["status"] for check in orders["checks"]}
        assert checks["assert_order_amounts_not_negative"] == "failed"
        assert checks["not_null_orders_order_id"] == "passed"
