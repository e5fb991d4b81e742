"""The backfill loop on a real code server and storage: one run per partition, at most a few
unfinished at once, failures counted, cancel, a claim whose run was lost, locations not loaded."""

from __future__ import annotations

import pytest

from bakehouse.daemon.backfills import BackfillDaemon
from bakehouse.host.backfill_requests import cancel_backfill, request_backfill
from bakehouse.storage.records import (
    BACKFILL_TAG,
    PARTITION_TAG,
    BackfillStatus,
    PartitionStatus,
    RunStatus,
)
from tests.daemon.conftest import MakeParts, Parts, backfill_daemon, run_queued, stored_backfill

pytestmark = pytest.mark.slow

DAILY = {
    "defs/sales.py": """\
        import bakehouse as dg


        @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01",
                                                               end_date="2024-01-07"))
        def sales(context: dg.AssetExecutionContext) -> str:
            if context.partition_key == "2024-01-03":
                raise RuntimeError("no sales data for 2024-01-03")
            return context.partition_key
        """
}


def _daemon(parts: Parts, limit: int = 2) -> BackfillDaemon:
    return backfill_daemon(parts, limit)


_run_queued = run_queued


def _request(parts: Parts, **kw: object) -> str:
    backfill = request_backfill(
        parts.instance, parts.supervisor.global_graph(), selection="sales", launched_by="test",
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return backfill.backfill_id


def test_one_run_per_partition_a_few_at_a_time_and_failures_counted(make_parts: MakeParts) -> None:
    parts = make_parts("bf_daily", DAILY)
    backfill_id = _request(parts)
    daemon = _daemon(parts, limit=2)
    launched_per_pass = []
    for _ in range(10):
        passes = {p.backfill_id: p for p in daemon.tick()}
        launched_per_pass.append(len(passes[backfill_id].launched) if backfill_id in passes else 0)
        # Nothing ran yet: a second pass launches nothing more than the limit allows.
        assert len(parts.instance.get_runs(limit=None, statuses=[RunStatus.QUEUED])) <= 2
        _run_queued(parts)
        if stored_backfill(parts, backfill_id).status.is_finished:
            break
    assert launched_per_pass[:3] == [2, 2, 2]
    backfill = stored_backfill(parts, backfill_id)
    assert backfill is not None
    assert backfill.status is BackfillStatus.COMPLETED
    assert backfill.status_message == "5 of 6 partitions succeeded, 1 failed or were canceled"
    runs = parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id)
    assert sorted(r.tags[PARTITION_TAG] for r in runs) == [f"2024-01-0{d}" for d in range(1, 7)]
    assert all(r.partition_key == r.tags[PARTITION_TAG] for r in runs)
    assert all(r.tags["bakehouse/launched_by"] == "test" for r in runs)
    assert {r.run_id for r in runs} == set(backfill.partition_runs.values())
    status = parts.instance.get_partition_status("sales")
    assert status.pop("2024-01-03") is PartitionStatus.FAILED
    assert set(status.values()) == {PartitionStatus.MATERIALIZED}

    # only="failed_and_missing" now targets the failed partition alone.
    retry = _request(parts, only="failed_and_missing")
    assert stored_backfill(parts, retry).partition_keys == ("2024-01-03",)
    daemon.tick()
    assert [r.partition_key for r in parts.instance.get_runs_by_tag(BACKFILL_TAG, retry)] == [
        "2024-01-03"
    ]


def test_a_claim_whose_run_was_never_created_gets_that_run_once(make_parts: MakeParts) -> None:
    parts = make_parts("bf_lost", DAILY)
    backfill_id = _request(parts, partition_keys=["2024-01-01", "2024-01-02"])
    # A daemon claimed 2024-01-01 and was killed before creating its run.
    assert parts.instance.claim_backfill_partitions(backfill_id, ["2024-01-01"], "lost-run") == {}
    daemon = _daemon(parts, limit=5)
    daemon.tick()
    daemon.tick()  # a second pass changes nothing
    runs = parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id)
    assert sorted((r.partition_key, r.run_id == "lost-run") for r in runs) == [
        ("2024-01-01", True),
        ("2024-01-02", False),
    ]


def test_cancel_stops_launching_and_cancels_unfinished_runs(make_parts: MakeParts) -> None:
    parts = make_parts("bf_cancel", DAILY)
    backfill_id = _request(parts)
    daemon = _daemon(parts, limit=2)
    daemon.tick()
    assert len(parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id)) == 2
    assert cancel_backfill(parts.instance, backfill_id).status is BackfillStatus.CANCELING
    [done] = daemon.tick()
    assert done.status is BackfillStatus.CANCELED
    runs = parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id)
    assert [r.status for r in runs] == [RunStatus.CANCELED, RunStatus.CANCELED]
    assert daemon.tick() == []  # finished: no more passes, no more runs
    assert len(parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id)) == 2


def test_a_location_that_is_not_loaded_is_waited_for(make_parts: MakeParts) -> None:
    parts = make_parts("bf_wait", DAILY)
    backfill_id = _request(parts, partition_keys=["2024-01-01"])
    # definitions.py itself: a broken defs module alone would leave the location
    # LOADED_WITH_ERRORS, still serving its other modules.
    source = parts.root / "src" / "bf_wait" / "definitions.py"
    good = source.read_text()
    source.write_text(good + "\nraise ImportError('broken on purpose')\n")
    assert parts.supervisor.reload("bf_wait").status.value == "FAILED"
    daemon = _daemon(parts)
    daemon.tick()
    waiting = stored_backfill(parts, backfill_id)
    assert waiting is not None
    assert waiting.status is BackfillStatus.REQUESTED
    assert waiting.status_message == "waiting for location 'bf_wait', which is FAILED"
    assert parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id) == []
    source.write_text(good)
    assert parts.supervisor.reload("bf_wait").status.value == "LOADED"
    daemon.tick()
    assert len(parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id)) == 1
