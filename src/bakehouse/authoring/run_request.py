"""What schedules and sensors return: run requests, skip reasons, sensor results, statuses."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
        to_dict = getattr(run_config, "to_config_dict", None)
        config = to_dict() if callable(to_dict) else dict(run_config or {})
        object.__setattr__(self, "run_key", run_key)
        object.__setattr__(self, "run_config", config)
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


@dataclass(frozen=True)
class SensorResult:
    """A sensor's whole answer: run requests, or a skip reason, and the new cursor."""

    run_requests: Sequence[RunRequest] | None = None
    skip_reason: SkipReason | str | None = None
    cursor: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
