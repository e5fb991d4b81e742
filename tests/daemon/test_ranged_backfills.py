"""Backfills of assets with a BackfillPolicy, on a real code server and storage: one run for
the whole backfill, chunks of at most N partitions, one run per stretch without gaps, a claim
of a range whose run was lost, and the policy rule when the selected assets differ."""

from __future__ import annotations

import pickle

import pytest

from bakehouse.daemon.backfills import BackfillDaemon
from bakehouse.host.backfill_requests import request_backfill
from bakehouse.storage.records import (
    BACKFILL_TAG,
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
    BackfillStatus,
    PartitionStatus,
    RunRecord,
    RunStatus,
)
from tests.daemon.conftest import MakeParts, Parts
from tests.daemon.test_backfills import _daemon, _run_queued

pytestmark = pytest.mark.slow

DAYS = [f"2024-01-0{d}" for d in range(1, 7)]

POLICIES = {
    "defs/sales.py": """\
        import bakehouse as dg

        DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-07")


        @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
        def sales(context: dg.AssetExecutionContext) -> dict[str, str]:
            first, last = context.partition_key_range
            return {key: f"{key} of {first}...{last}" for key in context.partition_keys}


        @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
        def sales_report(sales: dict[str, str]) -> dict[str, str]:
            return {key: value.upper() for key, value in sales.items()}


        @dg.asset(partitions_def=DAILY,
                  backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=4))
        def chunked(context: dg.AssetExecutionContext) -> dict[str, int]:
            return dict.fromkeys(context.partition_keys, len(context.partition_keys))


        @dg.asset(partitions_def=DAILY)
        def no_policy(context: dg.AssetExecutionContext) -> str:
            return context.partition_key


        @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
        def fragile(context: dg.AssetExecutionContext) -> dict[str, str]:
            raise RuntimeError("the source is down")
        """
}


def _request(parts: Parts, selection: str, **kw: object) -> str:
    backfill = request_backfill(
        parts.instance, parts.supervisor.global_graph(), selection=selection,
        launched_by="test", **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return backfill.backfill_id


def _ranges(runs: list[RunRecord]) -> list[tuple[str, str]]:
    """Each run's (first, last) partition, in partition order."""
    return sorted(r.partition_range or (r.partition_key or "", r.partition_key or "") for r in runs)


def _finish(parts: Parts, daemon: BackfillDaemon, backfill_id: str) -> None:
    for _ in range(10):
        daemon.tick()
        _run_queued(parts)
        backfill = parts.instance.get_backfill(backfill_id)
        assert backfill is not None
        if backfill.status.is_finished:
            return
    raise AssertionError("the backfill did not finish in 10 passes")


def test_a_single_run_backfill_launches_one_run_for_every_partition(make_parts: MakeParts) -> None:
    parts = make_parts("bf_single", POLICIES)
    backfill_id = _request(parts, "sales+")
    backfill = parts.instance.get_backfill(backfill_id)
    assert backfill is not None
    assert backfill.single_run
    daemon = _daemon(parts, limit=5)
    _finish(parts, daemon, backfill_id)

    [run] = parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id)
    assert run.status is RunStatus.SUCCESS
    assert run.partition_range == ("2024-01-01", "2024-01-06")
    assert run.partition_key is None
    assert run.tags[PARTITION_RANGE_START_TAG] == "2024-01-01"
    assert run.tags[PARTITION_RANGE_END_TAG] == "2024-01-06"
    assert PARTITION_TAG not in run.tags
    done = parts.instance.get_backfill(backfill_id)
    assert done is not None
    assert done.status is BackfillStatus.COMPLETED
    assert done.partition_runs == dict.fromkeys(DAYS, run.run_id)
    assert done.status_message == "6 of 6 partitions succeeded"
    for asset in ("sales", "sales_report"):
        status = parts.instance.get_partition_status(asset)
        assert status == dict.fromkeys(DAYS, PartitionStatus.MATERIALIZED)
    # The asset saw the whole range once; its downstream read it in the same run.
    storage = parts.instance.storage_dir
    for day in DAYS:
        value = f"{day} of 2024-01-01...2024-01-06"
        assert pickle.loads((storage / "sales" / day).read_bytes()) == value
        assert pickle.loads((storage / "sales_report" / day).read_bytes()) == value.upper()
    events = parts.instance.get_events(run.run_id)
    starts = [e.step_key or "" for e in events if e.event_type.value == "STEP_START"]
    assert sorted(starts) == ["sales", "sales_report"]


