"""The deployment over real code servers and run workers: start, launch, reload, watch, stop.

Each test builds a workspace in tmp_path, starts a `Deployment` on a SQLite instance there and
checks what it did through the instance and the processes it left (or did not leave) running.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bakehouse.errors import ProjectError, SelectionError
from bakehouse.host.deployment import Deployment, find_running_deployment
from bakehouse.host.supervisor import LocationStatus
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import EventType, Instance, RunStatus
from bakehouse.storage.records import PartitionStatus
from tests.support.processes import alive, descendants
from tests.support.projects import write_project, write_workspace
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

ONE = {"defs/one.py": "import bakehouse as dg\n\n\n@dg.asset\ndef one():\n    return 1\n"}
TWO = {"defs/two.py": "import bakehouse as dg\n\n\n@dg.asset\ndef two():\n    return 2\n"}
# `slow` says it is running (a marker file beside the project) and then runs until stopped.
SLOW = {
    "defs/slow.py": """\
        import time
        from pathlib import Path

        import bakehouse as dg


        @dg.asset
        def slow():
            (Path(__file__).resolve().parents[3] / "slow-started").touch()
            time.sleep(120)
        """
}
DAILY = {
    "defs/daily.py": """\
        import bakehouse as dg


        @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01",
                                                               end_date="2024-01-04"))
        def daily(context: dg.AssetExecutionContext) -> str:
            return context.partition_key
        """
}


@pytest.fixture
def two_locations(tmp_path: Path) -> Iterator[tuple[Deployment, Instance]]:
    """A started deployment of two locations (``dep_a``: one, ``dep_b``: two and daily)."""
    write_project(tmp_path / "a", "dep_a", ONE)
    write_project(tmp_path / "b", "dep_b", {**TWO, **DAILY})
    write_workspace(tmp_path, ["a", "b"])
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(tmp_path), instance, heartbeat_interval=0.5)
        deployment.start()
        try:
            yield deployment, instance
        finally:
            deployment.stop()


def _finished(instance: Instance, run_id: str) -> RunStatus:
    def status_if_finished() -> RunStatus | None:
        status = instance.get_run(run_id).status
        return status if status.is_finished else None

    return eventually(status_if_finished, timeout=120, message=f"run {run_id} to finish")


def _wait_inside_slow(project: Path) -> None:
    eventually(
        (project / "slow-started").exists, timeout=60, message="the run worker to be in `slow`"
    )


def test_start_loads_every_location_in_its_own_code_server(
    two_locations: tuple[Deployment, Instance],
) -> None:
    deployment, _ = two_locations
    states = {s.name: s for s in deployment.locations()}
    assert {n: s.status for n, s in states.items()} == {
        "dep_a": LocationStatus.LOADED,
        "dep_b": LocationStatus.LOADED,
    }
    pids = [s.pid for s in states.values()]
    assert all(pid is not None and alive(pid) for pid in pids)
    assert len(set(pids)) == 2
    assert set(pids) <= set(descendants(os.getpid()))
    assert sorted(deployment.graph().assets) == ["daily", "one", "two"]


def test_a_launched_run_is_queued_started_and_materializes(
    two_locations: tuple[Deployment, Instance],
) -> None:
    deployment, instance = two_locations
    run = deployment.launch(asset_keys=["one", "two"], tags={"who": "test"})
    assert instance.get_run(run.run_id).tags["who"] == "test"
    assert _finished(instance, run.run_id) == RunStatus.SUCCESS
    materialized = instance.get_events(run.run_id, event_types=[EventType.ASSET_MATERIALIZATION])
    assert sorted(e.asset_key or "" for e in materialized) == ["one", "two"]


def test_a_partition_is_launched_and_a_wrong_one_refused_before_a_run_exists(
    two_locations: tuple[Deployment, Instance],
) -> None:
    deployment, instance = two_locations
    run = deployment.launch(selection="daily", partition_key="2024-01-02")
    assert _finished(instance, run.run_id) == RunStatus.SUCCESS
    assert instance.get_partition_status("daily")["2024-01-02"] == PartitionStatus.MATERIALIZED
    with pytest.raises(SelectionError, match="2099-01-01"):
        deployment.launch(selection="daily", partition_key="2099-01-01")
    with pytest.raises(SelectionError, match="nope"):
        deployment.launch(asset_keys=["nope"])
    assert [r.run_id for r in instance.get_runs(limit=None)] == [run.run_id]


def test_reload_replaces_one_code_server_and_serves_the_new_definitions(
    two_locations: tuple[Deployment, Instance], tmp_path: Path
) -> None:
    deployment, _ = two_locations
    before = {s.name: s.pid for s in deployment.locations()}
    (tmp_path / "a/src/dep_a/defs/more.py").write_text(
        "import bakehouse as dg\n\n\n@dg.asset\ndef more():\n    return 3\n"
    )
    state = deployment.reload("dep_a")
    assert (state.status, state.asset_count) == (LocationStatus.LOADED, 2)
    old = before["dep_a"]
    assert old is not None
    assert state.pid != old
    eventually(lambda: not alive(old), timeout=30, message="the old code server to exit")
    assert {s.name: s.pid for s in deployment.locations()}["dep_b"] == before["dep_b"]
    assert "more" in deployment.graph().assets
    with pytest.raises(KeyError):
        deployment.reload("nowhere")


def test_a_changed_file_reloads_only_its_location(tmp_path: Path) -> None:
    write_project(tmp_path / "a", "watch_a", ONE)
    write_project(tmp_path / "b", "watch_b", TWO)
    write_workspace(tmp_path, ["a", "b"])
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(tmp_path), instance, watch=True)
        deployment.start()
        try:
            pids = {s.name: s.pid for s in deployment.locations()}
            more = tmp_path / "a/src/watch_a/defs/more.py"
            source = "import bakehouse as dg\n\n\n@dg.asset\ndef more():\n    return 3\n"

            def reloaded() -> bool:
                state = deployment.supervisor.state("watch_a")
                if state.asset_count == 2 and state.status == LocationStatus.LOADED:
                    return True
                # The watcher may not watch yet when the test first writes: write again until
                # it sees a change (each write is one more reason to reload, never a wrong one).
                more.write_text(source)
                return False

            eventually(reloaded, timeout=60, interval=1.0, message="watch_a to reload")
            assert deployment.supervisor.state("watch_a").pid != pids["watch_a"]
            assert deployment.supervisor.state("watch_b").pid == pids["watch_b"]
        finally:
            deployment.stop()


def test_stopping_cancels_a_running_run_and_leaves_no_process(tmp_path: Path) -> None:
    write_project(tmp_path / "s", "slow_loc", SLOW)
    before = set(descendants(os.getpid()))
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(tmp_path / "s"), instance)
        deployment.start()
        deployment.write_deployment_file("http://127.0.0.1:1")
        assert find_running_deployment(tmp_path / ".bakehouse") == "http://127.0.0.1:1"
        try:
            run = deployment.launch(selection="slow")
            _wait_inside_slow(tmp_path / "s")
            started = set(descendants(os.getpid())) - before
            assert len(started) >= 2  # the code server and the run worker, at least
        finally:
            deployment.stop()
        final = instance.get_run(run.run_id)
        assert final.status == RunStatus.CANCELED
        assert find_running_deployment(tmp_path / ".bakehouse") is None
    eventually(
        lambda: not any(alive(pid) for pid in started),
        timeout=30,
        message=f"the deployment's processes to exit: {[p for p in started if alive(p)]}",
    )


def test_a_cancel_stored_by_a_webserver_beside_the_daemon_stops_the_worker(
    tmp_path: Path,
) -> None:
    write_project(tmp_path / "s", "slow_loc", SLOW)
    workspace = find_workspace(tmp_path / "s")
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        daemon = Deployment(workspace, instance)
        daemon.start()
        try:
            run = daemon.launch(selection="slow")
            _wait_inside_slow(tmp_path / "s")
            (worker,) = [
                int(e.data["pid"])
                for e in instance.get_events(run.run_id, event_types=[EventType.ENGINE])
                if "pid" in e.data
            ]
            # The webserver's own deployment: no loop, no code server; it reaches the run only
            # through storage, as a webserver process beside `bh daemon` does.
            with Instance.for_home(tmp_path / ".bakehouse") as its_instance:
                Deployment(workspace, its_instance, daemon=False).cancel(run.run_id, "from the UI")
            eventually(lambda: not alive(worker), timeout=30, message="the run worker to stop")
            assert _finished(instance, run.run_id) == RunStatus.CANCELED
            assert not instance.get_events(
                run.run_id, event_types=[EventType.ASSET_MATERIALIZATION]
            )
        finally:
            daemon.stop()


def test_a_run_handed_over_after_the_deployment_stopped_is_canceled_unstarted(
    tmp_path: Path,
) -> None:
    # The run queue may hand a run to the coordinator just as `stop` cancels what it drives.
    write_project(tmp_path / "a", "late_loc", ONE)
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        with Deployment.foreground(find_workspace(tmp_path / "a"), instance) as deployment:
            run = deployment.launch(selection="one")
            deployment.coordinator.cancel_all("Run canceled: the deployment stopped.")
            assert deployment.execute(run.run_id) == RunStatus.CANCELED
        events = instance.get_events(run.run_id)
        assert [e.event_type for e in events] == [EventType.RUN_QUEUED, EventType.RUN_CANCELED]
        assert events[-1].message == "Run canceled: the deployment stopped."


def test_reload_all_reads_the_workspace_file_again(
    two_locations: tuple[Deployment, Instance], tmp_path: Path
) -> None:
    deployment, instance = two_locations
    old_a = deployment.supervisor.state("dep_a").pid
    assert old_a is not None
    write_project(
        tmp_path / "c", "dep_c", {"defs/three.py": ONE["defs/one.py"].replace("one", "three")}
    )
    write_workspace(tmp_path, ["b", "c"])  # c added, a removed
    states = deployment.reload_all()
    assert {s.name: s.status for s in states} == {
        "dep_b": LocationStatus.LOADED,
        "dep_c": LocationStatus.LOADED,
    }
    assert [s.name for s in deployment.locations()] == ["dep_b", "dep_c"]
    assert sorted(deployment.graph().assets) == ["daily", "three", "two"]
    eventually(lambda: not alive(old_a), timeout=30, message="dep_a's code server to exit")
    run = deployment.launch(selection="three")
    assert _finished(instance, run.run_id) == RunStatus.SUCCESS


def test_reloading_a_just_added_project_by_name_loads_it(
    two_locations: tuple[Deployment, Instance], tmp_path: Path
) -> None:
    deployment, _ = two_locations
    write_project(tmp_path / "c", "dep_c", TWO)
    with pytest.raises(KeyError):
        deployment.reload("dep_c")  # not listed yet: still no such location
    write_workspace(tmp_path, ["a", "b", "c"])
    state = deployment.reload("dep_c")
    # dep_c defines `two` as dep_b does: it loads, and fails on the clash, naming both.
    assert state.status == LocationStatus.FAILED
    assert state.error is not None
    assert "two" in state.error.message
    assert deployment.supervisor.state("dep_b").status == LocationStatus.LOADED


def test_a_workspace_file_that_no_longer_reads_changes_nothing(
    two_locations: tuple[Deployment, Instance], tmp_path: Path
) -> None:
    deployment, _ = two_locations
    write_workspace(tmp_path, ["a", "b", "missing"])
    with pytest.raises(ProjectError, match=r"projects\[2\]\.path"):
        deployment.reload_all()
    assert {s.name: s.status for s in deployment.locations()} == {
        "dep_a": LocationStatus.LOADED,
        "dep_b": LocationStatus.LOADED,
    }
