"""A real ``bh dev`` on loopback to attack: one open (the default: no tokens), one with
``--auth --allowed-host bakehouse.test`` and tokens made by ``bh token create`` beforehand."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import loaded_locations
from tests.support.dev_server import DevServer, bh_env, start_dev_server, stop_dev_server
from tests.support.projects import write_project

LOCATION = "sec_bakery"

BAKERY = {
    "defs/bakery.py": """\
        import bakehouse as dg


        @dg.asset
        def flour() -> int:
            return 500


        @dg.asset
        def bread(flour: int) -> int:
            return flour // 250


        days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")


        @dg.asset(partitions_def=days)
        def daily_sales(context: dg.AssetExecutionContext) -> str:
            return context.partition_key


        bake = dg.define_asset_job("bake", selection=[flour, bread])
        nightly = dg.ScheduleDefinition(name="nightly", job=bake, cron_schedule="0 3 * * *")
        """
}


def write_bakery(root: Path) -> Path:
    """The project every security test serves: two assets, a partitioned one, a schedule."""
    return write_project(root, LOCATION, BAKERY)


def bh(
    root: Path, *args: str, check: bool = True, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``bh ARGS`` in the project, as its user would (beside a running server or not),
    with ``BAKEHOUSE_TOKEN=token`` if given."""
    done = subprocess.run(
        [sys.executable, "-m", "bakehouse", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**bh_env(), **({"BAKEHOUSE_TOKEN": token} if token else {})},
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def wait_loaded(url: str, headers: dict[str, str] | None = None) -> None:
    """Wait until every code location serves (bh dev answers while they still load)."""
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        loaded_locations(http)


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """``bh dev`` as everyone starts it: loopback, no tokens."""
    root = write_bakery(tmp_path_factory.mktemp("open") / "bakery")
    dev = start_dev_server(root)
    try:
        wait_loaded(dev.url)
        yield dev
    finally:
        stop_dev_server(dev)


class AuthServer:
    """A ``bh dev --auth`` with its tokens by name."""

    def __init__(self, dev: DevServer, tokens: dict[str, str]) -> None:
        self.dev = dev
        self.url = dev.url
        self.root = dev.root
        self.tokens = tokens

    def bearer(self, name: str) -> dict[str, str]:
        """The Authorization header of token `name`."""
        return {"Authorization": f"Bearer {self.tokens[name]}"}


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    """``bh dev --auth --allowed-host bakehouse.test`` with tokens ``admin``, ``ui-admin``,
    ``gone`` and ``viewer`` (read-only), made with the CLI before it started."""
    root = write_bakery(tmp_path_factory.mktemp("auth") / "bakery")
    tokens = {
        name: bh(root, "token", "create", name, *flags).stdout.strip()
        for name, flags in (
            ("admin", ()),
            ("ui-admin", ()),
            ("gone", ()),
            ("viewer", ("--read-only",)),
        )
    }
    dev = start_dev_server(root, args=["--auth", "--allowed-host", "bakehouse.test"])
    try:
        server = AuthServer(dev, tokens)
        wait_loaded(dev.url, server.bearer("admin"))
        yield server
    finally:
        stop_dev_server(dev)
