"""The storage conformance suite: every Instance contract, on every backend (see conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bakehouse.errors import RunNotFoundError, StorageError
from bakehouse.serdes import replace
from bakehouse.storage import (
    EventRecord,
    EventType,
    Instance,
    RunRecord,
    RunStatus,
)

OpenInstance = Callable[[], Instance]


def _event(run_id: str, event_type: EventType, timestamp: float, **fields: Any) -> EventRecord:
    return EventRecord(run_id=run_id, event_type=event_type, timestamp=timestamp, **fields)


def _materialization(run_id: str, asset_key: str, timestamp: float, rows: int) -> EventRecord:
    return _event(
        run_id,
        EventType.ASSET_MATERIALIZATION,
        timestamp,
        asset_key=asset_key,
        step_key=asset_key,
        data={"metadata": {"rows": {"type": "int", "value": rows}}},
    )


# -- runs --------------------------------------------------------------------------------------


def test_create_and_get_run_round_trips_every_field(instance: Instance) -> None:
    run = RunRecord(
        run_id="r1",
        asset_selection=("a/b", "c"),
        selection_query="c+",
        job_name="daily",
        location_name="bakery",
        partition_key="2024-01-01",
        tags={"owner": "ann", "ünïcode": "✓"},
        run_config={"ops": {"x": {"config": {"n": 1, "f": 1.5, "l": [1, None]}}}},
        created_at=100.0,
        updated_at=101.0,
    )
    assert instance.create_run(run) == run
    assert instance.get_run("r1") == run


def test_create_run_stamps_unset_times(instance: Instance) -> None:
    created = instance.create_run(RunRecord(run_id="r1"))
    assert created.created_at > 0
    assert created.updated_at == created.created_at
    assert instance.get_run("r1") == created


def test_duplicate_run_id_raises_and_keeps_the_first(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1", job_name="first"))
    with pytest.raises(StorageError, match="already exists"):
        instance.create_run(RunRecord(run_id="r1", job_name="second"))
    assert instance.get_run("r1").job_name == "first"


def test_unknown_run_raises_run_not_found(instance: Instance) -> None:
    with pytest.raises(RunNotFoundError) as info:
        instance.get_run("nope")
    assert info.value.run_id == "nope"
    with pytest.raises(RunNotFoundError):
        instance.update_run("nope", tags={})
    with pytest.raises(RunNotFoundError):
        instance.delete_run("nope")


def test_get_runs_newest_first_with_limit_status_and_cursor(instance: Instance) -> None:
    statuses = [RunStatus.QUEUED, RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.SUCCESS]
    for i, status in enumerate(statuses):
        instance.create_run(RunRecord(run_id=f"r{i}", status=status, created_at=10.0 + i))

    assert [r.run_id for r in instance.get_runs()] == ["r3", "r2", "r1", "r0"]
    assert [r.run_id for r in instance.get_runs(limit=2)] == ["r3", "r2"]
    assert [r.run_id for r in instance.get_runs(before_created_at=12.0)] == ["r1", "r0"]
    assert [r.run_id for r in instance.get_runs(statuses=[RunStatus.SUCCESS])] == ["r3", "r1"]
    failed_or_queued = instance.get_runs(statuses=[RunStatus.FAILURE, RunStatus.QUEUED])
    assert [r.run_id for r in failed_or_queued] == ["r2", "r0"]
    assert instance.get_runs(statuses=[]) == []


def test_update_run_changes_fields_and_updated_at(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1", tags={"a": "1"}, created_at=5.0, updated_at=5.0))
    updated = instance.update_run("r1", tags={"a": "2"}, status=RunStatus.CANCELING)
    assert updated.tags == {"a": "2"}
    assert updated.status is RunStatus.CANCELING
    assert updated.updated_at > 5.0
    assert instance.get_run("r1") == updated
    assert [r.run_id for r in instance.get_runs(statuses=[RunStatus.CANCELING])] == ["r1"]


def test_update_run_rejects_unknown_fields_and_id_changes(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    with pytest.raises(TypeError, match="valid fields"):
        instance.update_run("r1", colour="red")
    with pytest.raises(StorageError, match="cannot change the id"):
        instance.update_run("r1", run_id="r2")


def test_delete_run_deletes_its_events(instance: Instance) -> None:
    for run_id in ("r1", "r2"):
        instance.create_run(RunRecord(run_id=run_id))
        instance.store_event(_event(run_id, EventType.LOG, 1.0, message="hi"))
    instance.delete_run("r1")
    with pytest.raises(RunNotFoundError):
        instance.get_run("r1")
    assert instance.get_events("r1") == []
    assert len(instance.get_events("r2")) == 1


# -- events ------------------------------------------------------------------------------------


def test_event_round_trips_with_data_and_storage_id(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    event = _event(
        "r1",
        EventType.STEP_FAILURE,
        12.5,
        message="boom\nsecond line",
        level="ERROR",
        step_key="cookie_dough",
        asset_key="bakery/cookie_dough",
        partition_key="2024-01-01",
        data={
            "error": {"cls_name": "ValueError", "message": "boom", "stack": ["  File x"]},
            "duration_ms": 12.25,
            "metadata": {"path": {"type": "path", "value": "/tmp/x"}},
        },
    )
    stored = instance.store_event(event)
    assert stored.storage_id is not None
    assert stored == replace(event, storage_id=stored.storage_id)
    assert instance.get_events("r1") == [stored]


def test_storage_ids_increase_in_log_order(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    stored = [instance.store_event(_event("r1", EventType.LOG, float(i))) for i in range(5)]
    ids = [e.storage_id or 0 for e in stored]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5
    assert instance.get_events("r1") == stored


def test_get_events_pages_after_a_storage_id(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    instance.create_run(RunRecord(run_id="other"))
    stored = []
    for i in range(7):
        stored.append(instance.store_event(_event("r1", EventType.LOG, float(i), message=str(i))))
        instance.store_event(_event("other", EventType.LOG, float(i)))

    seen: list[EventRecord] = []
    cursor = 0
    while page := instance.get_events("r1", after_storage_id=cursor, limit=3):
        assert len(page) <= 3
        seen.extend(page)
        cursor = page[-1].storage_id or 0
    assert seen == stored
    assert instance.get_events("r1", after_storage_id=stored[-1].storage_id or 0) == []


def test_get_events_filters_by_type(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    instance.store_event(_event("r1", EventType.RUN_START, 1.0))
    instance.store_event(_event("r1", EventType.LOG, 2.0))
    instance.store_event(_materialization("r1", "a", 3.0, rows=1))
    instance.store_event(_event("r1", EventType.RUN_SUCCESS, 4.0))
    lifecycle = instance.get_events("r1", event_types=[EventType.RUN_START, EventType.RUN_SUCCESS])
    assert [e.event_type for e in lifecycle] == [EventType.RUN_START, EventType.RUN_SUCCESS]
    assert instance.get_events("r1", event_types=[]) == []


def test_lifecycle_events_set_status_and_times(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    instance.store_event(_event("r1", EventType.RUN_STARTING, 1.0))
    assert instance.get_run("r1").status is RunStatus.STARTING
    instance.store_event(_event("r1", EventType.RUN_START, 2.0))
    run = instance.get_run("r1")
    assert (run.status, run.started_at, run.ended_at) == (RunStatus.STARTED, 2.0, None)
    instance.store_event(_event("r1", EventType.STEP_START, 2.5, step_key="a"))
    assert instance.get_run("r1").status is RunStatus.STARTED
    instance.store_event(_event("r1", EventType.RUN_SUCCESS, 5.0))
    run = instance.get_run("r1")
    assert (run.status, run.started_at, run.ended_at, run.duration) == (
        RunStatus.SUCCESS,
        2.0,
        5.0,
        3.0,
    )
    assert [r.run_id for r in instance.get_runs(statuses=[RunStatus.SUCCESS])] == ["r1"]


@pytest.mark.parametrize(
    ("event_type", "status"),
    [(EventType.RUN_FAILURE, RunStatus.FAILURE), (EventType.RUN_CANCELED, RunStatus.CANCELED)],
)
def test_failed_and_canceled_runs_get_ended_at(
    instance: Instance, event_type: EventType, status: RunStatus
) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    instance.store_event(_event("r1", EventType.RUN_START, 1.0))
    instance.store_event(_event("r1", event_type, 3.0))
    run = instance.get_run("r1")
    assert (run.status, run.ended_at) == (status, 3.0)


def test_a_finished_run_stays_as_it_finished(instance: Instance) -> None:
    # A cancel stored while the run queue and the coordinator start the run: their own events
    # come after it, and so may the end a stopped worker reports.
    instance.create_run(RunRecord(run_id="r1"))
    instance.store_event(_event("r1", EventType.RUN_QUEUED, 1.0))
    instance.store_event(_event("r1", EventType.RUN_CANCELED, 2.0))
    for later, at in [(EventType.RUN_STARTING, 3.0), (EventType.RUN_START, 4.0),
                      (EventType.RUN_SUCCESS, 5.0)]:  # fmt: skip
        instance.store_event(_event("r1", later, at))
    run = instance.get_run("r1")
    assert (run.status, run.started_at, run.ended_at) == (RunStatus.CANCELED, None, 2.0)
    assert [e.event_type for e in instance.get_events("r1")][-3:] == [
        EventType.RUN_STARTING,
        EventType.RUN_START,
        EventType.RUN_SUCCESS,
    ]


def test_lifecycle_event_of_unknown_run_stores_nothing(instance: Instance) -> None:
    with pytest.raises(RunNotFoundError):
        instance.store_event(_event("ghost", EventType.RUN_START, 1.0))
    assert instance.get_events("ghost") == []


def test_store_events_is_one_transaction(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    stored = instance.store_events(
        [_event("r1", EventType.RUN_START, 1.0), _materialization("r1", "a", 2.0, rows=3)]
    )
    assert [e.storage_id for e in stored] == [e.storage_id for e in instance.get_events("r1")]
    assert instance.get_run("r1").status is RunStatus.STARTED
    assert instance.get_latest_materializations()["a"].storage_id == stored[1].storage_id

    # The last event fails (its run does not exist): none of the batch may remain.
    with pytest.raises(RunNotFoundError):
        instance.store_events(
            [_event("r1", EventType.LOG, 3.0), _event("ghost", EventType.RUN_SUCCESS, 4.0)]
        )
    assert len(instance.get_events("r1")) == 2
    assert instance.get_run("r1").status is RunStatus.STARTED


def test_materialization_without_asset_key_is_refused(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    with pytest.raises(StorageError, match="asset_key"):
        instance.store_event(_event("r1", EventType.ASSET_MATERIALIZATION, 1.0))
    assert instance.get_events("r1") == []


def test_unserializable_data_is_a_storage_error(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    with pytest.raises(StorageError, match="JSON"):
        instance.store_event(_event("r1", EventType.LOG, 1.0, data={"x": object()}))


# -- assets ------------------------------------------------------------------------------------


def test_asset_index_follows_the_newest_materialization(instance: Instance) -> None:
    assert instance.get_latest_materializations() == {}
    instance.create_run(RunRecord(run_id="r1"))
    instance.create_run(RunRecord(run_id="r2"))
    first = instance.store_event(_materialization("r1", "a/b", 1.0, rows=1))
    instance.store_event(_materialization("r1", "c", 1.5, rows=7))
    latest = instance.get_latest_materializations(["a/b"])
    assert list(latest) == ["a/b"]
    assert latest["a/b"].storage_id == first.storage_id
    assert latest["a/b"].metadata == {"rows": {"type": "int", "value": 1}}

    second = instance.store_event(
        _event(
            "r2",
            EventType.ASSET_MATERIALIZATION,
            2.0,
            asset_key="a/b",
            partition_key="p1",
            data={"metadata": {"rows": {"type": "int", "value": 2}}},
        )
    )
    record = instance.get_latest_materializations()["a/b"]
    assert (record.run_id, record.storage_id, record.timestamp, record.partition_key) == (
        "r2",
        second.storage_id,
        2.0,
        "p1",
    )
    assert record.metadata == {"rows": {"type": "int", "value": 2}}
    assert set(instance.get_latest_materializations()) == {"a/b", "c"}
    assert set(instance.get_latest_materializations(["c", "never", "c"])) == {"c"}
    assert instance.get_latest_materializations([]) == {}


def test_materialization_without_metadata_indexes_empty_metadata(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    instance.store_event(_event("r1", EventType.ASSET_MATERIALIZATION, 1.0, asset_key="a"))
    assert instance.get_latest_materializations()["a"].metadata == {}


def test_many_asset_keys_are_looked_up_in_chunks(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    instance.store_events([_materialization("r1", f"k{i}", 1.0, rows=i) for i in range(3)])
    keys = [f"k{i}" for i in range(1200)]
    assert set(instance.get_latest_materializations(keys)) == {"k0", "k1", "k2"}


def test_materialization_history_newest_first(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    stored = [instance.store_event(_materialization("r1", "a", float(i), rows=i)) for i in range(5)]
    instance.store_event(_materialization("r1", "other", 9.0, rows=0))
    instance.store_event(_event("r1", EventType.STEP_OUTPUT, 9.0, asset_key="a"))

    history = instance.get_materialization_history("a")
    assert history == stored[::-1]
    assert instance.get_materialization_history("a", limit=2) == stored[:-3:-1]
    assert instance.get_materialization_history("never") == []


def test_deleting_a_run_falls_back_to_older_materializations(instance: Instance) -> None:
    for run_id in ("old", "new"):
        instance.create_run(RunRecord(run_id=run_id))
    old = instance.store_event(_materialization("old", "a", 1.0, rows=1))
    instance.store_event(_materialization("new", "a", 2.0, rows=2))
    instance.store_event(_materialization("new", "only_new", 2.0, rows=2))

    instance.delete_run("new")
    latest = instance.get_latest_materializations()
    assert set(latest) == {"a"}
    assert (latest["a"].run_id, latest["a"].storage_id) == ("old", old.storage_id)
    assert instance.get_materialization_history("a") == [old]


def test_storage_ids_are_never_reused_after_delete(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    last = instance.store_event(_event("r1", EventType.LOG, 1.0))
    instance.delete_run("r1")
    instance.create_run(RunRecord(run_id="r2"))
    after = instance.store_event(_event("r2", EventType.LOG, 1.0))
    assert (after.storage_id or 0) > (last.storage_id or 0)


# -- several instances, threads ----------------------------------------------------------------


def test_two_instances_on_one_database_see_each_others_writes(
    open_instance: OpenInstance,
) -> None:
    writer, reader = open_instance(), open_instance()
    writer.create_run(RunRecord(run_id="r1"))
    assert reader.get_run("r1").status is RunStatus.QUEUED
    started = writer.store_event(_event("r1", EventType.RUN_START, 1.0))
    assert reader.get_events("r1") == [started]
    assert reader.get_run("r1").status is RunStatus.STARTED
    reader.update_run("r1", tags={"by": "reader"})
    assert writer.get_run("r1").tags == {"by": "reader"}


def test_threads_share_one_instance(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    errors: list[BaseException] = []

    def write(step: int) -> None:
        try:
            for i in range(20):
                instance.store_event(_event("r1", EventType.LOG, float(i), step_key=f"s{step}"))
                instance.get_events("r1", limit=5)
        except BaseException as exc:  # noqa: BLE001 (a failure in a thread must fail the test)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = [e.storage_id for e in instance.get_events("r1")]
    assert len(ids) == 80
    assert len(set(ids)) == 80


# -- closing -----------------------------------------------------------------------------------


def test_closed_instance_refuses_calls(open_instance: OpenInstance) -> None:
    instance = open_instance()
    instance.close()
    instance.close()  # idempotent
    with pytest.raises(StorageError, match="closed"):
        instance.get_runs()


def test_context_manager_closes(db_url: str, tmp_path: Path) -> None:
    with Instance.open(db_url, storage_dir=tmp_path / "files") as instance:
        instance.create_run(RunRecord(run_id="r1"))
        assert instance.storage_dir == tmp_path / "files"
        assert instance.storage_dir.is_dir()
    with pytest.raises(StorageError, match="closed"):
        instance.get_run("r1")


# -- where an instance lives -------------------------------------------------------------------


def test_from_env_prefers_the_storage_url(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAKEHOUSE_STORAGE_URL", db_url)
    monkeypatch.setenv("BAKEHOUSE_HOME", str(tmp_path / "home"))
    with Instance.from_env(tmp_path / "default") as instance:
        assert instance.url == db_url
        assert instance.home == tmp_path / "home"
        assert instance.storage_dir == tmp_path / "home" / "storage"
        assert instance.storage_dir.is_dir()
        instance.create_run(RunRecord(run_id="via-env"))
    with Instance.open(db_url, storage_dir=tmp_path / "x") as again:
        assert again.get_run("via-env").run_id == "via-env"
