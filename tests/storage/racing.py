"""Starting storage_process-style scripts in several processes at once, for the race tests.

A script takes ``COMMAND URL STORAGE_DIR NAME START_AT COUNT FIRST`` (see instigator_process.py),
waits until START_AT and prints its answers as one JSON list.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any


def start(
    script: Path,
    command: str,
    db_url: str,
    tmp_path: Path,
    name: str,
    start_at: str,
    count: int,
    first: int,
) -> subprocess.Popen[str]:
    """Start `script` with `command`; the caller waits for it (or kills it)."""
    args = [command, db_url, str(tmp_path / "s"), name, start_at, str(count), str(first)]
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_if_running(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()


def race(
    script: Path, command: str, db_url: str, tmp_path: Path, *, processes: int, count: int
) -> list[Any]:
    """Run `command` of `script` in several processes at once; their answers, process by
    process (process n is named ``p<n>``)."""
    start_at = str(time.time() + 2.0)  # long enough for every interpreter to be waiting
    with ExitStack() as stack:
        procs = []
        for n in range(processes):
            first = n * count // processes
            proc = stack.enter_context(
                start(script, command, db_url, tmp_path, f"p{n}", start_at, count, first)
            )
            stack.callback(_kill_if_running, proc)
            procs.append(proc)
        answers = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            answers.append(json.loads(out))
    return answers
