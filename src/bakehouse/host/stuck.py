"""What the host says about a location process that died or hung while loading user code: its
exit code or the signal that killed it, and where its Python was when it was given up on.

Location processes (``python -m bakehouse snapshot|code-server|run-worker``) register
`faulthandler` on `STACK_SIGNAL`, so the host can ask one for the stack of every thread. The
dump is written by a C signal handler, so it comes even while user code loops or blocks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

STACK_SIGNAL = signal.SIGUSR1
# How long a dump takes to reach the pipe: it is written at once, this covers a loaded machine.
_DUMP_WAIT = 1.0


def exit_description(returncode: int) -> str:
    """``exited with code 7`` or ``was killed by signal SIGKILL`` for a finished process."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"was killed by signal {name}"
    return f"exited with code {returncode}"


def dump_stack_and_kill(proc: subprocess.Popen[bytes]) -> None:
    """Ask `proc` for its Python stack (to its stderr), give it a moment, then kill it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, STACK_SIGNAL)
        time.sleep(_DUMP_WAIT)
    if proc.poll() is None:
        proc.kill()


def stack_part(stderr: str) -> str:
    """The faulthandler dump in a process's stderr (from its first thread header on), else the
    whole of it; at most the last 6,000 characters."""
    starts = [i for i in (stderr.find("Current thread "), stderr.find("Thread 0x")) if i >= 0]
    text = stderr[min(starts) :] if starts else stderr
    return text[-6000:]
