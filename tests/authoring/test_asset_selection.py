"""`AssetSelection`: Python-side selections, combined and widened, resolved against a graph."""

from __future__ import annotations

import pytest

import bakehouse as dg
from bakehouse.authoring.asset_selection import coerce_selection
from bakehouse.errors import SelectionError
from bakehouse.graph.dag import KeyGraph

S = dg.AssetSelection


@dg.asset(key_prefix="raw", group_name="ingest", kinds={"s3"})
def orders() -> int:
    return 1


@dg.asset(ins={"orders": dg.AssetIn(key="raw/orders")}, group_name="staging")
def clean(orders: int) -> int:
    return orders


@dg.asset(group_name="marts", kinds={"duckdb"})
def report(clean: int) -> int:
    return clean


@dg.asset(group_name="marts")
def weather() -> int:
    return 1


EXTERNAL = dg.AssetSpec("vendor_feed", group_name="ingest")


@dg.asset(deps=[EXTERNAL], group_name="ingest")
def vendor_copy() -> int:
    return 1


GRAPH: KeyGraph = (
    dg.Definitions(assets=[orders, clean, report, weather, EXTERNAL, vendor_copy])
    .resolve_asset_graph()
    .key_graph
)


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (S.all(), {"raw/orders", "clean", "report", "weather", "vendor_copy"}),
        (S.groups("marts"), {"report", "weather"}),
        (S.groups("marts", "staging"), {"report", "weather", "clean"}),
        (S.keys("clean", ["raw", "orders"]), {"clean", "raw/orders"}),
        (S.keys(dg.AssetKey("report")), {"report"}),
        (S.assets(orders, report), {"raw/orders", "report"}),
        (S.kinds("duckdb"), {"report"}),
        (S.key_prefixes("raw"), {"raw/orders"}),
        (S.keys("report").upstream(), {"report", "clean", "raw/orders"}),
        (S.keys("report").upstream(1), {"report", "clean"}),
        (S.assets(orders).downstream(), {"raw/orders", "clean", "report"}),
        (S.assets(orders).downstream(1), {"raw/orders", "clean"}),
        (S.keys("clean") | S.keys("weather"), {"clean", "weather"}),
        (S.groups("marts") & S.kinds("duckdb"), {"report"}),
        (S.all() - S.groups("marts"), {"raw/orders", "clean", "vendor_copy"}),
        (S.from_string("group:marts and not weather"), {"report"}),
        # Upstream of an asset reaches its external dependency too; jobs drop it later.
        (S.keys("vendor_copy").upstream(), {"vendor_copy", "vendor_feed"}),
    ],
)
def test_selections_resolve(selection: dg.AssetSelection, expected: set[str]) -> None:
    assert selection.resolve(GRAPH) == expected


@pytest.mark.parametrize(
    ("python", "text"),
    [
        (S.groups("marts") - S.kinds("duckdb"), "group:marts - kind:duckdb"),
        (S.keys("report").upstream() - S.groups("ingest"), "+report - group:ingest"),
        (S.all() - S.groups("marts") - S.keys("clean"), "* - group:marts - clean"),
        (S.groups("marts") | S.groups("ingest") - S.keys("raw/orders"),
         "group:marts or group:ingest - raw/orders"),
    ],
)  # fmt: skip
def test_the_string_difference_selects_what_python_subtraction_selects(
    python: dg.AssetSelection, text: str
) -> None:
    from_string = S.from_string(text).resolve(GRAPH)
    if text.startswith("*"):
        from_string -= {"vendor_feed"}  # the string `*` also names external assets; all() not
    assert python.resolve(GRAPH) == from_string


def test_all_leaves_out_external_assets() -> None:
    assert "vendor_feed" not in S.all().resolve(GRAPH)
    assert "vendor_feed" in S.groups("ingest").resolve(GRAPH)


def test_unknown_keys_are_refused_when_resolved() -> None:
    selection = S.keys("report", "nope")  # building it is fine: graphs differ per location
    with pytest.raises(SelectionError, match=r"unknown asset keys: \['nope'\]"):
        selection.resolve(GRAPH)


def test_descriptions_read_like_the_selection() -> None:
    assert S.groups("a", "b").description == "group:a or group:b"
    assert (S.keys("x") | S.keys("y")).description == "(x) or (y)"
    assert (S.keys("x") - S.keys("y")).description == "(x) and not (y)"
    assert S.keys("x").upstream(2).description == "2+(x)"
    assert S.keys("x").downstream().description == "(x)+"
    assert repr(S.keys("x")) == "AssetSelection('x')"


def test_coerce_selection_takes_selections_strings_and_lists() -> None:
    selection = S.keys("clean")
    assert coerce_selection(selection) is selection
    assert coerce_selection("report+").resolve(GRAPH) == {"report"}
    assert coerce_selection([orders, "weather"]).resolve(GRAPH) == {"raw/orders", "weather"}
    with pytest.raises(TypeError, match="cannot select assets with 42"):
        coerce_selection(42)
