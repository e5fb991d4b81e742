"""Backfills whose selection mixes unpartitioned and partitioned assets, on a real code server
and storage: the unpartitioned assets run once, before or after the partition runs, survive a
lost claim exactly once, and wait for (or are skipped after) the runs they depend on."""

from __future__ import annotations

import pytest

from bakehouse.daemon.backfills import BackfillDaemon
from bakehouse.errors import BackfillError
from bakehouse.host.backfill_requests import backfill_progress, request_backfill
from bakehouse.storage.records import (
    BACKFILL_TAG,
    PARTITION_TAG,
    UNPARTITIONED_AFTER_KEY,
    UNPARTITIONED_BEFORE_KEY,
    BackfillStatus,
    RunRecord,
    RunStatus,
)
from tests.daemon.conftest import MakeParts, Parts, backfill_daemon, run_queued, stored_backfill

pytestmark = pytest.mark.slow

MIXED = {
    "defs/sales.py": """\
        import os

        import bakehouse as dg

        DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")


        @dg.asset
        def prices() -> dict[str, float]:
            return {"bread": 2.5}


        @dg.asset(partitions_def=DAYS)
        def daily_sales(context: dg.AssetExecutionContext, prices: dict[str, float]) -> float:
            if context.partition_key == "2024-01-02" and os.environ.get("FAIL_DAY"):
                raise RuntimeError("till broken on 2024-01-02")
            return prices["bread"] * int(context.partition_key[-1])


        @dg.asset
        def sales_report(daily_sales: dict[str, float]) -> float:
            # An unpartitioned asset over a partitioned one reads every partition.
            if sorted(daily_sales) != ["2024-01-01", "2024-01-02", "2024-01-03"]:
                raise RuntimeError(f"report read {sorted(daily_sales)}")
            return sum(daily_sales.values())
        """
}


def _daemon(parts: Parts, limit: int = 5) -> BackfillDaemon:
    return backfill_daemon(parts, limit)


_run_queued = run_queued


def _runs(parts: Parts, backfill_id: str) -> list[RunRecord]:
    return sorted(
        parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id), key=lambda r: r.created_at
    )


