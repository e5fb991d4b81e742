"""Finding the children a step left: one system call when this process has none, the /proc
listing otherwise; a child that exited is neither reported nor reaped behind its owner's back.
Real processes (the test process may have children of its own already: only ours count)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bakehouse.execution.leftover_children import live_children

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_a_running_child_is_found_and_gone_once_it_is_reaped() -> None:
    before = live_children()
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert live_children() - before == {child.pid}
    finally:
        child.kill()
        child.wait()
    assert live_children() - before == set()


def test_an_exited_child_is_not_reported_and_stays_for_its_owner_to_reap() -> None:
    before = live_children()
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(7)"])
    try:
        deadline = time.monotonic() + 30
        while _state(child.pid) != "Z":  # exited, not yet reaped
            assert time.monotonic() < deadline, "the child did not exit"
            time.sleep(0.01)
        assert child.pid not in live_children() - before
        # Looking did not reap it: its owner still gets its exit code.
        assert child.wait(timeout=5) == 7
    finally:
        child.kill()
        child.wait()
