"""Run config checked on the host against the snapshots' schemas, the way pydantic reads it."""

from __future__ import annotations

from typing import Any

import pytest

from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.run_config import op_job_config_issue, run_config_problem
from bakehouse.protocol.snapshot import AssetNodeSnap, LocationSnap

# What pydantic writes for: class Inner(Config): a: int = 1; class Sales(Config): rows: int;
# note: str = "x"; ratio: float | None = None; inner: Inner = Inner(); mode: Literal["a", "b"]
SALES_SCHEMA = {
    "$defs": {
        "Inner": {
            "additionalProperties": False,
            "properties": {"a": {"default": 1, "type": "integer"}},
            "type": "object",
        }
    },
    "additionalProperties": False,
    "properties": {
        "rows": {"type": "integer"},
        "note": {"default": "x", "type": "string"},
        "ratio": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": None},
        "inner": {"$ref": "#/$defs/Inner", "default": {"a": 1}},
        "mode": {"default": "a", "enum": ["a", "b"], "type": "string"},
    },
    "required": ["rows"],
    "type": "object",
}
GRAPH = GlobalAssetGraph(
    [
        LocationSnap(
            name="shop",
            assets=(
                AssetNodeSnap(key="sales", step_key="sales", config_schema=SALES_SCHEMA,
                              function_name="make_sales"),
                AssetNodeSnap(key="plain", step_key="plain"),
                AssetNodeSnap(key="blended", step_key="blended", op_names=("mix", "bake")),
            ),
        )
    ]
)  # fmt: skip


def _problem(config: dict) -> str | None:  # type: ignore[type-arg]
    return run_config_problem(GRAPH, ["sales", "plain", "blended"], config)


@pytest.mark.parametrize(
    "values",
    [
        {"rows": 3},
        {"rows": "3", "ratio": 1},  # lax: a numeric string is an int, an int a float
        {"rows": 3.0, "ratio": None, "inner": {"a": 2}, "mode": "b"},
    ],
)
def test_values_pydantic_accepts_pass(values: dict) -> None:  # type: ignore[type-arg]
    assert _problem({"ops": {"sales": {"config": values}}}) is None


def test_the_function_name_names_the_step_too() -> None:
    assert _problem({"ops": {"make_sales": {"config": {"rows": 1}}}}) is None


def _sales(values: dict) -> dict:  # type: ignore[type-arg]
    return {"ops": {"sales": {"config": values}}}


REFUSED = [
    (_sales({}), "invalid config for asset 'sales': missing required field 'rows'"),
    (_sales({"rows": "many"}), "field 'rows': expected integer, got str 'many'"),
    (_sales({"rows": 1, "colour": 2}), "unknown field 'colour' (fields: rows, note, ratio, "),
    (_sales({"rows": 1, "inner": {"a": "x"}}), "field 'inner.a': expected integer"),
    (_sales({"rows": 1, "mode": "c"}), "field 'mode': 'c' is not one of ['a', 'b']"),
    ({"ops": {"sales": {"rows": 1}}}, "has ['rows'] beside 'config'"),
    ({"ops": {"plain": {"config": {"x": 1}}}}, "'plain', which takes no Config parameter"),
    ({"ops": {"nope": {}}}, "run_config names ['nope'], which are not assets in this run"),
    ({"ops": {"blended": {"config": {}}}}, "has ['config'] beside 'ops'; it is graph-backed"),
    ({"ops": []}, "run_config['ops'] must be a mapping"),
]


@pytest.mark.parametrize(("config", "message"), REFUSED)
def test_config_that_does_not_fit_is_named(config: dict, message: str) -> None:  # type: ignore[type-arg]
    problem = _problem(config)
    assert problem is not None
    assert message in problem


def test_a_graph_backed_asset_takes_its_ops_config_under_ops() -> None:
    blended = {"ops": {"mix": {"config": {"speed": 2}}}}
    assert _problem({"ops": {"sales": {"config": {"rows": 1}}, "blended": blended}}) is None


def test_an_asset_whose_config_has_required_fields_is_refused_without_config() -> None:
    # The run would fail in its step; the launch is refused before anything is stored.
    configs: list[dict[str, Any]] = [{}, {"ops": {}}, {"ops": {"plain": {}}}]
    for config in configs:
        problem = _problem(config)
        assert problem is not None
        assert "asset 'sales' needs config: missing required field 'rows'" in problem
    assert run_config_problem(GRAPH, ["plain", "blended"], {}) is None


def test_a_job_of_ops_has_the_config_of_its_config_ops_checked() -> None:
    schemas = {"knead": SALES_SCHEMA}
    assert op_job_config_issue(schemas, {"ops": {"knead": {"config": {"rows": 2}}}}) is None
    # Other ops (no Config class, nested graphs) are the location's to check.
    assert op_job_config_issue(schemas, {"ops": {"knead": {"config": {"rows": 2}}, "x": 1}}) is None
    missing = op_job_config_issue(schemas, {})
    assert missing is not None
    assert "op 'knead' needs config: missing required field 'rows'" in missing.message
    wrong = op_job_config_issue(schemas, {"ops": {"knead": {"config": {"rows": "many"}}}})
    assert wrong is not None
    assert wrong.message.startswith("invalid config for op 'knead': field 'rows'")
    assert wrong.path == ("ops", "knead", "config", "rows")
