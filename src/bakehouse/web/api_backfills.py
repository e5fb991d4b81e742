"""``/api/backfills``: request a backfill, list backfills with progress, read one, cancel it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from bakehouse.errors import BackfillError
from bakehouse.graph.selection import quoted
from bakehouse.host.backfill_requests import backfill_progress, cancel_backfill, request_backfill
from bakehouse.host.deployment import Deployment
from bakehouse.storage.records import BackfillRecord, BackfillStatus
from bakehouse.web.deps import deployment
from bakehouse.web.models import (
    BackfillCreated,
    BackfillDetailOut,
    BackfillOut,
    BackfillRequest,
    CorruptBackfillOut,
)
from bakehouse.web.responses import (
    BACKFILL_FINISHED,
    BAD_BACKFILL,
    CORRUPT_BACKFILL,
    NO_BACKFILL,
    guarded,
)

router = APIRouter(prefix="/api", tags=["backfills"])


def _backfill_or_404(dep: Deployment, backfill_id: str) -> BackfillRecord:
    backfill = dep.instance.get_backfill(backfill_id)
    if backfill is None:
        raise HTTPException(404, f"no backfill with id {quoted(backfill_id)}")
    return backfill


@router.post(
    "/backfills",
    response_model=BackfillCreated,
    status_code=201,
    responses=guarded({400: BAD_BACKFILL}, changes=True),
)
async def create_backfill(
    body: BackfillRequest, dep: Deployment = Depends(deployment)
) -> BackfillCreated:
    """Request a backfill of ``selection`` for ``partition_keys``, a ``partition_range``
    (inclusive) or, with neither, every partition; ``only`` keeps the missing (or failed and
    missing) ones. Bad selections and keys are a 400 naming what is wrong."""
    target_error = body.target_error()
    if target_error:
        raise HTTPException(400, target_error)
    span = (body.partition_range.start, body.partition_range.end) if body.partition_range else None
    try:
        backfill = await run_in_threadpool(
            lambda: request_backfill(
                dep.instance,
                dep.graph(),
                selection=body.selection,
                partition_keys=body.partition_keys,
                partition_range=span,
                only=body.only,
                tags=body.tags,
                run_config=body.run_config,
                launched_by="ui",
            )
        )
    except BackfillError as exc:
        raise HTTPException(400, str(exc)) from None
    return BackfillCreated(backfill_id=backfill.backfill_id)


@router.get(
    "/backfills", response_model=list[BackfillOut | CorruptBackfillOut], responses=guarded()
)
def list_backfills(
    limit: int = Query(default=50, ge=1, le=1000),
    status: list[BackfillStatus] | None = Query(default=None),
    dep: Deployment = Depends(deployment),
) -> list[BackfillOut | CorruptBackfillOut]:
    """Backfills newest first, each with its progress counts; a backfill whose stored row
    cannot be read is ``{"backfill_id", "corrupt": true, "reason"}`` in its place."""
    listed = dep.instance.get_backfills(statuses=status, limit=limit, include_corrupt=True)
    return [
        BackfillOut.of(b, backfill_progress(dep.instance, b))
        if isinstance(b, BackfillRecord)
        else CorruptBackfillOut.of(b)
        for b in listed
    ]


@router.get(
    "/backfills/{backfill_id}",
    response_model=BackfillDetailOut,
    responses=guarded({404: NO_BACKFILL, 409: CORRUPT_BACKFILL}),
)
def get_backfill(backfill_id: str, dep: Deployment = Depends(deployment)) -> BackfillDetailOut:
    """A backfill with each partition's run id and run status."""
    backfill = _backfill_or_404(dep, backfill_id)
    return BackfillDetailOut.detail(backfill, backfill_progress(dep.instance, backfill))


@router.post(
    "/backfills/{backfill_id}/cancel",
    response_model=BackfillOut,
    responses=guarded({404: NO_BACKFILL, 409: BACKFILL_FINISHED}, changes=True),
)
def cancel(backfill_id: str, dep: Deployment = Depends(deployment)) -> BackfillOut:
    """Cancel a backfill: no more runs are launched, and its unfinished runs are canceled.
    A finished backfill is a 409."""
    _backfill_or_404(dep, backfill_id)
    try:
        backfill = cancel_backfill(dep.instance, backfill_id)
    except BackfillError as exc:
        raise HTTPException(409, str(exc)) from None
    return BackfillOut.of(backfill, backfill_progress(dep.instance, backfill))
