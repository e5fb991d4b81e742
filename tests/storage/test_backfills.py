"""The storage conformance suite for backfills: records, listing, updates and partition claims,
on every backend; the last tests race real processes for the claims."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bakehouse.errors import StorageError
from bakehouse.storage import (
    BACKFILL_TAG,
    PARTITION_TAG,
    BackfillRecord,
    BackfillStatus,
    Instance,
    RunRecord,
)
from tests.storage import racing

SCRIPT = Path(__file__).with_name("instigator_process.py")

OpenInstance = Callable[[], Instance]

# Longer than a PostgreSQL btree entry may be (about 2.7 kB).
LONG = "x" * 10_000


def _backfill(backfill_id: str = "bf", **fields: Any) -> BackfillRecord:
    kwargs: dict[str, Any] = {"partition_keys": ("p1", "p2", "p3"), **fields}
    return BackfillRecord(backfill_id=backfill_id, **kwargs)


def test_backfill_round_trips_every_field(instance: Instance) -> None:
    backfill = BackfillRecord(
        backfill_id="bf",
        status=BackfillStatus.CANCELING,
        partition_keys=("2024-01-03", "2024-01-01", "ünï|✓"),
        asset_selection=("prices", "sales/daily", "weekly"),
        unpartitioned_before=("prices",),
        unpartitioned_after=("weekly",),
        selection_query="sales/daily+",
        job_name="daily_job",
        location_name="bakery",
        single_run=True,
        tags={"owner": "ann"},
        run_config={"ops": {"weekly": {"config": {"n": 1}}}},
        error="boom\nline two",
        created_at=100.0,
        updated_at=101.0,
        partition_runs={"2024-01-01": "r1", "2024-01-03": "r1"},
    )
    stored = instance.create_backfill(backfill)
    # partition_runs come back in the backfill's partition order.
    assert list(stored.partition_runs) == ["2024-01-03", "2024-01-01"]
    assert stored == backfill
    assert instance.get_backfill("bf") == backfill
    assert stored.partitioned_assets == ("sales/daily",)


def test_create_backfill_stamps_unset_times_and_refuses_a_duplicate(instance: Instance) -> None:
    created = instance.create_backfill(_backfill())
    assert created.created_at > 0
    assert created.updated_at == created.created_at
    assert created.status is BackfillStatus.REQUESTED
    assert created.partition_runs == {}
    with pytest.raises(StorageError, match="already exists"):
        instance.create_backfill(_backfill(job_name="second"))
    assert instance.get_backfill("bf") == created


def test_an_unknown_backfill_is_none(instance: Instance) -> None:
    assert instance.get_backfill("nope") is None
    with pytest.raises(StorageError, match="no backfill 'nope'"):
        instance.update_backfill("nope", status=BackfillStatus.CANCELED)
    with pytest.raises(StorageError, match="no backfill 'nope'"):
        instance.claim_backfill_partitions("nope", ["p1"], "r1")


def test_get_backfills_newest_first_with_statuses_and_limit(instance: Instance) -> None:
    statuses = [
        BackfillStatus.COMPLETED,
        BackfillStatus.REQUESTED,
        BackfillStatus.CANCELING,
        BackfillStatus.REQUESTED,
    ]
    for i, status in enumerate(statuses):
        instance.create_backfill(_backfill(f"b{i}", status=status, created_at=10.0 + i))
    instance.claim_backfill_partitions("b1", ["p2"], "run-b1")

    listed = instance.get_backfills()
    assert [b.backfill_id for b in listed] == ["b3", "b2", "b1", "b0"]
    assert listed[2].partition_runs == {"p2": "run-b1"}
    assert [b.backfill_id for b in instance.get_backfills(limit=2)] == ["b3", "b2"]
    unfinished = instance.get_backfills(
        statuses=[BackfillStatus.REQUESTED, BackfillStatus.CANCELING]
    )
    assert [b.backfill_id for b in unfinished] == ["b3", "b2", "b1"]
    assert instance.get_backfills(statuses=[]) == []


def test_update_backfill_changes_fields_and_updated_at(instance: Instance) -> None:
    instance.create_backfill(_backfill(created_at=5.0, updated_at=5.0))
    instance.claim_backfill_partitions("bf", ["p1"], "r1")
    updated = instance.update_backfill("bf", status="FAILED", error="p2 failed")
    assert updated.status is BackfillStatus.FAILED
    assert updated.error == "p2 failed"
    assert updated.updated_at > 5.0
    assert updated.partition_runs == {"p1": "r1"}
    assert instance.get_backfill("bf") == updated
    assert [b.backfill_id for b in instance.get_backfills(statuses=[BackfillStatus.FAILED])] == [
        "bf"
    ]


def test_update_backfill_refuses_ids_claims_and_unknown_fields(instance: Instance) -> None:
    instance.create_backfill(_backfill())
    with pytest.raises(StorageError, match="cannot change the id"):
        instance.update_backfill("bf", backfill_id="other")
    with pytest.raises(StorageError, match="claim_backfill_partitions"):
        instance.update_backfill("bf", partition_runs={"p1": "r1"})
    with pytest.raises(TypeError, match="valid fields"):
        instance.update_backfill("bf", colour="red")
    with pytest.raises(ValueError, match="DONE"):
        instance.update_backfill("bf", status="DONE")
    assert instance.get_backfill("bf") is not None


def test_a_partition_is_claimed_once(instance: Instance) -> None:
    instance.create_backfill(_backfill())
    assert instance.claim_backfill_partitions("bf", ["p1"], "r1") == {}
    assert instance.claim_backfill_partitions("bf", ["p1"], "r2") == {"p1": "r1"}
    assert instance.claim_backfill_partitions("bf", ["p2"], "r2") == {}
    backfill = instance.get_backfill("bf")
    assert backfill is not None
    assert backfill.partition_runs == {"p1": "r1", "p2": "r2"}
    # Another backfill's partition of the same name is its own.
    instance.create_backfill(_backfill("other"))
    assert instance.claim_backfill_partitions("other", ["p1"], "r3") == {}


def test_a_range_is_claimed_all_or_nothing(instance: Instance) -> None:
    instance.create_backfill(_backfill(partition_keys=("p1", "p2", "p3", "p4")))
    assert instance.claim_backfill_partitions("bf", ["p2"], "single") == {}
    # p2 is taken: none of p1..p3 is recorded for the range run.
    assert instance.claim_backfill_partitions("bf", ["p1", "p2", "p3"], "range") == {"p2": "single"}
    backfill = instance.get_backfill("bf")
    assert backfill is not None
    assert backfill.partition_runs == {"p2": "single"}
    assert instance.claim_backfill_partitions("bf", ["p3", "p1", "p4", "p1"], "range") == {}
    backfill = instance.get_backfill("bf")
    assert backfill is not None
    assert backfill.partition_runs == {"p1": "range", "p2": "single", "p3": "range", "p4": "range"}
    with pytest.raises(TypeError, match="list of keys"):
        instance.claim_backfill_partitions("bf", "p1", "r")


def test_many_partitions_in_one_claim(instance: Instance) -> None:
    keys = tuple(f"p{i:04d}" for i in range(1_200))
    instance.create_backfill(_backfill(partition_keys=keys, single_run=True))
    assert instance.claim_backfill_partitions("bf", keys, "one-run") == {}
    # A claim over many keys of which one is taken records none of them.
    instance.create_backfill(_backfill("second", partition_keys=keys))
    assert instance.claim_backfill_partitions("second", [keys[-1]], "last") == {}
    assert instance.claim_backfill_partitions("second", keys, "all") == {keys[-1]: "last"}
    second = instance.get_backfill("second")
    assert second is not None
    assert second.partition_runs == {keys[-1]: "last"}
    first = instance.get_backfill("bf")
    assert first is not None
    assert list(first.partition_runs) == list(keys)
    assert set(first.partition_runs.values()) == {"one-run"}


def test_partition_keys_longer_than_an_index_entry(instance: Instance) -> None:
    instance.create_backfill(_backfill(partition_keys=(LONG, LONG + "y")))
    assert instance.claim_backfill_partitions("bf", [LONG], "r1") == {}
    assert instance.claim_backfill_partitions("bf", [LONG], "r2") == {LONG: "r1"}
    assert instance.claim_backfill_partitions("bf", [LONG + "y"], "r3") == {}


def test_runs_of_a_backfill_are_found_by_tag(instance: Instance) -> None:
    instance.create_backfill(_backfill())
    for partition in ("p1", "p2"):
        run_id = f"run-{partition}"
        assert instance.claim_backfill_partitions("bf", [partition], run_id) == {}
        instance.create_run(
            RunRecord(
                run_id=run_id,
                partition_key=partition,
                tags={BACKFILL_TAG: "bf", PARTITION_TAG: partition},
            )
        )
    instance.create_run(RunRecord(run_id="unrelated", tags={BACKFILL_TAG: "other"}))
    runs = instance.get_runs_by_tag(BACKFILL_TAG, "bf")
    assert sorted(r.run_id for r in runs) == ["run-p1", "run-p2"]
    assert [r.run_id for r in instance.get_runs_by_tag(PARTITION_TAG, "p2")] == ["run-p2"]


# -- several processes -------------------------------------------------------------------------


@pytest.mark.slow
def test_processes_claiming_the_same_partitions_each_get_one_run(
    open_instance: OpenInstance, db_url: str, tmp_path: Path
) -> None:
    count = 40
    instance = open_instance()
    instance.create_backfill(_backfill(partition_keys=tuple(f"p-{i}" for i in range(count))))
    answers = racing.race(
        SCRIPT, "claim-backfill-partitions", db_url, tmp_path, processes=4, count=count
    )
    backfill = instance.get_backfill("bf")
    assert backfill is not None
    assert len(backfill.partition_runs) == count
    for i in range(count):
        owner = backfill.partition_runs[f"p-{i}"]
        claims = [process_answers[i] for process_answers in answers]
        # Exactly one process recorded the partition; every other one was told its run.
        assert claims.count({}) == 1
        assert owner == f"p{claims.index({})}-{i}"
        assert [c for c in claims if c] == [{f"p-{i}": owner}] * (len(claims) - 1)


@pytest.mark.slow
def test_processes_claiming_overlapping_ranges_record_whole_ranges_only(
    open_instance: OpenInstance, db_url: str, tmp_path: Path
) -> None:
    count = 30
    instance = open_instance()
    instance.create_backfill(_backfill(partition_keys=tuple(f"p-{i}" for i in range(count))))
    answers = racing.race(
        SCRIPT, "claim-backfill-ranges", db_url, tmp_path, processes=3, count=count
    )
    backfill = instance.get_backfill("bf")
    assert backfill is not None
    recorded = backfill.partition_runs
    # Each attempt i (of process n, run "p<n>-i") claimed p-i … p-(i+4): all of them or none.
    won = set()
    for n, process_answers in enumerate(answers):
        for i, answer in enumerate(process_answers):
            run_id = f"p{n}-{i}"
            keys = [f"p-{k}" for k in range(i, min(i + 5, count))]
            if answer == {}:
                won.add(run_id)
                assert all(recorded[key] == run_id for key in keys)
            else:
                assert answer
                assert all(recorded[key] == answer[key] for key in answer)
                assert run_id not in recorded.values()
    assert set(recorded.values()) == won
    assert won  # the first claim of all is bound to win
