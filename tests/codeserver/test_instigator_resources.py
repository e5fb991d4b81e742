"""Sensors and schedules evaluated for the daemon get the location's resources their
functions name."""

from __future__ import annotations

import bakehouse as dg
from bakehouse.codeserver.evaluate import evaluate_schedule, evaluate_sensor


class Inbox(dg.ConfigurableResource):
    files: str

    def list(self) -> list[str]:
        return self.files.split(",")


@dg.asset
def loaded() -> int:
    return 1


loading = dg.define_asset_job("loading", [loaded])


@dg.sensor(job=loading)
def new_files(context: dg.SensorEvaluationContext, inbox: Inbox):  # type: ignore[no-untyped-def]
    for name in inbox.list():
        yield dg.RunRequest(run_key=name)


def test_the_sensor_receives_the_resource_it_names() -> None:
    defs = dg.Definitions(
        assets=[loaded], sensors=[new_files], resources={"inbox": Inbox(files="a.csv,b.csv")}
    )
    answer = evaluate_sensor(defs, "new_files", cursor=None, last_tick_at=None, payload={})
    assert "error" not in answer, answer
    assert [r["run_key"] for r in answer["run_requests"]] == ["a.csv", "b.csv"]


@dg.schedule(job=loading, cron_schedule="@daily")
def daily_files(context: dg.ScheduleEvaluationContext, inbox: Inbox) -> list[dg.RunRequest]:
    return [dg.RunRequest(run_key=f"{context.scheduled_execution_time:%Y-%m-%d}/{n}")
            for n in inbox.list()]  # fmt: skip


def test_the_schedule_receives_the_resource_it_names() -> None:
    defs = dg.Definitions(
        assets=[loaded], schedules=[daily_files], resources={"inbox": Inbox(files="a.csv")}
    )
    answer = evaluate_schedule(defs, "daily_files", 1_700_000_000.0)
    assert "error" not in answer, answer
    assert [r["run_key"] for r in answer["run_requests"]] == ["2023-11-14/a.csv"]
