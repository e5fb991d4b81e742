"""`bh create project` and `bh create workspace`, run as a new user would, as real processes.

One test builds a real venv (about 20 s): from an empty folder, a project whose own `.venv` runs
`bh scaffold`, `bh check defs` and `bh launch` with no editing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import bakehouse as dg
from tests.cli.helpers import RunBh

pytestmark = pytest.mark.slow


def test_create_project_without_venv_then_check_and_launch(tmp_path: Path, bh: RunBh) -> None:
    created = bh("create", "project", "demo", "--no-venv", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert "Created project demo" in created.stdout
    assert "bh scaffold defs asset raw/orders.py" in created.stdout
    demo = tmp_path / "demo"
    assert not (demo / ".venv").exists()
    checked = bh("check", "defs", cwd=demo)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 assets" in checked.stdout
    assert bh("scaffold", "defs", "asset", "raw/orders.py", cwd=demo).returncode == 0
    launched = bh("launch", "--assets", "*", cwd=demo)
    assert launched.returncode == 0, launched.stdout + launched.stderr
    assert "1 asset materialized" in launched.stdout


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("my-demo", "invalid project name 'my-demo'"),
        ("import", "it is a Python keyword"),
        ("json", "would be shadowed"),
    ],
)
def test_an_invalid_name_is_refused(tmp_path: Path, bh: RunBh, name: str, expected: str) -> None:
    result = bh("create", "project", name, "--no-venv", cwd=tmp_path)
    assert result.returncode == 1
    assert expected in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_refused(tmp_path: Path, bh: RunBh) -> None:
    (tmp_path / "demo").mkdir()
    result = bh("create", "project", "demo", "--no-venv", cwd=tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path / 'demo'} already exists" in result.stderr
    assert list((tmp_path / "demo").iterdir()) == []


def test_a_workspace_gets_its_projects_and_checks_each_in_its_own_location(
    tmp_path: Path, bh: RunBh
) -> None:
    assert bh("create", "workspace", "lake", cwd=tmp_path).returncode == 0
    lake = tmp_path / "lake"
    for name in ("ingest", "reports"):
        made = bh("create", "project", name, "--no-venv", cwd=lake)
        assert made.returncode == 0, made.stderr
        assert "listed in the workspace's pyproject.toml" in made.stdout
    project = lake / "projects" / "reports"
    assert bh("scaffold", "defs", "asset", "daily.py", cwd=project).returncode == 0
    checked = bh("check", "defs", cwd=lake)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # One line per location, printed as each finishes loading: in either order.
    lines = [line for line in checked.stdout.splitlines() if "code location" in line]
    assert len(lines) == 2
    ingest, reports = sorted(lines, key=lambda line: "code location reports" in line)
    assert "code location ingest" in ingest
    assert "0 assets" in ingest
    assert "code location reports" in reports
    assert "1 asset," in reports


def test_a_failing_location_in_a_workspace_does_not_hide_the_others(
    tmp_path: Path, bh: RunBh
) -> None:
    bh("create", "workspace", "lake", cwd=tmp_path)
    lake = tmp_path / "lake"
    for name in ("good", "bad"):
        bh("create", "project", name, "--no-venv", cwd=lake)
    broken = lake / "projects/bad/src/bad/defs/broken.py"
    broken.write_text("x = 1\nraise RuntimeError('boom')\n")
    checked = bh("check", "defs", cwd=lake)
    assert checked.returncode == 1
    assert "code location good" in checked.stdout
    assert f"{broken}:2" in checked.stdout
    # The rest of bad loads; the check still fails, naming the module.
    assert "1 of 2 code locations loaded with errors: 1 module failed to load" in checked.stdout


def test_python_version_not_installed_is_refused(tmp_path: Path, bh: RunBh) -> None:
    result = bh("create", "project", "demo", "--python", "3.8", cwd=tmp_path)
    assert result.returncode == 1
    assert "runs on Python 3.10 to 3.13, not 3.8" in result.stderr


def test_a_new_project_with_its_own_venv_works_from_an_empty_folder(
    tmp_path: Path, bh: RunBh
) -> None:
    created = bh("create", "project", "demo", cwd=tmp_path, timeout=900)
    assert created.returncode == 0, created.stdout + created.stderr
    # uv comes with the dev extra; its lines show while it works.
    assert "Installing bakehouse (editable" in created.stdout
    assert "and pytest with uv" in created.stdout
    assert "Resolved " in created.stdout
    assert "Environment ready in" in created.stdout
    demo = tmp_path / "demo"
    own_bh = demo / ".venv" / "bin" / "bh"
    assert own_bh.exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAKEHOUSE_", "VIRTUAL_ENV"))}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(own_bh), *args], cwd=demo, env=env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"bh {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    run("scaffold", "defs", "asset", "raw/orders.py")
    schedules = all(hasattr(dg, n) for n in ("schedule", "RunRequest", "SkipReason"))
    if schedules:
        run("scaffold", "defs", "schedule", "nightly.py")
    checked = run("check", "defs")
    assert f"Python {sys.version_info[0]}.{sys.version_info[1]}" in checked.stdout
    assert "1 asset," in checked.stdout
    if schedules:
        assert "1 schedule," in checked.stdout
    launched = run("launch", "--assets", "*")
    assert "Run SUCCESS" in launched.stdout
    # The scaffolded test's own hint works: pytest is in the project's venv.
    tested = subprocess.run(
        [str(demo / ".venv" / "bin" / "python"), "-m", "pytest", "-q"],
        cwd=demo, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed" in tested.stdout
    listed = run("list", "defs", "--json")
    assert str(demo / ".venv" / "bin" / "python") in listed.stdout
    if not schedules:
        pytest.skip("the schedule step needs dg.schedule, dg.RunRequest and dg.SkipReason")
