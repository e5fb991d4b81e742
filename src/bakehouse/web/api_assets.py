"""``/api/assets``: the global asset graph with each asset's state, counts and latest
materialization (the catalog's rows), filtered and sorted as the catalog page does."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import TypeAdapter

from bakehouse.errors import SelectionError
from bakehouse.graph.selection import QUOTE_LIMIT, quoted, select_keys
from bakehouse.host.deployment import Deployment
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.module_errors import failed_module_of
from bakehouse.protocol.snapshot import AssetCheckSnap
from bakehouse.storage.records import AssetMaterializationRecord, EventRecord
from bakehouse.web.catalog import (
    CatalogFacts,
    CatalogQuery,
    SortOrder,
    Status,
    read_facts,
    row_of,
)
from bakehouse.web.check_results import HISTORY, latest_by_check, outcome
from bakehouse.web.data_version import VersionedCache
from bakehouse.web.deps import deployment
from bakehouse.web.freshness import FreshnessView, is_watched, views_of
from bakehouse.web.graph_view import GraphViews
from bakehouse.web.models import (
    AssetCheckOut,
    AssetDetailOut,
    AssetOut,
    CheckCountsOut,
    FreshnessOut,
    MaterializationOut,
    PartitionCountOut,
)
from bakehouse.web.responses import NO_ASSET, guarded, problem

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


# A page of `/api/assets` when the request names no `limit`, and the most one may ask for.
DEFAULT_PAGE = 1_000
MAX_PAGE = 10_000
# Sorts by what the definitions alone decide: with no status filter, only the rows of the page
# are read from storage.
_SNAPSHOT_SORTS = ("key", "group", "location")

BAD_SELECTION_OR_CURSOR = problem(
    "The selection does not parse or matches no asset, or the cursor is not one this listing "
    "gave for this sort",
    "not a cursor of /api/assets: 'x'",
)


def encode_cursor(sort: str, position: int, key: str) -> str:
    """The opaque cursor of the page after row `position` (whose key is `key`) in `sort`."""
    text = json.dumps([sort, position, key], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[int, str]:
    """The position and key a cursor continues after; a cursor of another sort, or not one of
    ours, is the client's error (400)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        made_for, position, key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not (isinstance(made_for, str) and isinstance(position, int) and isinstance(key, str)):
            raise ValueError(cursor)
        if position < 0:
            raise ValueError(cursor)
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise HTTPException(400, f"not a cursor of /api/assets: {quoted(cursor)}") from None
    if made_for != sort:
        raise HTTPException(
            400, f"the cursor continues a listing sorted by {quoted(made_for)}, not {quoted(sort)}"
        )
    return position, key


def _start(ordered: Sequence[str], position: int, key: str) -> int:
    """Where the page after (`position`, `key`) starts in `ordered`: after `key` where it still
    is (rows may have moved since), else at `position`."""
    if position < len(ordered) and ordered[position] == key:
        return position + 1
    try:
        return ordered.index(key) + 1
    except ValueError:
        return min(position + 1, len(ordered))


_ASSET_LIST = TypeAdapter(list[AssetOut])


class AssetPages:
    """Answers of ``/api/assets`` (body and paging headers), each kept while the definitions
    and storage (`data_version`) are unchanged: a page asked again, or by another client, is
    not read and encoded again."""

    def __init__(self, graphs: GraphViews) -> None:
        self.graphs = graphs
        self.cache: VersionedCache[tuple[bytes, dict[str, str]]] = VersionedCache(16)


def _pages(request: Request) -> AssetPages:
    pages: AssetPages = request.app.state.asset_pages
    return pages


@router.get(
    "/assets",
    response_model=list[AssetOut],
    responses=guarded({400: BAD_SELECTION_OR_CURSOR}),
)
def list_assets(
    request: Request,
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
    limit: int = Query(
        default=DEFAULT_PAGE, ge=1, le=MAX_PAGE, description="The most rows in one answer"
    ),
    cursor: str | None = Query(
        default=None,
        max_length=QUOTE_LIMIT,
        description="Continue after the page that gave it (the X-Next-Cursor header)",
    ),
    dep: Deployment = Depends(deployment),
    pages: AssetPages = Depends(_pages),
) -> Response:
    """Every asset of every location (or those `selection` picks and the filters keep), with
    its location, group, deps, owners, state, partition and check counts and latest
    materialization: what the asset catalog lists. A page of at most `limit` rows (1,000 by
    default); when more follow, the ``X-Next-Cursor`` header holds the `cursor` of the next
    page and ``Link`` its URL (``rel="next"``)."""
    version = pages.graphs.data_version()
    graph = dep.graph()
    query = CatalogQuery(
        q=q, group=group, location=location, kind=kind, owner=owner, status=status, sort=sort
    )
    after = decode_cursor(cursor, sort) if cursor is not None else None
    # The whole address: the answer's Link header repeats its query.
    key = (version, str(request.url))
    body, headers = pages.cache.get(
        key, lambda: _asset_page(request, dep, graph, selection, query, limit, after)
    )
    return Response(body, media_type="application/json", headers=headers)


def _asset_page(
    request: Request,
    dep: Deployment,
    graph: GlobalAssetGraph,
    selection: str | None,
    query: CatalogQuery,
    limit: int,
    after: tuple[int, str] | None,
) -> tuple[bytes, dict[str, str]]:
    """One page of ``/api/assets``: its JSON body and its paging headers."""
    status, sort = query.status, query.sort
    keys = select_or_400(graph, selection)
    if status is None and sort.lstrip("-") in _SNAPSHOT_SORTS:
        # Filter and order by the definitions, then read storage for this page's rows only.
        bare = CatalogFacts(latest={}, newest_runs={}, partitions={}, checks={}, freshness={})
        ordered = [r.key for r in query.apply(row_of(k, graph, bare) for k in keys)]
        begin = 0 if after is None else _start(ordered, *after)
        page = ordered[begin : begin + limit]
        facts = read_facts(dep.instance, graph, page)
    else:
        facts = read_facts(dep.instance, graph, None if not selection else keys)
        ordered = [r.key for r in query.apply(row_of(k, graph, facts) for k in keys)]
        begin = 0 if after is None else _start(ordered, *after)
        page = ordered[begin : begin + limit]
    end = begin + len(page)
    headers = {}
    if end < len(ordered):
        following = encode_cursor(sort, end - 1, ordered[end - 1])
        headers["X-Next-Cursor"] = following
        url = request.url.include_query_params(cursor=following, limit=limit)
        headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    headers["X-Total-Count"] = str(len(ordered))
    rows = [AssetOut(**_asset_fields(key, graph, facts)) for key in page]
    return _ASSET_LIST.dump_json(rows), headers


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
