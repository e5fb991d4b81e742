"""What asset and check functions return or yield: values, `Output`, `MaterializeResult` and
`AssetCheckResult`."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic

from typing_extensions import TypeVar

from bakehouse.authoring.metadata import metadata_values
from bakehouse.graph.keys import AssetKey, CoercibleToAssetKey, coerce_key

# Generic as in Dagster, so return annotations like ``-> dg.Output[list[dict]]`` evaluate.
# A default, so that a bare `MaterializeResult` / `Output` (as Dagster's docs write them) passes
# mypy --strict in users' code.
T = TypeVar("T", default=Any)


@dataclass(frozen=True)
class Output(Generic[T]):
    """A value for the IO manager plus metadata for the materialization (raw values become
    `MetadataValue`s, as in Dagster: ``Output(v, metadata={"n": 3}).metadata["n"].value``)."""

    value: T
    output_name: str = "result"
    metadata: Mapping[str, Any] | None = None
    tags: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metadata", metadata_values(self.metadata))


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
    # Results of the asset's own checks (its ``check_specs``), recorded after the materialization.
    check_results: tuple[AssetCheckResult, ...] = ()

    def __init__(
        self,
        *,
        asset_key: CoercibleToAssetKey | None = None,
        metadata: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        value: Any = None,
        check_results: Sequence[AssetCheckResult] | None = None,
    ) -> None:
        object.__setattr__(self, "asset_key", coerce_key(asset_key) if asset_key else None)
        object.__setattr__(self, "metadata", metadata_values(metadata))
        object.__setattr__(self, "tags", dict(tags or {}))
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "check_results", tuple(check_results or ()))


class AssetCheckSeverity(str, enum.Enum):
    """How bad a failed check is: ERROR (a blocking check stops what is downstream) or WARN."""

    WARN = "WARN"
    ERROR = "ERROR"


@dataclass(frozen=True, init=False)
class AssetCheckResult:
    """The outcome of one asset check: ``AssetCheckResult(passed=rows > 0, metadata={...})``.

    `asset_key` and `check_name` may be left out when the function evaluates one check only.
    """

    passed: bool
    asset_key: AssetKey | None
    check_name: str | None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR
    description: str | None = None

    def __init__(
        self,
        *,
        passed: bool,
        asset_key: CoercibleToAssetKey | None = None,
        check_name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        severity: AssetCheckSeverity | str = AssetCheckSeverity.ERROR,
        description: str | None = None,
    ) -> None:
        if not isinstance(passed, bool):
            # numpy booleans and the like: a check's verdict is stored as a plain bool.
            passed = bool(passed)
        object.__setattr__(self, "passed", passed)
        object.__setattr__(self, "asset_key", coerce_key(asset_key) if asset_key else None)
        object.__setattr__(self, "check_name", check_name)
        object.__setattr__(self, "metadata", metadata_values(metadata))
        object.__setattr__(self, "severity", _severity(severity))
        object.__setattr__(self, "description", description)


def _severity(value: AssetCheckSeverity | str) -> AssetCheckSeverity:
    try:
        return AssetCheckSeverity(value)
    except ValueError:
        raise ValueError(
            f"severity must be AssetCheckSeverity.ERROR or AssetCheckSeverity.WARN, not {value!r}"
        ) from None
