"""dbt projects as assets, under the names of Dagster's ``dagster_dbt`` (needs
``pip install 'bakehouse[dbt]'``: dbt-core and an adapter such as dbt-duckdb).

``import bakehouse_dbt`` loads nothing until a name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bakehouse_dbt.asset_decorator import dbt_assets as dbt_assets
    from bakehouse_dbt.component import DbtProjectComponent as DbtProjectComponent
    from bakehouse_dbt.events import DbtCliEventMessage as DbtCliEventMessage
    from bakehouse_dbt.invocation import (
        DagsterDbtCliRuntimeError as DagsterDbtCliRuntimeError,
        DbtCliInvocation as DbtCliInvocation,
    )
    from bakehouse_dbt.manifest import select_unique_ids as select_unique_ids
    from bakehouse_dbt.project import DbtProject as DbtProject
    from bakehouse_dbt.resource import DbtCliResource as DbtCliResource
    from bakehouse_dbt.selection import (
        get_asset_key_for_model as get_asset_key_for_model,
        get_asset_key_for_source as get_asset_key_for_source,
        get_asset_keys_by_output_name_for_source as get_asset_keys_by_output_name_for_source,
    )
    from bakehouse_dbt.translator import (
        DagsterDbtTranslator as DagsterDbtTranslator,
        DagsterDbtTranslatorSettings as DagsterDbtTranslatorSettings,
    )

_PUBLIC = {
    "dbt_assets": "bakehouse_dbt.asset_decorator",
    "DbtProjectComponent": "bakehouse_dbt.component",
    "DbtCliEventMessage": "bakehouse_dbt.events",
    "DagsterDbtCliRuntimeError": "bakehouse_dbt.invocation",
    "DbtCliInvocation": "bakehouse_dbt.invocation",
    "select_unique_ids": "bakehouse_dbt.manifest",
    "DbtProject": "bakehouse_dbt.project",
    "DbtCliResource": "bakehouse_dbt.resource",
    "get_asset_key_for_model": "bakehouse_dbt.selection",
    "get_asset_key_for_source": "bakehouse_dbt.selection",
    "get_asset_keys_by_output_name_for_source": "bakehouse_dbt.selection",
    "DagsterDbtTranslator": "bakehouse_dbt.translator",
    "DagsterDbtTranslatorSettings": "bakehouse_dbt.translator",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'bakehouse_dbt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
