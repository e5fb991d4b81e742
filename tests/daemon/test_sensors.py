"""Sensors on a real code server: run keys, cursors across restarts, asset and run sensors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakehouse.daemon.sensors import SensorDaemon
from bakehouse.storage.records import TickStatus
from tests.daemon.conftest import FakeClock, MakeParts
from tests.support.launching import queue_run

pytestmark = pytest.mark.slow

FOLDER_SENSOR = {
    "defs/files.py": """\
        import os

        import bakehouse as dg

        INBOX = os.environ["BAKEHOUSE_TEST_INBOX"]


        @dg.asset
        def ingest(context: dg.AssetExecutionContext):
            return context.run_tags.get("file")


        ingest_job = dg.define_asset_job("ingest_job", selection=[ingest])


        @dg.sensor(job=ingest_job, minimum_interval_seconds=10,
                   default_status=dg.DefaultSensorStatus.RUNNING)
        def inbox(context):
            seen = int(context.cursor or 0)
            names = sorted(os.listdir(INBOX))
            for name in names:
                yield dg.RunRequest(run_key=name, tags={"file": name})
            context.update_cursor(str(len(names)))


        @dg.asset_sensor(asset_key="ingest", job=ingest_job,
                         default_status=dg.DefaultSensorStatus.RUNNING)
        def after_ingest(context, asset_event):
            return dg.RunRequest(run_key=f"after-{asset_event.storage_id}")
        """
}


def test_a_folder_sensor_launches_one_run_per_new_file_and_keeps_its_cursor(
    make_parts: MakeParts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("BAKEHOUSE_TEST_INBOX", str(inbox))
    parts = make_parts("sensor_folder", FOLDER_SENSOR)
    (inbox / "a.csv").write_text("1")
    (inbox / "b.csv").write_text("2")
    clock = FakeClock(1_000_000.0)
    daemon = SensorDaemon(parts.instance, parts.supervisor, clock=clock)
    first = {t.origin: t for t in daemon.tick()}["sensor_folder:inbox"]
    assert first.status == TickStatus.SUCCESS
    assert sorted(first.run_keys) == ["a.csv", "b.csv"]
    runs = [
        r for r in parts.instance.get_runs(limit=None) if r.tags.get("bakehouse/sensor") == "inbox"
    ]
    assert sorted(r.tags["file"] for r in runs) == ["a.csv", "b.csv"]

    clock.now += 5  # within minimum_interval_seconds: not evaluated
    assert "sensor_folder:inbox" not in {t.origin for t in daemon.tick()}
    clock.now += 10
    again = {t.origin: t for t in daemon.tick()}["sensor_folder:inbox"]
    assert again.status == TickStatus.SKIPPED
    assert again.run_ids == ()

    # The daemon restarts; the cursor was stored, and the old files launch nothing new.
    (inbox / "c.csv").write_text("3")
    clock.now += 10
    restarted = SensorDaemon(parts.instance, parts.supervisor, clock=clock)
    state = parts.instance.get_instigator_state("sensor_folder:inbox")
    assert state is not None
    assert state.cursor == "2"
    third = {t.origin: t for t in restarted.tick()}["sensor_folder:inbox"]
    assert len(third.run_ids) == 1
    assert parts.instance.get_run(third.run_ids[0]).tags["file"] == "c.csv"
    assert parts.instance.get_instigator_state("sensor_folder:inbox").cursor == "3"  # type: ignore[union-attr]


def test_an_asset_sensor_reacts_to_new_materializations_only(
    make_parts: MakeParts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bakehouse.host.global_graph import GlobalAssetGraph

    inbox = tmp_path / "empty"
    inbox.mkdir()
    monkeypatch.setenv("BAKEHOUSE_TEST_INBOX", str(inbox))
    parts = make_parts("sensor_asset", FOLDER_SENSOR)
    clock = FakeClock(2_000_000.0)
    daemon = SensorDaemon(parts.instance, parts.supervisor, clock=clock)
    first = {t.origin: t for t in daemon.tick()}["sensor_asset:after_ingest"]
    assert first.status == TickStatus.SKIPPED  # nothing materialized yet
    graph = GlobalAssetGraph(parts.supervisor.snapshots())
    run = queue_run(parts.instance, graph, ["ingest"])
    parts.coordinator.execute(run.run_id, graph)
    clock.now += 60
    second = {t.origin: t for t in daemon.tick()}["sensor_asset:after_ingest"]
    assert second.status == TickStatus.SUCCESS
    assert len(second.run_ids) == 1
    clock.now += 60
    third = {t.origin: t for t in daemon.tick()}["sensor_asset:after_ingest"]
    assert third.status == TickStatus.SKIPPED
