"""What asset functions return or yield: values, `Output` and `MaterializeResult`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bakehouse.graph.keys import AssetKey, CoercibleToAssetKey, coerce_key

# Generic as in Dagster, so return annotations like ``-> dg.Output[list[dict]]`` evaluate.
T = TypeVar("T")


@dataclass(frozen=True)
class Output(Generic[T]):
    """A value for the IO manager plus metadata for the materialization."""

    value: T
    output_name: str = "result"
    metadata: Mapping[str, Any] | None = None
    tags: Mapping[str, str] | None = None


@dataclass(frozen=True, init=False)
class MaterializeResult(Generic[T]):
    """Reports a materialization whose data the asset wrote itself (no IO manager output).

    ``MaterializeResult(metadata={"rows": 10})``; in a multi-asset, name the asset with
    ``asset_key=``. An optional `value` is still passed to the IO manager.
    """

    asset_key: AssetKey | None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    value: Any = None

    def __init__(
        self,
        *,
        asset_key: CoercibleToAssetKey | None = None,
        metadata: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        value: Any = None,
    ) -> None:
        object.__setattr__(self, "asset_key", coerce_key(asset_key) if asset_key else None)
        object.__setattr__(self, "metadata", dict(metadata or {}))
        object.__setattr__(self, "tags", dict(tags or {}))
        object.__setattr__(self, "value", value)
