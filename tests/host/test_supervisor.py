"""The location supervisor over a real workspace: three locations, three interpreters.

One location runs on another Python minor version than the host, two pin different versions
of one package, and one raises on import. They load side by side, fail alone, reload alone,
heal alone, and an asset in one location depends on an asset in another.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bakehouse.host.client import target_for_project
from bakehouse.host.run_coordinator import RunCoordinator
from bakehouse.host.supervisor import LocationStatus, LocationSupervisor
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import EventType, Instance, RunStatus
from tests.support.launching import queue_run
from tests.support.processes import alive
from tests.support.projects import cached_venv, link_venv, write_project, write_workspace
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

HOST_MINOR = f"{sys.version_info.major}.{sys.version_info.minor}"


def _other_python() -> str | None:
    """An interpreter of another minor version than the host's (3.10-3.13), if the machine has
    one."""
    for minor in ("3.12", "3.10", "3.13", "3.11"):
        if minor == HOST_MINOR:
            continue
        candidates = sorted(
            glob.glob(os.path.expanduser(f"~/.pyenv/versions/{minor}*/bin/python3"))
        )
        candidates.append(shutil.which(f"python{minor}") or "")
        for found in filter(None, candidates):
            probe = subprocess.run([found, "-c", "pass"], capture_output=True, check=False)
            if probe.returncode == 0:
                return found
    return None


OTHER_PYTHON = _other_python()

BAKERY_A = {
    "defs/flour.py": """\
        import sys

        import six

        import bakehouse as dg


        @dg.asset(group_name="mill")
        def flour() -> dict:
            \"\"\"Milled in location A.\"\"\"
            return {"grams": 500, "python": sys.version_info[:2], "six": six.__version__}
        """
}

BAKERY_B = {
    "defs/bread.py": """\
        import six

        import bakehouse as dg


        @dg.asset(deps=["flour"], group_name="oven")
        def bread(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
            \"\"\"Baked in location B, from location A's flour.\"\"\"
            return dg.MaterializeResult(metadata={"six": six.__version__})
        """
}

BROKEN_C = {
    "defs/cakes.py": """\
        import bakehouse as dg

        raise RuntimeError("the cake recipe is missing")


        @dg.asset
        def cake():
            return 1
        """
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if OTHER_PYTHON is None:
        pytest.skip("no Python of another minor version than the host's is installed here")
    root = tmp_path_factory.mktemp("ws")
    a = write_project(root / "projects" / "mill", "mill", BAKERY_A)
    b = write_project(root / "projects" / "oven", "oven", BAKERY_B, defs_errors="fail")
    c = write_project(root / "projects" / "cakes", "cakes", BROKEN_C, defs_errors="fail")
    link_venv(a, cached_venv(OTHER_PYTHON, ["six==1.16.0"]))
    link_venv(b, cached_venv(sys.executable, ["six==1.17.0"]))
    link_venv(c, cached_venv(sys.executable, ["six==1.17.0"]))
    write_workspace(root, ["projects/mill", "projects/oven", "projects/cakes"])
    return root


@pytest.fixture
def supervisor(workspace: Path) -> Iterator[LocationSupervisor]:
    ws = find_workspace(workspace)
    with LocationSupervisor(
        [target_for_project(p) for p in ws.projects], heartbeat_interval=0.3
    ) as sup:
        sup.start()
        yield sup


def test_each_location_loads_in_its_own_interpreter_and_the_broken_one_fails_alone(
    supervisor: LocationSupervisor,
) -> None:
    mill, oven, cakes = (supervisor.state(n) for n in ("mill", "oven", "cakes"))
    assert mill.status == LocationStatus.LOADED
    assert oven.status == LocationStatus.LOADED
    assert mill.python_version is not None
    assert not mill.python_version.startswith(HOST_MINOR + ".")
    assert oven.python_version is not None
    assert oven.python_version.startswith(HOST_MINOR + ".")
    assert mill.snapshot is not None
    assert oven.snapshot is not None
    assert mill.snapshot.packages["six"] == "1.16.0"
    assert oven.snapshot.packages["six"] == "1.17.0"
    assert cakes.status == LocationStatus.FAILED
    assert cakes.snapshot is None
    assert cakes.error is not None
    rendered = cakes.error.render()
    assert "RuntimeError: the cake recipe is missing" in rendered
    assert "cakes.py" in rendered
    assert "line 3" in rendered


def test_fixing_and_reloading_one_location_leaves_the_others_processes_alone(
    workspace: Path, supervisor: LocationSupervisor
) -> None:
    pids = {n: supervisor.state(n).pid for n in ("mill", "oven")}
    cakes_file = workspace / "projects/cakes/src/cakes/defs/cakes.py"
    original = cakes_file.read_text()
    cakes_file.write_text(original.replace('raise RuntimeError("the cake recipe is missing")', ""))
    try:
        state = supervisor.reload("cakes")
        assert state.status == LocationStatus.LOADED
        assert state.asset_count == 1
        assert state.error is None
        assert {n: supervisor.state(n).pid for n in ("mill", "oven")} == pids
    finally:
        cakes_file.write_text(original)


def test_a_failed_reload_keeps_the_last_good_definitions_serving(
    workspace: Path, supervisor: LocationSupervisor
) -> None:
    bread_file = workspace / "projects/oven/src/oven/defs/bread.py"
    good = supervisor.state("oven")
    original = bread_file.read_text()
    bread_file.write_text(original + "\ndef broken(:\n")
    try:
        state = supervisor.reload("oven")
    finally:
        bread_file.write_text(original)
    assert state.status == LocationStatus.FAILED
    assert state.serving_last_good is True
    assert state.snapshot == good.snapshot
    assert state.pid == good.pid
    assert state.error is not None
    assert "SyntaxError" in state.error.render()
    assert "bread" in supervisor.global_graph().assets
    server = supervisor.server("oven")
    assert server is not None
    assert server.alive()


def test_a_killed_code_server_is_noticed_and_restarted(supervisor: LocationSupervisor) -> None:
    before = supervisor.state("mill").pid
    assert before is not None
    os.kill(before, signal.SIGKILL)
    eventually(
        lambda: supervisor.state("mill").status == LocationStatus.FAILED,
        timeout=30,
        message="mill to fail once its code server is killed",
    )
    assert "stopped answering" in (supervisor.state("mill").error.message)  # type: ignore[union-attr]
    eventually(
        lambda: (
            supervisor.state("mill").status == LocationStatus.LOADED
            and supervisor.state("mill").pid != before
        ),
        timeout=30,
        message="mill to load again in a new code server",
    )
    assert supervisor.state("mill").restarts == 1


def test_a_cross_location_selection_runs_both_locations_in_order(
    workspace: Path, supervisor: LocationSupervisor, tmp_path: Path
) -> None:
    graph = supervisor.global_graph()
    assert graph.key_graph.parents("bread") == ("flour",)
    assert graph.location_of("flour") == "mill"
    assert graph.location_of("bread") == "oven"
    keys = graph.select("+bread")
    assert keys == ["flour", "bread"]
    with Instance.for_home(tmp_path / "home") as instance:
        coordinator = RunCoordinator(
            instance, supervisor.targets, log_dir=tmp_path / "home" / "logs"
        )
        run = queue_run(instance, graph, keys)
        status = coordinator.execute(run.run_id, graph)
        events = instance.get_events(run.run_id)
        log = (tmp_path / "home" / "logs" / f"{run.run_id}.log").read_text()
        assert status == RunStatus.SUCCESS, log
        materialized = [e for e in events if e.event_type == EventType.ASSET_MATERIALIZATION]
        assert [e.asset_key for e in materialized] == ["flour", "bread"]
        assert materialized[1].data["metadata"]["six"]["value"] == "1.17.0"
        workers = [e for e in events if e.event_type == EventType.ENGINE and "pid" in e.data]
        assert [w.data["location"] for w in workers] == ["mill", "oven"]
        assert workers[0].data["python"] != workers[1].data["python"]


HOST_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from bakehouse.host.client import target_for_project
    from bakehouse.host.supervisor import LocationSupervisor
    from bakehouse.project.workspace import find_workspace

    ws = find_workspace(Path(sys.argv[1]))
    sup = LocationSupervisor([target_for_project(p) for p in ws.projects])
    sup.start()
    print(json.dumps([s.pid for s in sup.states() if s.pid]), flush=True)
    time.sleep(600)
    """
).replace("import sys, time", "import json, sys, time")


