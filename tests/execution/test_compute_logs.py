"""`capture_logs`: a step's stdout and stderr at the descriptor level, kept when the process
dies, cut at the cap with a marker.

Capture swaps this process's descriptors 1 and 2, so each capture runs in a Python of its own.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.storage.compute_logs import ComputeIOType, LocalComputeLogManager, truncated_marker

OUT, ERR = ComputeIOType.STDOUT, ComputeIOType.STDERR


def _capture(base: Path, body: str, *, limit: int = 1_000_000) -> subprocess.CompletedProcess[str]:
    """Run `body` inside ``capture_logs`` for step ``talk`` of run ``r1`` in a new Python."""
    script = textwrap.dedent(
        """\
        import os, subprocess, sys
        from pathlib import Path
        from bakehouse.execution.compute_logs import capture_logs
        from bakehouse.storage.compute_logs import LocalComputeLogManager

        manager = LocalComputeLogManager(Path(sys.argv[1]))
        print("before the step")
        with capture_logs(manager, "r1", "talk", limit=int(sys.argv[2])):
        {body}
        print("after the step")
        """
    ).format(body=textwrap.indent(textwrap.dedent(body), "    "))
    return subprocess.run(
        [sys.executable, "-c", script, str(base), str(limit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _read(base: Path, io_type: ComputeIOType = OUT) -> str:
    return LocalComputeLogManager(base).get_log_data("r1", "talk", io_type).data


def test_python_c_level_and_child_output_go_to_the_steps_files(tmp_path: Path) -> None:
    done = _capture(
        tmp_path,
        """\
        print("from print")
        print("to stderr", file=sys.stderr)
        os.write(1, b"fd 1 directly\\n")
        os.write(2, b"fd 2 directly\\n")
        subprocess.run(["sh", "-c", "echo child out; echo child err >&2"], check=True)
        sys.stdout.buffer.write(b"bytes\\n")
        """,
    )

    assert done.returncode == 0, done.stderr
    assert _read(tmp_path) == "from print\nfd 1 directly\nchild out\nbytes\n"
    assert _read(tmp_path, ERR) == "to stderr\nfd 2 directly\nchild err\n"
    # Before and after the step, output goes where it went.
    assert done.stdout == "before the step\nafter the step\n"
    assert LocalComputeLogManager(tmp_path).is_capture_complete("r1", "talk")
    layout = tmp_path / "r1" / "compute_logs"
    assert sorted(p.name for p in layout.iterdir()) == ["talk.complete", "talk.err", "talk.out"]


def test_output_before_a_crash_is_kept(tmp_path: Path) -> None:
    done = _capture(
        tmp_path,
        """\
        print("no newline yet", end="")
        print("on stderr", file=sys.stderr, end="")
        os._exit(3)
        """,
    )

    assert done.returncode == 3
    assert _read(tmp_path) == "no newline yet"
    assert _read(tmp_path, ERR) == "on stderr"
    assert not LocalComputeLogManager(tmp_path).is_capture_complete("r1", "talk")


def test_output_past_the_cap_is_dropped_behind_a_marker(tmp_path: Path) -> None:
    done = _capture(
        tmp_path,
        """\
        for i in range(100):
            print("x" * 9)
        os.write(2, b"e" * 500)
        """,
        limit=100,
    )

    assert done.returncode == 0, done.stderr
    marker = truncated_marker(100).decode()
    assert _read(tmp_path) == "xxxxxxxxx\n" * 10 + marker
    # Written to the descriptor, past the capped stream: cut when the step ends.
    assert _read(tmp_path, ERR) == "e" * 100 + marker
    assert "output truncated at 100 bytes" in marker


def test_a_step_run_again_appends_and_completes_again(tmp_path: Path) -> None:
    assert _capture(tmp_path, 'print("one")').returncode == 0
    assert _capture(tmp_path, 'print("two")').returncode == 0
    assert _read(tmp_path) == "one\ntwo\n"


def test_materialize_in_process_leaves_output_alone(capfd: pytest.CaptureFixture[str]) -> None:
    @dg.asset
    def loud() -> int:
        print("to the terminal")
        return 1

    assert dg.materialize([loud]).success
    assert "to the terminal" in capfd.readouterr().out
