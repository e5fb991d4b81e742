"""``bh launch --partition-range`` driven here, and ``bh backfill list|show|cancel``."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from tests.cli.helpers import RunBh
from tests.support.projects import write_project

pytestmark = pytest.mark.slow

DAILY = {
    "defs/sales.py": """\
        import bakehouse as dg


        @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01",
                                                               end_date="2024-01-13"))
        def sales(context: dg.AssetExecutionContext) -> str:
            if context.partition_key == "2024-01-03":
                raise RuntimeError("no data")
            return context.partition_key
        """
}


def test_a_range_runs_here_with_one_run_per_partition_and_is_listed(
    tmp_path: Path, bh: RunBh
) -> None:
    project = write_project(tmp_path / "shop", "cli_bf_shop", DAILY)
    done = bh("launch", "--assets", "sales", "--partition-range", "2024-01-02...2024-01-04",
              cwd=project)  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # one partition failed
    assert "3 partitions (2024-01-02...2024-01-04)" in done.stdout
    assert "COMPLETED: 2 succeeded, 1 failed, 0 canceled, 0 not launched" in done.stdout
    assert "2024-01-03: FAILURE" in done.stdout

    listed = json.loads(bh("backfill", "list", "--json", cwd=project).stdout)
    assert [(b["status"], b["total"], b["failed"]) for b in listed] == [("COMPLETED", 3, 1)]
    shown = json.loads(
        bh("backfill", "show", listed[0]["backfill_id"], "--json", cwd=project).stdout
    )
    assert [(p["partition_key"], p["run_status"]) for p in shown["partitions"]] == [
        ("2024-01-02", "SUCCESS"),
        ("2024-01-03", "FAILURE"),
        ("2024-01-04", "SUCCESS"),
    ]
    runs = json.loads(bh("runs", "list", "--json", cwd=project).stdout)
    assert sorted(r["partition_key"] for r in runs) == ["2024-01-02", "2024-01-03", "2024-01-04"]

    refused = bh("backfill", "cancel", listed[0]["backfill_id"], cwd=project)
    assert refused.returncode == 1
    assert "COMPLETED already" in refused.stderr


def test_bad_ranges_are_refused_before_anything_runs(tmp_path: Path, bh: RunBh) -> None:
    project = write_project(tmp_path / "shop", "cli_bf_bad", DAILY)
    not_a_range = bh("launch", "--assets", "sales", "--partition-range", "2024-01-02", cwd=project)
    assert not_a_range.returncode == 2
    assert "write START...END" in not_a_range.stderr
    unknown = bh("launch", "--assets", "sales", "--partition-range", "2024-01-02...2024-01-32",
                 cwd=project)  # fmt: skip
    assert unknown.returncode == 2
    assert "unknown partition key '2024-01-32'" in unknown.stderr
    assert "nearest:" in unknown.stderr
    assert json.loads(bh("backfill", "list", "--json", cwd=project).stdout) == []


SINGLE_RUN = {
    "defs/sales.py": """\
        import bakehouse as dg


        @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01",
                                                               end_date="2024-01-13"),
                  backfill_policy=dg.BackfillPolicy.single_run())
        def sales(context: dg.AssetExecutionContext) -> dict[str, str]:
            first, last = context.partition_key_range
            context.log.info(f"one call for {len(context.partition_keys)} days")
            return {key: f"{key} in {first}...{last}" for key in context.partition_keys}
        """
}


def test_a_single_run_policy_backfills_the_range_in_one_run(tmp_path: Path, bh: RunBh) -> None:
    project = write_project(tmp_path / "shop", "cli_bf_single", SINGLE_RUN)
    done = bh("launch", "--assets", "sales", "--partition-range", "2024-01-02...2024-01-05",
              cwd=project)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "COMPLETED: 4 succeeded, 0 failed, 0 canceled, 0 not launched" in done.stdout

    runs = json.loads(bh("runs", "list", "--json", cwd=project).stdout)
    assert len(runs) == 1
    assert runs[0]["status"] == "SUCCESS"
    listed = json.loads(bh("backfill", "list", "--json", cwd=project).stdout)
    shown = json.loads(
        bh("backfill", "show", listed[0]["backfill_id"], "--json", cwd=project).stdout
    )
    days = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    assert [(p["partition_key"], p["run_id"]) for p in shown["partitions"]] == [
        (day, runs[0]["run_id"]) for day in days
    ]
    from bakehouse.storage import Instance
    from bakehouse.storage.records import PartitionStatus

    with Instance.for_home(project / ".bakehouse") as instance:
        assert instance.get_partition_status("sales") == dict.fromkeys(
            days, PartitionStatus.MATERIALIZED
        )
        for day in days:
            stored = instance.storage_dir / "sales" / day
            assert pickle.loads(stored.read_bytes()) == f"{day} in 2024-01-02...2024-01-05"
        logs = [e.message for e in instance.get_events(runs[0]["run_id"])]
    assert any("one call for 4 days" in m for m in logs)


WITH_SUMMARY = {
    "defs/sales.py": """\
        import bakehouse as dg


        @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01",
                                                               end_date="2024-01-04"))
        def daily_sales(context: dg.AssetExecutionContext) -> int:
            return int(context.partition_key[-1])


        @dg.asset
        def sales_summary(daily_sales: dict[str, int]) -> str:
            return ", ".join(f"{day}={n}" for day, n in sorted(daily_sales.items()))
        """
}


def test_an_unpartitioned_downstream_asset_runs_once_after_the_partitions(
    tmp_path: Path, bh: RunBh
) -> None:
    project = write_project(tmp_path / "shop", "cli_bf_summary", WITH_SUMMARY)
    done = bh("launch", "--assets", "daily_sales+", "--partition-range",
              "2024-01-01...2024-01-03", cwd=project)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 partitions (2024-01-01...2024-01-03), sales_summary once after" in done.stdout
    assert "COMPLETED: 4 succeeded, 0 failed, 0 canceled, 0 not launched, of 4 runs" in done.stdout

    backfill_id = json.loads(bh("backfill", "list", "--json", cwd=project).stdout)[0]["backfill_id"]
    shown = json.loads(bh("backfill", "show", backfill_id, "--json", cwd=project).stdout)
    assert [(p["partition_key"], p["assets"], p["run_status"]) for p in shown["partitions"]] == [
        ("2024-01-01", [], "SUCCESS"),
        ("2024-01-02", [], "SUCCESS"),
        ("2024-01-03", [], "SUCCESS"),
        (None, ["sales_summary"], "SUCCESS"),
    ]
    table = bh("backfill", "show", backfill_id, cwd=project).stdout
    assert "unpartitioned, after the partitions: sales_summary" in table
    runs = json.loads(bh("runs", "list", "--json", cwd=project).stdout)
    summary_runs = [r for r in runs if r["asset_selection"] == ["sales_summary"]]
    assert len(runs) == 4
    assert len(summary_runs) == 1
    partition_runs = [r for r in runs if r not in summary_runs]
    # Created after every partition run had finished.
    assert summary_runs[0]["created_at"] > max(r["updated_at"] for r in partition_runs)
    from bakehouse.storage import Instance

    with Instance.for_home(project / ".bakehouse") as instance:
        stored = instance.storage_dir / "sales_summary"
        assert pickle.loads(stored.read_bytes()) == "2024-01-01=1, 2024-01-02=2, 2024-01-03=3"
