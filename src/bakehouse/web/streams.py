"""Live updates pushed to pages as server-sent events.

One shared feed watches the deployment (location states, recent runs, latest
materializations, schedule and sensor ticks) and fans changes out to every connected page; a
run page also gets its run's new events as they are stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from bakehouse import serdes
from bakehouse.errors import RunNotFoundError
from bakehouse.host.deployment import Deployment
from bakehouse.storage.records import BackfillStatus
from bakehouse.web.deps import deployment
from bakehouse.web.models import LocationOut, MaterializationOut, RunOut
from bakehouse.web.responses import NO_RUN, guarded

router = APIRouter(prefix="/api", tags=["streams"])

FEED_INTERVAL = 0.3
RUN_EVENTS_INTERVAL = 0.2


class ChangeFeed:
    """Polls the deployment in one task and broadcasts what changed to subscribers."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self._subscribers: set[asyncio.Queue[tuple[str, Any]]] = set()
        self._task: asyncio.Task[None] | None = None
        self._last: dict[str, Any] = {}
        # Per schedule or sensor: its stored state as last seen, and its newest tick.
        self._states: dict[str, tuple[Any, ...]] = {}
        self._newest: dict[str, tuple[int | None, str] | None] = {}

    def start(self) -> None:
        """Begin polling (call from the app's event loop)."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self) -> asyncio.Queue[tuple[str, Any]]:
        """A queue that receives (event name, payload) for each change."""
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=100)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[str, Any]]) -> None:
        """Stop sending to `queue`."""
        self._subscribers.discard(queue)

    def _publish(self, name: str, payload: Any) -> None:
        for queue in list(self._subscribers):
            if queue.full():  # a stalled page gets the newest state when it catches up
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait((name, payload))

    def _snapshot(self) -> dict[str, Any]:
        locations = [serdes.to_builtins(LocationOut.of(s)) for s in self.dep.locations()]
        runs = [serdes.to_builtins(RunOut.of(r)) for r in self.dep.instance.get_runs(limit=50)]
        latest = {
            key: serdes.to_builtins(
                MaterializationOut(
                    run_id=m.run_id,
                    timestamp=m.timestamp,
                    metadata={},
                    partition_key=m.partition_key,
                )
            )
            for key, m in self.dep.instance.get_latest_materializations().items()
        }
        return {
            "locations": locations,
            "runs": runs,
            "materializations": latest,
            "automation": self._automation(),
            "backfills": self._backfills(),
        }

    def _backfills(self) -> list[dict[str, Any]]:
        """Backfills not finished (one indexed query, none while nothing backfills): each
        one's status and how many partitions got a run. One that finishes leaves the list, and
        the runs of its partitions are seen by ``runs``."""
        active = [BackfillStatus.REQUESTED, BackfillStatus.CANCELING]
        return [
            {
                "backfill_id": b.backfill_id,
                "status": b.status.value,
                "launched": len(b.partition_runs),
                "updated_at": b.updated_at,
            }
            for b in self.dep.instance.get_backfills(statuses=active, limit=50)
        ]

    def _automation(self) -> list[dict[str, Any]]:
        """Each schedule's and sensor's state and newest tick, in one query while nothing ticks.

        A tick changes its instigator's stored state (last tick time, cursor) when it ends, so
        the newest tick is read again only after such a change, or while it is still open.
        """
        found = []
        for state in self.dep.instance.get_instigator_states():
            seen = (state.status.value, state.last_tick_at, state.cursor, state.updated_at)
            newest = self._newest.get(state.origin)
            unknown = state.origin not in self._newest
            if (
                unknown
                or self._states.get(state.origin) != seen
                or (newest and newest[1] == "STARTED")
            ):
                ticks = self.dep.instance.get_ticks(state.origin, limit=1)
                newest = (ticks[0].tick_id, ticks[0].status.value) if ticks else None
                self._newest[state.origin] = newest
            self._states[state.origin] = seen
            found.append(
                {
                    "origin": state.origin,
                    "status": state.status.value,
                    "last_tick_at": state.last_tick_at,
                    "tick_id": newest[0] if newest else None,
                    "tick_status": newest[1] if newest else None,
                }
            )
        return found

    async def _run(self) -> None:
        while True:
            try:
                current = await run_in_threadpool(self._snapshot)
            except Exception:  # noqa: BLE001 - a failed poll is retried at the next tick
                await asyncio.sleep(FEED_INTERVAL)
                continue
            for name in ("locations", "runs", "automation", "backfills"):
                if current[name] != self._last.get(name):
                    self._publish(name, current[name])
            before = self._last.get("materializations", {})
            changed = {k: v for k, v in current["materializations"].items() if before.get(k) != v}
            if changed and "materializations" in self._last:
                self._publish("materializations", changed)
            self._last = current
            await asyncio.sleep(FEED_INTERVAL)


def _events_after(dep: Deployment, run_id: str, cursor: int) -> list[Any]:
    return list(dep.instance.get_events(run_id, after_storage_id=cursor))


def feed(request: Request) -> ChangeFeed:
    """The app's shared change feed."""
    value: ChangeFeed = request.app.state.feed
    return value


@router.get("/stream", response_class=EventSourceResponse, responses=guarded())
async def stream(request: Request, changes: ChangeFeed = Depends(feed)) -> EventSourceResponse:
    """Server-sent events: ``locations``, ``runs``, ``automation`` (whole lists: schedules'
    and sensors' states and newest ticks) and ``backfills`` (those not finished), and
    ``materializations`` (changed assets only), each when it changes."""
    queue = changes.subscribe()

    async def events() -> AsyncIterator[dict[str, str]]:
        try:
            while True:
                name, payload = await queue.get()
                yield {"event": name, "data": json.dumps(payload)}
        finally:
            changes.unsubscribe(queue)

    return EventSourceResponse(events(), ping=15)


@router.get(
    "/runs/{run_id}/stream", response_class=EventSourceResponse, responses=guarded({404: NO_RUN})
)
async def run_stream(
    run_id: str, after: int = 0, dep: Deployment = Depends(deployment)
) -> EventSourceResponse:
    """Server-sent events of one run: ``event`` for each new log event, ``run`` when its status
    changes; the stream ends after the run finishes."""
    try:
        await run_in_threadpool(dep.instance.get_run, run_id)
    except RunNotFoundError:
        raise HTTPException(404, f"no run with id '{run_id}'") from None

    async def events() -> AsyncIterator[dict[str, str]]:
        cursor = after
        last_status = None
        while True:
            run = await run_in_threadpool(dep.instance.get_run, run_id)
            new = await run_in_threadpool(_events_after, dep, run_id, cursor)
            for event in new:
                cursor = event.storage_id or cursor
                yield {"event": "event", "data": serdes.encode(event)}
            if run.status != last_status:
                last_status = run.status
                yield {"event": "run", "data": serdes.encode(RunOut.of(run))}
            if run.status.is_finished and not new:
                yield {"event": "end", "data": "{}"}
                return
            await asyncio.sleep(RUN_EVENTS_INTERVAL)

    return EventSourceResponse(events(), ping=15)
