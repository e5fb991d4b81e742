"""Expected failures (a bad storage URL, a database that is down, a bad setting) are one or two
lines with what to do; ``bh -v`` adds the traceback. A SQLite file in a missing folder is an
error, and nothing is created."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.faults import bh, small_project

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("bogus://x", "unsupported storage backend 'bogus'"),
        ("postgresql://postgres@127.0.0.1:1/nothing", "Connection refused"),
        ("sqlite:///{tmp}/missing/dir/x.db", "in a folder that does not exist"),
    ],
)
def test_a_bad_storage_url_is_two_lines(tmp_path: Path, url: str, says: str) -> None:
    project = small_project(tmp_path / "shop")
    env = {"BAKEHOUSE_STORAGE_URL": url.format(tmp=tmp_path)}
    done = bh("runs", "list", cwd=project, env=env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith("Error: ")
    assert says in lines[0]
    assert "BAKEHOUSE_STORAGE_URL" in lines[1]
    assert "bh -v" in lines[1]
    assert not (tmp_path / "missing").exists()

    verbose = bh("-v", "runs", "list", cwd=project, env=env)
    assert verbose.returncode == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-2].startswith("Error: ")


def test_a_bad_server_setting_is_two_lines(tmp_path: Path) -> None:
    project = small_project(tmp_path / "shop")
    done = bh(
        "dev", "--port", "0", cwd=project, env={"BAKEHOUSE_MAX_BODY_BYTES": "lots"}, timeout=120
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert (
        lines[-2]
        == "Error: BAKEHOUSE_MAX_BODY_BYTES must be a positive number of bytes, got 'lots'"
    )
    assert "Traceback" not in done.stderr
