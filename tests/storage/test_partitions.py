"""The storage conformance suite for partition status: what each event makes of a partition,
how a finished run settles its markers, and reads of many partitions. On every backend."""

from __future__ import annotations

from typing import Any

import pytest

from bakehouse.errors import StorageError
from bakehouse.storage import (
    EventRecord,
    EventType,
    Instance,
    PartitionStatus,
    RunRecord,
    RunStatus,
)

MATERIALIZED = PartitionStatus.MATERIALIZED
FAILED = PartitionStatus.FAILED
IN_PROGRESS = PartitionStatus.IN_PROGRESS

# Longer than a PostgreSQL btree entry may be (about 2.7 kB).
LONG = "x" * 10_000


def _event(run_id: str, event_type: EventType, **fields: Any) -> EventRecord:
    return EventRecord(run_id=run_id, event_type=event_type, timestamp=1.0, **fields)


def _planned(run_id: str, asset: str, partition: str, step: str | None = None) -> EventRecord:
    return _event(
        run_id,
        EventType.ASSET_MATERIALIZATION_PLANNED,
        asset_key=asset,
        partition_key=partition,
        step_key=step or asset,
    )


def _materialized(
    run_id: str, asset: str, partition: str | None, step: str | None = None, rows: int = 0
) -> EventRecord:
    return _event(
        run_id,
        EventType.ASSET_MATERIALIZATION,
        asset_key=asset,
        partition_key=partition,
        step_key=step or asset,
        data={"metadata": {"rows": {"type": "int", "value": rows}}},
    )


def _step_failed(run_id: str, step: str, partition: str | None) -> EventRecord:
    return _event(run_id, EventType.STEP_FAILURE, step_key=step, partition_key=partition)


def _started(instance: Instance, *run_ids: str) -> None:
    for run_id in run_ids:
        instance.create_run(RunRecord(run_id=run_id))
        instance.store_event(_event(run_id, EventType.RUN_START))


def test_no_partition_has_a_status_until_an_event_gives_it_one(instance: Instance) -> None:
    _started(instance, "r1")
    instance.store_event(_materialized("r1", "plain", None))
    instance.store_event(_event("r1", EventType.STEP_START, step_key="a", partition_key="p1"))
    assert instance.get_partition_status("plain") == {}
    assert instance.get_partition_status("a") == {}
    assert instance.get_partition_status_counts("a") == {}
    assert instance.get_latest_partition_materializations("a") == {}


def test_planned_is_in_progress_until_materialized(instance: Instance) -> None:
    _started(instance, "r1")
    instance.store_events([_planned("r1", "a", "p1"), _planned("r1", "a", "p2")])
    assert instance.get_partition_status("a") == {"p1": IN_PROGRESS, "p2": IN_PROGRESS}
    instance.store_event(_materialized("r1", "a", "p1"))
    assert instance.get_partition_status("a") == {"p1": MATERIALIZED, "p2": IN_PROGRESS}
    assert instance.get_partition_status_counts("a") == {MATERIALIZED: 1, IN_PROGRESS: 1}
    assert instance.get_partition_status("other") == {}


def test_a_materialization_without_a_plan_counts(instance: Instance) -> None:
    _started(instance, "r1")
    instance.store_event(_materialized("r1", "a", "p1"))
    assert instance.get_partition_status("a") == {"p1": MATERIALIZED}


def test_a_failed_step_fails_what_it_planned_and_did_not_materialize(instance: Instance) -> None:
    _started(instance, "r1")
    # Step "ab" is a multi-asset of a and b; step "c" is another step of the same run.
    instance.store_events(
        [
            _planned("r1", "a", "p1", step="ab"),
            _planned("r1", "b", "p1", step="ab"),
            _planned("r1", "c", "p1", step="c"),
        ]
    )
    instance.store_events(
        [_materialized("r1", "a", "p1", step="ab"), _step_failed("r1", "ab", "p1")]
    )
    assert instance.get_partition_status("a") == {"p1": MATERIALIZED}
    assert instance.get_partition_status("b") == {"p1": FAILED}
    assert instance.get_partition_status("c") == {"p1": IN_PROGRESS}


def test_a_failure_of_an_older_run_leaves_a_newer_attempt_alone(instance: Instance) -> None:
    _started(instance, "old", "new")
    instance.store_event(_planned("old", "a", "p1"))
    instance.store_event(_planned("new", "a", "p1"))
    instance.store_event(_step_failed("old", "a", "p1"))
    assert instance.get_partition_status("a") == {"p1": IN_PROGRESS}
    instance.store_event(_materialized("new", "a", "p1"))
    assert instance.get_partition_status("a") == {"p1": MATERIALIZED}


