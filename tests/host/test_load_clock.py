"""A location's load limit counts its own time, not the machine's load: time its process waits
for a CPU that other processes hold does not count, time it runs or sleeps does. Real
processes, made to wait by pinning them to one CPU beside a busy loop at a higher priority."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bakehouse.host.load_clock import LoadClock
from bakehouse.project.code_server_settings import LoadLimit
from tests.support.faults import small_project

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path("/proc/self/schedstat").exists(),
        reason="no scheduler statistics here (not Linux, or a kernel without CONFIG_SCHED_INFO)",
    ),
]

SPIN = "while True:\n    pass\n"
CPU = max(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0


def _on_one_cpu(niceness: int) -> Callable[[], None]:
    def setup() -> None:
        os.sched_setaffinity(0, {CPU})
        os.nice(niceness)

    return setup


@contextmanager
def _process(args: list[str], **popen: object) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, **popen)  # type: ignore[call-overload]
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def _busy_cpu() -> Iterator[None]:
    """A busy loop at normal priority on `CPU`, for the block."""
    with _process([sys.executable, "-c", SPIN], preexec_fn=_on_one_cpu(0)):
        yield


def test_a_sleeping_process_counts_in_full() -> None:
    with _process([sys.executable, "-c", "import time; time.sleep(60)"]) as proc:
        clock = LoadClock(proc.pid, LoadLimit(1.5, "the test's limit"))
        while not clock.expired():
            time.sleep(clock.nap())
        # A hung load (blocked, not waiting for a CPU) reaches its limit on time.
        assert 1.5 <= clock.wall() < 10
        assert "within 2 s" in clock.timeout_message("sleepy")  # 1.5 rounds to 2
        assert "the test's limit" in clock.timeout_message("sleepy")


def test_time_waiting_for_a_cpu_does_not_count() -> None:
    with (
        _busy_cpu(),
        _process([sys.executable, "-c", SPIN], preexec_fn=_on_one_cpu(19)) as starved,
    ):
        clock = LoadClock(starved.pid, LoadLimit(2, "the test's limit"))
        time.sleep(4)
        # At nice 19 beside a nice-0 loop on one CPU it runs a few percent of the time.
        assert clock.waited() > 2
        assert clock.own() < clock.wall() - 2
        assert not clock.expired()
        assert "waiting for a CPU that other processes held" in clock.timeout_message("starved")


BURNS_ONE_CPU_SECOND = """\
import time

import bakehouse as dg

started = time.process_time()
while time.process_time() - started < 1.0:
    pass


@dg.asset
def slow_to_import() -> int:
    return 1
"""


def test_check_defs_on_a_busy_machine_does_not_time_out(tmp_path: Path) -> None:
    """The location needs about 2 s of CPU; held to a seventh of one CPU it needs many times
    that on the wall clock, past its 6 s limit, and still loads."""
    project = small_project(tmp_path / "busy", "busy_shop", BURNS_ONE_CPU_SECOND)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    with _busy_cpu():
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "bakehouse", "check", "defs", "--load-timeout", "6"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=_on_one_cpu(8),
        )
        wall = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 asset" in done.stdout
    assert wall > 6, f"the machine did not make it wait ({wall:.1f} s): the test shows nothing"


def test_a_hung_location_names_the_setting_to_raise(tmp_path: Path) -> None:
    project = small_project(tmp_path / "hangs", "hangs_shop", "import time\ntime.sleep(600)\n")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + "\n[tool.bakehouse.code_servers]\nlocal_startup_timeout = 3\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bakehouse", "check", "defs"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert time.monotonic() - started < 60
    out = " ".join((done.stdout + done.stderr).split())  # rich wraps long lines
    assert "code location 'hangs_shop' did not finish loading within 3 s" in out
    assert "local_startup_timeout = 3 in" in out
    assert "time.sleep(600)" in out or "hangs_shop/defs/assets.py" in out
