"""`@dbt_assets` reads the manifest: one asset per model, seed and snapshot, one check per test,
deps on sources as upstream keys, and the translator's keys, groups and metadata."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import bakehouse as dg
from bakehouse.errors import DefinitionError
from bakehouse_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
    get_asset_key_for_model,
    get_asset_key_for_source,
)

pytestmark = pytest.mark.usefixtures("dbt_executable")

MODELS = {"stg_customers", "stg_orders", "stg_payments", "orders", "customers"}


def manifest_of(project_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((project_dir / "target" / "manifest.json").read_text())
    return loaded


def test_models_seeds_and_snapshots_become_assets_with_deps_on_sources(
    parsed_jaffle: Path,
) -> None:
    @dbt_assets(manifest=parsed_jaffle / "target" / "manifest.json")
    def jaffle(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Any:
        yield from dbt.cli(["build"], context=context).stream()

    keys = {k.to_user_string() for k in jaffle.keys}
    assert keys == MODELS | {"payment_methods", "customers_snapshot"}
    specs = jaffle.specs_by_key
    assert set(specs[dg.AssetKey("stg_payments")].deps) == {
        dg.AssetKey(["raw", "payments"]),  # the source raw.payments
        dg.AssetKey("payment_methods"),  # the seed
    }
    assert set(specs[dg.AssetKey("customers")].deps) == {
        dg.AssetKey("orders"),
        dg.AssetKey("stg_customers"),
    }
    orders = specs[dg.AssetKey("orders")]
    assert orders.kinds == {"dbt", "duckdb"}
    assert orders.description is not None
    assert orders.description.startswith("One row per order, with what was paid for it.")
    assert "#### Raw SQL:" in orders.description
    manifest = manifest_of(parsed_jaffle)
    node = manifest["nodes"]["model.jaffle_shop.orders"]
    assert orders.code_version == node["checksum"]["checksum"]
    schema = orders.metadata["dagster/column_schema"]
    assert [(c.name, c.type) for c in schema.columns] == [
        ("order_id", "integer"),
        ("customer_id", "integer"),
        ("amount", "double"),
    ]
    assert schema.columns[2].description == "Total paid, in dollars."
    assert orders.metadata["dagster/table_name"].endswith(".main.orders")
    assert jaffle.can_subset


def test_tests_of_one_model_become_its_asset_checks(parsed_jaffle: Path) -> None:
    @dbt_assets(manifest=parsed_jaffle / "target" / "manifest.json")
    def jaffle(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Any:
        yield from dbt.cli(["build"], context=context).stream()

    checks = {c.key.to_user_string(): c for c in jaffle.check_specs}
    assert len(checks) == 13
    assert "orders:assert_order_amounts_not_negative" in checks  # a singular test
    assert "stg_orders:not_null_stg_orders_order_id" in checks
    relationship = checks["orders:relationships_orders_customer_id__customer_id__ref_customers_"]
    assert relationship.additional_deps == (dg.AssetKey("customers"),)
    assert not any(c.blocking for c in checks.values())


def test_asset_checks_can_be_turned_off(parsed_jaffle: Path) -> None:
    translator = DagsterDbtTranslator(DagsterDbtTranslatorSettings(enable_asset_checks=False))

    @dbt_assets(
        manifest=parsed_jaffle / "target" / "manifest.json", dagster_dbt_translator=translator
    )
    def jaffle(context: dg.AssetExecutionContext) -> None: ...

    assert jaffle.check_specs == []


def test_select_and_exclude_use_dbts_selection_syntax(parsed_jaffle: Path) -> None:
    # A path: dbt's selector resolves `path:` in the project the manifest lies in.
    manifest = parsed_jaffle / "target" / "manifest.json"

    @dbt_assets(manifest=manifest, select="+orders", exclude="resource_type:seed")
    def upstream_of_orders(context: dg.AssetExecutionContext) -> None: ...

    @dbt_assets(manifest=parsed_jaffle / "target" / "manifest.json", select="path:models/staging")
    def staging(context: dg.AssetExecutionContext) -> None: ...

    assert {k.to_user_string() for k in upstream_of_orders.keys} == {
        "orders",
        "stg_orders",
        "stg_payments",
    }
    assert {k.to_user_string() for k in staging.keys} == {
        "stg_customers",
        "stg_orders",
        "stg_payments",
    }
    # The staging models' tests only: the checks follow the selection.
    assert {c.asset_key.to_user_string() for c in staging.check_specs} == {
        "stg_customers",
        "stg_orders",
        "stg_payments",
    }
    # A model of another definition stays an upstream dep of this one's models.
    assert dg.AssetKey("stg_orders") in upstream_of_orders.specs_by_key[dg.AssetKey("orders")].deps


def test_a_selection_of_nothing_is_an_error_naming_it(parsed_jaffle: Path) -> None:
    with pytest.raises(DefinitionError, match="chooses no model"):

        @dbt_assets(manifest=parsed_jaffle / "target" / "manifest.json", select="tag:nope")
        def nothing(context: dg.AssetExecutionContext) -> None: ...


class PrefixedTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        return super().get_asset_key(dbt_resource_props).with_prefix("analytics")

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return str(dbt_resource_props["fqn"][1])

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**super().get_metadata(dbt_resource_props), "owner_team": "data"}


def test_a_translator_subclass_changes_keys_groups_and_metadata(parsed_jaffle: Path) -> None:
    @dbt_assets(manifest=manifest_of(parsed_jaffle), dagster_dbt_translator=PrefixedTranslator())
    def jaffle(context: dg.AssetExecutionContext) -> None: ...

    orders = jaffle.specs_by_key[dg.AssetKey(["analytics", "orders"])]
    assert orders.group_name == "marts"
    assert orders.metadata["owner_team"] == "data"
    # Sources go through the translator too: their keys get the prefix.
    staging = jaffle.specs_by_key[dg.AssetKey(["analytics", "stg_orders"])]
    assert staging.deps == (dg.AssetKey(["analytics", "raw", "orders"]),)
    assert get_asset_key_for_model([jaffle], "customers") == dg.AssetKey(["analytics", "customers"])


def test_keys_of_models_and_sources_for_python_assets_around_them(parsed_jaffle: Path) -> None:
    @dbt_assets(manifest=manifest_of(parsed_jaffle))
    def jaffle(context: dg.AssetExecutionContext) -> None: ...

    assert get_asset_key_for_model([jaffle], "customers") == dg.AssetKey("customers")
    with pytest.raises(KeyError, match="no dbt model named 'nope'"):
        get_asset_key_for_model([jaffle], "nope")
    with pytest.raises(KeyError, match="3 tables"):
        get_asset_key_for_source([jaffle], "raw")


def test_a_translator_class_instead_of_an_instance_is_refused() -> None:
    with pytest.raises(DefinitionError, match=r"pass an instance: PrefixedTranslator\(\)"):
        dbt_assets(manifest={}, dagster_dbt_translator=PrefixedTranslator)  # type: ignore[arg-type]


def test_a_missing_manifest_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"does not exist: run `dbt parse`"):

        @dbt_assets(manifest=tmp_path / "target" / "manifest.json")
        def jaffle(context: dg.AssetExecutionContext) -> None: ...


def test_two_dbt_resources_with_one_key_are_refused_naming_both(parsed_jaffle: Path) -> None:
    class SameKeyForSources(DagsterDbtTranslator):
        def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
            if dbt_resource_props["resource_type"] == "source":
                return dg.AssetKey(dbt_resource_props["name"])  # raw.orders -> orders
            return super().get_asset_key(dbt_resource_props)

    with pytest.raises(DefinitionError, match="the same asset key") as raised:

        @dbt_assets(manifest=manifest_of(parsed_jaffle), dagster_dbt_translator=SameKeyForSources())
        def jaffle(context: dg.AssetExecutionContext) -> None: ...

    message = str(raised.value)
    assert "model.jaffle_shop.orders (models/marts/orders.sql)" in message
    assert "source.jaffle_shop.raw.orders (models/staging/sources.yml)" in message
