"""A schedule or sensor turned off (or on) while one of its ticks is in flight keeps the status
it was given: the tick finishes, and its end stores only what the tick owns (last tick time,
cursor), never the status it read before it started. As in Dagster, where stopping a sensor
takes effect at once and a tick in flight does not turn it back on (dagster-io/dagster#7736).

Each test stores the concurrent change at the one moment the race needs (from inside the code
server's evaluation, or right after the daemon's read), so it is deterministic; every storage
backend runs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import pytest

import bakehouse as dg
from bakehouse.codeserver.loader import build_snapshot
from bakehouse.daemon.freshness_checks import FreshnessChecksDaemon
from bakehouse.daemon.scheduler import Scheduler, origin_of, set_running
from bakehouse.daemon.sensors import SensorDaemon
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.supervisor import LocationSupervisor
from bakehouse.protocol.snapshot import LocationSnap
from bakehouse.storage import Instance
from bakehouse.storage.records import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    TickStatus,
)
from tests.daemon.conftest import FakeClock
from tests.storage import conftest as storage_fixtures

backend = storage_fixtures.backend
db_url = storage_fixtures.db_url
open_instance = storage_fixtures.open_instance
postgres_database = storage_fixtures.postgres_database
instance = storage_fixtures.instance

T0 = 1_800_000_000.0  # a whole minute


@dg.asset
def bread() -> str:
    return "loaf"


bake = dg.define_asset_job("bake", selection=[bread])


@dg.sensor(job=bake, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox(context: dg.SensorEvaluationContext) -> None:
    """Never evaluated here: the fake code server answers for it."""


every_minute = dg.ScheduleDefinition(
    name="every_minute",
    job=bake,
    cron_schedule="* * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

CHECKS = dg.build_last_update_freshness_checks(assets=[bread], lower_bound_delta=timedelta(hours=1))
# Ticked on the host, like automation condition sensors: both end their ticks in `record_tick`.
fresh = dg.build_sensor_for_freshness_checks(
    freshness_checks=CHECKS, name="fresh", default_status=dg.DefaultSensorStatus.RUNNING
)

SNAP = build_snapshot(
    dg.Definitions(
        assets=[bread],
        asset_checks=CHECKS,
        jobs=[bake],
        sensors=[inbox, fresh],
        schedules=[every_minute],
    ),
    name="loc",
    module="m",
    load_seconds=0,
)
SENSOR_ORIGIN = origin_of("loc", "inbox")
HOST_SENSOR_ORIGIN = origin_of("loc", "fresh")
SCHEDULE_ORIGIN = origin_of("loc", "every_minute")


class _Location:
    def __init__(self, snapshot: LocationSnap) -> None:
        self.snapshot = snapshot


class _CodeServer:
    """Answers every evaluation with `answer`, after `during` (the change made while the code
    server evaluates, that is while the tick is in flight)."""

    def __init__(self, during: Callable[[], None], answer: dict[str, Any]) -> None:
        self.during = during
        self.answer = answer

    def evaluate_sensor(self, name: str, **_: Any) -> dict[str, Any]:
        self.during()
        return self.answer

    def evaluate_schedule(self, name: str, tick_at: float) -> dict[str, Any]:
        self.during()
        return self.answer


class _Supervisor:
    """One location serving SNAP, evaluated by `server`."""

    def __init__(self, server: _CodeServer) -> None:
        self._server = server

    def states(self) -> list[_Location]:
        return [_Location(SNAP)]

    def server(self, name: str) -> _CodeServer:
        return self._server

    def global_graph(self) -> GlobalAssetGraph:
        return GlobalAssetGraph([SNAP])


def _supervisor(during: Callable[[], None], answer: dict[str, Any]) -> LocationSupervisor:
    return cast(LocationSupervisor, _Supervisor(_CodeServer(during, answer)))


def _toggle(
    instance: Instance, kind: InstigatorType, running: bool, now: float, name: str = ""
) -> Callable[[], None]:
    name = name or ("inbox" if kind == InstigatorType.SENSOR else "every_minute")

    def toggle() -> None:
        set_running(instance, location="loc", name=name, type=kind, running=running, now=now)

    return toggle


def _stored(instance: Instance, origin: str) -> InstigatorState:
    state = instance.get_instigator_state(origin)
    assert state is not None
    return state


# -- sensors evaluated on the host (automation condition, freshness checks) ---------------------


@pytest.mark.parametrize("stored_before", [True, False], ids=["started", "running-by-default"])
def test_a_host_sensor_stopped_while_its_tick_runs_stays_stopped(
    instance: Instance, monkeypatch: pytest.MonkeyPatch, stored_before: bool
) -> None:
    # Started by hand, or running by default with no state stored yet.
    if stored_before:
        _toggle(instance, InstigatorType.SENSOR, True, T0, name="fresh")()
    stop = _toggle(instance, InstigatorType.SENSOR, False, T0 + 1, name="fresh")
    histories = instance.get_asset_check_histories

    def stop_then_read(*args: Any, **kwargs: Any) -> Any:
        stop()  # the user stops the sensor while its tick reads what to run
        return histories(*args, **kwargs)

    monkeypatch.setattr(instance, "get_asset_check_histories", stop_then_read)
    daemon = FreshnessChecksDaemon(instance, _supervisor(lambda: None, {}), clock=FakeClock(T0 + 2))
    (done,) = daemon.tick()
    assert done.status == TickStatus.SUCCESS  # the tick in flight finishes: its run launched
    stored = _stored(instance, HOST_SENSOR_ORIGIN)
    assert stored.status == InstigatorStatus.STOPPED
    assert stored.last_tick_at == T0 + 2  # and it still notes when it ticked
    assert daemon.tick() == []  # the next pass leaves it alone


# -- sensors evaluated by the code server -------------------------------------------------------


def test_a_sensor_stopped_while_its_code_server_evaluates_it_stays_stopped(
    instance: Instance,
) -> None:
    set_running(instance, location="loc", name="inbox",
                type=InstigatorType.SENSOR, running=True, now=T0)  # fmt: skip
    stop = _toggle(instance, InstigatorType.SENSOR, False, T0 + 1)
    daemon = SensorDaemon(instance, _supervisor(stop, {"cursor": "7"}), clock=FakeClock(T0 + 2))
    (done,) = daemon.tick()
    assert done.status == TickStatus.SKIPPED
    stored = _stored(instance, SENSOR_ORIGIN)
    assert stored.status == InstigatorStatus.STOPPED
    assert (stored.cursor, stored.last_tick_at) == ("7", T0 + 2)  # what the tick owns is kept
    assert daemon.tick() == []  # and the next pass leaves it alone


def test_a_stop_keeps_the_cursor_of_a_tick_that_ends_while_the_stop_is_stored(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_running(instance, location="loc", name="inbox",
                type=InstigatorType.SENSOR, running=True, now=T0)  # fmt: skip
    # A tick in flight: the code server evaluates it until `release`; it stores "after-tick".
    evaluating, release = threading.Event(), threading.Event()

    def hold() -> None:
        evaluating.set()
        assert release.wait(timeout=60)

    ticking = _supervisor(hold, {"cursor": "after-tick"})
    tick = threading.Thread(target=SensorDaemon(instance, ticking, clock=FakeClock(T0 + 5)).tick)
    tick.start()
    assert evaluating.wait(timeout=60)

    # The tick ends right after the stop read the state. Read before the stop's write
    # transaction, the tick's end lands between that read and the write (the join makes sure);
    # read inside it, the tick's end waits for the stop to be stored.
    read = instance.get_instigator_state
    update = getattr(instance, "update_instigator_state", None)

    def read_then_tick_ends(origin: str) -> InstigatorState | None:
        found = read(origin)
        monkeypatch.setattr(instance, "get_instigator_state", read)
        release.set()
        tick.join(timeout=60)
        return found

    def update_then_tick_ends(origin: str, change: Any) -> InstigatorState:
        monkeypatch.setattr(instance, "update_instigator_state", update)

        def read_inside(stored: InstigatorState | None) -> InstigatorState:
            release.set()
            return cast(InstigatorState, change(stored))

        assert update is not None
        return cast(InstigatorState, update(origin, read_inside))

    monkeypatch.setattr(instance, "get_instigator_state", read_then_tick_ends)
    monkeypatch.setattr(instance, "update_instigator_state", update_then_tick_ends, raising=False)
    _toggle(instance, InstigatorType.SENSOR, False, T0 + 6)()
    tick.join(timeout=60)
    assert release.is_set()
    assert not tick.is_alive()
    stored = _stored(instance, SENSOR_ORIGIN)
    assert stored.status == InstigatorStatus.STOPPED
    assert (stored.cursor, stored.last_tick_at) == ("after-tick", T0 + 5)


# -- schedules ----------------------------------------------------------------------------------


def test_a_schedule_stopped_while_its_tick_runs_stays_stopped(instance: Instance) -> None:
    set_running(instance, location="loc", name="every_minute",
                type=InstigatorType.SCHEDULE, running=True, now=T0)  # fmt: skip
    stop = _toggle(instance, InstigatorType.SCHEDULE, False, T0 + 61)
    clock = FakeClock(T0 + 62)
    scheduler = Scheduler(instance, _supervisor(stop, {"run_requests": []}), clock=clock)
    (done,) = scheduler.tick()
    assert (done.tick_at, done.status) == (T0 + 60, TickStatus.SKIPPED)
    stored = _stored(instance, SCHEDULE_ORIGIN)
    assert stored.status == InstigatorStatus.STOPPED
    assert stored.last_tick_at == T0 + 60
    clock.now = T0 + 300
    assert scheduler.tick() == []  # stopped: no tick, no catch-up


def test_a_schedule_stopped_and_started_during_a_tick_starts_from_its_start(
    instance: Instance,
) -> None:
    set_running(instance, location="loc", name="every_minute",
                type=InstigatorType.SCHEDULE, running=True, now=T0)  # fmt: skip
    stop = _toggle(instance, InstigatorType.SCHEDULE, False, T0 + 61)
    start = _toggle(instance, InstigatorType.SCHEDULE, True, T0 + 250)

    def stop_and_start() -> None:
        stop()
        start()  # turned on again at T0+250: it starts from then, not from the tick at T0+60

    clock = FakeClock(T0 + 62)
    scheduler = Scheduler(instance, _supervisor(stop_and_start, {"run_requests": []}), clock=clock)
    (done,) = scheduler.tick()
    assert done.tick_at == T0 + 60
    stored = _stored(instance, SCHEDULE_ORIGIN)
    assert (stored.status, stored.last_tick_at) == (InstigatorStatus.RUNNING, T0 + 250)
    # Next pass at T0+310: only the 5-minute tick after the start, none of the stopped time.
    scheduler = Scheduler(instance, _supervisor(lambda: None, {"run_requests": []}), clock=clock)
    clock.now = T0 + 310
    assert [t.tick_at for t in scheduler.tick()] == [T0 + 300]


def test_a_schedule_stopped_right_after_its_first_read_stays_stopped(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No state is stored: the schedule runs by default, and its first pass notes "from now".
    read = instance.get_instigator_state
    stop = _toggle(instance, InstigatorType.SCHEDULE, False, T0 + 1)

    def read_then_stop(origin: str) -> InstigatorState | None:
        found = read(origin)
        monkeypatch.setattr(instance, "get_instigator_state", read)
        stop()  # the user stops it after the scheduler read "nothing stored, runs by default"
        return found

    monkeypatch.setattr(instance, "get_instigator_state", read_then_stop)
    scheduler = Scheduler(instance, _supervisor(lambda: None, {}), clock=FakeClock(T0 + 2))
    assert scheduler.tick() == []
    assert _stored(instance, SCHEDULE_ORIGIN).status == InstigatorStatus.STOPPED
