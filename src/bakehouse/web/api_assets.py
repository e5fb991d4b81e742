"""``/api/assets``: the global asset graph with each asset's latest materialization."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from bakehouse.errors import SelectionError
from bakehouse.graph.selection import quoted, select_keys
from bakehouse.host.deployment import Deployment
from bakehouse.host.global_graph import GlobalAssetGraph, PlacedAsset
from bakehouse.protocol.snapshot import AssetCheckSnap
from bakehouse.storage.records import (
    AssetMaterializationRecord,
    EventRecord,
    EventType,
    RunRecord,
)
from bakehouse.web.asset_status import RECENT_RUNS, newest_run_by_asset, status_of
from bakehouse.web.deps import deployment
from bakehouse.web.models import AssetCheckOut, AssetDetailOut, AssetOut, MaterializationOut
from bakehouse.web.responses import BAD_SELECTION, NO_ASSET, guarded

router = APIRouter(prefix="/api", tags=["assets"])


def _materialization(
    record: AssetMaterializationRecord | EventRecord | None,
) -> MaterializationOut | None:
    if record is None:
        return None
    if isinstance(record, EventRecord):
        return MaterializationOut(
            run_id=record.run_id,
            timestamp=record.timestamp,
            metadata=dict(record.data.get("metadata", {})),
            partition_key=record.partition_key,
        )
    return MaterializationOut(
        run_id=record.run_id,
        timestamp=record.timestamp,
        metadata=dict(record.metadata),
        partition_key=record.partition_key,
    )


def _asset_fields(
    key: str,
    placed: PlacedAsset,
    latest: dict[str, AssetMaterializationRecord],
    newest_runs: dict[str, RunRecord],
) -> dict[str, Any]:
    node = placed.node
    run = newest_runs.get(key)
    return {
        "key": key,
        "location": placed.location,
        "group": node.group,
        "deps": list(node.deps),
        "kinds": list(node.kinds),
        "description": node.description,
        "is_external": node.is_external,
        "latest_materialization": _materialization(latest.get(key)),
        "latest_run_status": run.status.value if run else None,
        "state": status_of(run, latest.get(key)).state,
    }


def _newest_runs(dep: Deployment) -> dict[str, RunRecord]:
    # The same window of recent runs the lineage page judges asset states by.
    return newest_run_by_asset(dep.instance.get_runs(limit=RECENT_RUNS))


def select_or_400(graph: GlobalAssetGraph, selection: str | None) -> list[str]:
    """Keys a selection picks (all when empty); a bad selection is the client's error."""
    if not selection:
        return sorted(graph.assets)
    try:
        return sorted(select_keys(selection, graph.key_graph))
    except SelectionError as exc:
        raise HTTPException(400, str(exc)) from None


@router.get("/assets", response_model=list[AssetOut], responses=guarded({400: BAD_SELECTION}))
def list_assets(
    selection: str | None = Query(default=None, description="Selection syntax, e.g. group:x+"),
    dep: Deployment = Depends(deployment),
) -> list[AssetOut]:
    """Every asset of every location (or those `selection` picks), with its location, group,
    deps and latest materialization."""
    graph = dep.graph()
    keys = select_or_400(graph, selection)
    latest = dep.instance.get_latest_materializations(keys)
    newest = _newest_runs(dep)
    return [AssetOut(**_asset_fields(k, graph.assets[k], latest, newest)) for k in keys]


@router.get("/assets/{key:path}", response_model=AssetDetailOut, responses=guarded({404: NO_ASSET}))
def get_asset(key: str, dep: Deployment = Depends(deployment)) -> AssetDetailOut:
    """One asset: definition, upstream and downstream, and its materialization history."""
    graph = dep.graph()
    placed = graph.assets.get(key)
    if placed is None:
        raise HTTPException(404, f"no asset with key {quoted(key)}")
    latest = dep.instance.get_latest_materializations([key])
    history = dep.instance.get_materialization_history(key, limit=50)
    node = placed.node
    return AssetDetailOut(
        **_asset_fields(key, placed, latest, _newest_runs(dep)),
        downstream=sorted(graph.key_graph.children.get(key, ())),
        metadata=dict(node.metadata),
        tags=dict(node.tags),
        owners=list(node.owners),
        code_version=node.code_version,
        source_file=node.source_file,
        source_line=node.source_line,
        history=[m for m in (_materialization(e) for e in history) if m is not None],
        checks=_checks(key, graph, dep),
    )


def _checks(key: str, graph: GlobalAssetGraph, dep: Deployment) -> list[AssetCheckOut]:
    """The asset's checks (from every location), each with its latest result."""
    placed = graph.checks.get(key, [])
    if not placed:
        return []
    latest: dict[str, EventRecord] = {}
    for event in dep.instance.get_asset_check_history(key, limit=200):
        names = event.data.get("check_names") or [event.data.get("check_name")]
        for name in names:
            latest.setdefault(str(name), event)
    return [_check_out(p.check, p.location, latest.get(p.check.name)) for p in placed]


def _check_out(check: AssetCheckSnap, location: str, event: EventRecord | None) -> AssetCheckOut:
    fields: dict[str, Any] = {
        "name": check.name,
        "location": location,
        "description": check.description,
        "blocking": check.blocking,
        "source_file": check.source_file,
        "source_line": check.source_line,
    }
    if event is None:
        return AssetCheckOut(**fields)
    fields.update(run_id=event.run_id, timestamp=event.timestamp)
    if event.event_type == EventType.STEP_FAILURE:
        error = event.data.get("error") or {}
        return AssetCheckOut(**fields, status="errored", error=error.get("message"))
    return AssetCheckOut(
        **fields,
        status="passed" if event.data.get("passed") else "failed",
        severity=event.data.get("severity"),
        metadata=dict(event.data.get("metadata") or {}),
        result_description=event.data.get("description"),
    )
