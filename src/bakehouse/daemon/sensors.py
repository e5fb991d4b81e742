"""The sensor loop: evaluates running sensors every `minimum_interval_seconds`.

The cursor lives in storage, so it survives daemon restarts; a run key launches at most one
run per sensor. Asset sensors are fed the watched asset's new materializations, run status
sensors the runs that ended with their status, both after their cursor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bakehouse.daemon.automation import is_automation_sensor
from bakehouse.daemon.freshness_checks import is_freshness_sensor
from bakehouse.daemon.host_sensors import due_sensors, running_state
from bakehouse.daemon.launching import launch_request
from bakehouse.daemon.loop import Clock, LaunchingLoop
from bakehouse.daemon.scheduler import origin_of
from bakehouse.errors import ErrorInfo, ProtocolError
from bakehouse.host.supervisor import LocationSupervisor
from bakehouse.protocol.snapshot import LocationSnap, SensorSnap
from bakehouse.serdes import replace
from bakehouse.storage.records import (
    EventType,
    InstigatorState,
    InstigatorType,
    RunStatus,
    TickRecord,
    TickStatus,
)

if TYPE_CHECKING:
    from bakehouse.storage import Instance

log = logging.getLogger("bakehouse.daemon.sensors")


def sensor_payload(
    instance: Instance, sensor: SensorSnap, cursor: str | None, now: float
) -> tuple[dict[str, Any], str | None]:
    """What the sensor is fed, and the cursor to start from (set to "now" on first use)."""
    if sensor.kind == "asset" and sensor.asset_key:
        history = instance.get_materialization_history(sensor.asset_key, limit=100)
        if cursor is None:
            # A new asset sensor reacts to what happens from now on, not to history.
            newest = max((e.storage_id or 0 for e in history), default=0)
            return {"materializations": []}, str(newest)
        after = int(cursor)
        events = [
            {
                "storage_id": e.storage_id,
                "run_id": e.run_id,
                "timestamp": e.timestamp,
                "asset_key": e.asset_key,
                "partition_key": e.partition_key,
                "metadata": e.data.get("metadata", {}),
            }
            for e in history
            if (e.storage_id or 0) > after
        ]
        return {"materializations": events}, cursor
    if sensor.kind == "run_status" and sensor.run_status:
        if cursor is None:
            return {"runs": []}, str(now)
        since = float(cursor)
        runs = [
            r
            for r in instance.get_runs(limit=200, statuses=[RunStatus(sensor.run_status)])
            if r.ended_at is not None
            and r.ended_at > since
            and (not sensor.monitored_jobs or r.job_name in sensor.monitored_jobs)
        ]
        return {
            "runs": [
                {
                    "run_id": r.run_id,
                    "status": r.status.value,
                    "job_name": r.job_name,
                    "tags": dict(r.tags),
                    "ended_at": r.ended_at,
                    "asset_selection": list(r.asset_selection),
                    "failure_message": _failure_message(instance, r.run_id)
                    if r.status == RunStatus.FAILURE
                    else None,
                }
                for r in runs
            ]
        }, cursor
    return {}, cursor


def apply_dynamic_partitions_requests(
    instance: Instance, requests: list[dict[str, Any]], origin: str
) -> int:
    """Add or delete dynamic partition keys as a sensor's answer asks, request by request;
    returns how many keys the requests named.

    Each request is idempotent (adding a key that is there, or deleting one that is not, does
    nothing), so a tick finished again after a daemon restart applies them again harmlessly.
    """
    asked = 0
    for request in requests:
        name, keys = request.get("partitions_def_name"), request.get("partition_keys")
        action = request.get("action")
        if not isinstance(name, str) or not isinstance(keys, list) or action not in _ACTIONS:
            raise ProtocolError(f"sensor {origin} sent a malformed dynamic partitions request")
        if action == "add":
            instance.add_dynamic_partitions(name, keys)
        else:
            for key in keys:
                instance.delete_dynamic_partition(name, key)
        if keys:
            log.info("sensor %s: %s %d key(s) of %s", origin, _ACTIONS[action], len(keys), name)
        asked += len(keys)
    return asked


_ACTIONS = {"add": "added", "delete": "deleted"}


def _failure_message(instance: Instance, run_id: str) -> str | None:
    failures = instance.get_events(run_id, event_types=[EventType.RUN_FAILURE])
    return failures[-1].message if failures else None


def _in_code_server(sensor: SensorSnap) -> bool:
    """Automation and freshness checks sensors are evaluated on the host, by their loops."""
    return not (is_automation_sensor(sensor) or is_freshness_sensor(sensor))


class SensorDaemon(LaunchingLoop):
    """Evaluates every running sensor that is due; `tick` does one pass."""

    name = "sensors"

    def __init__(
        self,
        instance: Instance,
        supervisor: LocationSupervisor,
        *,
        clock: Clock = time.time,
        on_launch: Callable[[], None] | None = None,
        interval: float = 1.0,
    ) -> None:
        super().__init__(instance, supervisor, interval=interval, clock=clock, on_launch=on_launch)

    def tick(self) -> list[TickRecord]:
        """Evaluate each running sensor whose interval has passed; returns the ticks."""
        now = self.clock()
        return [
            self.evaluate(snapshot, sensor, state, now)
            for snapshot, sensor, state in due_sensors(
                self.instance, self.supervisor, now, _in_code_server
            )
        ]

    def evaluate(
        self,
        snapshot: LocationSnap,
        sensor: SensorSnap,
        state: InstigatorState | None,
        now: float,
        *,
        launch: bool = True,
    ) -> TickRecord:
        """Evaluate `sensor` once, launch what it requests (unless `launch` is off: a preview),
        and record the tick and the new cursor."""
        origin = origin_of(snapshot.name, sensor.name)
        state = state or running_state(snapshot, sensor)
        payload, cursor = sensor_payload(self.instance, sensor, state.cursor, now)
        tick = TickRecord(origin=origin, type=InstigatorType.SENSOR, tick_at=now, cursor=cursor)
        if launch:
            tick = self.instance.create_tick(tick) or tick
        server = self.supervisor.server(snapshot.name)
        try:
            if server is None:
                raise ProtocolError(f"code location '{snapshot.name}' has no running code server")
            answer = server.evaluate_sensor(
                sensor.name, cursor=cursor, last_tick_at=state.last_tick_at, payload=payload
            )
        except ProtocolError as exc:
            answer = {"error": ErrorInfo.from_exception(exc).to_dict()}
        if answer.get("error"):
            tick = replace(tick, status=TickStatus.FAILURE, error=answer["error"])
            return self._finish(state, tick, now, cursor, launch)
        new_cursor = answer.get("cursor", cursor)
        requests = answer.get("run_requests") or []
        if not launch:
            return replace(
                tick,
                status=TickStatus.SUCCESS if requests else TickStatus.SKIPPED,
                run_keys=tuple(str(r.get("run_key")) for r in requests),
                skip_reason=answer.get("skip_reason"),
                cursor=new_cursor,
            )
        run_ids, run_keys = [], []
        graph = self.supervisor.global_graph()
        partition_requests = answer.get("dynamic_partitions_requests") or []
        try:
            # Before the run requests, which may ask for the keys just added (as in Dagster).
            keys_asked = apply_dynamic_partitions_requests(
                self.instance, partition_requests, origin
            )
            for request in requests:
                run_id, created = launch_request(
                    instance=self.instance,
                    graph=graph,
                    snapshot=snapshot,
                    origin=origin,
                    request=request,
                    run_key=request.get("run_key"),
                    tags={"bakehouse/sensor": sensor.name, "bakehouse/launched_by": "sensor"},
                )
                if created:
                    run_ids.append(run_id)
                if request.get("run_key"):
                    run_keys.append(str(request["run_key"]))
        except Exception as exc:  # noqa: BLE001 - recorded on the tick
            tick = replace(tick, status=TickStatus.FAILURE, run_ids=tuple(run_ids),
                           error=ErrorInfo.from_exception(exc).to_dict())  # fmt: skip
            return self._finish(state, tick, now, new_cursor, launch)
        if run_ids:
            self.launched()
        # Keys added or deleted are what this tick did, even when it launched no run.
        status = TickStatus.SUCCESS if run_ids or keys_asked else TickStatus.SKIPPED
        skip = None if keys_asked and not run_ids else answer.get("skip_reason")
        if not run_ids and requests and not skip and not keys_asked:
            skip = "every run key was launched before"
        tick = replace(tick, status=status, run_ids=tuple(run_ids), run_keys=tuple(run_keys),
                       skip_reason=skip, cursor=new_cursor)  # fmt: skip
        return self._finish(state, tick, now, new_cursor, launch)

    def _finish(
        self,
        state: InstigatorState,
        tick: TickRecord,
        now: float,
        cursor: str | None,
        launch: bool,
    ) -> TickRecord:
        if not launch:
            return tick
        # The tick's own fields only: a stop stored while the code server evaluated stays.
        self.instance.update_instigator_state(
            state.origin,
            lambda stored: replace(stored or state, cursor=cursor, last_tick_at=now),
        )
        return self.instance.update_tick(tick) if tick.tick_id is not None else tick
