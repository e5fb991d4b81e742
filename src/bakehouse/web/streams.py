"""Live updates pushed to pages as server-sent events.

One shared feed follows the deployment (location states, runs whose status changed, new
materializations, schedule and sensor ticks, unfinished backfills) and fans changes out to every
connected page; a run page also gets its run's new events as they are stored.

The feed costs nothing while no page listens: it starts with the first subscriber and stops
with the last. While it runs it reads storage only when storage says it changed
(`Instance.watch_changes`: SQLite's ``PRAGMA data_version``, PostgreSQL's ``LISTEN``), and then
reads only what changed after its cursor (the event log's storage id), never every asset.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from bakehouse import serdes
from bakehouse.errors import RunNotFoundError
from bakehouse.host.deployment import Deployment
from bakehouse.storage.changes import LoggedChange
from bakehouse.storage.records import BackfillStatus, EventType
from bakehouse.web.deps import deployment
from bakehouse.web.models import LocationOut, MaterializationOut, RunOut
from bakehouse.web.responses import NO_RUN, guarded

router = APIRouter(prefix="/api", tags=["streams"])

# Location states live in this process, not in storage: looked at this often while a page
# listens (a comparison of a few small records).
LOCATIONS_INTERVAL = 0.5
# At most this many rounds a second, however fast storage changes: a burst of writes is one read.
MIN_ROUND_GAP = 0.2
# How long the watcher thread blocks per wait; it also bounds how long it runs on after a stop.
WATCH_SLICE = 0.5
# The newest runs the feed compares by (status, updated_at) each round, for changes made
# without a lifecycle event (`Instance.update_run`).
RECENT_RUNS = 50
# Events read per query; a longer backlog is read in several.
CHANGES_PER_READ = 5_000
# A client resuming from further back than this many events is told to ``resync`` (re-read
# what it shows) rather than sent the whole backlog.
CATCH_UP_LIMIT = 5_000
# PostgreSQL hands out storage ids when rows are inserted, not when they commit: a transaction
# may commit after a later id was already read. The feed re-reads this many seconds of the log
# behind its cursor there, skipping the events it has sent (SQLite commits in id order).
REORDER_WINDOW = 5.0
RUN_EVENTS_INTERVAL = 0.2

Message = tuple[str, Any, int]  # event name, payload, cursor after it


class ChangeFeed:
    """Follows the deployment while anyone subscribes and broadcasts what changed."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self._subscribers: set[asyncio.Queue[Message]] = set()
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._stopping: threading.Event | None = None
        self.cursor = 0
        self.rounds = 0  # rounds that read storage: what tests and the bench watch
        self._last: dict[str, Any] = {}
        # The location states last described: the supervisor swaps a state whole when it
        # changes, so the same objects mean nothing to describe again.
        self._location_states: list[Any] = []
        self._heads: dict[str, tuple[str, float]] = {}
        self._sent_ids: set[int] = set()
        self._floors: list[tuple[float, int]] = []
        self._reorders = dep.instance.url.startswith("postgresql")
        # Per schedule or sensor: its stored state as last seen, and its newest tick.
        self._states: dict[str, tuple[Any, ...]] = {}
        self._newest: dict[str, tuple[int | None, str] | None] = {}

    @property
    def running(self) -> bool:
        """True while the feed follows storage (some page listens)."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Nothing to do until a page subscribes (kept for the app's lifespan)."""

    async def stop(self) -> None:
        """Stop following storage, whoever still listens."""
        self._subscribers.clear()
        await self._halt()

    async def subscribe(self) -> asyncio.Queue[Message]:
        """A queue that receives (event name, payload, cursor) for each change; starts the feed
        for the first subscriber and returns once it has its starting point (`cursor`)."""
        queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=100)
        self._subscribers.add(queue)
        if not self.running:
            loop = asyncio.get_running_loop()
            self._ready = loop.create_future()
            self._task = asyncio.create_task(self._run(self._ready))
        assert self._ready is not None
        await asyncio.shield(self._ready)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Message]) -> None:
        """Stop sending to `queue`; the feed stops when nobody is left."""
        self._subscribers.discard(queue)
        if not self._subscribers and self._task is not None:
            self._task.cancel()
            if self._stopping is not None:
                self._stopping.set()
            self._task = None

    async def _halt(self) -> None:
        task, self._task = self._task, None
        if self._stopping is not None:
            self._stopping.set()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _publish(self, name: str, payload: Any) -> None:
        for queue in list(self._subscribers):
            if queue.full():  # a stalled page gets the newest state when it catches up
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait((name, payload, self.cursor))

    # -- following storage -------------------------------------------------------------------

    async def _run(self, ready: asyncio.Future[None]) -> None:
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        stopping = threading.Event()
        self._stopping = stopping
        watching = threading.Thread(
            target=self._watch, args=(loop, woken, stopping), name="bakehouse-feed", daemon=True
        )
        watching.start()
        try:
            try:
                await run_in_threadpool(self._begin)
            finally:
                if not ready.done():
                    ready.set_result(None)
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), LOCATIONS_INTERVAL)
                changed = woken.is_set()
                woken.clear()
                try:
                    messages = await run_in_threadpool(self._round, changed)
                except Exception:  # noqa: BLE001 - storage failed this round; the next one retries
                    woken.set()
                    await asyncio.sleep(1.0)
                    continue
                for name, payload in messages:
                    self._publish(name, payload)
                await asyncio.sleep(MIN_ROUND_GAP)
        finally:
            stopping.set()

    def _watch(
        self, loop: asyncio.AbstractEventLoop, woken: asyncio.Event, stopping: threading.Event
    ) -> None:
        """The watcher thread: blocks on the change signal and wakes the feed's task."""
        try:
            watcher = self.dep.instance.watch_changes()
        except Exception:  # noqa: BLE001 - without a signal, wake every slice instead
            watcher = None
        try:
            while not stopping.is_set():
                if watcher is None:
                    stopping.wait(WATCH_SLICE)
                elif not watcher.wait(WATCH_SLICE):
                    continue
                try:
                    loop.call_soon_threadsafe(woken.set)
                except RuntimeError:  # the loop is closed: the app has stopped
                    return
        finally:
            if watcher is not None:
                watcher.close()

    def _begin(self) -> None:
        """The starting point: everything as it is now is what the pages were rendered from."""
        instance = self.dep.instance
        self.cursor = instance.get_max_event_storage_id()
        self._sent_ids.clear()
        self._floors = [(time.monotonic(), self.cursor)]
        self._heads = {
            h.run_id: (h.status, h.updated_at) for h in instance.get_run_heads(limit=RECENT_RUNS)
        }
        self._last = {
            "locations": self._locations(),
            "automation": self._automation(),
            "backfills": self._backfills(),
        }

    def _round(self, storage_changed: bool) -> list[tuple[str, Any]]:
        """What changed since the last round, as the messages to broadcast."""
        messages: list[tuple[str, Any]] = []
        # Described only when a state object changed: describing every location twice a
        # second (an asset count over 50,000 assets among it) was most of an idle webserver's
        # CPU while a page listened.
        if not _same_objects(self.dep.locations(), self._location_states):
            locations = self._locations()
            if locations != self._last.get("locations"):
                self._last["locations"] = locations
                messages.append(("locations", locations))
        if not storage_changed:
            return messages
        self.rounds += 1
        logged = self._new_changes()
        materialized = _materializations(logged)
        changed_runs = {
            c.run_id for c in logged if c.event_type is not EventType.ASSET_MATERIALIZATION
        }
        heads = self.dep.instance.get_run_heads(limit=RECENT_RUNS)
        for head in heads:
            if self._heads.get(head.run_id) != (head.status, head.updated_at):
                changed_runs.add(head.run_id)
        self._heads = {h.run_id: (h.status, h.updated_at) for h in heads}
        if changed_runs:
            found = self.dep.instance.get_runs_by_id(sorted(changed_runs))
            if found:
                messages.append(("runs", [serdes.to_builtins(RunOut.of(r)) for r in found]))
        if materialized:
            messages.append(("materializations", materialized))
        for name, current in (("automation", self._automation()), ("backfills", self._backfills())):
            if current != self._last.get(name):
                self._last[name] = current
                messages.append((name, current))
        return messages

    def _new_changes(self) -> list[LoggedChange]:
        """The followed events not sent yet; advances the cursor."""
        instance = self.dep.instance
        now = time.monotonic()
        floor = self.cursor
        if self._reorders:
            # Read from where the cursor stood REORDER_WINDOW ago, skipping what was sent.
            self._floors.append((now, self.cursor))
            while len(self._floors) > 1 and self._floors[1][0] <= now - REORDER_WINDOW:
                self._floors.pop(0)
            floor = self._floors[0][1]
            self._sent_ids = {i for i in self._sent_ids if i > floor}
        found: list[LoggedChange] = []
        while True:
            batch = instance.get_logged_changes(floor, limit=CHANGES_PER_READ)
            found.extend(c for c in batch if c.storage_id not in self._sent_ids)
            if len(batch) < CHANGES_PER_READ:
                break
            floor = batch[-1].storage_id
        if found:
            self.cursor = max(self.cursor, max(c.storage_id for c in found))
            if self._reorders:
                self._sent_ids.update(c.storage_id for c in found)
        return found

    def catch_up(self, cursor: int) -> list[tuple[str, Any]]:
        """What changed after `cursor` for one client resuming from it: the materializations and
        the runs whose status changed, or ``resync`` when that is too far back to send."""
        instance = self.dep.instance
        logged = instance.get_logged_changes(cursor, limit=CATCH_UP_LIMIT + 1)
        if len(logged) > CATCH_UP_LIMIT:
            return [("resync", {"cursor": self.cursor})]
        messages: list[tuple[str, Any]] = []
        run_ids = {c.run_id for c in logged if c.event_type is not EventType.ASSET_MATERIALIZATION}
        if run_ids:
            found = instance.get_runs_by_id(sorted(run_ids))
            if found:
                messages.append(("runs", [serdes.to_builtins(RunOut.of(r)) for r in found]))
        materialized = _materializations(logged)
        if materialized:
            messages.append(("materializations", materialized))
        return messages

    def _locations(self) -> list[Any]:
        """Every location described, remembering the state objects described."""
        self._location_states = self.dep.locations()
        return [serdes.to_builtins(LocationOut.of(s)) for s in self._location_states]

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


