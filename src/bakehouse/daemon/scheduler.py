"""The scheduler: evaluates running schedules at their cron ticks and queues their runs.

Each tick is recorded before anything is launched, and a tick is unique per schedule and time,
so a daemon killed half-way and restarted finishes the tick it was on without launching it
twice; ticks missed while the daemon was down are caught up (the most recent
`max_catchup_ticks` of them).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zoneinfo
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from bakehouse.daemon.launching import launch_request
from bakehouse.daemon.loop import Clock, LaunchingLoop
from bakehouse.errors import CorruptRecordError, ErrorInfo, ProtocolError
from bakehouse.host.supervisor import LocationSupervisor
from bakehouse.protocol.snapshot import LocationSnap, ScheduleSnap
from bakehouse.serdes import replace
from bakehouse.storage.records import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    TickRecord,
    TickStatus,
)

if TYPE_CHECKING:
    from bakehouse.storage import Instance

log = logging.getLogger("bakehouse.daemon.scheduler")


def cron_ticks(
    cron_schedule: str, timezone: str | None, after: float, until: float
) -> Iterator[float]:
    """Tick times (POSIX seconds) of `cron_schedule` in (after, until], oldest first."""
    from croniter import croniter

    zone = zoneinfo.ZoneInfo(timezone or "UTC")
    start = dt.datetime.fromtimestamp(after, zone)
    iterator = croniter(cron_schedule, start)
    while True:
        tick = iterator.get_next(dt.datetime).timestamp()
        if tick > until:
            return
        yield tick


def next_tick(cron_schedule: str, timezone: str | None, after: float) -> float:
    """The first tick of `cron_schedule` after `after`."""
    return next(cron_ticks(cron_schedule, timezone, after, float("inf")))


def origin_of(location: str, name: str) -> str:
    """How storage names a schedule or sensor: ``location:name``."""
    return f"{location}:{name}"


def effective_status(state: InstigatorState | None, default_status: str) -> InstigatorStatus:
    """The stored on/off state, else the definition's default."""
    if state is not None:
        return state.status
    return InstigatorStatus.RUNNING if default_status == "RUNNING" else InstigatorStatus.STOPPED


def set_running(
    instance: Instance,
    *,
    location: str,
    name: str,
    type: InstigatorType,
    running: bool,
    now: float,
) -> InstigatorState:
    """Turn a schedule or sensor on or off in storage (the CLI and the UI both do it here).

    A schedule that was off starts from `now` rather than catching up the time it was off; one
    that runs already keeps its place, so a second "start" loses no pending catch-up.
    """
    origin = origin_of(location, name)
    status = InstigatorStatus.RUNNING if running else InstigatorStatus.STOPPED

    def turn(stored: InstigatorState | None) -> InstigatorState:
        # Decided on the state as stored now, so a tick that ended since keeps its cursor.
        was_running = stored is not None and stored.status == InstigatorStatus.RUNNING
        state = stored or InstigatorState(
            origin=origin, name=name, location=location, type=type, status=status
        )
        last = state.last_tick_at
        if running and type == InstigatorType.SCHEDULE and not was_running:
            last = now
        return replace(state, status=status, last_tick_at=last)

    return instance.update_instigator_state(origin, turn)


def _later(stored: InstigatorState | None, tick_at: float) -> float:
    """`tick_at`, or the stored last tick if that is later (a start set it to its own time)."""
    last = stored.last_tick_at if stored is not None else None
    return tick_at if last is None else max(last, tick_at)