@pytest.mark.parametrize("ending", [EventType.RUN_FAILURE, EventType.RUN_CANCELED])
def test_a_marker_whose_run_failed_or_was_canceled_reads_failed(
    instance: Instance, ending: EventType
) -> None:
    _started(instance, "r1")
    instance.store_events([_planned("r1", "a", "p1"), _planned("r1", "a", "p2")])
    instance.store_event(_materialized("r1", "a", "p1"))
    # p2's step never reported: skipped behind a failure, or its worker was killed.
    instance.store_event(_event("r1", ending))
    assert instance.get_partition_status("a") == {"p1": MATERIALIZED, "p2": FAILED}
    assert instance.get_partition_status_counts("a") == {MATERIALIZED: 1, FAILED: 1}


def test_a_run_marked_failed_without_an_event_settles_its_markers(instance: Instance) -> None:
    _started(instance, "r1")
    instance.store_event(_planned("r1", "a", "p1"))
    assert instance.get_partition_status("a") == {"p1": IN_PROGRESS}
    instance.update_run("r1", status=RunStatus.CANCELING)
    assert instance.get_partition_status("a") == {"p1": IN_PROGRESS}
    instance.update_run("r1", status=RunStatus.FAILURE)
    assert instance.get_partition_status("a") == {"p1": FAILED}
    assert instance.get_partition_status_counts("a") == {FAILED: 1}


def test_a_run_that_succeeded_without_materializing_falls_back(instance: Instance) -> None:
    _started(instance, "before", "r1")
    instance.store_event(_materialized("before", "a", "p1"))
    instance.store_events([_planned("r1", "a", "p1"), _planned("r1", "a", "p2")])
    instance.store_event(_event("r1", EventType.RUN_SUCCESS))
    # p1 keeps what it had; p2 never had anything, so it is missing again.
    assert instance.get_partition_status("a") == {"p1": MATERIALIZED}
    assert instance.get_partition_status_counts("a") == {MATERIALIZED: 1}


def test_the_latest_attempt_decides_a_rerun(instance: Instance) -> None:
    _started(instance, "r1", "r2", "r3")
    first = instance.store_event(_materialized("r1", "a", "p1", rows=1))
    instance.store_event(_planned("r2", "a", "p1"))
    assert instance.get_partition_status("a") == {"p1": IN_PROGRESS}
    instance.store_event(_step_failed("r2", "a", "p1"))
    # Failed after a success is FAILED (as Dagster shows it); the last good data is still known.
    assert instance.get_partition_status("a") == {"p1": FAILED}
    latest = instance.get_latest_partition_materializations("a")["p1"]
    assert (latest.run_id, latest.storage_id) == ("r1", first.storage_id)

    instance.store_event(_planned("r3", "a", "p1"))
    third = instance.store_event(_materialized("r3", "a", "p1", rows=3))
    assert instance.get_partition_status("a") == {"p1": MATERIALIZED}
    latest = instance.get_latest_partition_materializations("a")["p1"]
    assert (latest.run_id, latest.storage_id, latest.partition_key) == (
        "r3",
        third.storage_id,
        "p1",
    )
    assert latest.metadata == {"rows": {"type": "int", "value": 3}}


def test_latest_materializations_and_history_per_partition(instance: Instance) -> None:
    _started(instance, "r1", "r2")
    stored = {
        (run, p): instance.store_event(_materialized(run, "a", p, rows=n))
        for n, (run, p) in enumerate([("r1", "p1"), ("r1", "p2"), ("r2", "p1")])
    }
    instance.store_event(_materialized("r2", "b", "p1"))

    latest = instance.get_latest_partition_materializations("a")
    assert {p: r.storage_id for p, r in latest.items()} == {
        "p1": stored["r2", "p1"].storage_id,
        "p2": stored["r1", "p2"].storage_id,
    }
    only = instance.get_latest_partition_materializations("a", ["p2", "never", "p2"])
    assert list(only) == ["p2"]
    assert instance.get_latest_partition_materializations("a", []) == {}
    # The asset-wide index keeps the newest of any partition.
    assert instance.get_latest_materializations(["a"])["a"].partition_key == "p1"

    history = instance.get_materialization_history("a", partition_key="p1")
    assert history == [stored["r2", "p1"], stored["r1", "p1"]]
    assert instance.get_materialization_history("a", partition_key="p1", limit=1) == history[:1]
    assert len(instance.get_materialization_history("a")) == 3
    assert instance.get_materialization_history("a", partition_key="never") == []


