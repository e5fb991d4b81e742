"""The automation loop: evaluates, for each running automation condition sensor, the
conditions of the assets it targets, and launches the runs they request.

Host side, from snapshots and storage only (the user's code is not called). One sensor tick:
read the cursors, evaluate the assets in dependency order (so `will_be_requested` sees the
requests of upstream assets), launch one run per partition through the launch service, then
store every asset's cursor and explained evaluation in one transaction.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bakehouse.daemon.automation_evaluator import RootEvaluation, condition_hash
from bakehouse.daemon.automation_facts import Facts
from bakehouse.daemon.host_sensors import HostSensorLoop, record_tick
from bakehouse.daemon.launching import launch_request
from bakehouse.daemon.scheduler import origin_of
from bakehouse.errors import ErrorInfo
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.protocol.snapshot import LocationSnap, SensorSnap
from bakehouse.serdes import replace
from bakehouse.storage.automation_records import (
    UNPARTITIONED,
    AutomationCursor,
    AutomationEvaluation,
)
from bakehouse.storage.records import (
    InstigatorState,
    TickRecord,
    TickStatus,
)

if TYPE_CHECKING:
    from bakehouse.storage import Instance

log = logging.getLogger("bakehouse.daemon.automation")

AUTOMATION_SENSOR_KIND = "automation_condition"

# Tags of every run the loop launches (Dagster tags them dagster/auto_materialize and
# dagster/from_automation_condition); the sensor's run_tags are added.
LAUNCHED_BY = "automation_condition"
TICK_TAG = "bakehouse/automation_tick"


def is_automation_sensor(sensor: SensorSnap) -> bool:
    """True for an automation condition sensor (evaluated here, not by the code server)."""
    return sensor.kind == AUTOMATION_SENSOR_KIND


class AutomationDaemon(HostSensorLoop):
    """Ticks every running automation condition sensor that is due; `tick` does one pass."""

    name = "automation"
    kind = AUTOMATION_SENSOR_KIND


def sensor_tick(
    instance: Instance,
    graph: GlobalAssetGraph,
    snapshot: LocationSnap,
    sensor: SensorSnap,
    state: InstigatorState | None,
    now: float,
) -> TickRecord:
    """One tick of `sensor`: evaluate, launch, store; returns the finished tick."""
    return record_tick(
        instance,
        snapshot,
        sensor,
        state,
        now,
        lambda tick: _evaluate(instance, graph, snapshot, sensor, tick, now),
    )


AutomationDaemon.sensor_tick = sensor_tick


def _evaluate(
    instance: Instance,
    graph: GlobalAssetGraph,
    snapshot: LocationSnap,
    sensor: SensorSnap,
    tick: TickRecord,
    now: float,
) -> TickRecord:
    evaluation_id = tick.tick_id or 0
    # Read before anything else: an event stored while this tick runs counts as new next time.
    max_storage_id = instance.get_max_event_storage_id()
    facts = Facts(instance, graph, now)
    targets = [
        key
        for key in sensor.asset_selection or ()
        if key in graph.assets
        and graph.location_of(key) == snapshot.name
        and graph.assets[key].node.automation_condition is not None
    ]
    order = graph.key_graph.toposort(targets)
    related = sorted({*order, *(d for k in order for d in facts.deps(k))})
    cursors = instance.get_automation_cursors(related)
    previous_requested = {k: c.requested for k, c in cursors.items()}
    requested_now: dict[str, set[str]] = {}
    evaluations: list[AutomationEvaluation] = []
    new_cursors: list[AutomationCursor] = []
    for key in order:
        condition = graph.assets[key].node.automation_condition
        assert condition is not None  # filtered above
        root = RootEvaluation(
            facts=facts,
            root=key,
            condition=condition,
            prior=cursors.get(key),
            requested_now=requested_now,
            previous_requested=previous_requested,
        )
        requested, tree = root.run()
        requested_now[key] = requested
        new_cursors.append(
            AutomationCursor(
                asset_key=key,
                evaluation_id=evaluation_id,
                evaluated_at=now,
                max_storage_id=max_storage_id,
                condition_hash=condition_hash(condition),
                requested=tuple(sorted(requested)),
                node_partitions=root.node_partitions,
                node_values=root.node_values,
            )
        )
        evaluations.append(
            AutomationEvaluation(
                asset_key=key,
                origin=tick.origin,
                evaluation_id=evaluation_id,
                evaluated_at=now,
                requested=tuple(sorted(requested)),
                tree=tree,
            )
        )
    run_ids, runs_by_key, errors = _launch(
        instance, graph, snapshot, sensor, order, requested_now, evaluation_id
    )
    evaluations = [replace(e, run_ids=tuple(runs_by_key.get(e.asset_key, ()))) for e in evaluations]
    instance.store_automation_evaluations(new_cursors, evaluations)
    if errors:
        return replace(tick, status=TickStatus.FAILURE, run_ids=tuple(run_ids), error=errors[0])
    if run_ids:
        return replace(tick, status=TickStatus.SUCCESS, run_ids=tuple(run_ids))
    return replace(
        tick,
        status=TickStatus.SKIPPED,
        skip_reason=f"no automation condition of its {len(order)} asset(s) was true",
    )


def _launch(
    instance: Instance,
    graph: GlobalAssetGraph,
    snapshot: LocationSnap,
    sensor: SensorSnap,
    order: list[str],
    requested: dict[str, set[str]],
    evaluation_id: int,
) -> tuple[list[str], dict[str, list[str]], list[dict[str, object]]]:
    """One run per partition (and partitions definition) of what was requested."""
    groups: dict[tuple[str, str], list[str]] = {}
    for key in order:
        partitions_snap = graph.assets[key].node.partitions
        shape = "" if partitions_snap is None else repr(partitions_snap)
        for partition in sorted(requested.get(key, ())):
            groups.setdefault((shape, partition), []).append(key)
    run_ids: list[str] = []
    by_key: dict[str, list[str]] = {}
    errors: list[dict[str, object]] = []
    tags = {
        "bakehouse/sensor": sensor.name,
        "bakehouse/launched_by": LAUNCHED_BY,
        "bakehouse/auto_materialize": "true",
        "bakehouse/from_automation_condition": "true",
        TICK_TAG: str(evaluation_id),
    }
    for (_, partition), keys in groups.items():
        request = {
            "asset_selection": keys,
            "partition_key": None if partition == UNPARTITIONED else partition,
            "tags": dict(sensor.run_tags),
        }
        try:
            run_id, _ = launch_request(
                instance=instance,
                graph=graph,
                snapshot=snapshot,
                origin=origin_of(snapshot.name, sensor.name),
                request=request,
                run_key=None,
                tags=tags,
            )
        except Exception as exc:  # noqa: BLE001 - recorded on the tick, the rest still run
            errors.append(ErrorInfo.from_exception(exc).to_dict())
            continue
        run_ids.append(run_id)
        for key in keys:
            by_key.setdefault(key, []).append(run_id)
    return run_ids, by_key, errors