def _request(parts: Parts, selection: str = "+daily_sales+", **kw: object) -> str:
    backfill = request_backfill(
        parts.instance, parts.supervisor.global_graph(), selection=selection,
        launched_by="test", **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return backfill.backfill_id


def test_unpartitioned_assets_run_once_before_and_after_the_partitions(
    make_parts: MakeParts,
) -> None:
    parts = make_parts("bf_mixed", MIXED)
    backfill_id = _request(parts)
    record = stored_backfill(parts, backfill_id)
    assert record is not None
    assert (record.unpartitioned_before, record.unpartitioned_after) == (
        ("prices",),
        ("sales_report",),
    )
    assert record.partitioned_assets == ("daily_sales",)
    daemon = _daemon(parts)

    # First the upstream unpartitioned asset alone; nothing else until it succeeded.
    daemon.tick()
    daemon.tick()
    [first] = _runs(parts, backfill_id)
    assert first.asset_selection == ("prices",)
    assert PARTITION_TAG not in first.tags
    assert first.partition_key is None
    _run_queued(parts)

    # Then one run per partition; the downstream report waits for all of them.
    daemon.tick()
    runs = _runs(parts, backfill_id)
    assert [r.partition_key for r in runs[1:]] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert all(r.asset_selection == ("daily_sales",) for r in runs[1:])
    daemon.tick()
    assert len(_runs(parts, backfill_id)) == 4
    progress = backfill_progress(parts.instance, stored_backfill(parts, backfill_id))
    assert [p.label for p in progress.partitions] == [
        "unpartitioned, before the partitions: prices",
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
        "unpartitioned, after the partitions: sales_report",
    ]
    assert (progress.succeeded, progress.in_progress, progress.requested) == (1, 3, 1)
    _run_queued(parts)

    # Then the report, once, over every partition.
    daemon.tick()
    last = _runs(parts, backfill_id)[-1]
    assert last.asset_selection == ("sales_report",)
    assert last.partition_key is None
    assert last.partition_range is None
    _run_queued(parts)
    [done] = daemon.tick()
    assert done.status is BackfillStatus.COMPLETED
    backfill = stored_backfill(parts, backfill_id)
    assert backfill is not None
    assert backfill.status_message == "5 of 5 runs succeeded"
    runs = _runs(parts, backfill_id)
    assert len(runs) == 5
    assert all(r.status is RunStatus.SUCCESS for r in runs)
    assert backfill.partition_runs[UNPARTITIONED_BEFORE_KEY] == runs[0].run_id
    assert backfill.partition_runs[UNPARTITIONED_AFTER_KEY] == runs[-1].run_id
    assert daemon.tick() == []


def test_lost_claims_of_unpartitioned_runs_get_that_run_exactly_once(make_parts: MakeParts) -> None:
    parts = make_parts("bf_mixed_lost", MIXED)
    backfill_id = _request(parts)
    # A daemon claimed the run before and was killed before creating it.
    claim = parts.instance.claim_backfill_partitions
    assert claim(backfill_id, [UNPARTITIONED_BEFORE_KEY], "lost-before") == {}
    _daemon(parts).tick()  # a restarted daemon creates that run, and nothing else yet
    _daemon(parts).tick()
    assert [(r.run_id, r.asset_selection) for r in _runs(parts, backfill_id)] == [
        ("lost-before", ("prices",))
    ]
    _run_queued(parts)
    _daemon(parts).tick()
    _run_queued(parts)
    # Killed again, after claiming the run after the partitions.
    assert claim(backfill_id, [UNPARTITIONED_AFTER_KEY], "lost-after") == {}
    for _ in range(3):  # restarted more than once: still one run
        _daemon(parts).tick()
    runs = _runs(parts, backfill_id)
    assert [r.run_id for r in runs if r.asset_selection == ("sales_report",)] == ["lost-after"]
    _run_queued(parts)
    [done] = _daemon(parts).tick()
    assert done.status is BackfillStatus.COMPLETED
    assert len(_runs(parts, backfill_id)) == 5


def test_a_failed_partition_keeps_the_downstream_asset_from_running(
    make_parts: MakeParts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIL_DAY", "1")
    parts = make_parts("bf_mixed_fail", MIXED)
    backfill_id = _request(parts)
    daemon = _daemon(parts)
    for _ in range(4):
        daemon.tick()
        _run_queued(parts)
    backfill = stored_backfill(parts, backfill_id)
    assert backfill is not None
    assert backfill.status is BackfillStatus.COMPLETED
    assert backfill.status_message == (
        "3 of 5 runs succeeded, 1 failed or were canceled, "
        "1 not launched as a run they wait for failed"
    )
    assert UNPARTITIONED_AFTER_KEY not in backfill.partition_runs
    assert not any(r.asset_selection == ("sales_report",) for r in _runs(parts, backfill_id))


def test_selections_that_cannot_be_ordered_are_refused(make_parts: MakeParts) -> None:
    parts = make_parts(
        "bf_mixed_bad",
        {
            "defs/a.py": """\
                import bakehouse as dg

                DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")
                WEEKS = dg.WeeklyPartitionsDefinition(start_date="2024-01-07")
                ODD = dg.StaticPartitionsDefinition(["a", "<unpartitioned:after>"])


                @dg.asset(partitions_def=DAYS)
                def days() -> int:
                    return 1


                @dg.asset
                def middle(days: dict[str, int]) -> int:
                    return 1


                @dg.asset(partitions_def=DAYS)
                def later(middle: int) -> int:
                    return 1


                @dg.asset(partitions_def=WEEKS)
                def weeks(days: int) -> int:
                    return 1


                @dg.asset(partitions_def=ODD)
                def odd() -> int:
                    return 1


                @dg.asset
                def after_odd(odd: dict[str, int]) -> int:
                    return 1
                """
        },
    )
    with pytest.raises(BackfillError, match="middle is not partitioned but sits between"):
        _request(parts, selection="days, middle, later")
    with pytest.raises(BackfillError, match="snapshot carries no partition mappings"):
        _request(parts, selection="days, weeks")
    with pytest.raises(BackfillError, match="'<unpartitioned:after>' is reserved"):
        _request(parts, selection="odd+")
    # Without unpartitioned assets nothing is reserved: such a key backfills as any other.
    assert stored_backfill(parts, _request(parts, selection="odd")).partition_keys == (
        "a",
        "<unpartitioned:after>",
    )
