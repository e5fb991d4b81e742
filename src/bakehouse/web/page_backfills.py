"""The Backfills pages (the list, one backfill with its partitions) and the backfill form."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bakehouse.errors import BackfillError, SelectionError
from bakehouse.host.backfill_requests import (
    LAUNCHED_BY_TAG,
    BackfillProgress,
    Only,
    backfill_partitions,
    backfill_progress,
    cancel_backfill,
    request_backfill,
    split_unpartitioned,
)
from bakehouse.host.deployment import Deployment
from bakehouse.host.partition_keys import describe, partition_keys
from bakehouse.storage.records import BackfillRecord, PartitionStatus
from bakehouse.web.deps import deployment
from bakehouse.web.templating import problem, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
# Above this many partitions the form takes typed keys instead of listing them all.
LISTED_KEYS = 2000


def launched_by(backfill: BackfillRecord) -> str:
    """Who launched `backfill`: the UI or the CLI (with the user, when known)."""
    by = backfill.tags.get(LAUNCHED_BY_TAG, "")
    user = backfill.tags.get("bakehouse/user")
    name = {"ui": "UI", "cli": "CLI"}.get(by, by or "—")
    return f"{name} ({user})" if user else name


def _what(backfill: BackfillRecord) -> str:
    return backfill.selection_query or ", ".join(backfill.asset_selection)


def _progress_parts(progress: BackfillProgress) -> list[tuple[str, int, str]]:
    """The progress bar's parts: (style, count, label), in the order they are drawn."""
    return [
        (style, n, label)
        for style, n, label in (
            ("ok", progress.succeeded, "succeeded"),
            ("bad", progress.failed, "failed"),
            ("info", progress.in_progress, "in progress"),
            ("muted", progress.canceled, "canceled"),
            ("todo", progress.requested, "not launched yet"),
        )
        if n
    ]


def _list_context(dep: Deployment) -> dict[str, Any]:
    backfills = dep.instance.get_backfills(limit=PAGE_SIZE, include_corrupt=True)
    return {
        # A corrupt row comes with no progress: the template marks it in its place.
        "rows": [
            (b, backfill_progress(dep.instance, b) if isinstance(b, BackfillRecord) else None)
            for b in backfills
        ],
        "launched_by": launched_by,
        "what": _what,
        "progress_parts": _progress_parts,
    }


@router.get("/backfills", response_class=HTMLResponse)
def backfills_page(
    request: Request, part: str | None = None, dep: Deployment = Depends(deployment)
) -> HTMLResponse:
    """Backfills, newest first, with their progress; ``?part=rows`` is the table body alone."""
    context = _list_context(dep)
    if part == "rows":
        return render(request, "_backfill_rows.html", **context)
    return render(request, "backfills.html", active="backfills", **context)


def form_context(dep: Deployment, selection: str) -> dict[str, Any]:
    """What the backfill form needs for `selection`: the partitions its assets share, and per
    key whether some selected asset has it missing (``-``), else failed (``f``), else ``m``;
    raises BackfillError (or SelectionError) when the selection cannot be backfilled."""
    graph = dep.graph()
    assets = graph.select(selection)
    snap = backfill_partitions(graph, assets)
    before, after = split_unpartitioned(graph, assets)
    keys = partition_keys(snap, dynamic_keys=dep.instance.get_dynamic_partitions)
    # Unpartitioned assets run once whatever is chosen: only the partitioned ones have keys.
    statuses = [dep.instance.get_partition_status(a) for a in assets if a not in {*before, *after}]
    codes = []
    for key in keys:
        found = [s.get(key) for s in statuses]
        codes.append("-" if None in found else "f" if PartitionStatus.FAILED in found else "m")
    return {
        "selection": selection,
        "assets": assets,
        "description": describe(snap),
        "keys": keys,
        "codes": "".join(codes),
        "listed": len(keys) <= LISTED_KEYS,
        "once_before": before,
        "once_after": after,
    }


def _form_problem(request: Request, selection: str, message: str, back: str) -> HTMLResponse:
    return problem(
        request,
        status_code=400,
        title="No backfill of this selection",
        name=selection,
        hint=message,
        back=(back, "where you came from"),
        active="backfills",
    )


