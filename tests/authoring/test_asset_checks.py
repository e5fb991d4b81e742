"""`@asset_check`, `AssetCheckSpec` and `@asset(check_specs=...)`: what they record, how loading
collects checks, and the errors that name the user's file:line."""

from __future__ import annotations

import pytest

import bakehouse as dg
from bakehouse.authoring.definitions_class import Definitions
from bakehouse.errors import DefinitionError, DuplicateKeyError, MissingResourceError
from tests.support.projects import Project, line_of


@dg.asset
def orders() -> list[int]:
    return [1, 2, 3]


def test_the_decorator_records_name_asset_description_and_blocking() -> None:
    @dg.asset_check(asset=orders, blocking=True, metadata={"owner": "qa"})
    def has_rows(orders: list[int]) -> dg.AssetCheckResult:
        """Orders is never empty."""
        return dg.AssetCheckResult(passed=bool(orders))

    assert has_rows.check_key == dg.AssetCheckKey(dg.AssetKey("orders"), "has_rows")
    spec = has_rows.get_spec_for_check_key(has_rows.check_key)
    assert (spec.description, spec.blocking, dict(spec.metadata)) == (
        "Orders is never empty.",
        True,
        {"owner": "qa"},
    )
    assert has_rows.params.inputs == {"orders": dg.AssetKey("orders")}
    assert has_rows.op_name == "orders_has_rows"


def test_the_one_asset_parameter_receives_the_checked_asset_whatever_its_name() -> None:
    @dg.asset_check(asset="raw/orders", name="non_empty")
    def check(context: dg.AssetCheckExecutionContext, rows: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=bool(rows))

    assert check.check_key.to_user_string() == "raw/orders:non_empty"
    assert check.params.inputs == {"rows": dg.AssetKey(["raw", "orders"])}
    assert check.params.context == "context"


def test_a_check_can_be_called_directly_like_a_function() -> None:
    @dg.asset_check(asset=orders)
    def has_rows(context, orders: list[int]) -> dg.AssetCheckResult:  # type: ignore[no-untyped-def]
        context.log.info("looking")
        return dg.AssetCheckResult(passed=bool(orders), metadata={"rows": len(orders)})

    result = has_rows(orders=[1])
    assert result.passed
    assert result.metadata == {"rows": 1}


def test_two_asset_parameters_neither_named_after_the_asset_are_refused() -> None:
    with pytest.raises(DefinitionError, match="several parameters that would be assets") as err:

        @dg.asset_check(asset=orders)
        def both(first: list[int], second: list[int]) -> dg.AssetCheckResult:
            return dg.AssetCheckResult(passed=True)

    assert err.value.source is not None
    assert err.value.source.file == __file__


def test_additional_ins_load_other_assets() -> None:
    @dg.asset_check(asset=orders, additional_ins={"customers": dg.AssetIn(key="customers")})
    def match(orders: list[int], customers: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    assert match.params.inputs == {
        "orders": dg.AssetKey("orders"),
        "customers": dg.AssetKey("customers"),
    }


def test_a_severity_that_is_not_warn_or_error_is_refused() -> None:
    assert dg.AssetCheckResult(passed=False, severity="WARN").severity is dg.AssetCheckSeverity.WARN
    with pytest.raises(ValueError, match="severity must be"):
        dg.AssetCheckResult(passed=False, severity="FATAL")


def test_check_specs_must_check_the_assets_of_the_function() -> None:
    with pytest.raises(DefinitionError, match="does not materialize") as err:

        @dg.asset(check_specs=[dg.AssetCheckSpec("fresh", asset="customers")])
        def orders_with_checks() -> None: ...

    assert err.value.source is not None
    assert err.value.source.file == __file__


def test_two_checks_of_one_name_on_one_asset_name_both_places() -> None:
    @dg.asset_check(asset=orders, name="has_rows")
    def first() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset_check(asset=orders, name="has_rows")
    def second() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    with pytest.raises(DuplicateKeyError) as err:
        Definitions(assets=[orders], asset_checks=[first, second]).validate()
    assert err.value.key == "orders:has_rows"
    assert err.value.first is not None
    assert err.value.second is not None
    assert (err.value.first.line, err.value.second.line) == (
        first.source.line if first.source else 0,
        second.source.line if second.source else 0,
    )
    assert str(err.value.first) in str(err.value)


def test_a_check_spec_and_a_check_function_of_one_name_clash() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("has_rows", asset="orders")], name="orders")
    def orders_and_check() -> None: ...

    @dg.asset_check(asset="orders")
    def has_rows() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    with pytest.raises(DuplicateKeyError, match="duplicate asset check key 'orders:has_rows'"):
        Definitions(assets=[orders_and_check], asset_checks=[has_rows]).validate()


def test_a_check_of_an_asset_defined_elsewhere_loads_with_the_asset_as_external() -> None:
    # As in Dagster: the asset may live in another code location.
    @dg.asset_check(asset="elsewhere")
    def exists() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    defs = Definitions(asset_checks=[exists])
    defs.validate()
    graph = defs.resolve_asset_graph()
    assert graph.is_external(dg.AssetKey("elsewhere"))
    assert list(graph.check_specs) == [exists.check_key]


def test_a_missing_resource_of_a_check_names_the_check() -> None:
    @dg.asset_check(asset=orders, required_resource_keys={"warehouse"})
    def in_warehouse(context) -> dg.AssetCheckResult:  # type: ignore[no-untyped-def]
        return dg.AssetCheckResult(passed=True)

    with pytest.raises(MissingResourceError, match="orders:in_warehouse"):
        Definitions(assets=[orders], asset_checks=[in_warehouse]).validate()


def test_definitions_refuse_something_that_is_not_a_check() -> None:
    with pytest.raises(DefinitionError, match=r"asset_checks=\.\.\.\) got"):
        Definitions(asset_checks=[orders])  # type: ignore[list-item]


def test_load_defs_collects_module_level_checks(project: Project) -> None:
    project.write(
        "defs/orders.py",
        """
        import bakehouse as dg


        @dg.asset
        def orders():
            return [1, 2]


        @dg.asset_check(asset=orders)
        def has_rows(orders):
            return dg.AssetCheckResult(passed=len(orders) > 0)
        """,
    )
    project.write(
        "defs/quality/more.py",
        """
        import bakehouse as dg
        from {package}.defs.orders import has_rows  # reached twice, counted once


        @dg.asset_check(asset="orders", blocking=True)
        def small(orders):
            return dg.AssetCheckResult(passed=len(orders) < 10)
        """.replace("{package}", project.package),
    )
    defs = project.load()
    defs.validate()
    assert sorted(c.check_key.to_user_string() for c in defs.asset_checks) == [
        "orders:has_rows",
        "orders:small",
    ]


def test_duplicate_checks_in_two_files_name_both_files(project: Project) -> None:
    body = """
        import bakehouse as dg


        @dg.asset_check(asset="orders", name="has_rows")
        def check():  # the check
            return dg.AssetCheckResult(passed=True)
        """
    first = project.write("defs/a.py", body)
    second = project.write("defs/b.py", body)
    defs = project.load()
    with pytest.raises(DuplicateKeyError) as err:
        defs.validate()
    message = str(err.value)
    assert f"{first}:{line_of(first, '@dg.asset_check')}" in message
    assert err.value.second is not None
    assert (err.value.second.file, err.value.second.line) == (
        str(second),
        line_of(second, "@dg.asset_check"),
    )
