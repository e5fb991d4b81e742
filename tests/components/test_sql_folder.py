"""`SqlFolderComponent`: SQL files become DuckDB tables built in dependency order."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import bakehouse as dg
from bakehouse.errors import DefinitionError, SourceLocation
from tests.components.conftest import Project

ORDERS = (
    "-- Orders, one row per order.\n"
    "select range as id, range % 3 as customer_id, range * 10 as amount from range(30);\n"
)
CUSTOMERS = "select range as id, 'customer ' || range as name from range(3)\n"
REVENUE = """
with totals as (
    select customer_id, sum(amount) as total from orders group by customer_id
)
select c.name, t.total
from totals t
join customers c on c.id = t.customer_id
order by c.name
"""


def warehouse(project: Project, attributes: str = "", **files: str) -> Path:
    for name, text in (
        files or {"orders": ORDERS, "customers": CUSTOMERS, "revenue": REVENUE}
    ).items():
        project.write(f"defs/warehouse/{name}.sql", text)
    return project.write(
        "defs/warehouse/defs.yaml",
        "type: bakehouse.SqlFolderComponent\nattributes:\n"
        "  database: '{{ project_root }}/data/shop.duckdb'\n" + attributes,
    )


def specs(defs: dg.Definitions) -> dict[str, dg.AssetSpec]:
    return {
        s.key.to_user_string(): s
        for a in defs.assets
        if isinstance(a, dg.AssetsDefinition)
        for s in a.specs
    }


def test_dependencies_come_from_the_tables_each_query_reads(project: Project) -> None:
    warehouse(project)
    found = specs(project.load())
    assert {k: sorted(d.to_user_string() for d in s.deps) for k, s in found.items()} == {
        "customers": [],
        "orders": [],
        "revenue": ["customers", "orders"],
    }
    orders = found["orders"]
    assert orders.group_name == "warehouse"
    assert orders.kinds == {"duckdb", "sql"}
    assert orders.description == "Orders, one row per order."
    assert orders.source == SourceLocation(str(project.path("defs/warehouse/orders.sql")), 1)


def test_materializing_builds_the_tables_in_order_with_row_counts(project: Project) -> None:
    warehouse(project)
    result = dg.materialize(project.load().assets)
    assert result.success
    order = [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()]
    assert order.index("revenue") > max(order.index("orders"), order.index("customers"))
    revenue = result.metadata_for("revenue")
    assert revenue["row_count"] == {"type": "int", "value": 3}
    preview = revenue["preview"]["value"]
    assert [c["name"] for c in preview["columns"]] == ["name", "total"]
    assert preview["records"][0] == {"name": "customer 0", "total": 1350}
    with duckdb.connect(str(project.root / "data" / "shop.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from orders").fetchone() == (30,)
        assert con.execute("select sum(total) from revenue").fetchone() == (4350,)


def test_views_key_prefix_and_outside_deps(project: Project) -> None:
    project.write(
        "defs/raw.py",
        "import bakehouse as dg\n\n@dg.asset(key=['lake', 'events'])\n"
        "def events():\n    return 1\n",
    )
    warehouse(
        project,
        "  materialize_as: view\n  key_prefix: [shop]\n  deps: [lake/events]\n",
        counts="select count(*) as n from events\n",
        orders=ORDERS,
    )
    found = specs(project.load())
    assert [d.to_user_string() for d in found["shop/counts"].deps] == ["lake/events"]
    assert "shop/orders" in found


def test_a_sql_syntax_error_names_the_sql_file_and_line(project: Project) -> None:
    warehouse(project, orders="select 1 as a\nfrom range(3)\nwhere where\n")
    with pytest.raises(DefinitionError) as err:
        project.load()
    assert err.value.source == SourceLocation(str(project.path("defs/warehouse/orders.sql")), 3)
    assert "invalid SQL" in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("create table x as select 1", "holds a CREATE statement"),
        ("select 1; select 2", "holds 2 statements"),
    ],
)
def test_a_file_must_hold_one_select(project: Project, text: str, expected: str) -> None:
    warehouse(project, orders=text)
    with pytest.raises(DefinitionError) as err:
        project.load()
    assert expected in str(err.value)


def test_a_missing_folder_is_named_at_the_attribute_line(project: Project) -> None:
    yaml = project.write(
        "defs/warehouse/defs.yaml",
        "type: bakehouse.SqlFolderComponent\nattributes:\n  sql_folder: models\n",
    )
    with pytest.raises(DefinitionError) as err:
        project.load()
    assert err.value.source == SourceLocation(str(yaml), 3)
    assert "is not a folder" in str(err.value)


def test_a_failing_query_fails_its_step(project: Project) -> None:
    warehouse(project, orders="select * from read_csv('nowhere.csv')\n")
    result = dg.materialize(project.load().assets, raise_on_error=False)
    assert not result.success
