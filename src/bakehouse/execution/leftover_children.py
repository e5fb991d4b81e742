"""Child processes a step started and left running when its function returned.

A step is finished when its function returns. Whatever it started and did not wait for
(``subprocess.Popen``, ``multiprocessing.Process``, ``os.fork``) is reported once, as a warning
event with the pids, and never holds the run: the processes that execute steps end with
``os._exit`` (see `exit_without_joining`), so Python's exit does not wait for such children,
and nothing reads a pipe they could keep open.

Children are found through ``/proc`` (Linux); elsewhere none are found and none reported.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

_PROC = Path("/proc")


def live_children(pid: int | None = None) -> set[int]:
    """The pids of the running (not zombie) children of `pid` (default: this process)."""
    if pid is None and not _has_children():
        return set()
    parent = os.getpid() if pid is None else pid
    if not _PROC.is_dir():
        return set()
    # Each thread's children are listed by the kernel (a fraction of a millisecond); scanning
    # every process is the fallback for kernels built without that file (tens of ms).
    listed = list((_PROC / str(parent) / "task").glob("*/children"))
    if listed:
        candidates = {int(pid) for f in listed for pid in _read(f).split()}
    else:
        candidates = {int(e.name) for e in _PROC.iterdir() if e.name.isdigit()}
    return {pid for pid in candidates if _running_child_of(pid, parent)}


def _has_children() -> bool:
    """False when this process has no child at all, running or exited, asked in one system
    call: it runs before and after every step, and steps seldom start processes."""
    waitid = getattr(os, "waitid", None)
    if waitid is None:
        return True  # cannot tell cheaply: look
    try:
        # WNOWAIT: an exited child found here stays to be reaped by whoever started it.
        waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""  # the thread or process is gone meanwhile


def _running_child_of(pid: int, parent: int) -> bool:
    stat = _read(_PROC / str(pid) / "stat")
    if not stat:
        return False
    # The command name may hold spaces and parentheses: the fields follow the last ')'.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0] != "Z" and int(fields[1]) == parent


def exit_without_joining(code: int) -> None:
    """Flush what this process wrote and end it now, with `code`, without waiting for the
    children user code left (``multiprocessing`` would join them at exit)."""
    for stream in (sys.stdout, sys.stderr):
        # Closed or broken: nothing more can be said through it.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
