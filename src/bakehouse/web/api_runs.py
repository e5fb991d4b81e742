"""``/api/runs``: launch runs, list them, read one with its event log, cancel, re-execute."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from bakehouse.errors import RunNotFoundError, SelectionError
from bakehouse.graph.selection import quoted
from bakehouse.host.backfill_requests import LAUNCHED_BY_TAG
from bakehouse.host.deployment import Deployment
from bakehouse.host.launching import ReexecutionError, plan_reexecution
from bakehouse.storage.records import EventRecord, RunRecord, RunStatus
from bakehouse.storage.run_filter import parse_filter
from bakehouse.web.deps import deployment
from bakehouse.web.models import (
    CorruptEventOut,
    CorruptRunOut,
    ReexecuteRequest,
    RunCreated,
    RunDetailOut,
    RunOut,
    RunRequest,
)
from bakehouse.web.responses import (
    BAD_LAUNCH,
    BAD_RUN_FILTER,
    CORRUPT_RUN,
    NO_RUN,
    NOTHING_TO_REEXECUTE,
    guarded,
)

router = APIRouter(prefix="/api", tags=["runs"])


def run_or_404(dep: Deployment, run_id: str) -> RunRecord:
    """The run `run_id`, or a 404 naming it."""
    try:
        return dep.instance.get_run(run_id)
    except RunNotFoundError:
        raise HTTPException(404, f"no run with id {quoted(run_id)}") from None


@router.post(
    "/runs",
    response_model=RunCreated,
    status_code=201,
    responses=guarded({400: BAD_LAUNCH}, changes=True),
)
async def launch_run(body: RunRequest, dep: Deployment = Depends(deployment)) -> RunCreated:
    """Queue a run of ``selection`` (the syntax of ``bh launch --assets``), of explicit
    ``asset_keys``, or of a ``job``, optionally of one ``partition_key``. A selection that
    matches nothing, or a partition the selected assets do not have, is a 400."""
    target_error = body.target_error()
    if target_error:
        raise HTTPException(400, target_error)
    # `bh launch` says it launched the run; any other value is the caller's tag like any other.
    tags = dict(body.tags)
    by = tags.pop(LAUNCHED_BY_TAG) if tags.get(LAUNCHED_BY_TAG) == "cli" else "ui"
    try:
        run = await run_in_threadpool(
            lambda: dep.launch(
                selection=body.selection,
                asset_keys=body.asset_keys,
                job_name=body.job,
                job_location=body.job_location,
                tags=tags,
                system_tags={LAUNCHED_BY_TAG: by},
                run_config=body.run_config,
                partition_key=body.partition_key,
            )
        )
    except SelectionError as exc:
        raise HTTPException(400, str(exc)) from None
    return RunCreated(run_id=run.run_id)


@router.get(
    "/runs",
    response_model=list[RunOut | CorruptRunOut],
    responses=guarded({400: BAD_RUN_FILTER}),
)
def list_runs(
    limit: int = Query(default=50, ge=1, le=1000),
    status: list[RunStatus] | None = Query(
        default=None, description="Only runs with one of these statuses (repeat the parameter)"
    ),
    job: str | None = Query(default=None, description="Only runs of this job", max_length=255),
    asset: str | None = Query(
        default=None, description="Only runs that select this asset key (`raw/orders`)"
    ),
    tag: list[str] | None = Query(
        default=None,
        description="Only runs with this tag, `key=value` (repeat the parameter: all must hold)",
    ),
    launched_by: str | None = Query(
        default=None,
        description="Only runs launched by `user`, `schedule`, `sensor` or `backfill`, "
        "optionally `:NAME` (`user:ana`, `schedule:nightly`, `backfill:ID`)",
    ),
    before: float | None = Query(
        default=None, description="Only runs created before this time (the last one's created_at)"
    ),
    dep: Deployment = Depends(deployment),
) -> list[RunOut | CorruptRunOut]:
    """Recent runs, newest first, optionally filtered (every filter given must hold). A bad
    tag or launcher is a 400 saying what is allowed. A run whose stored row cannot be read is
    ``{"run_id", "corrupt": true, "reason"}`` in its place."""
    try:
        run_filter = parse_filter(job=job, asset=asset, tags=tag or (), launched_by=launched_by)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    listed = dep.instance.get_runs(
        limit=limit,
        statuses=status,
        before_created_at=before,
        run_filter=run_filter,
        include_corrupt=True,
    )
    return [
        RunOut.of(r, listed=True) if isinstance(r, RunRecord) else CorruptRunOut.of(r)
        for r in listed
    ]


@router.get(
    "/runs/{run_id}",
    response_model=RunDetailOut,
    responses=guarded({404: NO_RUN, 409: CORRUPT_RUN}),
)
def get_run(
    run_id: str,
    # Storage ids are 64-bit: a larger cursor is a 422, not a database overflow.
    after: int = Query(
        default=0, ge=0, le=2**63 - 1, description="Only events after this storage id"
    ),
    limit: int = Query(
        default=1000, ge=1, le=10_000, description="At most this many events (has_more: more)"
    ),
    dep: Deployment = Depends(deployment),
) -> RunDetailOut:
    """A run and a page of its events (ask again after the last one's storage id while
    ``has_more``; ``/api/runs/{run_id}/events`` pages by cursor); an event whose stored row
    cannot be read is ``{"storage_id", "corrupt": true, "reason"}`` in its place. A run whose
    own row cannot be read is a 409 naming it."""
    run = run_or_404(dep, run_id)
    events = dep.instance.get_events(
        run_id, after_storage_id=after, limit=limit + 1, include_corrupt=True
    )
    shown = [e if isinstance(e, EventRecord) else CorruptEventOut.of(e) for e in events[:limit]]
    return RunDetailOut.of_run(run, shown, has_more=len(events) > limit)


@router.post(
    "/runs/{run_id}/cancel", response_model=RunOut, responses=guarded({404: NO_RUN}, changes=True)
)
async def cancel_run(run_id: str, dep: Deployment = Depends(deployment)) -> RunOut:
    """Cancel a queued or running run (a finished run is left as it is)."""
    run = run_or_404(dep, run_id)
    if not run.status.is_finished:
        await run_in_threadpool(dep.cancel, run_id)
    return RunOut.of(dep.instance.get_run(run_id))


@router.post(
    "/runs/{run_id}/reexecute",
    response_model=RunCreated,
    status_code=201,
    responses=guarded({400: BAD_LAUNCH, 404: NO_RUN, 409: NOTHING_TO_REEXECUTE}, changes=True),
)
async def reexecute_run(
    run_id: str, body: ReexecuteRequest, dep: Deployment = Depends(deployment)
) -> RunCreated:
    """Run the same assets again (of the same partition, with the same config), or with
    ``from_failure`` only those that failed or were skipped; planned as any launch, so what no
    longer fits the definitions is a 400, a run that did not fail or left nothing a 409."""
    parent = run_or_404(dep, run_id)
    try:
        new = await run_in_threadpool(
            lambda: dep.submit(
                plan_reexecution(
                    dep.graph(),
                    dep.instance,
                    parent,
                    from_failure=body.from_failure,
                    system_tags={LAUNCHED_BY_TAG: "ui"},
                )
            )
        )
    except ReexecutionError as exc:
        raise HTTPException(409, str(exc)) from None
    except SelectionError as exc:
        raise HTTPException(400, str(exc)) from None
    return RunCreated(run_id=new.run_id)
