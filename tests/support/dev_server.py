"""`bh dev` as a real process for tests: started on a free port, stopped with every child gone.

`running_dev_server` is the context manager (for module-scoped servers); the `dev_server` fixture
(registered in tests/conftest.py) starts any number within one test and stops them all after it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import finished_run, loaded_locations
from tests.support.processes import alive, descendants
from tests.support.waiting import eventually

SERVING = re.compile(r"Serving (http://127\.0\.0\.1:\d+)")


@dataclass
class DevServer:
    """A running ``bh dev``: its URL, its process, the workspace it serves and what it printed."""

    url: str
    process: subprocess.Popen[str]
    root: Path
    output: list[str] = field(default_factory=list)

    def http(self, timeout: float = 30) -> httpx.Client:
        """A client on the server's URL (close it, or use it in a `with`)."""
        return httpx.Client(base_url=self.url, timeout=timeout)

    def wait_loaded(self, names: set[str] | None = None) -> list[dict[str, Any]]:
        """The locations, once `names` (every listed one when None) are loaded."""
        with self.http() as http:
            return loaded_locations(http, names)

    def wait_finished(self, run_id: str, timeout: float = 60) -> dict[str, Any]:
        """The run `run_id` from the API, once it has finished."""
        with self.http() as http:
            return finished_run(http, run_id, timeout)


def bh_env() -> dict[str, str]:
    """This environment without BAKEHOUSE_ settings, so the test's folder alone decides."""
    return {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}


def start_dev_server(
    root: Path, timeout: float = 60, args: Sequence[str] = (), *, watch: bool = False
) -> DevServer:
    """Start ``bh dev --port 0 --no-reload [ARGS]`` in `root` and wait for the URL it prints;
    with `watch`, without ``--no-reload``: a location reloads when its files change."""
    reload_flags = [] if watch else ["--no-reload"]
    process = subprocess.Popen(
        [sys.executable, "-m", "bakehouse", "dev", "--port", "0", *reload_flags, *args],
        cwd=root,
        env=bh_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    server = DevServer("", process, root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()  # returns at each line, or "" once bh dev exits
        if not line:
            break
        server.output.append(line)
        match = SERVING.search(line)
        if match:
            server.url = match.group(1)
            return server
    stop_dev_server(server)
    raise AssertionError("bh dev did not print its URL:\n" + "".join(server.output))


def stop_dev_server(server: DevServer) -> None:
    """SIGTERM ``bh dev``, wait for it, and fail if it left any process behind."""
    children = descendants(server.process.pid)
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)
    if server.process.stdout is not None:
        server.process.stdout.close()
    try:
        eventually(
            lambda: not any(alive(pid) for pid in children),
            timeout=10,
            message=f"bh dev left processes behind: {[p for p in children if alive(p)]}",
        )
    finally:
        for pid in children:  # never leave orphans, even when the test already failed
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@contextmanager
def running_dev_server(root: Path, *, loaded: set[str] | None = None) -> Iterator[DevServer]:
    """``bh dev`` in `root` for the block, once the locations `loaded` have loaded (each listed
    one when None; an empty set does not wait)."""
    server = start_dev_server(root)
    try:
        if loaded is None or loaded:
            server.wait_loaded(loaded)
        yield server
    finally:
        stop_dev_server(server)


StartDevServer = Callable[[Path], DevServer]


@pytest.fixture
def dev_server() -> Iterator[StartDevServer]:
    """Start ``bh dev`` in a folder (returns once it serves); all are stopped after the test."""
    started: list[DevServer] = []

    def start(root: Path) -> DevServer:
        server = start_dev_server(root)
        started.append(server)
        return server

    yield start
    for server in started:
        stop_dev_server(server)
