"""`@asset_check` and `@multi_asset_check` inputs, from the examples of Dagster's asset check
docs and API reference, run unchanged but for ``import bakehouse as dg``."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pytest

import bakehouse as dg


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_a_check_receives_its_asset_as_the_api_reference_shows() -> None:
    @dg.asset
    def my_asset() -> pd.DataFrame:
        return pd.DataFrame({"n": range(10)})

    @dg.asset_check(asset=my_asset, description="Check that my asset has enough rows")
    def my_asset_has_enough_rows(my_asset: pd.DataFrame) -> dg.AssetCheckResult:
        num_rows = my_asset.shape[0]
        return dg.AssetCheckResult(passed=num_rows > 5, metadata={"num_rows": num_rows})

    result = dg.materialize([my_asset, my_asset_has_enough_rows])
    assert evaluations(result) == {"my_asset_has_enough_rows": True}
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.metadata["num_rows"].value == 10


def test_the_one_parameter_receives_the_checked_asset_whatever_its_name() -> None:
    @dg.asset
    def orders() -> list[int]:
        return [1, 2, 3]

    @dg.asset_check(asset=orders)
    def orders_not_empty(rows: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=len(rows) == 3)

    assert evaluations(dg.materialize([orders, orders_not_empty])) == {"orders_not_empty": True}


def test_additional_ins_load_other_assets_under_any_name() -> None:
    @dg.asset
    def asset1() -> int:
        return 4

    @dg.asset
    def asset2() -> int:
        return 5

    @dg.asset_check(asset=asset1, additional_ins={"other": dg.AssetIn("asset2")})
    def check1(asset1: int, other: int) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=(asset1, other) == (4, 5))

    assert check1.check_specs[0].additional_deps == (dg.AssetKey("asset2"),)
    assert evaluations(dg.materialize([asset1, asset2, check1])) == {"check1": True}


def test_parameters_named_after_other_assets_load_them_beside_the_checked_one() -> None:
    # Dagster's @asset_check refuses a second parameter outside additional_ins; bakehouse
    # loads it like an @asset parameter when another parameter is named after the checked
    # asset, so course code that forgot additional_ins still runs (on purpose).
    @dg.asset
    def orders() -> list[dict[str, int]]:
        return [{"customer": 1}, {"customer": 2}]

    @dg.asset
    def customers() -> list[int]:
        return [1, 2]

    @dg.asset_check(asset=orders)
    def orders_have_known_customers(
        orders: list[dict[str, int]], customers: list[int]
    ) -> dg.AssetCheckResult:
        unknown = [o for o in orders if o["customer"] not in customers]
        return dg.AssetCheckResult(passed=not unknown)

    spec = orders_have_known_customers.check_specs[0]
    assert spec.asset_key == dg.AssetKey("orders")
    assert spec.additional_deps == (dg.AssetKey("customers"),)
    result = dg.materialize([orders, customers, orders_have_known_customers])
    assert evaluations(result) == {"orders_have_known_customers": True}


def test_several_parameters_none_named_after_the_asset_are_refused_as_in_dagster() -> None:
    @dg.asset
    def asset1() -> int:
        return 4

    with pytest.raises(dg.DefinitionError, match="several parameters that would be assets"):

        @dg.asset_check(asset=asset1)
        def check1(first: int, second: int) -> dg.AssetCheckResult:
            return dg.AssetCheckResult(passed=True)


def test_a_check_without_parameters_still_runs_after_its_asset() -> None:
    calls: list[str] = []

    @dg.asset
    def my_asset() -> None:
        calls.append("asset")

    @dg.asset_check(asset=my_asset)
    def my_check() -> dg.AssetCheckResult:
        calls.append("check")
        return dg.AssetCheckResult(passed=True)

    assert evaluations(dg.materialize([my_asset, my_check])) == {"my_check": True}
    assert calls == ["asset", "check"]


def test_a_multi_asset_check_loads_assets_named_by_its_parameters() -> None:
    @dg.asset
    def asset1() -> list[int]:
        return [1, 2, 3, 4, 5, 6]

    @dg.asset
    def asset2() -> list[int]:
        return [1, 1]

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec("enough_rows", asset="asset1"),
            dg.AssetCheckSpec("no_dupes", asset="asset1"),
            dg.AssetCheckSpec("enough_rows", asset="asset2"),
        ],
    )
    def checks(asset1: list[int], asset2: list[int]) -> Iterable[dg.AssetCheckResult]:
        yield dg.AssetCheckResult(
            passed=len(asset1) > 5, asset_key="asset1", check_name="enough_rows"
        )
        yield dg.AssetCheckResult(
            passed=len(set(asset1)) == len(asset1), asset_key="asset1", check_name="no_dupes"
        )
        yield dg.AssetCheckResult(
            passed=len(asset2) > 5, asset_key="asset2", check_name="enough_rows"
        )

    result = dg.materialize([asset1, asset2, checks])
    found = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }
    assert found == {
        ("asset1", "enough_rows"): True,
        ("asset1", "no_dupes"): True,
        ("asset2", "enough_rows"): False,
    }


def test_a_multi_asset_check_may_still_name_its_inputs_with_ins() -> None:
    @dg.asset
    def asset1() -> int:
        return 4

    @dg.multi_asset_check(
        specs=[dg.AssetCheckSpec("positive", asset="asset1")],
        ins={"value": dg.AssetIn(key="asset1")},
    )
    def checks(value: int) -> Iterable[dg.AssetCheckResult]:
        yield dg.AssetCheckResult(passed=value > 0)

    assert evaluations(dg.materialize([asset1, checks])) == {"positive": True}
