"""A sensor evaluated for the daemon gets the location's resources its function names."""

from __future__ import annotations

import bakehouse as dg
from bakehouse.codeserver.evaluate import evaluate_sensor


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