def _same_objects(now: list[Any], before: list[Any]) -> bool:
    """True when `now` holds the very objects of `before`, in order."""
    return len(now) == len(before) and all(a is b for a, b in zip(now, before, strict=True))


def _materializations(logged: list[LoggedChange]) -> dict[str, Any]:
    """Each asset's newest materialization among `logged`, as the stream sends them."""
    newest: dict[str, LoggedChange] = {}
    for change in logged:
        if change.event_type is EventType.ASSET_MATERIALIZATION and change.asset_key:
            newest[change.asset_key] = change  # oldest first: a later one replaces it
    return {
        key: serdes.to_builtins(
            MaterializationOut(
                run_id=c.run_id,
                timestamp=c.timestamp,
                metadata={},
                partition_key=c.partition_key,
            )
        )
        for key, c in newest.items()
    }


def _events_after(dep: Deployment, run_id: str, cursor: int) -> list[Any]:
    return list(dep.instance.get_events(run_id, after_storage_id=cursor))


def feed(request: Request) -> ChangeFeed:
    """The app's shared change feed."""
    value: ChangeFeed = request.app.state.feed
    return value


@router.get("/stream", response_class=EventSourceResponse, responses=guarded())
async def stream(
    cursor: int | None = Query(
        default=None,
        ge=0,
        description="Resume after this point (an event's id): first send what changed since",
    ),
    last_event_id: str | None = Header(default=None, include_in_schema=False),
    changes: ChangeFeed = Depends(feed),
) -> EventSourceResponse:
    """Server-sent events, each with the feed's cursor as its id: first ``hello`` (the cursor
    the stream starts from, and whether it resumed from an earlier one); then ``locations``
    (the whole list), ``runs`` (the runs whose status changed), ``materializations`` (each
    changed asset's newest one), ``automation`` (schedules' and sensors' states and newest
    ticks, the whole list) and ``backfills`` (those not finished, the whole list), each when it
    changes. With `cursor` (or a reconnecting browser's Last-Event-ID) the runs and
    materializations changed after it come first, or ``resync`` when that is too far back: the
    client then re-reads what it shows."""
    resume = cursor
    if resume is None and last_event_id:
        # Browsers send back the id they last saw; anything else is ignored, not an error.
        with contextlib.suppress(ValueError):
            resume = max(0, int(last_event_id))
    queue = await changes.subscribe()
    try:
        start = changes.cursor
        backlog = [] if resume is None else await run_in_threadpool(changes.catch_up, resume)
    except BaseException:
        changes.unsubscribe(queue)
        raise

    async def events() -> AsyncIterator[dict[str, str]]:
        try:
            hello = {"cursor": start, "resumed": resume is not None}
            yield {"event": "hello", "id": str(start), "data": json.dumps(hello)}
            for name, payload in backlog:
                yield {"event": name, "id": str(start), "data": json.dumps(payload)}
            while True:
                name, payload, at = await queue.get()
                yield {"event": name, "id": str(at), "data": json.dumps(payload)}
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
