"""Capturing one step's stdout and stderr into its compute log files, at the descriptor level.

While a step runs, file descriptors 1 and 2 of its process point at the step's ``.out`` and
``.err`` files (`bakehouse.storage.compute_logs` has the layout), so Python's ``print``, writes
to ``sys.stderr``, C code and child processes started by the step all land there. The files are
opened with O_APPEND and written by the kernel as the step writes: whatever the step wrote before
it crashed (an exception, ``os._exit``, a signal) is on disk. ``sys.stdout`` and ``sys.stderr``
are replaced for the step by unbuffered writers, so a ``print`` is in the file when it returns,
and stop at the size cap with a visible marker; output written past the cap straight to the
descriptors (C code, children) is cut to the cap when the step ends.

Capture is per process: it suits a process that runs one step at a time (a run worker with the
in-process executor, a multiprocess worker process). A thread a step leaves running writes into
whatever the descriptors point at later.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import sys
from collections.abc import Iterator
from typing import Any

from bakehouse.storage.compute_logs import (
    COMPLETE_EXTENSION,
    MAX_BYTES_PER_STREAM,
    ComputeIOType,
    LocalComputeLogManager,
    file_part,
    truncated_marker,
)

_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)


class _CappedFile(io.RawIOBase):
    """Writes to descriptor `fd` until the file reaches `limit` bytes, then writes the marker
    once and drops the rest (the binary stream under the step's ``sys.stdout``/``sys.stderr``)."""

    def __init__(self, fd: int, limit: int) -> None:
        super().__init__()
        self._fd = fd
        self._limit = limit
        self.cut = False

    def writable(self) -> bool:
        """Always: this is an output stream."""
        return True

    def fileno(self) -> int:
        """The descriptor (1 or 2), so that ``stdout=sys.stdout`` in a subprocess call is
        captured too."""
        return self._fd

    def isatty(self) -> bool:
        """Never a terminal: the step writes to a file."""
        return False

    def write(self, data: Any) -> int:
        """Write `data` (bytes-like) up to the cap; report it all written either way, so that
        callers never retry what was dropped."""
        view = memoryview(data).cast("B")
        size = len(view)
        if self.cut or not size:
            return size
        # The offset is shared with every writer of this file (children, C code): after an
        # O_APPEND write it is the file's end.
        room = self._limit - os.lseek(self._fd, 0, os.SEEK_CUR)
        if size <= room:
            _write_all(self._fd, view)
            return size
        _write_all(self._fd, view[: max(room, 0)])
        _write_all(self._fd, memoryview(truncated_marker(self._limit)))
        self.cut = True
        return size


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]


def _text_stream(fd: int, limit: int) -> io.TextIOWrapper:
    """An unbuffered text stream on `fd` for ``sys.stdout``/``sys.stderr`` during a step."""
    return io.TextIOWrapper(
        _CappedFile(fd, limit),  # type: ignore[arg-type]  # a raw stream serves with write_through
        encoding="utf-8",
        errors="backslashreplace",
        write_through=True,
        line_buffering=True,
    )


def _flush_c_stdio() -> None:
    """Flush C's stdio buffers, so that what C code printed during the step is written to the
    step's files and not, later, to whatever the descriptors point at then."""
    with contextlib.suppress(Exception):
        _libc().fflush(None)


_LIBC: list[Any] = []


def _libc() -> Any:
    if not _LIBC:
        _LIBC.append(ctypes.CDLL(None))
    return _LIBC[0]


def _cap(fd: int, limit: int) -> None:
    """Cut the file at `limit` bytes (and add the marker) if writers past ``sys.stdout`` filled
    it beyond; a file the capped stream ended has the marker already."""
    size = os.fstat(fd).st_size
    if size <= limit:
        return
    marker = truncated_marker(limit)
    if size > limit + len(marker):
        os.ftruncate(fd, limit)
        _write_all(fd, memoryview(marker))


@contextlib.contextmanager
def capture_logs(
    manager: LocalComputeLogManager,
    run_id: str,
    step_key: str,
    *,
    limit: int = MAX_BYTES_PER_STREAM,
) -> Iterator[None]:
    """Send this process's stdout and stderr (descriptors 1 and 2, ``sys.stdout`` and
    ``sys.stderr``) to the step's compute log files for the block; mark the capture complete
    after it. A step run again in the same run appends to its files."""
    # Plain strings and os calls: this runs around every step, and pathlib costs more than the
    # system calls themselves.
    stem = os.path.join(_run_dir(manager, run_id), file_part(step_key))
    complete = stem + COMPLETE_EXTENSION
    try:
        out = os.open(stem + ComputeIOType.STDOUT.extension, _OPEN_FLAGS | os.O_EXCL, 0o644)
    except FileExistsError:
        # The step ran before in this run: its capture is open again until this one ends.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(complete)
        out = os.open(stem + ComputeIOType.STDOUT.extension, _OPEN_FLAGS, 0o644)
    err = os.open(stem + ComputeIOType.STDERR.extension, _OPEN_FLAGS, 0o644)
    # What was written before the step belongs where it was going.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    _flush_c_stdio()
    saved = (os.dup(1), os.dup(2))
    previous = (sys.stdout, sys.stderr)
    try:
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout, sys.stderr = _text_stream(1, limit), _text_stream(2, limit)
        yield
    finally:
        _flush_c_stdio()
        sys.stdout, sys.stderr = previous
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (out, err):
            with contextlib.suppress(OSError):
                _cap(fd, limit)
        for fd in (*saved, out, err):
            os.close(fd)
        os.close(os.open(complete, _OPEN_FLAGS, 0o644))


# The run folders this process has made, so each step does not ask the file system again.
_MADE: set[str] = set()


def _run_dir(manager: LocalComputeLogManager, run_id: str) -> str:
    folder = str(manager.run_dir(run_id))
    if folder not in _MADE:
        os.makedirs(folder, exist_ok=True)
        _MADE.add(folder)
    return folder


def step_logs(
    manager: LocalComputeLogManager | None, run_id: str, step_key: str
) -> contextlib.AbstractContextManager[None]:
    """`capture_logs` for one step, or nothing when `manager` is None (no capture asked)."""
    if manager is None:
        return contextlib.nullcontext()
    return capture_logs(manager, run_id, step_key)
