"""Freshness checks, Dagster's older API: `build_last_update_freshness_checks` builds asset checks
that fail when an asset's newest materialization is older than a lower bound, and
`build_sensor_for_freshness_checks` a sensor that runs them when they could have changed.

The checks are ordinary asset checks run in a run worker (they read the instance there); the
sensor is evaluated by the host's daemon from storage (`daemon/freshness_checks.py`), since it
decides from stored check results and materializations only. Their results carry Dagster's
metadata keys (``dagster/freshness_params``, ``dagster/last_updated_timestamp``,
``dagster/fresh_until_timestamp``, ...), which is how the host and the UI know them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from bakehouse.authoring.asset_checks import AssetChecksDefinition, multi_asset_check
from bakehouse.authoring.check_spec import AssetCheckSpec, target_key
from bakehouse.authoring.metadata import MetadataValue
from bakehouse.authoring.results import AssetCheckResult, AssetCheckSeverity
from bakehouse.authoring.run_request import DefaultSensorStatus
from bakehouse.authoring.sensors import SensorDefinition, SensorKind
from bakehouse.errors import DefinitionError
from bakehouse.graph.keys import AssetKey

FRESHNESS_CHECK_NAME = "freshness_check"
FRESHNESS_PARAMS = "dagster/freshness_params"
DEFAULT_FRESHNESS_SENSOR_NAME = "freshness_checks_sensor"


def build_last_update_freshness_checks(
    *,
    assets: Sequence[Any],
    lower_bound_delta: dt.timedelta,
    deadline_cron: str | None = None,
    timezone: str = "UTC",
    severity: AssetCheckSeverity = AssetCheckSeverity.WARN,
    blocking: bool = False,
) -> list[AssetChecksDefinition]:
    """One check named ``freshness_check`` per asset of `assets` (keys, specs or assets), all
    evaluated by one step that may run any subset of them.

    A check passes when the asset's newest materialization is at or after its lower bound: the
    latest tick of `deadline_cron` (in `timezone`) minus `lower_bound_delta`, or without a cron
    the time of the check minus `lower_bound_delta`. It fails with `severity` (WARN by default,
    as in Dagster) otherwise, and when the asset was never materialized.
    """
    where = "build_last_update_freshness_checks"
    if not isinstance(lower_bound_delta, dt.timedelta):
        raise DefinitionError(f"{where}: lower_bound_delta must be a datetime.timedelta")
    if deadline_cron is not None:
        from bakehouse.graph.time_ticks import validate_cron

        problem = validate_cron(deadline_cron)
        if problem is not None:
            raise DefinitionError(f"{where}: deadline_cron {deadline_cron!r}: {problem}")
    from bakehouse.graph.time_ticks import get_zone

    try:
        get_zone(timezone)
    except ValueError as exc:
        raise DefinitionError(f"{where}: {exc}") from None
    keys = [k for asset in assets for k in _keys(asset, where)]
    doubled = sorted({str(k) for k in keys if keys.count(k) > 1})
    if doubled:
        raise DefinitionError(f"{where}: assets are given twice: {', '.join(doubled)}")
    if not keys:
        raise DefinitionError(f"{where}: assets= names no asset")
    params: dict[str, Any] = {
        "lower_bound_delta_seconds": lower_bound_delta.total_seconds(),
        "timezone": timezone,
    }
    if deadline_cron:
        params["deadline_cron"] = deadline_cron
    specs = [
        AssetCheckSpec(
            FRESHNESS_CHECK_NAME,
            asset=key,
            description="Evaluates freshness for targeted asset.",
            blocking=blocking,
            metadata={FRESHNESS_PARAMS: MetadataValue.json(params)},
        )
        for key in keys
    ]
    digest = hashlib.sha256(",".join(sorted(str(k) for k in keys)).encode()).hexdigest()[:8]

    def freshness_check(context: Any) -> Iterator[AssetCheckResult]:
        for check_key in sorted(context.selected_asset_check_keys):
            yield _evaluate(context.instance, check_key.asset_key, params, severity, time.time())

    return [
        multi_asset_check(specs=specs, can_subset=True, name=f"freshness_check_{digest}")(
            freshness_check
        )
    ]


def _keys(asset: Any, where: str) -> list[AssetKey]:
    keys = getattr(asset, "keys", None)
    if isinstance(keys, list) and all(isinstance(k, AssetKey) for k in keys):
        return list(keys)
    return [target_key(asset, where)]


def _last_updated(instance: Any, key: AssetKey) -> float | None:
    """When the asset last changed: its newest materialization's
    ``dagster/last_updated_timestamp`` metadata if it has one, else the event's time."""
    entry = instance.get_latest_materialization_event(key)
    if entry is None:
        return None
    stated = entry.asset_materialization.metadata.get("dagster/last_updated_timestamp")
    value = getattr(stated, "value", stated)
    if isinstance(value, dict):
        value = value.get("value")
    return float(value) if isinstance(value, (int, float)) else float(entry.timestamp)