def test_killing_the_host_leaves_no_code_server_behind(workspace: Path) -> None:
    host = subprocess.Popen(
        [sys.executable, "-c", HOST_SCRIPT, str(workspace)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert host.stdout is not None
        pids = json.loads(host.stdout.readline())
        assert len(pids) == 2
        assert all(alive(p) for p in pids)
        host.kill()
        host.wait()
        eventually(
            lambda: not any(alive(p) for p in pids), timeout=10, message="code servers to exit"
        )
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
        if host.stdout is not None:
            host.stdout.close()


def test_a_code_server_slow_to_answer_is_not_restarted_until_it_hangs_too_long(
    supervisor: LocationSupervisor,
) -> None:
    # A stopped process answers no ping, as one starved on a loaded machine may not for a while.
    before = supervisor.state("oven").pid
    assert before is not None
    os.kill(before, signal.SIGSTOP)
    try:
        time.sleep(8)  # more than a ping's 5 s wait: one beat or more went unanswered
        assert supervisor.state("oven").status == LocationStatus.LOADED
        supervisor.hang_timeout = 1.0
        eventually(
            lambda: supervisor.state("oven").status == LocationStatus.FAILED,
            timeout=30,
            message="oven to fail once it has not answered for longer than hang_timeout",
        )
        assert "stopped answering" in supervisor.state("oven").error.message  # type: ignore[union-attr]
    finally:
        if alive(before):
            os.kill(before, signal.SIGCONT)
