"""The storage conformance suite for schedules and sensors: state, ticks, run keys, runs by tag.

Every test runs on every backend (see conftest.py); the last ones race real processes.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bakehouse.errors import StorageError
from bakehouse.serdes import replace
from bakehouse.storage import (
    EventRecord,
    EventType,
    Instance,
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    RunRecord,
    RunStatus,
    TickRecord,
    TickStatus,
)
from tests.storage import racing

SCRIPT = Path(__file__).with_name("instigator_process.py")

OpenInstance = Callable[[], Instance]

# Longer than a PostgreSQL btree entry may be (about 2.7 kB): such text must still be usable.
LONG = "x" * 10_000


def _state(origin: str = "loc:daily", **fields: Any) -> InstigatorState:
    location, name = origin.split(":")
    kwargs: dict[str, Any] = {
        "type": InstigatorType.SCHEDULE,
        "status": InstigatorStatus.RUNNING,
        **fields,
    }
    return InstigatorState(origin=origin, name=name, location=location, **kwargs)


def _schedule_tick(tick_at: float, origin: str = "loc:daily", **fields: Any) -> TickRecord:
    return TickRecord(origin=origin, type=InstigatorType.SCHEDULE, tick_at=tick_at, **fields)


def _sensor_tick(tick_at: float, origin: str = "loc:sensor", **fields: Any) -> TickRecord:
    return TickRecord(origin=origin, type=InstigatorType.SENSOR, tick_at=tick_at, **fields)


def _created(instance: Instance, tick: TickRecord) -> TickRecord:
    created = instance.create_tick(tick)
    assert created is not None
    return created


# -- instigator state --------------------------------------------------------------------------


def test_instigator_state_round_trips_and_stamps_updated_at(instance: Instance) -> None:
    assert instance.get_instigator_state("loc:sensor") is None
    state = _state(
        "loc:sensor",
        type=InstigatorType.SENSOR,
        cursor='{"last": "ünïcode ✓"}',
        last_tick_at=12.5,
    )
    before = time.time()
    stored = instance.set_instigator_state(state)
    assert before <= stored.updated_at <= time.time()
    assert stored == replace(state, updated_at=stored.updated_at)
    assert instance.get_instigator_state("loc:sensor") == stored


def test_set_instigator_state_replaces_the_state_of_its_origin(instance: Instance) -> None:
    first = instance.set_instigator_state(_state(last_tick_at=1.0))
    second = instance.set_instigator_state(
        replace(first, status=InstigatorStatus.STOPPED, last_tick_at=None)
    )
    assert second.updated_at >= first.updated_at
    assert instance.get_instigator_state("loc:daily") == second
    assert instance.get_instigator_states() == [second]


def test_update_instigator_state_changes_the_state_as_stored_now(instance: Instance) -> None:
    seen: list[InstigatorState | None] = []

    def tick_ends(stored: InstigatorState | None) -> InstigatorState:
        seen.append(stored)
        return replace(stored or _state(), cursor="c-2", last_tick_at=2.0)

    first = instance.update_instigator_state("loc:daily", tick_ends)
    assert seen == [None]
    assert (first.status, first.cursor, first.last_tick_at) == (
        InstigatorStatus.RUNNING, "c-2", 2.0)  # fmt: skip
    # Stopped since: a change of the tick's fields keeps the stop, and sees it.
    stopped = instance.set_instigator_state(replace(first, status=InstigatorStatus.STOPPED))
    before = time.time()
    second = instance.update_instigator_state("loc:daily", tick_ends)
    assert seen[-1] == stopped
    assert before <= second.updated_at <= time.time()
    assert second == replace(stopped, updated_at=second.updated_at)
    assert instance.get_instigator_state("loc:daily") == second


def test_update_instigator_state_refuses_the_state_of_another_origin(instance: Instance) -> None:
    with pytest.raises(StorageError, match="loc:daily returned that of loc:other"):
        instance.update_instigator_state("loc:daily", lambda _: _state("loc:other"))
    instance.set_instigator_state(_state())
    with pytest.raises(StorageError, match="loc:daily returned that of loc:other"):
        instance.update_instigator_state("loc:daily", lambda _: _state("loc:other"))
    assert instance.get_instigator_state("loc:other") is None


def test_instigator_states_by_origin_optionally_of_one_type(instance: Instance) -> None:
    for origin, kind in [
        ("b:s", InstigatorType.SENSOR),
        ("a:x", InstigatorType.SCHEDULE),
        ("a:s", InstigatorType.SENSOR),
    ]:
        instance.set_instigator_state(_state(origin, type=kind))
    assert [s.origin for s in instance.get_instigator_states()] == ["a:s", "a:x", "b:s"]
    sensors = instance.get_instigator_states(InstigatorType.SENSOR)
    assert [s.origin for s in sensors] == ["a:s", "b:s"]
    schedules = instance.get_instigator_states(type=InstigatorType.SCHEDULE)
    assert [s.origin for s in schedules] == ["a:x"]


def test_instigator_state_enums_given_as_strings_come_back_as_enums(instance: Instance) -> None:
    state = _state(type="SENSOR", status="STOPPED")
    stored = instance.set_instigator_state(state)
    assert (stored.type, stored.status) == (InstigatorType.SENSOR, InstigatorStatus.STOPPED)
    with pytest.raises(ValueError, match="'PAUSED'"):
        instance.set_instigator_state(_state(status="PAUSED"))
    assert instance.get_instigator_state("loc:daily") == stored


# -- ticks -------------------------------------------------------------------------------------


def test_tick_round_trips_every_field(instance: Instance) -> None:
    tick = _sensor_tick(
        50.0,
        status=TickStatus.FAILURE,
        run_ids=("r1", "r2"),
        run_keys=("k1", LONG),
        skip_reason="nothing new",
        error={"cls_name": "ValueError", "message": "boom", "stack": ["  File x"]},
        cursor="c-7",
        created_at=50.5,
        updated_at=51.0,
    )
    created = _created(instance, tick)
    assert created.tick_id is not None
    assert created == replace(tick, tick_id=created.tick_id)
    assert instance.get_tick("loc:sensor", 50.0) == created
    assert instance.get_ticks("loc:sensor") == [created]


def test_create_tick_stamps_unset_times(instance: Instance) -> None:
    created = _created(instance, _schedule_tick(60.0))
    assert created.status is TickStatus.STARTED
    assert created.created_at > 0
    assert created.updated_at == created.created_at
    assert instance.get_tick("loc:daily", 60.0) == created


def test_a_schedule_tick_is_created_once(instance: Instance) -> None:
    first = _created(instance, _schedule_tick(60.0))
    assert instance.create_tick(_schedule_tick(60.0, status=TickStatus.SKIPPED)) is None
    assert instance.get_ticks("loc:daily") == [first]
    # Finishing the tick does not free its time.
    instance.update_tick(replace(first, status=TickStatus.SUCCESS))
    assert instance.create_tick(_schedule_tick(60.0)) is None
    # Other times, and the same time of another schedule, are other ticks.
    assert instance.create_tick(_schedule_tick(120.0)) is not None
    assert instance.create_tick(_schedule_tick(60.0, origin="loc:hourly")) is not None
    assert len(instance.get_ticks("loc:daily")) == 2


def test_ticks_and_run_keys_stay_unique_when_statements_are_reused(instance: Instance) -> None:
    # PostgreSQL's driver prepares a statement once it has run a few times on a connection.
    for i in range(10):
        assert instance.create_tick(_schedule_tick(float(i))) is not None
        assert instance.create_tick(_schedule_tick(float(i))) is None
        assert instance.claim_run_key("loc:sensor", f"k{i}", f"r{i}") is None
        assert instance.claim_run_key("loc:sensor", f"k{i}", "late") == f"r{i}"
    assert len(instance.get_ticks("loc:daily", limit=None)) == 10


def test_sensor_ticks_may_share_a_time(instance: Instance) -> None:
    first = _created(instance, _sensor_tick(5.0, cursor="a"))
    second = _created(instance, _sensor_tick(5.0, cursor="b"))
    assert (second.tick_id or 0) > (first.tick_id or 0)
    assert instance.get_tick("loc:sensor", 5.0) == second
    assert instance.get_ticks("loc:sensor") == [second, first]


def test_create_tick_refuses_a_stored_tick(instance: Instance) -> None:
    created = _created(instance, _sensor_tick(5.0))
    with pytest.raises(StorageError, match="update_tick"):
        instance.create_tick(created)
    assert instance.get_ticks("loc:sensor") == [created]


def test_update_tick_replaces_it_and_stamps_updated_at(instance: Instance) -> None:
    created = _created(instance, _schedule_tick(60.0, created_at=1.0, updated_at=1.0))
    finished = instance.update_tick(
        replace(created, status=TickStatus.SUCCESS, run_ids=("r1",), run_keys=("60.0:0",))
    )
    assert finished.updated_at > 1.0
    assert finished == replace(
        created,
        status=TickStatus.SUCCESS,
        run_ids=("r1",),
        run_keys=("60.0:0",),
        updated_at=finished.updated_at,
    )
    assert instance.get_tick("loc:daily", 60.0) == finished
    assert instance.get_ticks("loc:daily", statuses=[TickStatus.STARTED]) == []


def test_update_tick_needs_a_stored_tick_and_keeps_its_identity(instance: Instance) -> None:
    created = _created(instance, _schedule_tick(60.0))
    with pytest.raises(StorageError, match="tick_id is None"):
        instance.update_tick(_schedule_tick(60.0))
    with pytest.raises(StorageError, match="no tick"):
        instance.update_tick(replace(created, tick_id=(created.tick_id or 0) + 1000))
    for change in ({"tick_at": 120.0}, {"origin": "loc:other"}, {"type": InstigatorType.SENSOR}):
        with pytest.raises(StorageError, match="cannot change"):
            instance.update_tick(replace(created, status=TickStatus.SUCCESS, **change))
    assert instance.get_tick("loc:daily", 60.0) == created
    assert instance.get_tick("loc:daily", 120.0) is None


def test_get_ticks_newest_first_with_limit_and_statuses(instance: Instance) -> None:
    statuses = {
        30.0: TickStatus.SUCCESS,
        10.0: TickStatus.SKIPPED,
        40.0: TickStatus.STARTED,
        20.0: TickStatus.FAILURE,
    }
    for tick_at, status in statuses.items():
        _created(instance, _schedule_tick(tick_at, status=status))
        _created(instance, _schedule_tick(tick_at + 1, origin="loc:other"))

    def times(ticks: list[TickRecord]) -> list[float]:
        return [t.tick_at for t in ticks]

    assert times(instance.get_ticks("loc:daily")) == [40.0, 30.0, 20.0, 10.0]
    assert times(instance.get_ticks("loc:daily", limit=2)) == [40.0, 30.0]
    assert times(instance.get_ticks("loc:daily", limit=None)) == [40.0, 30.0, 20.0, 10.0]
    started = instance.get_ticks("loc:daily", statuses=[TickStatus.STARTED])
    assert times(started) == [40.0]
    done = instance.get_ticks("loc:daily", statuses=[TickStatus.SKIPPED, TickStatus.SUCCESS])
    assert times(done) == [30.0, 10.0]
    assert instance.get_ticks("loc:daily", statuses=[]) == []
    assert instance.get_ticks("loc:never") == []
    assert instance.get_tick("loc:daily", 15.0) is None


def test_a_tick_that_is_not_json_is_a_storage_error(instance: Instance) -> None:
    with pytest.raises(StorageError, match="JSON"):
        instance.create_tick(_sensor_tick(1.0, error={"x": object()}))
    assert instance.get_ticks("loc:sensor") == []


# -- run keys ----------------------------------------------------------------------------------


def test_a_run_key_is_claimed_once_per_origin(instance: Instance) -> None:
    assert instance.get_run_id_for_key("loc:sensor", "k") is None
    assert instance.claim_run_key("loc:sensor", "k", "r1") is None
    assert instance.claim_run_key("loc:sensor", "k", "r2") == "r1"
    assert instance.get_run_id_for_key("loc:sensor", "k") == "r1"
    # Run keys are per origin.
    assert instance.claim_run_key("loc:other", "k", "r3") is None
    assert instance.get_run_id_for_key("loc:other", "k") == "r3"
    assert instance.get_run_id_for_key("loc:sensor", "k") == "r1"


def test_run_keys_longer_than_an_index_entry(instance: Instance) -> None:
    assert instance.claim_run_key("loc:sensor", LONG, "r1") is None
    assert instance.claim_run_key("loc:sensor", LONG, "r2") == "r1"
    assert instance.claim_run_key("loc:sensor", LONG + "y", "r3") is None
    assert instance.get_run_id_for_key("loc:sensor", LONG) == "r1"
    assert instance.get_run_id_for_key("loc:sensor", LONG[:-1]) is None


# -- runs by tag -------------------------------------------------------------------------------


def _run_ids(runs: list[RunRecord]) -> list[str]:
    return [r.run_id for r in runs]


def test_runs_by_tag_newest_first_with_limit(instance: Instance) -> None:
    for i, schedule in enumerate(["daily", "hourly", "daily", "daily"]):
        instance.create_run(
            RunRecord(
                run_id=f"r{i}",
                tags={"bakehouse/schedule": schedule, "owner": "ann"},
                created_at=10.0 + i,
            )
        )
    instance.create_run(RunRecord(run_id="untagged", created_at=20.0))
    # Same instant: ties go by run_id descending, as in get_runs.
    instance.create_run(RunRecord(run_id="r9", tags={"owner": "ann"}, created_at=13.0))

    assert _run_ids(instance.get_runs_by_tag("bakehouse/schedule", "daily")) == ["r3", "r2", "r0"]
    assert _run_ids(instance.get_runs_by_tag("bakehouse/schedule", "daily", limit=2)) == [
        "r3",
        "r2",
    ]
    assert _run_ids(instance.get_runs_by_tag("bakehouse/schedule", "hourly")) == ["r1"]
    owned = instance.get_runs_by_tag("owner", "ann")
    assert _run_ids(owned) == ["r9", "r3", "r2", "r1", "r0"]
    assert owned == [r for r in instance.get_runs() if r.run_id != "untagged"]
    assert instance.get_runs_by_tag("owner", "bob") == []
    assert instance.get_runs_by_tag("daily", "bakehouse/schedule") == []


def test_runs_by_tag_follow_updates_and_deletes(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1", tags={"k": "a"}, created_at=1.0))
    instance.create_run(RunRecord(run_id="r2", tags={"k": "a"}, created_at=2.0))
    instance.update_run("r1", tags={"k": "b", "new": "yes"})
    assert _run_ids(instance.get_runs_by_tag("k", "a")) == ["r2"]
    assert _run_ids(instance.get_runs_by_tag("k", "b")) == ["r1"]
    assert _run_ids(instance.get_runs_by_tag("new", "yes")) == ["r1"]

    instance.update_run("r2", tags={"k": "b"})
    assert _run_ids(instance.get_runs_by_tag("k", "b")) == ["r2", "r1"]
    instance.update_run("r1", created_at=3.0)
    assert _run_ids(instance.get_runs_by_tag("k", "b")) == ["r1", "r2"]
    # Status changes, by update or by lifecycle event, leave the tags alone.
    instance.update_run("r1", status=RunStatus.CANCELING)
    instance.store_event(EventRecord(run_id="r2", event_type=EventType.RUN_START, timestamp=4.0))
    found = instance.get_runs_by_tag("k", "b")
    assert [(r.run_id, r.status) for r in found] == [
        ("r1", RunStatus.CANCELING),
        ("r2", RunStatus.STARTED),
    ]

    instance.delete_run("r1")
    assert _run_ids(instance.get_runs_by_tag("k", "b")) == ["r2"]
    assert instance.get_runs_by_tag("new", "yes") == []
    instance.update_run("r2", tags={})
    assert instance.get_runs_by_tag("k", "b") == []


def test_runs_by_tag_with_text_longer_than_an_index_entry(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1", tags={"payload": LONG, LONG: "v"}))
    assert _run_ids(instance.get_runs_by_tag("payload", LONG)) == ["r1"]
    assert _run_ids(instance.get_runs_by_tag(LONG, "v")) == ["r1"]
    assert instance.get_runs_by_tag("payload", LONG[:-1]) == []


# -- several processes -------------------------------------------------------------------------


def _start(
    command: str, db_url: str, tmp_path: Path, name: str, start_at: str, count: int, first: int
) -> subprocess.Popen[str]:
    return racing.start(SCRIPT, command, db_url, tmp_path, name, start_at, count, first)


def _race(command: str, db_url: str, tmp_path: Path, *, processes: int, count: int) -> list[Any]:
    return racing.race(SCRIPT, command, db_url, tmp_path, processes=processes, count=count)


@pytest.mark.slow
def test_processes_claiming_the_same_run_keys_each_get_one_owner(
    open_instance: OpenInstance, db_url: str, tmp_path: Path
) -> None:
    keys = 40
    answers = _race("claim-run-keys", db_url, tmp_path, processes=4, count=keys)
    instance = open_instance()
    for i in range(keys):
        owner = instance.get_run_id_for_key("loc:sensor", f"key-{i}")
        claims = [process_answers[i] for process_answers in answers]
        # Exactly one process claimed the key; every other one was told the owner's run id.
        assert claims.count(None) == 1
        winner = claims.index(None)
        assert owner == f"p{winner}-{i}"
        assert [c for c in claims if c is not None] == [owner] * (len(claims) - 1)


@pytest.mark.slow
def test_processes_creating_the_same_schedule_ticks_each_get_one_creator(
    open_instance: OpenInstance, db_url: str, tmp_path: Path
) -> None:
    ticks = 40
    answers = _race("create-schedule-ticks", db_url, tmp_path, processes=4, count=ticks)
    instance = open_instance()
    stored = instance.get_ticks("loc:daily", limit=None)
    assert [t.tick_at for t in stored] == [float(i) for i in reversed(range(ticks))]
    for tick in stored:
        created = [process_answers[int(tick.tick_at)] for process_answers in answers]
        assert [c for c in created if c is not None] == [tick.tick_id]


@pytest.mark.slow
def test_processes_creating_sensor_ticks_at_one_time_all_store_them(
    open_instance: OpenInstance, db_url: str, tmp_path: Path
) -> None:
    answers = _race("create-sensor-ticks", db_url, tmp_path, processes=3, count=10)
    instance = open_instance()
    ids = sorted(tick_id for process_answers in answers for tick_id in process_answers)
    assert None not in ids
    assert len(set(ids)) == 30
    stored = instance.get_ticks("loc:sensor", limit=None)
    assert [t.tick_id for t in stored] == ids[::-1]
    assert instance.get_tick("loc:sensor", 1.0) == stored[0]


@pytest.mark.slow
def test_processes_changing_one_state_at_once_lose_no_change(
    open_instance: OpenInstance, db_url: str, tmp_path: Path
) -> None:
    # Each change reads the cursor and stores it plus one, starting with no state at all: a
    # change made on a state read before another writer's would lose that one's count.
    answers = _race("count-in-cursor", db_url, tmp_path, processes=4, count=25)
    counts = sorted(int(cursor) for process_answers in answers for cursor in process_answers)
    assert counts == list(range(1, 101))
    state = open_instance().get_instigator_state("loc:sensor")
    assert state is not None
    assert (state.cursor, state.status) == ("100", InstigatorStatus.RUNNING)


def test_a_claim_and_a_tick_survive_a_killed_daemon(
    open_instance: OpenInstance, db_url: str, tmp_path: Path
) -> None:
    with _start("claim-and-hang", db_url, tmp_path, "dead", "0", 0, 0) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        finally:
            proc.kill()  # SIGKILL: the run was never launched, the tick never finished
            proc.communicate(timeout=30)

    # The restarted daemon cannot take the tick again, finds it unfinished and finishes it.
    instance = open_instance()
    assert instance.create_tick(_schedule_tick(0.0)) is None
    unfinished = instance.get_ticks("loc:daily", statuses=[TickStatus.STARTED])
    assert [t.tick_at for t in unfinished] == [0.0]
    assert instance.claim_run_key("loc:sensor", "key-0", "restarted-0") == "dead-0"
    finished = instance.update_tick(replace(unfinished[0], status=TickStatus.SUCCESS))
    assert instance.get_ticks("loc:daily", statuses=[TickStatus.STARTED]) == []
    assert instance.get_tick("loc:daily", 0.0) == finished
