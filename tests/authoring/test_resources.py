"""Resources: `ConfigurableResource` fields, `EnvVar` read when a run starts, and
`ResourceParam`."""

from __future__ import annotations

import pytest
from pydantic import Field, ValidationError

import bakehouse as dg
from bakehouse.errors import DefinitionError


class Token(dg.ConfigurableResource):
    value: str


class Warehouse(dg.ConfigurableResource):
    dsn: str
    port: int = Field(default=5432, gt=0)
    token: Token | None = None


def test_fields_are_validated_frozen_and_closed() -> None:
    warehouse = Warehouse(dsn="duckdb://", port="6543")  # type: ignore[arg-type]
    assert warehouse.port == 6543
    with pytest.raises(ValidationError):
        Warehouse(dsn="x", port=0)
    with pytest.raises(ValidationError):
        Warehouse(dsn="x", colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        warehouse.dsn = "other"


def test_an_env_var_stays_an_env_var_until_the_run_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WAREHOUSE_DSN", raising=False)
    warehouse = Warehouse(dsn=dg.EnvVar("WAREHOUSE_DSN"))

    # Not the variable's name passed off as its value.
    assert isinstance(warehouse.dsn, dg.EnvVar)
    assert warehouse.dsn.env_var_name == "WAREHOUSE_DSN"

    monkeypatch.setenv("WAREHOUSE_DSN", "postgresql://db/prod")
    resolved = warehouse.with_env_vars_resolved("warehouse")
    assert resolved.dsn == "postgresql://db/prod"
    assert type(resolved.dsn) is str
    assert resolved.port == 5432
    assert isinstance(warehouse.dsn, dg.EnvVar)  # the original is untouched


def test_a_missing_env_var_names_the_resource_field_and_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WAREHOUSE_DSN", raising=False)
    warehouse = Warehouse(dsn=dg.EnvVar("WAREHOUSE_DSN"))

    with pytest.raises(DefinitionError) as err:
        warehouse.with_env_vars_resolved("warehouse")

    assert str(err.value) == (
        "resource 'warehouse' field 'dsn': environment variable WAREHOUSE_DSN is not set"
    )


def test_env_var_values_are_validated_against_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_PORT", "6543")
    # An EnvVar for an int field, as Dagster allows: its value is validated when resolved.
    warehouse = Warehouse(dsn="x", port=dg.EnvVar("WAREHOUSE_PORT"))  # type: ignore[arg-type]
    assert warehouse.with_env_vars_resolved("warehouse").port == 6543

    monkeypatch.setenv("WAREHOUSE_PORT", "-1")
    with pytest.raises(DefinitionError) as err:
        warehouse.with_env_vars_resolved("warehouse")
    assert "resource 'warehouse': a value read from the environment is invalid" in str(err.value)
    assert "port" in str(err.value)


def test_env_var_int(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_PORT", "7000")
    warehouse = Warehouse(dsn="x", port=dg.EnvVar.int("WAREHOUSE_PORT"))  # type: ignore[arg-type]
    assert warehouse.with_env_vars_resolved("warehouse").port == 7000


def test_env_vars_of_nested_resources_are_resolved_and_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warehouse = Warehouse(dsn="x", token=Token(value=dg.EnvVar("WAREHOUSE_TOKEN")))

    monkeypatch.delenv("WAREHOUSE_TOKEN", raising=False)
    with pytest.raises(DefinitionError, match=r"resource 'warehouse\.token' field 'value'"):
        warehouse.with_env_vars_resolved("warehouse")

    monkeypatch.setenv("WAREHOUSE_TOKEN", "s3cret")
    resolved = warehouse.with_env_vars_resolved("warehouse")
    assert resolved.token is not None
    assert resolved.token.value == "s3cret"


def test_a_resource_without_env_vars_resolves_to_itself() -> None:
    warehouse = Warehouse(dsn="x", token=Token(value="t"))
    assert warehouse.with_env_vars_resolved("warehouse") is warehouse


def test_env_var_reads_the_environment_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    var = dg.EnvVar("SOME_SETTING")
    monkeypatch.delenv("SOME_SETTING", raising=False)
    assert var.get_value() is None
    assert var.get_value("fallback") == "fallback"
    monkeypatch.setenv("SOME_SETTING", "on")
    assert var.get_value() == "on"
    assert repr(var) == "EnvVar('SOME_SETTING')"


def test_yield_for_execution_sets_up_and_tears_down_even_on_error() -> None:
    calls: list[str] = []

    class Tracked(dg.ConfigurableResource):
        def setup_for_execution(self, context: dg.InitResourceContext) -> None:
            calls.append(f"setup {context.resource_key}")

        def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
            calls.append(f"teardown {context.resource_key}")

    def use(context: dg.InitResourceContext) -> None:
        with Tracked().yield_for_execution(context) as got:
            calls.append(type(got).__name__)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        use(dg.InitResourceContext(resource_key="tracked", run_id="r"))
    assert calls == ["setup tracked", "Tracked", "teardown tracked"]
