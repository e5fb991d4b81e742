"""Code-server side: evaluate a schedule or a sensor and answer with plain data.

The host sends what the evaluation needs (the tick time, the cursor, new materializations or
finished runs) and gets back run requests, a skip reason, the new cursor, or the user's error.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from bakehouse.authoring.definitions_class import Definitions
from bakehouse.authoring.run_request import RunRequest, SensorResult, SkipReason
from bakehouse.authoring.sensors import (
    AssetMaterialization,
    DagsterRunStatus,
    EventLogEntry,
    RunInfo,
    RunStatusSensorContext,
    SensorDefinition,
    SensorEvaluationContext,
    SensorKind,
)
from bakehouse.errors import ErrorInfo
from bakehouse.graph.keys import AssetKey


def _requests(requests: list[RunRequest], default_job: str | None) -> list[dict[str, Any]]:
    out = []
    for request in requests:
        data = request.to_dict()
        if data["job_name"] is None and data["asset_selection"] is None:
            data["job_name"] = default_job
        out.append(data)
    return out


def evaluate_schedule(defs: Definitions, name: str, scheduled_time: float) -> dict[str, Any]:
    """Evaluate schedule `name` for the tick at `scheduled_time` (POSIX seconds)."""
    try:
        schedule = defs.get_schedule_def(name)
        zone = zoneinfo.ZoneInfo(schedule.execution_timezone or "UTC")
        tick = dt.datetime.fromtimestamp(scheduled_time, zone)
        resources = (
            _resources_named_by(schedule.execution_fn, defs) if schedule.execution_fn else {}
        )
        result = schedule.evaluate(tick, resources)
        if isinstance(result, SkipReason):
            return {"run_requests": [], "skip_reason": result.skip_message or "skipped"}
        requests = _requests(result, schedule.job_name)
    except Exception as exc:  # noqa: BLE001 - the user's error goes back as data
        return {"error": ErrorInfo.from_exception(exc).to_dict()}
    return {"run_requests": requests, "skip_reason": None}


def _answer(result: SensorResult, sensor: SensorDefinition, cursor: str | None) -> dict[str, Any]:
    skip = result.skip_reason
    skip_message = skip.skip_message if isinstance(skip, SkipReason) else skip
    requests = list(result.run_requests or [])
    return {
        "run_requests": _requests(requests, sensor.job_name),
        "skip_reason": (skip_message or "skipped") if skip is not None and not requests else None,
        "cursor": result.cursor if result.cursor is not None else cursor,
        # Applied by the daemon, in this order, before it launches the run requests.
        "dynamic_partitions_requests": [
            r.to_dict() for r in result.dynamic_partitions_requests or []
        ],
    }


def _resources_named_by(fn: Any, defs: Definitions) -> dict[str, Any]:
    """The location's resources that `fn` names as parameters, ready to use (as Dagster
    gives a sensor the resources it asks for)."""
    import inspect

    from bakehouse.authoring.build_contexts import direct_resources

    wanted = set(inspect.signature(fn).parameters) & set(defs.resources)
    return direct_resources({k: defs.resources[k] for k in sorted(wanted)}) if wanted else {}


def evaluate_sensor(
    defs: Definitions,
    name: str,
    *,
    cursor: str | None,
    last_tick_at: float | None,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """Evaluate sensor `name` once; asset and run status sensors are fed from `payload`."""
    try:
        sensor: SensorDefinition = defs.get_sensor_def(name)
        context = SensorEvaluationContext(
            cursor=cursor,
            last_tick_completion_time=last_tick_at,
            sensor_name=name,
            resources=_resources_named_by(sensor.evaluation_fn, defs),
        )
        if sensor.kind == SensorKind.ASSET:
            answer = _evaluate_asset_sensor(sensor, context, payload)
        elif sensor.kind == SensorKind.RUN_STATUS:
            answer = _evaluate_run_status_sensor(sensor, context, payload)
        else:
            answer = _answer(sensor.evaluate(context), sensor, cursor)
    except Exception as exc:  # noqa: BLE001 - the user's error goes back as data
        return {"error": ErrorInfo.from_exception(exc).to_dict()}
    return answer


def _evaluate_asset_sensor(
    sensor: SensorDefinition, context: SensorEvaluationContext, payload: dict[str, Any]
) -> dict[str, Any]:
    events = payload.get("materializations") or []
    if not events:
        key = sensor.asset_key.to_user_string() if sensor.asset_key else "?"
        return {"run_requests": [], "skip_reason": f"no new materialization of {key}",
                "cursor": context.cursor}  # fmt: skip
    latest = max(events, key=lambda e: int(e["storage_id"]))
    entry = EventLogEntry(
        run_id=latest["run_id"],
        timestamp=float(latest["timestamp"]),
        storage_id=int(latest["storage_id"]),
        asset_materialization=AssetMaterialization(
            asset_key=AssetKey.from_user_string(latest["asset_key"]),
            metadata=latest.get("metadata") or {},
            partition=latest.get("partition_key"),
        ),
    )
    result = sensor.evaluate(context, entry)
    return _answer(result, sensor, str(entry.storage_id))


def _evaluate_run_status_sensor(
    sensor: SensorDefinition, context: SensorEvaluationContext, payload: dict[str, Any]
) -> dict[str, Any]:
    runs = sorted(payload.get("runs") or [], key=lambda r: float(r["ended_at"]))
    if not runs:
        status = sensor.run_status.value if sensor.run_status else "?"
        return {"run_requests": [], "skip_reason": f"no run ended with status {status}",
                "cursor": context.cursor}  # fmt: skip
    requests: list[dict[str, Any]] = []
    cursor = context.cursor
    for run in runs:
        run_context = RunStatusSensorContext(
            dagster_run=RunInfo(
                run_id=run["run_id"],
                status=DagsterRunStatus(run["status"]),
                job_name=run.get("job_name"),
                tags=run.get("tags") or {},
                asset_selection=tuple(run.get("asset_selection") or ()),
            ),
            failure_message=run.get("failure_message"),
            cursor=cursor,
            sensor_name=sensor.name,
        )
        answer = _answer(sensor.evaluate(run_context), sensor, None)
        requests.extend(answer["run_requests"])
        cursor = str(run["ended_at"])
    return {"run_requests": requests, "skip_reason": None, "cursor": cursor}
