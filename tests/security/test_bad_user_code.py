"""Bad user code: ``bh check defs`` prints each location as it finishes, gives up on one that
hangs at import after its load timeout and shows where it was stuck; a location process that
exits while loading is reported at once with its exit code or signal (``bh check defs`` and the
code servers of ``bh dev``). Real processes throughout."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bakehouse.host.client import target_for_project
from bakehouse.host.process import CodeServerProcess, CodeServerStartError
from bakehouse.project.settings import read_project
from tests.support.faults import small_project
from tests.support.projects import write_workspace

pytestmark = pytest.mark.slow

LOOPS = """\
import bakehouse as dg


def spin_forever():
    while True:
        pass

spin_forever()
"""
EXITS = "import os\n\nos._exit(7)\n"
KILLED = "import os\nimport signal\n\nos.kill(os.getpid(), signal.SIGKILL)\n"


def _workspace(root: Path) -> Path:
    small_project(root / "good", "good")
    small_project(root / "loops", "loops", LOOPS)
    small_project(root / "exits", "exits", EXITS)
    return write_workspace(root, ["good", "loops", "exits"])


def test_check_defs_reports_each_location_as_it_finishes(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bakehouse", "check", "defs", "--load-timeout", "20"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[tuple[float, str]] = []
    with proc.stdout:
        for line in proc.stdout:
            seen.append((time.monotonic() - started, line))
    assert proc.wait(timeout=60) == 1
    text = "".join(line for _, line in seen)

    def first(needle: str) -> float:
        return next(t for t, line in seen if needle in line)

    # The good location and the one that exited are printed long before the timeout.
    assert first("code location good") < 15
    assert first("exits' exited with code 7 while loading") < 15
    assert first("did not finish loading within 20 s") >= 19
    # Where the looping location was stuck: the user's function, in the user's file.
    assert "spin_forever" in text
    assert "loops/defs/assets.py" in text
    assert "2 of 3 code locations failed to load." in text


@pytest.mark.parametrize(
    ("code", "says"),
    [(EXITS, "exited with code 7 while loading"), (KILLED, "was killed by signal SIGKILL")],
)
def test_a_code_server_that_exits_while_loading_is_reported_at_once(
    tmp_path: Path, code: str, says: str
) -> None:
    project = small_project(tmp_path / "gone", "gone", code)
    server = CodeServerProcess(target_for_project(read_project(project / "pyproject.toml")))
    started = time.monotonic()
    with pytest.raises(CodeServerStartError, match=says):
        server.start(timeout=120)
    assert time.monotonic() - started < 30  # not the load timeout
    assert not server.alive()


def test_a_code_server_that_hangs_while_loading_shows_where(tmp_path: Path) -> None:
    project = small_project(tmp_path / "hangs", "hangs", LOOPS)
    server = CodeServerProcess(target_for_project(read_project(project / "pyproject.toml")))
    with pytest.raises(CodeServerStartError, match="did not finish loading within 8 s") as raised:
        server.start(timeout=8)
    assert "spin_forever" in raised.value.stderr_tail
    assert "hangs/defs/assets.py" in raised.value.stderr_tail
    assert not server.alive()
