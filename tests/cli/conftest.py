"""Fixtures for CLI tests: real projects on disk and `bh` run as a real subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import RunBh

REPO = Path(__file__).resolve().parents[2]
BAKERY = REPO / "examples" / "bakery"


@pytest.fixture
def bakery(tmp_path: Path) -> Path:
    """A fresh copy of the bakery example, without any stored runs."""
    target = tmp_path / "bakery"
    shutil.copytree(BAKERY, target, ignore=shutil.ignore_patterns(".bakehouse", "__pycache__"))
    return target


@pytest.fixture
def bh() -> RunBh:
    """Run ``bh ARGS`` in a directory with the test interpreter; returns the finished process."""

    def run(
        *args: str,
        cwd: Path,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "bakehouse", *args],
            cwd=cwd,
            env=full_env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