class Scheduler(LaunchingLoop):
    """Evaluates every running schedule of the serving locations; `tick` does one pass."""

    name = "scheduler"

    def __init__(
        self,
        instance: Instance,
        supervisor: LocationSupervisor,
        *,
        clock: Clock = time.time,
        max_catchup_ticks: int = 5,
        on_launch: Callable[[], None] | None = None,
        interval: float = 1.0,
    ) -> None:
        super().__init__(instance, supervisor, interval=interval, clock=clock, on_launch=on_launch)
        self.max_catchup_ticks = max_catchup_ticks

    def tick(self) -> list[TickRecord]:
        """Evaluate every tick that is due now; returns the ticks processed."""
        now = self.clock()
        done: list[TickRecord] = []
        for location in self.supervisor.states():
            snapshot = location.snapshot
            if snapshot is None:
                continue
            for schedule in snapshot.schedules:
                try:
                    done.extend(self._schedule_tick(snapshot, schedule, now))
                except CorruptRecordError as exc:
                    # One unreadable row stops only its own schedule; `bh doctor` lists it.
                    log.warning("schedule %s skipped: %s", schedule.name, exc)
        return done

    def _schedule_tick(
        self, snapshot: LocationSnap, schedule: ScheduleSnap, now: float
    ) -> list[TickRecord]:
        origin = origin_of(snapshot.name, schedule.name)
        state = self.instance.get_instigator_state(origin)
        if effective_status(state, schedule.default_status) != InstigatorStatus.RUNNING:
            return []
        if state is None or state.last_tick_at is None:
            # A schedule that starts running starts from now: no backfill of its past. Only
            # where nobody set a start meanwhile; a stop stored since the read above stays.
            first = InstigatorState(
                origin=origin,
                name=schedule.name,
                location=snapshot.name,
                type=InstigatorType.SCHEDULE,
                status=InstigatorStatus.RUNNING,
            )
            self.instance.update_instigator_state(
                origin,
                lambda stored: replace(stored or first, last_tick_at=_later(stored, now)),
            )
            return []
        unfinished = [
            t.tick_at
            for t in self.instance.get_ticks(origin, limit=self.max_catchup_ticks,
                                             statuses=[TickStatus.STARTED])
        ]  # fmt: skip
        due = list(cron_ticks(schedule.cron_schedule, schedule.execution_timezone,
                              state.last_tick_at, now))[-self.max_catchup_ticks :]  # fmt: skip
        processed = []
        for tick_at in sorted(set(unfinished) | set(due)):
            processed.append(self._run_tick(snapshot, schedule, origin, tick_at))
        if due:
            # Only the schedule's place moves on, and never back: stopped while these ticks
            # ran, it stays stopped; started again meanwhile, it starts from that start.
            self.instance.update_instigator_state(
                origin,
                lambda stored: replace(stored or state, last_tick_at=_later(stored, due[-1])),
            )
        return processed

    def _run_tick(
        self, snapshot: LocationSnap, schedule: ScheduleSnap, origin: str, tick_at: float
    ) -> TickRecord:
        tick = self.instance.create_tick(
            TickRecord(origin=origin, type=InstigatorType.SCHEDULE, tick_at=tick_at)
        )
        if tick is None:  # recorded before: finish it only if a killed daemon left it open
            existing = self.instance.get_tick(origin, tick_at)
            if existing is None or existing.status != TickStatus.STARTED:
                return existing or TickRecord(origin=origin, type=InstigatorType.SCHEDULE,
                                              tick_at=tick_at)  # fmt: skip
            tick = existing
        server = self.supervisor.server(snapshot.name)
        try:
            if server is None:
                raise ProtocolError(f"code location '{snapshot.name}' has no running code server")
            answer = server.evaluate_schedule(schedule.name, tick_at)
        except ProtocolError as exc:
            return self.instance.update_tick(
                replace(
                    tick, status=TickStatus.FAILURE, error=ErrorInfo.from_exception(exc).to_dict()
                )
            )
        if answer.get("error"):
            return self.instance.update_tick(
                replace(tick, status=TickStatus.FAILURE, error=answer["error"])
            )
        requests = answer.get("run_requests") or []
        if not requests:
            return self.instance.update_tick(
                replace(tick, status=TickStatus.SKIPPED, skip_reason=answer.get("skip_reason"))
            )
        run_ids, run_keys = [], []
        graph = self.supervisor.global_graph()
        try:
            for index, request in enumerate(requests):
                # One run per request per tick, even if the tick is finished twice.
                run_key = f"{tick_at}:{request.get('run_key') or index}"
                run_id, _ = launch_request(
                    instance=self.instance,
                    graph=graph,
                    snapshot=snapshot,
                    origin=origin,
                    request=request,
                    run_key=run_key,
                    tags={"bakehouse/schedule": schedule.name,
                          "bakehouse/tick": str(tick_at), "bakehouse/launched_by": "schedule"},
                )  # fmt: skip
                run_ids.append(run_id)
                run_keys.append(run_key)
        except Exception as exc:  # noqa: BLE001 - recorded on the tick
            return self.instance.update_tick(
                replace(tick, status=TickStatus.FAILURE, run_ids=tuple(run_ids),
                        run_keys=tuple(run_keys), error=ErrorInfo.from_exception(exc).to_dict())
            )  # fmt: skip
        self.launched()
        return self.instance.update_tick(
            replace(
                tick, status=TickStatus.SUCCESS, run_ids=tuple(run_ids), run_keys=tuple(run_keys)
            )
        )
