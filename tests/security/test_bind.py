"""Exposing a deployment takes a token (issue 13, item 3): ``--host 0.0.0.0`` (or ``--auth``)
with no token refuses to start, before it listens or starts anything, saying what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.conftest import bh, write_bakery


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_bakery(tmp_path / "bakery")


@pytest.mark.parametrize(
    "args",
    [
        ["dev", "--host", "0.0.0.0", "--port", "0"],
        ["webserver", "--host", "0.0.0.0", "--port", "0"],
        ["dev", "--host", "::", "--port", "0"],
    ],
)
def test_a_non_loopback_address_without_a_token_refuses_to_start(
    project: Path, args: list[str]
) -> None:
    done = bh(project, *args, check=False)
    assert done.returncode != 0
    assert "Serving" not in done.stdout
    message = " ".join((done.stdout + done.stderr).split())
    assert f"listening on {args[2]} lets other machines reach this deployment" in message
    assert "bh token create NAME" in message
    assert "Traceback" not in done.stderr


def test_auth_on_loopback_without_a_token_refuses_to_start(project: Path) -> None:
    done = bh(project, "dev", "--auth", "--port", "0", check=False)
    assert done.returncode != 0
    assert "--auth needs at least one token" in " ".join(done.stderr.split())


def test_a_bad_allowed_host_is_a_usage_error(project: Path) -> None:
    done = bh(project, "dev", "--allowed-host", "http://x/", "--port", "0", check=False)
    assert done.returncode == 2
    assert "not a host name" in done.stderr
