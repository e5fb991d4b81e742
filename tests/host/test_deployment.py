"""The deployment: file changes reload only their own location; stopping cancels runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bakehouse.host.deployment import Deployment, find_running_deployment
from bakehouse.host.supervisor import LocationStatus
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import Instance, RunStatus
from tests.support.projects import write_project, write_workspace

pytestmark = pytest.mark.slow


def _wait(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


ONE = {"defs/one.py": "import bakehouse as dg\n\n\n@dg.asset\ndef one():\n    return 1\n"}
TWO = {"defs/two.py": "import bakehouse as dg\n\n\n@dg.asset\ndef two():\n    return 2\n"}
SLOW = {
    "defs/slow.py": "import time\n\nimport bakehouse as dg\n\n\n@dg.asset\ndef slow():\n"
    "    time.sleep(60)\n"
}


def test_a_changed_file_reloads_only_its_location(tmp_path: Path) -> None:
    write_project(tmp_path / "a", "watch_a", ONE)
    write_project(tmp_path / "b", "watch_b", TWO)
    write_workspace(tmp_path, ["a", "b"])
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(tmp_path), instance, watch=True)
        deployment.start()
        try:
            pids = {s.name: s.pid for s in deployment.locations()}
            time.sleep(0.5)  # let the watcher settle before the change
            (tmp_path / "a/src/watch_a/defs/more.py").write_text(
                "import bakehouse as dg\n\n\n@dg.asset\ndef more():\n    return 3\n"
            )
            _wait(
                lambda: (
                    deployment.supervisor.state("watch_a").asset_count == 2
                    and deployment.supervisor.state("watch_a").status == LocationStatus.LOADED
                )
            )
            assert deployment.supervisor.state("watch_a").pid != pids["watch_a"]
            assert deployment.supervisor.state("watch_b").pid == pids["watch_b"]
        finally:
            deployment.stop()


def test_stopping_the_deployment_cancels_a_running_run(tmp_path: Path) -> None:
    write_project(tmp_path / "s", "slow_loc", SLOW)
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(tmp_path / "s"), instance)
        deployment.start()
        deployment.write_deployment_file("http://127.0.0.1:1")
        assert find_running_deployment(tmp_path / ".bakehouse") == "http://127.0.0.1:1"
        try:
            run = deployment.launch(selection="slow")
            _wait(lambda: instance.get_run(run.run_id).status == RunStatus.STARTED)
            time.sleep(0.5)  # the worker is inside the asset now
        finally:
            deployment.stop()
        final = instance.get_run(run.run_id)
        assert final.status == RunStatus.CANCELED
        assert find_running_deployment(tmp_path / ".bakehouse") is None