@router.get("/backfills/new", response_class=HTMLResponse)
def new_backfill_page(
    request: Request,
    selection: str = "",
    part: str | None = None,
    dep: Deployment = Depends(deployment),
) -> HTMLResponse:
    """The backfill form on a page of its own; ``?part=form`` is the form alone (the asset
    page shows it in a dialog)."""
    if not selection:
        return _form_problem(
            request,
            selection,
            "Say what to backfill: open a partitioned asset's page and press Launch backfill, "
            "or run bh launch --assets SEL --partition-range A...B.",
            "/lineage",
        )
    try:
        context = form_context(dep, selection)
    except (BackfillError, SelectionError) as exc:
        if part == "form":
            return HTMLResponse(str(exc), status_code=400)
        return _form_problem(request, selection, str(exc), "/lineage")
    template = "_backfill_form.html" if part == "form" else "backfill_new.html"
    return render(request, template, active="backfills", error=None, **context)


def _form_fields(raw: bytes) -> dict[str, str]:
    """A urlencoded form body, one value per name (the last one)."""
    return {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}


@router.post("/backfills/new")
async def launch_backfill(request: Request, dep: Deployment = Depends(deployment)) -> Response:
    """Request a backfill from the form, then open it; a refused one shows the form again
    with the reason."""
    fields = _form_fields(await request.body())
    selection = fields.get("selection", "")
    mode = fields.get("mode", "range")
    span = (fields.get("start", ""), fields.get("end", "")) if mode == "range" else None
    chosen = None
    if mode == "keys":
        chosen = [k.strip() for k in fields.get("keys", "").replace(",", "\n").splitlines()]
        chosen = [k for k in chosen if k]
    only: Only | None = "failed_and_missing" if fields.get("only") else None
    try:
        backfill = await run_in_threadpool(
            lambda: request_backfill(
                dep.instance,
                dep.graph(),
                selection=selection,
                partition_keys=chosen,
                partition_range=span,
                only=only,
                launched_by="ui",
            )
        )
    except BackfillError as exc:
        try:
            context = form_context(dep, selection)
        except (BackfillError, SelectionError) as again:
            return _form_problem(request, selection, str(again), "/lineage")
        return render(
            request,
            "backfill_new.html",
            status_code=400,
            active="backfills",
            error=str(exc),
            **context,
        )
    return RedirectResponse("/backfills/" + quote(backfill.backfill_id), status_code=303)


def _detail_context(backfill: BackfillRecord, progress: BackfillProgress) -> dict[str, Any]:
    return {
        "backfill": backfill,
        "progress": progress,
        "launched_by": launched_by,
        "what": _what,
        "progress_parts": _progress_parts,
    }


@router.get("/backfills/{backfill_id}", response_class=HTMLResponse)
def backfill_page(
    request: Request,
    backfill_id: str,
    part: str | None = None,
    dep: Deployment = Depends(deployment),
) -> HTMLResponse:
    """One backfill: status, progress and each partition's run; ``?part=live`` is all but
    the page frame (live refresh)."""
    backfill = dep.instance.get_backfill(backfill_id)
    if backfill is None:
        return problem(
            request,
            status_code=404,
            title="No backfill",
            name=backfill_id,
            hint="There is no backfill with this id in this deployment's storage. The "
            "Backfills page lists every backfill, newest first.",
            back=("/backfills", "the backfills"),
            active="backfills",
        )
    context = _detail_context(backfill, backfill_progress(dep.instance, backfill))
    if part == "live":
        return render(request, "_backfill_live.html", **context)
    return render(request, "backfill.html", active="backfills", **context)


@router.post("/backfills/{backfill_id}/cancel")
async def cancel(
    request: Request, backfill_id: str, dep: Deployment = Depends(deployment)
) -> Response:
    """Cancel the backfill (the form behind Cancel, for browsers without scripts)."""
    try:
        await run_in_threadpool(cancel_backfill, dep.instance, backfill_id)
    except BackfillError as exc:
        return problem(
            request,
            status_code=409,
            title="The backfill was not canceled",
            name=backfill_id,
            hint=str(exc),
            back=("/backfills/" + quote(backfill_id), "the backfill"),
            active="backfills",
        )
    return RedirectResponse("/backfills/" + quote(backfill_id), status_code=303)
