"""The selection syntax: every operand and operator, and errors that say what and where."""

from __future__ import annotations

import pytest

from bakehouse.errors import SelectionError
from bakehouse.graph.dag import KeyGraph, NodeInfo
from bakehouse.graph.selection import parse_selection, select_keys

# raw/orders -> clean_orders -> daily_report -> exec_summary
# raw/customers -> clean_customers -> daily_report
# weather (alone)
GRAPH = KeyGraph(
    [
        NodeInfo(key="raw/orders", group="raw", kinds=frozenset({"python", "s3"}), location="lake"),
        NodeInfo(key="raw/customers", group="raw", kinds=frozenset({"python"}), location="lake"),
        NodeInfo(
            key="clean_orders",
            parents=("raw/orders",),
            group="staging",
            kinds=frozenset({"duckdb"}),
            tags={"tier": "gold", "pii": ""},
            owners=("team:data", "ana@example.com"),
        ),
        NodeInfo(
            key="clean_customers",
            parents=("raw/customers",),
            group="staging",
            kinds=frozenset({"duckdb"}),
            tags={"tier": "silver"},
            owners=("team:crm",),
        ),
        NodeInfo(key="daily_report", parents=("clean_orders", "clean_customers"), group="marts"),
        NodeInfo(key="exec_summary", parents=("daily_report",), group="marts"),
        NodeInfo(key="weather", group="ext", is_external=True),
    ]
)
ALL = set(GRAPH.nodes)
RAW = {"raw/orders", "raw/customers"}
CLEAN = {"clean_orders", "clean_customers"}


def sel(text: str) -> set[str]:
    return select_keys(text, GRAPH, allow_empty=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*", ALL),
        ("clean_orders", {"clean_orders"}),
        ("raw/orders", {"raw/orders"}),
        ("key:raw/orders", {"raw/orders"}),
        ('key:"raw/orders"', {"raw/orders"}),
        ('"clean_orders"', {"clean_orders"}),
        ("key:raw/*", {"raw/orders", "raw/customers"}),
        ("raw/*", {"raw/orders", "raw/customers"}),
        ("clean_*", {"clean_orders", "clean_customers"}),
        ("*_summary", {"exec_summary"}),
        ("key:*report", {"daily_report"}),
    ],
)
def test_keys_and_wildcards(text: str, expected: set[str]) -> None:
    assert sel(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clean_orders+", {"clean_orders", "daily_report", "exec_summary"}),
        ("+clean_orders", {"clean_orders", "raw/orders"}),
        ("+daily_report", {"daily_report"} | CLEAN | RAW),
        ("1+daily_report", {"daily_report"} | CLEAN),
        ("2+exec_summary", {"exec_summary", "daily_report"} | CLEAN),
        ("raw/orders+1", {"raw/orders", "clean_orders"}),
        ("raw/orders+2", {"raw/orders", "clean_orders", "daily_report"}),
        ("1+clean_orders+1", {"raw/orders", "clean_orders", "daily_report"}),
        ("+(clean_orders or clean_customers)", CLEAN | RAW),
        ("+raw/*", {"raw/orders", "raw/customers"}),
        ("exec_summary+", {"exec_summary"}),
    ],
)
def test_upstream_and_downstream_traversals(text: str, expected: set[str]) -> None:
    assert sel(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("group:raw", {"raw/orders", "raw/customers"}),
        ("group:st*", {"clean_orders", "clean_customers"}),
        ("kind:duckdb", {"clean_orders", "clean_customers"}),
        ("kind:s3", {"raw/orders"}),
        ("tag:tier", {"clean_orders", "clean_customers"}),
        ("tag:tier=gold", {"clean_orders"}),
        ("tag:tier=s*", {"clean_customers"}),
        ("tag:pii", {"clean_orders"}),
        ("tag:tier=bronze", set()),
        ("owner:team:data", {"clean_orders"}),
        ("owner:ana@example.com", {"clean_orders"}),
        ("owner:team:*", {"clean_orders", "clean_customers"}),
        ("code_location:lake", {"raw/orders", "raw/customers"}),
        ("group:nothing_here", set()),
    ],
)
def test_attributes(text: str, expected: set[str]) -> None:
    assert sel(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clean_orders, clean_customers", {"clean_orders", "clean_customers"}),
        ("clean_orders or weather", {"clean_orders", "weather"}),
        ("group:staging and tag:tier=gold", {"clean_orders"}),
        ("not group:raw", ALL - {"raw/orders", "raw/customers"}),
        ("not not weather", {"weather"}),
        # `and` binds tighter than `or`; `not` tighter than both.
        ("weather or group:raw and kind:s3", {"weather", "raw/orders"}),
        ("(weather or group:raw) and kind:s3", {"raw/orders"}),
        ("not group:raw and not group:marts", {"clean_orders", "clean_customers", "weather"}),
        ("clean_orders+ and +exec_summary", {"clean_orders", "daily_report", "exec_summary"}),
        ("(group:marts)", {"daily_report", "exec_summary"}),
        ("  weather  ", {"weather"}),
    ],
)
def test_operators_and_precedence(text: str, expected: set[str]) -> None:
    assert sel(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # What the left side selects and the right side does not (AssetSelection's `-`).
        ("group:staging - tag:tier=gold", {"clean_customers"}),
        ("+daily_report - group:raw", {"daily_report"} | CLEAN),
        ("* - group:raw - group:marts", CLEAN | {"weather"}),
        ("clean_orders+ -exec_summary", {"clean_orders", "daily_report"}),
        ("(group:raw)-(raw/orders)", {"raw/customers"}),
        # `-` binds tighter than `and` and `or`, as in Python: a or (b - c).
        ("weather or group:raw - kind:s3", {"weather", "raw/customers"}),
        ("group:raw and * - kind:s3", {"raw/customers"}),
        ("(weather or group:raw) - kind:s3", {"weather", "raw/customers"}),
        # `not` binds tighter still: (not raw) - marts.
        ("not group:raw - group:marts", CLEAN | {"weather"}),
        ("group:raw - group:raw", set()),
    ],
)
def test_difference(text: str, expected: set[str]) -> None:
    assert sel(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("code_location:my-lake", {"m"}),
        ("tag:env=eu-west", {"m"}),
        ("my-asset", {"my-asset"}),
        ("my-asset - m", {"my-asset"}),
    ],
)
def test_a_dash_inside_a_name_is_part_of_it(text: str, expected: set[str]) -> None:
    graph = KeyGraph(
        [
            NodeInfo(key="m", location="my-lake", tags={"env": "eu-west"}),
            NodeInfo(key="my-asset"),
        ]
    )
    assert select_keys(text, graph, allow_empty=True) == expected


