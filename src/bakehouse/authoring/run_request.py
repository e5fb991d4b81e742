"""What schedules and sensors return: run requests, skip reasons, sensor results, statuses."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bakehouse.authoring.run_config import plain_run_config
from bakehouse.graph.keys import AssetKey, CoercibleToAssetKey, coerce_key


class DefaultScheduleStatus(str, enum.Enum):
    """Whether a schedule runs before anyone turns it on or off."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class DefaultSensorStatus(str, enum.Enum):
    """Whether a sensor runs before anyone turns it on or off."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


@dataclass(frozen=True, init=False)
class RunRequest:
    """Asks the daemon for a run. A `run_key` makes it idempotent: one run per key per sensor."""

    run_key: str | None
    run_config: Mapping[str, Any]
    tags: Mapping[str, str]
    asset_selection: tuple[AssetKey, ...] | None
    job_name: str | None
    partition_key: str | None

    def __init__(
        self,
        run_key: str | None = None,
        run_config: Mapping[str, Any] | Any | None = None,
        tags: Mapping[str, str] | None = None,
        job_name: str | None = None,
        asset_selection: Sequence[CoercibleToAssetKey] | None = None,
        partition_key: str | None = None,
    ) -> None:
        object.__setattr__(self, "run_key", run_key)
        object.__setattr__(self, "run_config", plain_run_config(run_config))
        object.__setattr__(self, "tags", {str(k): str(v) for k, v in (tags or {}).items()})
        object.__setattr__(
            self,
            "asset_selection",
            tuple(coerce_key(k) for k in asset_selection) if asset_selection is not None else None,
        )
        object.__setattr__(self, "job_name", job_name)
        object.__setattr__(self, "partition_key", partition_key)

    def to_dict(self) -> dict[str, Any]:
        """The request as plain data, for the host."""
        return {
            "run_key": self.run_key,
            "run_config": dict(self.run_config),
            "tags": dict(self.tags),
            "asset_selection": [k.to_user_string() for k in self.asset_selection]
            if self.asset_selection is not None
            else None,
            "job_name": self.job_name,
            "partition_key": self.partition_key,
        }


@dataclass(frozen=True)
class SkipReason:
    """Says why a tick launched nothing."""

    skip_message: str | None = None


def _keys(what: str, partition_keys: Sequence[str]) -> tuple[str, ...]:
    if isinstance(partition_keys, str):
        raise TypeError(f"{what}: partition_keys is a list of keys, not one string")
    keys = tuple(partition_keys)
    for n, key in enumerate(keys):
        if not isinstance(key, str) or not key:
            raise TypeError(f"{what}: partition_keys[{n}] must be a non-empty string, got {key!r}")
    return keys


@dataclass(frozen=True, init=False)
class _DynamicPartitionsChange:
    """Keys of one `DynamicPartitionsDefinition` a sensor asks the daemon to change."""

    partitions_def_name: str
    partition_keys: tuple[str, ...]
    _action = ""  # a class constant, not a field: "add" or "delete", as the host reads it

    def __init__(self, partitions_def_name: str, partition_keys: Sequence[str]) -> None:
        object.__setattr__(self, "partitions_def_name", partitions_def_name)
        object.__setattr__(self, "partition_keys", _keys(type(self).__name__, partition_keys))

    def to_dict(self) -> dict[str, Any]:
        """The request as plain data, for the host."""
        return {
            "action": self._action,
            "partitions_def_name": self.partitions_def_name,
            "partition_keys": list(self.partition_keys),
        }


@dataclass(frozen=True, init=False)
class AddDynamicPartitionsRequest(_DynamicPartitionsChange):
    """Asks the daemon to add keys to a `DynamicPartitionsDefinition` (returned by a sensor in
    ``SensorResult(dynamic_partitions_requests=[...])``), before it launches the run requests."""

    _action = "add"


@dataclass(frozen=True, init=False)
class DeleteDynamicPartitionsRequest(_DynamicPartitionsChange):
    """Asks the daemon to delete keys of a `DynamicPartitionsDefinition` (keys it does not have
    are ignored), before it launches the run requests."""

    _action = "delete"


DynamicPartitionsRequest = AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest


@dataclass(frozen=True)
class SensorResult:
    """A sensor's whole answer: run requests, or a skip reason, and the new cursor; and keys to
    add to or delete from dynamic partitions definitions, which the daemon applies first."""

    run_requests: Sequence[RunRequest] | None = None
    skip_reason: SkipReason | str | None = None
    cursor: str | None = None
    dynamic_partitions_requests: Sequence[DynamicPartitionsRequest] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
