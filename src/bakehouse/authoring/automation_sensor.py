"""`AutomationConditionSensorDefinition`: the sensor that evaluates the automation conditions
of the assets it targets.

It has no function: the host's daemon evaluates the conditions (`daemon.automation`) from the
snapshot, so the sensor is only a name, a target and an on/off switch. A location whose assets
have conditions that no such sensor targets gets ``default_automation_condition_sensor``
(built in the snapshot, `codeserver.loader`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bakehouse.authoring.asset_selection import AssetSelection, coerce_selection
from bakehouse.authoring.loading import register_definition_kind
from bakehouse.authoring.run_request import DefaultSensorStatus
from bakehouse.authoring.source import caller_source
from bakehouse.errors import DefinitionError

DEFAULT_AUTOMATION_CONDITION_SENSOR_NAME = "default_automation_condition_sensor"
DEFAULT_INTERVAL_SECONDS = 30


@register_definition_kind("sensors")
class AutomationConditionSensorDefinition:
    """Evaluates the automation conditions of the assets in `target` every
    `minimum_interval_seconds` (30 by default) while it is running, and launches the runs they
    request with `run_tags`."""

    def __init__(
        self,
        name: str,
        *,
        target: Any,
        tags: Mapping[str, str] | None = None,
        run_tags: Mapping[str, str] | None = None,
        default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
        minimum_interval_seconds: int | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        emit_backfills: bool = True,
        use_user_code_server: bool = False,
    ) -> None:
        self.source = caller_source()
        if not isinstance(name, str) or not name:
            raise DefinitionError(
                "AutomationConditionSensorDefinition needs a name", source=self.source
            )
        self.name = name
        try:
            self.target: AssetSelection = coerce_selection(target)
        except Exception as exc:  # noqa: BLE001 - any bad target is a definition error
            raise DefinitionError(
                f"sensor '{name}': target must be an AssetSelection, assets or keys ({exc})",
                source=self.source,
            ) from None
        self.asset_selection = self.target
        interval = (
            DEFAULT_INTERVAL_SECONDS
            if minimum_interval_seconds is None
            else int(minimum_interval_seconds)
        )
        if interval < 1:
            raise DefinitionError(
                f"sensor '{name}': minimum_interval_seconds must be at least 1", source=self.source
            )
        self.minimum_interval_seconds = interval
        self.tags = dict(tags or {})
        self.run_tags = dict(run_tags or {})
        self.default_status = DefaultSensorStatus(default_status)
        self.description = description
        self.metadata = dict(metadata or {})
        # Accepted for Dagster code; the daemon launches runs (not backfills), on the host.
        self.emit_backfills = emit_backfills
        self.use_user_code_server = use_user_code_server
        self.job_names: list[str] = []
        self.job_name = None
        self.jobs: list[Any] = []

    def __repr__(self) -> str:
        return f"<AutomationConditionSensorDefinition {self.name}>"
