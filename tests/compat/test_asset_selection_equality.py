"""Issue 12 item 10: `AssetSelection` compares by value, as Dagster's does, and a job keeps
the selection it was given (selections from Dagster's AssetSelection API reference)."""

from __future__ import annotations

import bakehouse as dg


@dg.asset
def asset1() -> int:
    return 1


@dg.asset
def asset2(asset1: int) -> int:
    return asset1


def test_selections_of_the_same_keys_are_equal_however_the_keys_were_spelled() -> None:
    by_name = dg.AssetSelection.assets("asset1", "asset2")
    by_key = dg.AssetSelection.assets(dg.AssetKey("asset1"), dg.AssetKey(["asset2"]))
    by_def = dg.AssetSelection.assets(asset1, asset2)
    assert by_name == by_key == by_def
    assert dg.AssetSelection.keys("asset1") == dg.AssetSelection.assets("asset1")
    assert len({by_name, by_key, by_def}) == 1
    assert dg.AssetSelection.assets("asset1") != dg.AssetSelection.assets("asset2")


def test_built_selections_compare_by_how_they_were_built() -> None:
    assert dg.AssetSelection.all() == dg.AssetSelection.all()
    assert dg.AssetSelection.groups("marketing") == dg.AssetSelection.groups("marketing")
    assert dg.AssetSelection.groups("marketing") != dg.AssetSelection.groups("sales")
    assert dg.AssetSelection.key_prefixes(["a", "b"]) == dg.AssetSelection.key_prefixes(["a", "b"])
    assert dg.AssetSelection.kinds("dbt") == dg.AssetSelection.kinds("dbt")
    up = dg.AssetSelection.assets(dg.AssetKey("my_asset")).upstream()
    assert up == dg.AssetSelection.assets("my_asset").upstream()
    assert up != dg.AssetSelection.assets("my_asset").upstream(depth=1)
    assert up != dg.AssetSelection.assets("my_asset").downstream()
    combined = dg.AssetSelection.groups("a") | dg.AssetSelection.assets("x")
    assert combined == dg.AssetSelection.groups("a") | dg.AssetSelection.assets(dg.AssetKey("x"))
    assert combined != dg.AssetSelection.groups("a") & dg.AssetSelection.assets("x")
    assert (dg.AssetSelection.all() - dg.AssetSelection.assets("x")).without_checks() == (
        dg.AssetSelection.all() - dg.AssetSelection.assets("x")
    ).without_checks()
    assert dg.AssetSelection.all() != "*"


def test_a_job_keeps_the_selection_it_was_given() -> None:
    selection = dg.AssetSelection.groups("marketing")
    job = dg.define_asset_job("marketing_job", selection=selection)
    assert job.selection is selection
    listed = dg.define_asset_job("listed", selection=[asset1, asset2])
    assert listed.selection == dg.AssetSelection.assets("asset1", "asset2")
    by_string = dg.define_asset_job("by_string", selection="asset1+")
    assert by_string.selection == dg.AssetSelection.from_string("asset1+")


def test_one_asset_or_key_is_a_selection_of_it() -> None:
    # From Dagster's define_asset_job: a single AssetsDefinition (or key) may be the selection.
    by_def = dg.define_asset_job("job1", selection=asset1)
    assert by_def.selection == dg.AssetSelection.assets(asset1)
    by_key = dg.define_asset_job("job2", selection=dg.AssetKey("asset2"))
    assert by_key.selection == dg.AssetSelection.assets("asset2")
    defs = dg.Definitions(assets=[asset1, asset2], jobs=[by_def])
    assert defs.get_job_def("job1").execute_in_process().success
