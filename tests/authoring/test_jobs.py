"""`define_asset_job`: a named selection, checked for its name at once and resolved later."""

from __future__ import annotations

import pytest

import bakehouse as dg
from bakehouse.errors import DefinitionError
from bakehouse.graph.keys import AssetKey


@dg.asset(group_name="raw")
def orders() -> int:
    return 1


@dg.asset(group_name="marts")
def report(orders: int) -> int:
    return orders


def test_a_job_keeps_its_selection_config_tags_and_where_it_was_defined() -> None:
    job = dg.define_asset_job(
        "nightly",
        selection="group:marts",
        config=dg.RunConfig(ops={"report": {"n": 1}}),
        tags={"team": "data"},
        description="Marts every night.",
    )
    assert job.name == "nightly"
    assert job.selection.description == "group:marts"
    assert job.config == {"ops": {"report": {"config": {"n": 1}}}}
    assert dict(job.tags) == {"team": "data"}
    assert job.description == "Marts every night."
    assert job.source is not None
    assert job.source.file == __file__


def test_the_default_selection_is_every_asset() -> None:
    job = dg.define_asset_job("everything")
    defs = dg.Definitions(assets=[report, orders, dg.AssetSpec("ext")], jobs=[job])
    assert defs.resolve_job_keys(job) == [AssetKey("orders"), AssetKey("report")]


def test_jobs_resolve_in_dependency_order_without_external_assets() -> None:
    job = dg.define_asset_job("up", selection=dg.AssetSelection.keys("report").upstream())
    ext = dg.AssetSpec("ext")

    @dg.asset(deps=[ext])
    def uses_ext() -> int:
        return 1

    defs = dg.Definitions(assets=[report, orders, ext, uses_ext], jobs=[job])
    assert defs.resolve_job_keys(job) == [AssetKey("orders"), AssetKey("report")]
    up_ext = dg.define_asset_job("up_ext", selection="+uses_ext")
    assert defs.resolve_job_keys(up_ext) == [AssetKey("uses_ext")]


@pytest.mark.parametrize("name", ["has space", "1st", "dash-ed", ""])
def test_invalid_job_names_are_refused_at_once(name: str) -> None:
    with pytest.raises(DefinitionError, match="invalid job name") as err:
        dg.define_asset_job(name)
    assert err.value.source is not None
    assert err.value.source.file == __file__


def test_bad_selection_syntax_is_refused_at_once_naming_the_job() -> None:
    expected = r"job 'broken': cannot parse selection .* at position 12: unexpected '\$'"
    with pytest.raises(DefinitionError, match=expected):
        dg.define_asset_job("broken", selection="group:marts $")
