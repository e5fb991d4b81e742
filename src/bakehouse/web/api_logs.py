"""``/api/runs/{run_id}/logs/{step}``: a step's captured stdout or stderr, read by byte offset,
once or streamed live as server-sent events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from msgspec import Meta
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from bakehouse import serdes
from bakehouse.errors import RunNotFoundError
from bakehouse.graph.selection import quoted
from bakehouse.host.deployment import Deployment
from bakehouse.serdes import Record
from bakehouse.storage.compute_logs import (
    MAX_BYTES_CHUNK_READ,
    ComputeIOType,
    LocalComputeLogManager,
    LogChunk,
    started_steps,
)
from bakehouse.storage.records import EventType
from bakehouse.storage.remote_compute_logs import compute_log_manager
from bakehouse.web.deps import deployment
from bakehouse.web.responses import guarded, problem

router = APIRouter(prefix="/api", tags=["runs"])

LOGS_INTERVAL = 0.2
NO_RUN_OR_STEP = problem(
    "No run has this id, or the run has no step with this key",
    "run 'abcd1234' has no step 'nope' (steps: raw_orders, orders)",
)
# Storage ids and file offsets are 64-bit: a larger offset is a 422, not an overflow.
_MAX_OFFSET = 2**63 - 1


class ComputeLogOut(Record, frozen=True, kw_only=True):
    """Bytes `offset` to `next_offset` of one step's stdout or stderr, as text."""

    run_id: str
    step_key: str
    stream: Annotated[str, Meta(description="stdout or stderr")]
    data: Annotated[str, Meta(description="The text (UTF-8; never a character cut in two)")]
    offset: int
    next_offset: Annotated[int, Meta(description="Ask again from here for what follows")]
    size: Annotated[int, Meta(description="The captured file's size when read, in bytes")]
    complete: Annotated[
        bool, Meta(description="The step's capture has ended: nothing will be added")
    ]

    @classmethod
    def of(
        cls, run_id: str, step_key: str, io_type: ComputeIOType, chunk: LogChunk
    ) -> ComputeLogOut:
        """The API view of a chunk read from a compute log."""
        return cls(
            run_id=run_id,
            step_key=step_key,
            stream=io_type.value,
            data=chunk.data,
            offset=chunk.offset,
            next_offset=chunk.next_offset,
            size=chunk.size,
            complete=chunk.complete,
        )


def _manager(dep: Deployment) -> LocalComputeLogManager:
    return compute_log_manager(dep.instance.storage_dir)


def _check_step(dep: Deployment, run_id: str, step_key: str) -> None:
    """404 unless run `run_id` exists and has started step `step_key` (or captured its output)."""
    try:
        dep.instance.get_run(run_id)
    except RunNotFoundError:
        raise HTTPException(404, f"no run with id {quoted(run_id)}") from None
    steps = started_steps(dep.instance.get_events(run_id, event_types=[EventType.STEP_START]))
    if step_key not in steps and not _manager(dep).has_logs(run_id, step_key):
        listed = ", ".join(steps) or "none started yet"
        raise HTTPException(
            404, f"run {quoted(run_id)} has no step {quoted(step_key)} (steps: {listed})"
        )


Stream = Annotated[ComputeIOType, Query(description="Which stream: stdout or stderr")]
Offset = Annotated[int, Query(ge=0, le=_MAX_OFFSET, description="The byte offset to read from")]


@router.get(
    "/runs/{run_id}/logs/{step_key}",
    response_model=ComputeLogOut,
    responses=guarded({404: NO_RUN_OR_STEP}),
)
def get_compute_log(
    run_id: str,
    step_key: str,
    stream: Stream = ComputeIOType.STDOUT,
    offset: Offset = 0,
    max_bytes: Annotated[
        int, Query(ge=1, le=MAX_BYTES_CHUNK_READ, description="The most bytes to return")
    ] = MAX_BYTES_CHUNK_READ,
    dep: Deployment = Depends(deployment),
) -> ComputeLogOut:
    """What step `step_key` of the run wrote to its stdout (or stderr) from byte `offset`, up to
    `max_bytes`; read on from `next_offset` until `complete` and nothing more is returned."""
    _check_step(dep, run_id, step_key)
    chunk = _manager(dep).get_log_data(run_id, step_key, stream, offset, max_bytes)
    return ComputeLogOut.of(run_id, step_key, stream, chunk)


@router.get(
    "/runs/{run_id}/logs/{step_key}/stream",
    response_class=EventSourceResponse,
    responses=guarded({404: NO_RUN_OR_STEP}),
)
async def stream_compute_log(
    run_id: str,
    step_key: str,
    stream: Stream = ComputeIOType.STDOUT,
    offset: Offset = 0,
    last_event_id: Annotated[str | None, Header(include_in_schema=False)] = None,
    dep: Deployment = Depends(deployment),
) -> EventSourceResponse:
    """Server-sent events of one step's stdout (or stderr) from byte `offset`: ``log`` with a
    chunk (its ``id`` is the offset to resume from; a reconnecting browser sends it back as
    Last-Event-ID), then ``end`` once the capture is complete (or the run finished) and all
    of it was sent. Only new bytes are read on each poll."""
    await run_in_threadpool(_check_step, dep, run_id, step_key)
    if last_event_id and last_event_id.isdigit():
        offset = max(offset, min(int(last_event_id), _MAX_OFFSET))
    manager = _manager(dep)

    async def events() -> AsyncIterator[dict[str, str]]:
        cursor = offset
        while True:
            # Read the run's status first: a step whose process died never completes its
            # capture, and the run's end then says no byte will follow.
            run = await run_in_threadpool(dep.instance.get_run, run_id)
            chunk = await run_in_threadpool(manager.get_log_data, run_id, step_key, stream, cursor)
            if chunk.next_offset > cursor:
                cursor = chunk.next_offset
                body = ComputeLogOut.of(run_id, step_key, stream, chunk)
                yield {"event": "log", "id": str(cursor), "data": serdes.encode(body)}
                continue  # more may be waiting already
            if chunk.complete or run.status.is_finished:
                yield {"event": "end", "data": "{}"}
                return
            await asyncio.sleep(LOGS_INTERVAL)

    return EventSourceResponse(events(), ping=15)
