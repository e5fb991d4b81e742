"""Which assets the daemon automates, and how their conditions were last evaluated: the view
the API, the pages and ``bh automation`` share, from snapshots and storage."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bakehouse.errors import CorruptRecordError
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.protocol.snapshot import AutomationConditionSnap, LocationSnap
from bakehouse.serdes import Record
from bakehouse.storage.automation_records import AutomationEvaluation, ConditionNodeResult
from bakehouse.storage.records import InstigatorStatus

if TYPE_CHECKING:
    from bakehouse.storage import Instance


class AutomatedAsset(Record, frozen=True, kw_only=True):
    """An asset with an automation condition, the sensor that evaluates it and its latest
    evaluation."""

    asset_key: str
    location: str
    # The condition's label (e.g. "eager"), else its formal name.
    condition: str
    sensor: str | None = None
    sensor_status: str | None = None
    latest: AutomationEvaluation | None = None
    # The latest evaluation that requested a run (it may be older than `latest`).
    latest_requested: AutomationEvaluation | None = None


def condition_title(condition: AutomationConditionSnap) -> str:
    """How a condition is named in lists: its label, else its formal name."""
    return condition.label or condition.name or condition.kind


def automated_assets(
    snapshots: Iterable[LocationSnap],
    instance: Instance,
    *,
    only: str | None = None,
    graph: GlobalAssetGraph | None = None,
) -> list[AutomatedAsset]:
    """Every asset of `snapshots` with an automation condition (or only asset `only`), by
    key. `graph` is those snapshots merged, when the caller has it (the webserver caches one
    per definitions version; merging 20,000 assets per page cost ~150 ms)."""
    from bakehouse.daemon.scheduler import effective_status, origin_of

    snaps = list(snapshots)
    if graph is None:
        graph = GlobalAssetGraph(snaps)
    found = []
    for snap in snaps:
        sensors = [s for s in snap.sensors if s.kind == "automation_condition"]
        nodes = snap.assets
        if only is not None:
            placed = graph.assets.get(only)
            nodes = (placed.node,) if placed is not None and placed.location == snap.name else ()
        for node in nodes:
            if node.automation_condition is None or graph.location_of(node.key) != snap.name:
                continue
            sensor = next((s for s in sensors if node.key in (s.asset_selection or ())), None)
            status: InstigatorStatus | None = None
            if sensor is not None:
                try:
                    state = instance.get_instigator_state(origin_of(snap.name, sensor.name))
                    status = effective_status(state, sensor.default_status)
                except CorruptRecordError:
                    status = None  # unknown: its state row is unreadable (bh doctor)
            latest = instance.get_automation_evaluations(node.key, limit=1)
            requested = instance.get_automation_evaluations(node.key, limit=1, requested_only=True)
            found.append(
                AutomatedAsset(
                    asset_key=node.key,
                    location=snap.name,
                    condition=condition_title(node.automation_condition),
                    sensor=sensor.name if sensor else None,
                    sensor_status=status.value if status else None,
                    latest=latest[0] if latest else None,
                    latest_requested=requested[0] if requested else None,
                )
            )
    return sorted(found, key=lambda a: a.asset_key)


def true_nodes(node: ConditionNodeResult) -> list[str]:
    """The nodes that were true, depth first, each as ``label or name`` (and ``(dep)``)."""
    found = []
    if node.is_true:
        name = node.label or node.name
        found.append(f"{name} ({node.dep})" if node.dep else name)
    for child in node.children:
        found.extend(true_nodes(child))
    return found
