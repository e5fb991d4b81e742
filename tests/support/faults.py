"""Helpers for the fault tests: ``bh`` as a real subprocess, a small real project, the
instance's SQLite file opened directly to damage it, and a small tmpfs to fill or make
read-only."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.projects import write_project

ASSETS = """\
import bakehouse as dg


@dg.asset
def orders() -> list[int]:
    return [1, 2, 3]


@dg.asset
def totals(orders: list[int]) -> int:
    return sum(orders)
"""


def bh(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``bh ARGS`` in `cwd` with the test interpreter and no inherited BAKEHOUSE_ settings."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bakehouse", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def small_project(root: Path, module: str = "shop", assets: str = ASSETS) -> Path:
    """A project with the assets `assets` (default: orders -> totals) in ``defs/assets.py``."""
    return write_project(root, module, {"defs/assets.py": assets})


def database(project: Path) -> sqlite3.Connection:
    """The project's instance database (``.bakehouse/bakehouse.db``), opened directly."""
    return sqlite3.connect(project / ".bakehouse" / "bakehouse.db", isolation_level=None)


@contextmanager
def small_tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (``4m``) mounted at `mount_point` for the block, unmounted after; the
    test is skipped, saying why, where this process may not mount one."""
    mount_point.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