def test_a_parsed_selection_can_be_applied_to_other_graphs() -> None:
    select = parse_selection("a+")
    assert select(KeyGraph([NodeInfo(key="a"), NodeInfo(key="b", parents=("a",))])) == {"a", "b"}
    assert select(KeyGraph([NodeInfo(key="a")])) == {"a"}


def test_an_unknown_key_suggests_close_names() -> None:
    with pytest.raises(SelectionError) as err:
        sel("clean_order")
    message = str(err.value)
    assert "no asset with key 'clean_order'" in message
    assert "Did you mean 'clean_orders'" in message


def test_an_unknown_key_without_close_names_gives_no_hint() -> None:
    with pytest.raises(SelectionError) as err:
        sel("zzzzzz")
    assert "Did you mean" not in str(err.value)


def test_an_empty_result_is_an_error_unless_allowed() -> None:
    with pytest.raises(SelectionError, match="matches no asset"):
        select_keys("group:nothing_here", GRAPH)
    assert select_keys("group:nothing_here", GRAPH, allow_empty=True) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clean_orders $ weather", "at position 13: unexpected '$'"),
        ("clean_orders weather", "at position 13: unexpected 'weather'"),
        ("(clean_orders or weather", "at the end: missing ')'"),
        ("clean_orders)", "at position 12: unexpected ')'"),
        ("( )", "at position 2: expected an asset name, got ')'"),
        ("colour:red", "at position 0: unknown attribute 'colour'"),
        ("group:", "at position 0: 'group:' needs a value"),
        ("clean_orders++", "at position 13: unexpected '+'"),
        ("clean_orders and", "ends too early"),
        ("clean_orders -", "at the end: '-' needs a selection after it"),
        ("- clean_orders", "at position 0: expected an asset name, got '-'"),
        ("clean_orders - - weather", "at position 15: expected an asset name, got '-'"),
        ("", "empty selection"),
        ("   ", "empty selection"),
    ],
)
def test_bad_syntax_says_where(text: str, expected: str) -> None:
    with pytest.raises(SelectionError) as err:
        parse_selection(text)(GRAPH)
    assert expected in str(err.value)


def test_selection_errors_are_value_errors() -> None:
    # Callers that validate user input catch ValueError; SelectionError is one.
    with pytest.raises(ValueError, match="unexpected"):
        parse_selection("a b")


def test_nesting_is_bounded_with_the_position() -> None:
    from bakehouse.graph.selection import MAX_NESTING, parse_selection

    ok = "(" * MAX_NESTING + "a" + ")" * MAX_NESTING
    parse_selection(ok)
    with pytest.raises(SelectionError, match=r"at position 64: nested deeper than 64"):
        parse_selection("(" + ok + ")")
    with pytest.raises(SelectionError, match=r"at position 256: nested deeper"):
        parse_selection("not " * 1000 + "a")
    # A chain of differences is a loop, not a recursion: long chains stay within the bound.
    assert parse_selection(" - ".join(["a"] + ["b"] * 5000))(
        KeyGraph([NodeInfo(key="a"), NodeInfo(key="b")])
    ) == {"a"}
    with pytest.raises(SelectionError, match="nested deeper"):
        parse_selection("a - " + "(" * (MAX_NESTING + 1) + "b" + ")" * (MAX_NESTING + 1))


def test_errors_quote_at_most_200_characters_of_the_selection() -> None:
    from bakehouse.graph.selection import MAX_LENGTH, parse_selection

    with pytest.raises(SelectionError) as raised:
        parse_selection("a " * 5000 + "$")
    assert "… (10001 characters)" in str(raised.value)
    assert len(str(raised.value)) < 320
    with pytest.raises(SelectionError, match="longer than"):
        parse_selection("a" * (MAX_LENGTH + 1))
