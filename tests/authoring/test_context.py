"""The contexts user code receives: the run logger, resources by attribute, added metadata."""

from __future__ import annotations

import logging

import pytest

import bakehouse as dg
from bakehouse.authoring.context import AssetExecutionContext, Resources, RunLogger
from bakehouse.graph.keys import AssetKey


def test_the_run_logger_sends_each_line_to_the_sink_and_to_python_logging(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lines: list[tuple[str, str]] = []
    log = RunLogger(lambda level, text: lines.append((level, text)), prefix="[s] ")

    with caplog.at_level(logging.DEBUG, logger="bakehouse.user"):
        log.debug("d %s", 1)
        log.info("i")
        log.warning("w")
        log.warn("w2")
        log.error("e %d%%", 5)
        log.critical("c")

    assert lines == [
        ("DEBUG", "d 1"),
        ("INFO", "i"),
        ("WARNING", "w"),
        ("WARNING", "w2"),
        ("ERROR", "e 5%"),
        ("CRITICAL", "c"),
    ]
    assert [r.getMessage() for r in caplog.records][:2] == ["[s] d 1", "[s] i"]


def test_log_exception_carries_the_traceback() -> None:
    lines: list[tuple[str, str]] = []
    log = RunLogger(lambda level, text: lines.append((level, text)))
    try:
        raise KeyError("gone")
    except KeyError:
        log.exception("lookup failed")
    level, text = lines[0]
    assert level == "ERROR"
    assert text.startswith("lookup failed\nTraceback (most recent call last):")
    assert "KeyError: 'gone'" in text


def test_resources_by_attribute_and_a_clear_error_for_unknown_ones() -> None:
    api = object()
    resources = Resources({"api": api})
    assert resources.api is api
    assert "api" in resources
    assert resources.original_resource_dict() == {"api": api}
    with pytest.raises(
        AttributeError, match=r"no resource 'db' is available here \(resources: api\)"
    ):
        _ = resources.db


def _context(*keys: str) -> AssetExecutionContext:
    return AssetExecutionContext(run_id="r", asset_keys=[AssetKey(k) for k in keys], step_key="s")


def test_added_metadata_goes_to_the_single_asset_or_to_the_named_one() -> None:
    single = _context("a")
    single.add_output_metadata({"rows": 1})
    single.add_output_metadata({"more": 2})
    assert single.added_metadata_for(AssetKey("a"), "result") == {"rows": 1, "more": 2}

    multi = _context("x", "y")
    multi.add_output_metadata({"unnamed": 1})
    multi.add_output_metadata({"by_name": 2}, output_name="x")
    multi.add_output_metadata({"by_key": 3}, asset_key="y")
    assert multi.added_metadata_for(AssetKey("x"), "x") == {"by_name": 2}
    assert multi.added_metadata_for(AssetKey("y"), "y") == {"by_key": 3}


def test_asset_key_is_for_single_asset_steps() -> None:
    assert _context("a").asset_key == AssetKey("a")
    with pytest.raises(AttributeError, match="materializes 2 assets; use selected_asset_keys"):
        _ = _context("x", "y").asset_key


def test_build_asset_context_for_direct_invocation() -> None:
    api = object()
    context = dg.build_asset_context(resources={"api": api}, asset_config={"n": 1}, asset_key="a/b")
    assert context.resources.api is api
    assert context.op_config == {"n": 1}
    assert context.asset_key == AssetKey(["a", "b"])
    assert context.step_key == "a__b"
    assert context.run_id == "direct-invocation"
