"""``/api/assets``: the global asset graph with each asset's state, counts and latest
materialization (the catalog's rows), filtered and sorted as the catalog page does."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from bakehouse.errors import SelectionError
from bakehouse.graph.selection import QUOTE_LIMIT, quoted, select_keys
from bakehouse.host.deployment import Deployment
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.module_errors import failed_module_of
from bakehouse.protocol.snapshot import AssetCheckSnap
from bakehouse.storage.records import AssetMaterializationRecord, EventRecord
from bakehouse.web.catalog import CatalogFacts, CatalogQuery, SortOrder, Status, read_facts, row_of
from bakehouse.web.check_results import HISTORY, latest_by_check, outcome
from bakehouse.web.deps import deployment
from bakehouse.web.freshness import FreshnessView, is_watched, views_of
from bakehouse.web.models import (
    AssetCheckOut,
    AssetDetailOut,
    AssetOut,
    CheckCountsOut,
    FreshnessOut,
    MaterializationOut,
    PartitionCountOut,
)
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


def _asset_fields(key: str, graph: GlobalAssetGraph, facts: CatalogFacts) -> dict[str, Any]:
    row = row_of(key, graph, facts)
    run = facts.newest_runs.get(key)
    return {
        "key": key,
        "location": row.location,
        "group": row.group,
        "deps": list(graph.assets[key].node.deps),
        "kinds": list(row.kinds),
        "description": row.description,
        "is_external": row.is_external,
        "failed_module": failed_module_of(graph.assets[key].node),
        "latest_materialization": _materialization(facts.latest.get(key)),
        "latest_run_status": run.status.value if run else None,
        "state": row.state,
        "owners": list(row.owners),
        "partitions": (
            PartitionCountOut(materialized=row.partitions.materialized, total=row.partitions.total)
            if row.partitions
            else None
        ),
        "check_counts": (
            CheckCountsOut(
                total=row.checks.total, passed=row.checks.passed, failed=row.checks.failed
            )
            if row.checks
            else None
        ),
        "freshness": freshness_out(row.freshness) if row.freshness else None,
    }


def freshness_out(view: FreshnessView) -> FreshnessOut:
    """The API's form of one freshness source."""
    return FreshnessOut(
        state=view.state,
        label=view.label,
        reason=view.reason,
        source=view.source,
        evaluated_at=view.evaluated_at,
    )


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
    q: str = Query(default="", max_length=QUOTE_LIMIT, description="Part of the key, any case"),
    group: str | None = Query(default=None, description="Only this group"),
    location: str | None = Query(default=None, description="Only this code location"),
    kind: str | None = Query(default=None, description="Only assets with this kind"),
    owner: str | None = Query(default=None, description="Only assets with this owner"),
    status: Status | None = Query(default=None, description="Only assets in this state"),
    sort: SortOrder = Query(
        default="key", description="The field to sort by; a leading '-' sorts descending"
    ),
    dep: Deployment = Depends(deployment),
) -> list[AssetOut]:
    """Every asset of every location (or those `selection` picks and the filters keep), with
    its location, group, deps, owners, state, partition and check counts and latest
    materialization: what the asset catalog lists."""
    graph = dep.graph()
    keys = select_or_400(graph, selection)
    facts = read_facts(dep.instance, graph, None if not selection else keys)
    query = CatalogQuery(
        q=q, group=group, location=location, kind=kind, owner=owner, status=status, sort=sort
    )
    rows = query.apply(row_of(k, graph, facts) for k in keys)
    return [AssetOut(**_asset_fields(r.key, graph, facts)) for r in rows]


@router.get("/assets/{key:path}", response_model=AssetDetailOut, responses=guarded({404: NO_ASSET}))
def get_asset(key: str, dep: Deployment = Depends(deployment)) -> AssetDetailOut:
    """One asset: definition, upstream and downstream, and its materialization history."""
    graph = dep.graph()
    placed = graph.assets.get(key)
    if placed is None:
        raise HTTPException(404, f"no asset with key {quoted(key)}")
    history = dep.instance.get_materialization_history(key, limit=50)
    checks_read = (
        dep.instance.get_asset_check_history(key, limit=HISTORY)
        if graph.checks.get(key) or is_watched(graph, key)
        else []
    )
    now = time.time()
    node = placed.node
    return AssetDetailOut(
        **_asset_fields(key, graph, read_facts(dep.instance, graph, [key])),
        downstream=sorted(graph.key_graph.children.get(key, ())),
        metadata=dict(node.metadata),
        tags=dict(node.tags),
        code_version=node.code_version,
        source_file=node.source_file,
        source_line=node.source_line,
        history=[m for m in (_materialization(e) for e in history) if m is not None],
        checks=_checks(key, graph, checks_read),
        freshness_sources=[freshness_out(v) for v in views_of(graph, key, checks_read, now)],
    )


def _checks(key: str, graph: GlobalAssetGraph, events: list[EventRecord]) -> list[AssetCheckOut]:
    """The asset's checks (from every location), each with its latest result."""
    placed = graph.checks.get(key, [])
    if not placed:
        return []
    latest = latest_by_check(events)
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
    status = outcome(event)
    if status == "errored":
        error = event.data.get("error") or {}
        return AssetCheckOut(**fields, status=status, error=error.get("message"))
    return AssetCheckOut(
        **fields,
        status=status,
        severity=event.data.get("severity"),
        metadata=dict(event.data.get("metadata") or {}),
        result_description=event.data.get("description"),
    )