def _evaluate(
    instance: Any,
    key: AssetKey,
    params: Mapping[str, Any],
    severity: AssetCheckSeverity,
    now: float,
) -> AssetCheckResult:
    from bakehouse.graph.time_ticks import latest_tick_at_or_before, next_tick_after

    cron, zone = params.get("deadline_cron"), str(params["timezone"])
    delta = float(params["lower_bound_delta_seconds"])
    deadline = latest_tick_at_or_before(cron, zone, now) if cron else now
    lower_bound = deadline - delta
    updated = _last_updated(instance, key)
    passed = updated is not None and updated >= lower_bound
    metadata: dict[str, Any] = {
        FRESHNESS_PARAMS: MetadataValue.json(dict(params)),
        "dagster/freshness_lower_bound_timestamp": MetadataValue.timestamp(lower_bound),
    }
    if cron:
        metadata["dagster/latest_cron_tick_timestamp"] = MetadataValue.timestamp(deadline)
    if updated is not None:
        metadata["dagster/last_updated_timestamp"] = MetadataValue.timestamp(updated)
    if passed:
        assert updated is not None
        # When it can next be overdue: what the sensor waits for before running it again.
        until = next_tick_after(cron, zone, now) if cron else updated + delta
        metadata["dagster/fresh_until_timestamp"] = MetadataValue.timestamp(until)
    return AssetCheckResult(
        passed=passed,
        asset_key=key,
        check_name=FRESHNESS_CHECK_NAME,
        severity=severity,
        metadata=metadata,
        description=_description(passed, updated, lower_bound, now),
    )


def _description(passed: bool, updated: float | None, lower_bound: float, now: float) -> str:
    allowed = _words(now - lower_bound)
    if updated is None:
        return "Asset has never been materialized."
    ago = _words(now - updated)
    if passed:
        return f"Asset is fresh: updated {ago} ago, within the allowed {allowed}."
    return f"Asset is overdue: updated {ago} ago, past the allowed {allowed}."


def _words(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute"), (secs, "second")]
    said = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return ", ".join(said) or "0 seconds"


def build_sensor_for_freshness_checks(
    *,
    freshness_checks: Iterable[AssetChecksDefinition],
    minimum_interval_seconds: int | None = None,
    name: str = DEFAULT_FRESHNESS_SENSOR_NAME,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    tags: Mapping[str, str] | None = None,
) -> SensorDefinition:
    """A sensor that launches a run of the freshness checks that could have changed: those
    never run, and those that passed and whose ``dagster/fresh_until_timestamp`` has passed.
    A check that failed runs again only once its asset materialized since (that run may have
    run it already). The host's daemon evaluates it from storage."""
    checks = list(freshness_checks)
    keys = [k for c in checks for k in c.check_keys]
    if not keys:
        raise DefinitionError(f"sensor '{name}': freshness_checks= holds no check")
    doubled = sorted({str(k) for k in keys if keys.count(k) > 1})
    if doubled:
        raise DefinitionError(f"sensor '{name}': checks are given twice: {', '.join(doubled)}")
    not_freshness = [
        str(s.key) for c in checks for s in c.check_specs if FRESHNESS_PARAMS not in s.metadata
    ]
    if not_freshness:
        raise DefinitionError(
            f"sensor '{name}': {', '.join(not_freshness)} are not freshness checks "
            "(build them with build_last_update_freshness_checks)"
        )

    def evaluation_fn(context: Any) -> None:
        raise DefinitionError(
            f"sensor '{name}' is evaluated by the bakehouse daemon from storage, not called"
        )

    sensor = SensorDefinition(
        name,
        evaluation_fn=evaluation_fn,
        minimum_interval_seconds=minimum_interval_seconds,
        description="Launches the freshness checks that could be overdue again.",
        default_status=default_status,
        kind=SensorKind.FRESHNESS_CHECKS,
    )
    sensor.check_keys = [k.to_user_string() for k in sorted(keys)]
    sensor.run_tags = dict(tags or {})
    return sensor
