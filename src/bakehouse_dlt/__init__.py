"""dlt sources as assets, under the names of Dagster's ``dagster_dlt`` (needs
``pip install 'bakehouse[dlt]'``).

``import bakehouse_dlt`` loads nothing until a name is used, so dlt stays off the import path
of code that only mentions the package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bakehouse_dlt.asset_decorator import dlt_assets as dlt_assets
    from bakehouse_dlt.resource import (
        DagsterDltResource as DagsterDltResource,
        DltEventIterator as DltEventIterator,
    )
    from bakehouse_dlt.translator import (
        DagsterDltTranslator as DagsterDltTranslator,
        DltResourceTranslatorData as DltResourceTranslatorData,
    )

_PUBLIC = {
    "dlt_assets": "bakehouse_dlt.asset_decorator",
    "DagsterDltResource": "bakehouse_dlt.resource",
    "DltEventIterator": "bakehouse_dlt.resource",
    "DagsterDltTranslator": "bakehouse_dlt.translator",
    "DltResourceTranslatorData": "bakehouse_dlt.translator",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'bakehouse_dlt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
