"""A sensor adds and deletes dynamic partition keys (SensorResult.dynamic_partitions_requests)
on a real code server; the daemon applies them in storage before launching the runs, which the
run queue then executes in real workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakehouse.daemon.run_queue import RunQueue
from bakehouse.daemon.sensors import SensorDaemon
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.storage import PartitionStatus, RunStatus
from bakehouse.storage.records import InstigatorState, InstigatorStatus, InstigatorType, TickStatus
from tests.daemon.conftest import FakeClock, MakeParts, wait_finished

pytestmark = pytest.mark.slow

INBOX_SENSOR = {
    "defs/files.py": """\
        import json
        import os

        import bakehouse as dg

        INBOX = os.environ["BAKEHOUSE_TEST_INBOX"]
        files = dg.DynamicPartitionsDefinition("files")
        checked = dg.DynamicPartitionsDefinition("checked")


        @dg.asset(partitions_def=files)
        def ingest(context: dg.AssetExecutionContext):
            # An asset may add keys itself, through its run's instance.
            context.instance.add_dynamic_partitions("checked", [context.partition_key])
            return context.partition_key


        ingest_job = dg.define_asset_job("ingest_job", selection=[ingest])


        @dg.sensor(job=ingest_job, default_status=dg.DefaultSensorStatus.RUNNING)
        def inbox(context):
            known = json.loads(context.cursor or "[]")
            now = sorted(os.listdir(INBOX))
            new = [n for n in now if n not in known]
            gone = [n for n in known if n not in now]
            return dg.SensorResult(
                run_requests=[dg.RunRequest(run_key=n, partition_key=n) for n in new],
                dynamic_partitions_requests=[
                    files.build_add_request(new),
                    files.build_delete_request(gone),
                ],
                cursor=json.dumps(now),
            )


        @dg.sensor(job=ingest_job)
        def sends_garbage(context):
            return dg.SensorResult(dynamic_partitions_requests=["add a.csv please"])
        """
}


@pytest.mark.timeout(300)
def test_a_sensor_adds_keys_before_its_runs_and_deletes_keys_later(
    make_parts: MakeParts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("BAKEHOUSE_TEST_INBOX", str(inbox))
    parts = make_parts("dyn_sensor", INBOX_SENSOR)
    instance = parts.instance
    for name in ("b.csv", "a.csv", "c.csv"):
        (inbox / name).write_text(name)
    clock = FakeClock(1_000_000.0)
    daemon = SensorDaemon(instance, parts.supervisor, clock=clock)

    tick = {t.origin: t for t in daemon.tick()}["dyn_sensor:inbox"]
    assert tick.status == TickStatus.SUCCESS, tick.error
    assert instance.get_dynamic_partitions("files") == ["a.csv", "b.csv", "c.csv"]
    runs = [instance.get_run(r) for r in tick.run_ids]
    assert sorted(r.partition_key or "" for r in runs) == ["a.csv", "b.csv", "c.csv"]

    # The runs execute in real workers, which check their key against the instance's keys.
    graph = GlobalAssetGraph(parts.supervisor.snapshots())
    queue = RunQueue(instance, parts.coordinator, lambda: graph, max_concurrent_runs=3,
                     interval=0.05)  # fmt: skip
    queue.start()
    try:
        wait_finished(instance, tick.run_ids)
    finally:
        queue.stop()
    assert [instance.get_run(r).status for r in tick.run_ids] == [RunStatus.SUCCESS] * 3
    assert instance.get_partition_status("ingest") == {
        k: PartitionStatus.MATERIALIZED for k in ("a.csv", "b.csv", "c.csv")
    }
    assert sorted(instance.get_dynamic_partitions("checked")) == ["a.csv", "b.csv", "c.csv"]

    # A file goes away: its key is deleted, and a tick that only changes keys is a success.
    (inbox / "b.csv").unlink()
    clock.now += 60
    tick = {t.origin: t for t in daemon.tick()}["dyn_sensor:inbox"]
    assert tick.status == TickStatus.SUCCESS, tick.error
    assert tick.run_ids == ()
    assert instance.get_dynamic_partitions("files") == ["a.csv", "c.csv"]

    # Nothing changed: skipped, keys as they were.
    clock.now += 60
    tick = {t.origin: t for t in daemon.tick()}["dyn_sensor:inbox"]
    assert tick.status == TickStatus.SKIPPED
    assert instance.get_dynamic_partitions("files") == ["a.csv", "c.csv"]


def test_a_request_that_is_not_one_is_a_failed_tick_that_says_what_to_use(
    make_parts: MakeParts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "inbox").mkdir()
    monkeypatch.setenv("BAKEHOUSE_TEST_INBOX", str(tmp_path / "inbox"))
    parts = make_parts("dyn_bad", INBOX_SENSOR)
    parts.instance.set_instigator_state(
        InstigatorState(origin="dyn_bad:sends_garbage", name="sends_garbage", location="dyn_bad",
                        type=InstigatorType.SENSOR, status=InstigatorStatus.RUNNING)
    )  # fmt: skip
    daemon = SensorDaemon(parts.instance, parts.supervisor,
                          clock=FakeClock(1_000_000.0))  # fmt: skip
    tick = {t.origin: t for t in daemon.tick()}["dyn_bad:sends_garbage"]
    assert tick.status == TickStatus.FAILURE
    assert tick.error is not None
    message = str(tick.error["message"])
    assert "dynamic_partitions_requests[0]" in message
    assert "build_add_request" in message
    assert parts.instance.get_dynamic_partitions("files") == []