def test_many_partition_keys_are_looked_up_in_chunks(instance: Instance) -> None:
    _started(instance, "r1")
    instance.store_events([_materialized("r1", "a", f"p{i}") for i in range(3)])
    wanted = [f"p{i}" for i in range(1200)]
    assert list(instance.get_latest_partition_materializations("a", wanted)) == ["p0", "p1", "p2"]


def test_counts_of_many_assets_are_read_at_once(instance: Instance) -> None:
    _started(instance, "done", "broken")
    instance.store_events(
        [
            _materialized("done", "a", "p1"),
            _materialized("done", "a", "p2"),
            _planned("broken", "a", "p3"),
            _step_failed("broken", "a", "p3"),
            _materialized("done", "b", "p1"),
            _materialized("done", "unpartitioned", None),
        ]
    )
    instance.update_run("broken", status=RunStatus.FAILURE)
    every = instance.get_partition_status_counts_of_assets()
    assert every == {"a": {MATERIALIZED: 2, FAILED: 1}, "b": {MATERIALIZED: 1}}
    assert every["a"] == instance.get_partition_status_counts("a")
    assert instance.get_partition_status_counts_of_assets(["b", "c"]) == {"b": {MATERIALIZED: 1}}
    many = [f"k{i}" for i in range(1_200)] + ["a"]  # more keys than one statement binds
    assert list(instance.get_partition_status_counts_of_assets(many)) == ["a"]


@pytest.mark.slow
def test_ten_thousand_partitions_of_one_asset(instance: Instance) -> None:
    _started(instance, "done", "broken", "running")
    keys = [f"2000-01-01+{i:05d}" for i in range(10_000)]
    expected: dict[str, PartitionStatus] = {}
    events = []
    for i, key in enumerate(keys):
        if i % 10 == 0:
            events.append(_planned("running", "big", key))
            expected[key] = IN_PROGRESS
        elif i % 10 == 1:
            events.append(_planned("broken", "big", key))
            events.append(_step_failed("broken", "big", key))
            expected[key] = FAILED
        elif i % 10 != 2:  # every tenth partition is missing
            events.append(_materialized("done", "big", key))
            expected[key] = MATERIALIZED
    events.append(_materialized("done", "small", keys[0]))
    instance.store_events(events)

    assert instance.get_partition_status("big") == expected
    assert instance.get_partition_status_counts("big") == {
        MATERIALIZED: 7_000,
        FAILED: 1_000,
        IN_PROGRESS: 1_000,
    }
    assert instance.get_partition_status("small") == {keys[0]: MATERIALIZED}
    assert len(instance.get_latest_partition_materializations("big")) == 7_000


def test_keys_longer_than_an_index_entry(instance: Instance) -> None:
    _started(instance, "r1")
    instance.store_event(_planned("r1", LONG, LONG))
    instance.store_event(_materialized("r1", LONG, LONG + "y"))
    assert instance.get_partition_status(LONG) == {LONG: IN_PROGRESS, LONG + "y": MATERIALIZED}
    assert instance.get_partition_status(LONG[:-1]) == {}
    assert list(instance.get_latest_partition_materializations(LONG, [LONG + "y"])) == [LONG + "y"]


def test_deleting_a_run_re_derives_the_partitions_it_touched(instance: Instance) -> None:
    _started(instance, "old", "new")
    old = instance.store_event(_materialized("old", "a", "p1"))
    instance.store_event(_materialized("new", "a", "p1"))
    instance.store_event(_materialized("new", "a", "p2"))
    instance.store_event(_planned("new", "a", "p3"))
    instance.store_event(_materialized("old", "a", "p4"))

    instance.delete_run("new")
    assert instance.get_partition_status("a") == {"p1": MATERIALIZED, "p4": MATERIALIZED}
    assert instance.get_latest_partition_materializations("a")["p1"].storage_id == old.storage_id
    instance.delete_run("old")
    assert instance.get_partition_status("a") == {}


def test_a_plan_without_an_asset_key_is_refused(instance: Instance) -> None:
    _started(instance, "r1")
    with pytest.raises(StorageError, match=r"ASSET_MATERIALIZATION_PLANNED .* has no asset_key"):
        instance.store_event(
            _event("r1", EventType.ASSET_MATERIALIZATION_PLANNED, partition_key="p1")
        )
    assert [e.event_type for e in instance.get_events("r1")] == [EventType.RUN_START]
