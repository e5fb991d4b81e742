"""What the loops of sensors evaluated on the host share (automation condition sensors,
freshness checks sensors): finding the running sensors of their kind that are due, and
recording each tick (a failure as data) with the sensor's last tick time."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from bakehouse.daemon.loop import LaunchingLoop
from bakehouse.daemon.scheduler import effective_status, origin_of
from bakehouse.errors import CorruptRecordError, ErrorInfo
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.supervisor import LocationSupervisor
from bakehouse.protocol.snapshot import LocationSnap, SensorSnap
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

log = logging.getLogger("bakehouse.daemon")

# One tick's work: given the stored STARTED tick, return it finished.
Evaluate = Callable[[TickRecord], TickRecord]


def due_sensors(
    instance: Instance,
    supervisor: LocationSupervisor,
    now: float,
    wants: Callable[[SensorSnap], bool],
) -> Iterator[tuple[LocationSnap, SensorSnap, InstigatorState | None]]:
    """The serving sensors `wants` that are running and whose interval has passed at `now`,
    with their stored state; one whose state cannot be read is skipped (`bh doctor` lists it)."""
    for location in supervisor.states():
        if location.snapshot is None:
            continue
        for sensor in location.snapshot.sensors:
            if not wants(sensor):
                continue
            origin = origin_of(location.snapshot.name, sensor.name)
            try:
                state = instance.get_instigator_state(origin)
            except CorruptRecordError as exc:
                log.warning("sensor %s skipped: %s", sensor.name, exc)
                continue
            if effective_status(state, sensor.default_status) != InstigatorStatus.RUNNING:
                continue
            last = state.last_tick_at if state else None
            if last is not None and now - last < sensor.minimum_interval_seconds:
                continue
            yield location.snapshot, sensor, state


# One tick of one host-evaluated sensor: (instance, graph, snapshot, sensor, state, now).
SensorTick = Callable[
    ["Instance", GlobalAssetGraph, LocationSnap, SensorSnap, "InstigatorState | None", float],
    TickRecord,
]


class HostSensorLoop(LaunchingLoop):
    """Ticks every running sensor of kind `kind` whose interval has passed, with
    `sensor_tick` (a subclass's module function, one tick of one sensor)."""

    kind = ""
    sensor_tick: SensorTick

    def wants(self, sensor: SensorSnap) -> bool:
        """True for the sensors this loop ticks: those of its kind."""
        return sensor.kind == self.kind

    def tick(self) -> list[TickRecord]:
        """Tick each running sensor of this loop's kind whose interval has passed."""
        now = self.clock()
        done = []
        graph: GlobalAssetGraph | None = None
        for snapshot, sensor, state in due_sensors(self.instance, self.supervisor, now, self.wants):
            graph = graph or self.supervisor.global_graph()
            tick = type(self).sensor_tick(self.instance, graph, snapshot, sensor, state, now)
            if tick.run_ids:
                self.launched()
            done.append(tick)
        return done


def running_state(snapshot: LocationSnap, sensor: SensorSnap) -> InstigatorState:
    """The state of a sensor that runs and has none stored yet (it runs by default)."""
    return InstigatorState(
        origin=origin_of(snapshot.name, sensor.name),
        name=sensor.name,
        location=snapshot.name,
        type=InstigatorType.SENSOR,
        status=InstigatorStatus.RUNNING,
    )


def record_tick(
    instance: Instance,
    snapshot: LocationSnap,
    sensor: SensorSnap,
    state: InstigatorState | None,
    now: float,
    evaluate: Evaluate,
) -> TickRecord:
    """Store a STARTED tick, `evaluate` it (an exception fails the tick, as data), note the
    sensor's last tick time; returns the finished tick.

    `state` (what the loop read before the tick) is not written back: the sensor may have been
    stopped while the tick ran, and that stop stays. Only the last tick time changes.
    """
    origin = origin_of(snapshot.name, sensor.name)
    tick = TickRecord(origin=origin, type=InstigatorType.SENSOR, tick_at=now)
    tick = instance.create_tick(tick) or tick
    try:
        tick = evaluate(tick)
    except Exception as exc:
        log.exception("%s sensor %s failed", sensor.kind, origin)
        tick = replace(
            tick, status=TickStatus.FAILURE, error=ErrorInfo.from_exception(exc).to_dict()
        )
    default = state or running_state(snapshot, sensor)
    instance.update_instigator_state(
        origin, lambda stored: replace(stored or default, last_tick_at=now)
    )
    return instance.update_tick(tick) if tick.tick_id is not None else tick
