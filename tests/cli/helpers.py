"""Helpers shared by the CLI tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

RunBh = Callable[..., subprocess.CompletedProcess[str]]


def write(path: Path, text: str) -> Path:
    """Write `text` to `path`, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
