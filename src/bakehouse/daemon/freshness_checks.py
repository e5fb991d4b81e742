"""The freshness checks sensor loop: ticks each running `build_sensor_for_freshness_checks`
sensor on the host, from storage, and launches one run of the checks that could have changed.

Dagster's rules for which checks to run: a check never run; a check that passed and whose
``dagster/fresh_until_timestamp`` has passed (it can be overdue now); a check that failed (or
whose function raised) only once its asset materialized after that result (until then it can
only fail again). A check that a run of this sensor still has to evaluate waits for that run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bakehouse.daemon.host_sensors import HostSensorLoop, record_tick
from bakehouse.daemon.launching import launch_request
from bakehouse.daemon.scheduler import origin_of
from bakehouse.host.freshness import FRESH_UNTIL
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.protocol.snapshot import LocationSnap, SensorSnap
from bakehouse.serdes import replace
from bakehouse.storage.records import (
    EventRecord,
    EventType,
    InstigatorState,
    TickRecord,
    TickStatus,
)

if TYPE_CHECKING:
    from bakehouse.storage import Instance

FRESHNESS_SENSOR_KIND = "freshness_checks"
# How many of an asset's newest check results are read to find each check's newest one.
_HISTORY = 200


def is_freshness_sensor(sensor: SensorSnap) -> bool:
    """True for a freshness checks sensor (evaluated here, not by the code server)."""
    return sensor.kind == FRESHNESS_SENSOR_KIND


class FreshnessChecksDaemon(HostSensorLoop):
    """Ticks every running freshness checks sensor that is due; `tick` does one pass."""

    name = "freshness_checks"
    kind = FRESHNESS_SENSOR_KIND


def checks_to_run(
    instance: Instance, sensor: SensorSnap, now: float
) -> tuple[list[str], dict[str, str]]:
    """The sensor's checks to run now, and why each of its checks runs or waits."""
    assets = sorted({c.rpartition(":")[0] for c in sensor.check_keys})
    histories = instance.get_asset_check_histories(assets, limit=_HISTORY)
    latest = instance.get_latest_materializations(assets)
    pending = {
        check
        for run in instance.get_runs_by_tag("bakehouse/sensor", sensor.name, limit=50)
        if not run.status.is_finished
        for check in run.check_selection
    }
    chosen: list[str] = []
    why: dict[str, str] = {}
    for check in sensor.check_keys:
        asset, _, name = check.rpartition(":")
        result = _newest_result(histories.get(asset, []), name)
        if check in pending:
            why[check] = "a run of this sensor has yet to evaluate it"
        elif result is None:
            chosen.append(check)
            why[check] = "never evaluated"
        elif result.event_type == EventType.ASSET_CHECK_EVALUATION and result.data.get("passed"):
            until = _timestamp(result.data.get("metadata", {}).get(FRESH_UNTIL))
            if until is None or until <= now:
                chosen.append(check)
                why[check] = "passed, and could be overdue by now"
            else:
                why[check] = "passed, and cannot be overdue yet"
        else:
            materialized = latest.get(asset)
            if materialized is not None and materialized.timestamp > result.timestamp:
                chosen.append(check)
                why[check] = "failed, and the asset materialized since"
            else:
                why[check] = "failed; waits for the asset to materialize"
    return chosen, why


def _newest_result(history: list[EventRecord], name: str) -> EventRecord | None:
    for event in history:
        names = event.data.get("check_names") or [event.data.get("check_name")]
        if name in names:
            return event
    return None


def _timestamp(entry: object) -> float | None:
    value = entry.get("value") if isinstance(entry, dict) else entry
    return float(value) if isinstance(value, (int, float)) else None


def sensor_tick(
    instance: Instance,
    graph: GlobalAssetGraph,
    snapshot: LocationSnap,
    sensor: SensorSnap,
    state: InstigatorState | None,
    now: float,
) -> TickRecord:
    """One tick of `sensor`: choose, launch, record; returns the finished tick."""

    def evaluate(tick: TickRecord) -> TickRecord:
        chosen, _ = checks_to_run(instance, sensor, now)
        if not chosen:
            return replace(
                tick,
                status=TickStatus.SKIPPED,
                skip_reason="No freshness check needs to run: each is running, failed (it runs "
                "again once its asset materializes) or cannot be overdue yet.",
            )
        run_id, _ = launch_request(
            instance=instance,
            graph=graph,
            snapshot=snapshot,
            origin=origin_of(snapshot.name, sensor.name),
            request={"asset_check_keys": chosen, "tags": dict(sensor.run_tags)},
            run_key=None,
            tags={"bakehouse/sensor": sensor.name, "bakehouse/launched_by": "sensor"},
        )
        return replace(tick, status=TickStatus.SUCCESS, run_ids=(run_id,))

    return record_tick(instance, snapshot, sensor, state, now, evaluate)


FreshnessChecksDaemon.sensor_tick = sensor_tick