def test_multi_run_policy_chunks_the_range(make_parts: MakeParts) -> None:
    parts = make_parts("bf_chunks", POLICIES)
    backfill_id = _request(parts, "chunked")
    backfill = parts.instance.get_backfill(backfill_id)
    assert backfill is not None
    assert (backfill.single_run, backfill.max_partitions_per_run) == (False, 4)
    _finish(parts, _daemon(parts, limit=5), backfill_id)
    runs = parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id)
    assert _ranges(runs) == [("2024-01-01", "2024-01-04"), ("2024-01-05", "2024-01-06")]
    storage = parts.instance.storage_dir / "chunked"
    assert [pickle.loads((storage / d).read_bytes()) for d in DAYS] == [4, 4, 4, 4, 2, 2]


def test_keys_with_gaps_get_one_run_per_stretch_without_gaps(make_parts: MakeParts) -> None:
    parts = make_parts("bf_gaps", POLICIES)
    # 2024-01-03 is materialized already: "missing only" leaves a gap there.
    first = _request(parts, "sales", partition_keys=["2024-01-03"])
    daemon = _daemon(parts, limit=5)
    _finish(parts, daemon, first)
    backfill_id = _request(parts, "sales", only="missing")
    backfill = parts.instance.get_backfill(backfill_id)
    assert backfill is not None
    assert backfill.partition_keys == ("2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05",
                                       "2024-01-06")  # fmt: skip
    _finish(parts, daemon, backfill_id)
    runs = parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id)
    assert _ranges(runs) == [("2024-01-01", "2024-01-02"), ("2024-01-04", "2024-01-06")]
    # 2024-01-03 kept its earlier run's value: no range spanned it.
    stored = pickle.loads((parts.instance.storage_dir / "sales" / "2024-01-03").read_bytes())
    assert stored == "2024-01-03 of 2024-01-03...2024-01-03"
    [one] = parts.instance.get_runs_by_tag(BACKFILL_TAG, first)
    assert one.partition_range == ("2024-01-03", "2024-01-03")


def test_a_lost_claim_of_a_range_gets_that_run_over_those_keys(make_parts: MakeParts) -> None:
    parts = make_parts("bf_lost_range", POLICIES)
    backfill_id = _request(parts, "chunked")
    # A daemon claimed the first chunk and was killed before creating its run.
    claim = DAYS[:4]
    assert parts.instance.claim_backfill_partitions(backfill_id, claim, "lost-run") == {}
    daemon = _daemon(parts, limit=5)
    daemon.tick()
    daemon.tick()  # a second pass changes nothing
    runs = parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id)
    assert sorted((r.partition_range, r.run_id == "lost-run") for r in runs) == [
        (("2024-01-01", "2024-01-04"), True),
        (("2024-01-05", "2024-01-06"), False),
    ]


def test_a_failed_range_run_fails_every_partition_of_it(make_parts: MakeParts) -> None:
    parts = make_parts("bf_fragile", POLICIES)
    backfill_id = _request(parts, "fragile", partition_range=("2024-01-02", "2024-01-04"))
    _finish(parts, _daemon(parts, limit=5), backfill_id)
    [run] = parts.instance.get_runs_by_tag(BACKFILL_TAG, backfill_id)
    assert run.status is RunStatus.FAILURE
    assert parts.instance.get_partition_status("fragile") == dict.fromkeys(
        DAYS[1:4], PartitionStatus.FAILED
    )
    backfill = parts.instance.get_backfill(backfill_id)
    assert backfill is not None
    assert backfill.status_message == "0 of 3 partitions succeeded, 3 failed or were canceled"


def test_the_strictest_policy_of_the_selection_wins(make_parts: MakeParts) -> None:
    parts = make_parts("bf_mixed", POLICIES)
    graph = parts.supervisor.global_graph()
    assert graph.assets["sales"].node.backfill_policy is not None

    def policy(selection: str) -> tuple[bool, int]:
        backfill = parts.instance.get_backfill(_request(parts, selection))
        assert backfill is not None
        return backfill.single_run, backfill.max_partitions_per_run

    assert policy("sales or sales_report") == (True, 1)
    assert policy("sales or chunked") == (False, 4)
    assert policy("sales or no_policy") == (False, 1)
    assert policy("no_policy") == (False, 1)
