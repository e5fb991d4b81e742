"""Which dbt nodes a run selected, as dbt ``--select`` arguments, and the asset keys of named
models and sources (`get_asset_key_for_model`, `get_asset_key_for_source`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bakehouse.graph.keys import AssetKey
from bakehouse_dbt.manifest import node
from bakehouse_dbt.specs import DbtAssetsInfo


def selection_args(info: DbtAssetsInfo, context: Any) -> tuple[list[str], dict[str, str]]:
    """The ``--select``/``--exclude`` flags running what `context` selected, and environment
    for dbt.

    A run of every asset and check passes the definition's own selection; a subset names each
    selected node and test by its fqn, with indirect selection off so that dbt adds no test
    the run did not select.
    """
    keys = set(getattr(context, "selected_asset_keys", ()) or ())
    checks = set(getattr(context, "selected_asset_check_keys", ()) or ())
    all_keys = set(info.unique_id_by_key)
    all_checks = set(info.unique_id_by_check)
    if keys >= all_keys and checks >= all_checks:
        args = ["--select", info.select]
        if info.exclude:
            args += ["--exclude", info.exclude]
        return args, {}
    ids = [info.unique_id_by_key[k] for k in sorted(keys) if k in info.unique_id_by_key]
    ids += [info.unique_id_by_check[c] for c in sorted(checks) if c in info.unique_id_by_check]
    fqns = [_fqn_selector(node(info.manifest, uid)) for uid in ids]
    return ["--select", " ".join(fqns)], {"DBT_INDIRECT_SELECTION": "empty"}


def _fqn_selector(props: Any) -> str:
    return "fqn:" + ".".join(props["fqn"])


def _infos(dbt_assets: Sequence[Any]) -> list[DbtAssetsInfo]:
    from bakehouse_dbt.asset_decorator import dbt_info_of

    found = [info for info in (dbt_info_of(a) for a in dbt_assets) if info is not None]
    if not found:
        raise ValueError("none of the given definitions was built by @dbt_assets")
    return found


def get_asset_key_for_model(dbt_assets: Sequence[Any], model_name: str) -> AssetKey:
    """The asset key of the dbt model (or seed, or snapshot) `model_name` among `dbt_assets`,
    e.g. for ``@asset(deps=[get_asset_key_for_model([my_dbt_assets], "customers")])``."""
    for info in _infos(dbt_assets):
        for unique_id, key in info.key_by_unique_id.items():
            if node(info.manifest, unique_id)["name"] == model_name:
                return key
    raise KeyError(f"no dbt model named {model_name!r} in the given dbt assets")


def get_asset_key_for_source(dbt_assets: Sequence[Any], source_name: str) -> AssetKey:
    """The asset key of the dbt source `source_name` (its one table), for an upstream asset
    that produces it: ``@asset(key=get_asset_key_for_source([my_dbt_assets], "raw"))``."""
    keys = get_asset_keys_by_output_name_for_source(dbt_assets, source_name)
    if len(keys) != 1:
        raise KeyError(
            f"dbt source {source_name!r} has {len(keys)} tables; use "
            "get_asset_keys_by_output_name_for_source"
        )
    return next(iter(keys.values()))


def get_asset_keys_by_output_name_for_source(
    dbt_assets: Sequence[Any], source_name: str
) -> dict[str, AssetKey]:
    """The asset key of each table of the dbt source `source_name`, by table name."""
    found: dict[str, AssetKey] = {}
    for info in _infos(dbt_assets):
        for (source, table), key in info.source_keys.items():
            if source == source_name:
                found[table] = key
    if not found:
        raise KeyError(f"no dbt source named {source_name!r} in the given dbt assets")
    return found
