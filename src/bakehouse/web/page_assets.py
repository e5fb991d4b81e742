"""The asset page (definition, lineage neighbours, materializations) and the Materialize form."""

from __future__ import annotations

import difflib
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bakehouse.errors import SelectionError
from bakehouse.host.deployment import Deployment
from bakehouse.host.freshness import duration_words
from bakehouse.host.module_errors import failed_module_of
from bakehouse.host.staleness import keys_to_read, staleness
from bakehouse.protocol.snapshot import FreshnessPolicySnap
from bakehouse.storage.run_filter import RunFilter
from bakehouse.web import asset_status, metadata_plots
from bakehouse.web.api_assets import get_asset
from bakehouse.web.api_automation_conditions import automated
from bakehouse.web.api_graph import views
from bakehouse.web.api_partitions import AssetPartitions, load
from bakehouse.web.deps import deployment
from bakehouse.web.graph_view import GraphViews
from bakehouse.web.partition_status import code_string
from bakehouse.web.templating import asset_url, problem, render

router = APIRouter(include_in_schema=False)


def asset_not_found(request: Request, key: str, known: list[str]) -> Response:
    """The 404 page for an unknown asset key, with the closest keys that exist."""
    close = difflib.get_close_matches(key, known, n=5, cutoff=0.5)
    return problem(
        request,
        status_code=404,
        title="No asset",
        name=key,
        hint=(
            "No loaded code location defines this key. Search the global asset lineage by key, "
            "or check Code locations: an asset of a location that failed to load is missing "
            "until the location loads again."
        ),
        back=("/lineage", "the asset lineage"),
        active="lineage",
        suggestions=[(asset_url(k), k) for k in close],
    )


def partitions_context(dep: Deployment, key: str, partition: str | None) -> dict[str, Any]:
    """What the partitions card shows: every partition's state, and the chosen partition (if
    the asset has it) with its latest materialization."""
    found: AssetPartitions = load(dep, key)
    state = found.view.state_of(partition) if partition else None
    chosen = partition if state is not None else None
    latest = (
        dep.instance.get_latest_partition_materializations(key, [chosen]).get(chosen)
        if chosen
        else None
    )
    # The newest recent run of this partition of the asset: why it failed, or what runs now.
    run = next(
        (
            r
            for r in dep.instance.get_runs(limit=asset_status.RECENT_RUNS)
            if chosen and r.partition_key == chosen and key in r.asset_selection
        ),
        None,
    )
    return {
        "partitions": found,
        "chosen_run": run,
        "codes": code_string(found.view.states),
        "chosen": chosen,
        "chosen_state": state,
        "chosen_latest": latest,
        "unknown_partition": partition if partition and chosen is None else None,
    }


def policy_text(policy: FreshnessPolicySnap | None) -> str | None:
    """A freshness policy in words: "fail after 24 h, warn after 12 h", "by 0 10 * * * (UTC),
    materialized in the 1 h before"."""
    if policy is None:
        return None
    if policy.kind == "cron":
        window = duration_words(policy.lower_bound_delta_seconds or 0)
        return f"by {policy.deadline_cron} ({policy.timezone}), materialized in the {window} before"
    text = f"fail after {duration_words(policy.fail_window_seconds or 0)}"
    if policy.warn_window_seconds is not None:
        text += f", warn after {duration_words(policy.warn_window_seconds)}"
    return text


@router.get("/assets/{key:path}", response_class=HTMLResponse)
def asset_page(
    request: Request,
    key: str,
    part: str | None = None,
    partition: str | None = None,
    dep: Deployment = Depends(deployment),
    graphs: GraphViews = Depends(views),
) -> Response:
    """One asset; ``?part=live`` is only its status and materializations, ``?part=partitions``
    only its partitions card (live refresh); ``?partition=KEY`` shows that partition."""
    _, graph = graphs.graph()
    try:
        asset = get_asset(key, dep)
    except HTTPException:
        return asset_not_found(request, key, sorted(graph.assets))
    partitioned = key in graph.assets and graph.assets[key].node.partitions is not None
    parts = partitions_context(dep, key, partition) if partitioned and asset.location else {}
    if part == "partitions":
        if not parts:
            return Response("not a partitioned asset", status_code=404)
        return render(request, "_asset_partitions.html", asset=asset, **parts)
    # The newest run that selects it, through the run_assets index: one run read, however many
    # runs there are or however large their selections (50 runs of `*` over 20,000 assets
    # would be a million keys to walk).
    found = dep.instance.get_runs(limit=1, run_filter=RunFilter(asset_key=key))
    newest = found[0] if found else None
    read = dep.instance.get_latest_materializations(keys_to_read(graph, [key]))
    latest = read.get(key)
    status = asset_status.status_of(newest, latest)
    context: dict[str, Any] = {
        "asset": asset,
        "status": status,
        "newest_run": newest,
        "location_of": {
            k: graph.assets[k].location
            for k in (*asset.deps, *asset.downstream)
            if k in graph.assets
        },
        "partitioned": partitioned,
        "unsynced": staleness(graph, [key], read).get(key),
        # Numeric metadata of the newest materializations, plotted.
        "plots": metadata_plots.plots(
            dep.instance.get_materialization_history(key, limit=metadata_plots.HISTORY)
        ),
        "freshness_policy": policy_text(graph.assets[key].node.freshness_policy)
        if key in graph.assets
        else None,
        "conflict": graph.conflicts.get(key, []),
        # "file:line" when it is missing because the module defining it failed to load.
        "failed_module": failed_module_of(graph.assets[key].node) if key in graph.assets else None,
        # Its automation condition and latest evaluation, if the daemon automates it.
        "automation": next(iter(automated(dep, only=key)), None),
        **parts,
    }
    if part == "live":
        return render(request, "_asset_live.html", **context)
    return render(request, "asset.html", active="lineage", **context)


@router.post("/materialize")
async def materialize(
    request: Request,
    asset_key: list[str] | None = Query(default=None),
    selection: str | None = None,
    partition_key: str | None = None,
    dep: Deployment = Depends(deployment),
) -> Response:
    """Launch a run of `asset_key` (repeatable) or `selection`, of one `partition_key` if
    given, then open it (the form behind the Materialize buttons, for browsers without
    scripts)."""
    try:
        run = await run_in_threadpool(
            lambda: dep.launch(
                selection=None if asset_key else (selection or "*"),
                asset_keys=asset_key or None,
                system_tags={"bakehouse/launched_by": "ui"},
                partition_key=partition_key or None,
            )
        )
    except SelectionError as exc:
        return problem(
            request,
            status_code=400,
            title="The run was not launched",
            hint=str(exc),
            back=("/lineage", "the asset lineage"),
            active="lineage",
        )
    return RedirectResponse("/runs/" + quote(run.run_id), status_code=303)
