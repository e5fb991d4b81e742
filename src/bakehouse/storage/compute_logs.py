"""Where a step's captured stdout and stderr live under the instance's storage folder, and reading
them back by byte offset (the host's side: no user code, no execution imports).

The layout is Dagster's `LocalComputeLogManager`'s, keyed by ``[run_id, "compute_logs",
step_key]``: ``<storage_dir>/<run_id>/compute_logs/<step_key>.out`` (stdout), ``.err`` (stderr),
and ``.complete``, an empty file written once the step's capture has ended. Run workers write the
files (`bakehouse.execution.compute_logs`); the web app and ``bh runs logs`` read them while the
step is still writing, from any offset, so that a follower resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from bakehouse.storage.records import EventRecord, EventType

COMPUTE_LOGS_FOLDER = "compute_logs"
COMPLETE_EXTENSION = ".complete"
# The most a step may write to each of its streams; beyond it output is dropped and the marker
# says so. Generous for logs, small enough that a runaway loop cannot fill the disk.
MAX_BYTES_PER_STREAM = 10 * 1024 * 1024
# The most one read returns (Dagster reads 1 MiB chunks too); a reader asks again from
# `next_offset` for the rest.
MAX_BYTES_CHUNK_READ = 1024 * 1024
TRUNCATED_MARKER_PREFIX = "\n[bakehouse: output truncated at "


def truncated_marker(limit: int) -> bytes:
    """The line that ends a stream cut at `limit` bytes (visible wherever the log is shown)."""
    return f"{TRUNCATED_MARKER_PREFIX}{limit} bytes; the rest was dropped]\n".encode()


class ComputeIOType(enum.Enum):
    """Which of a step's two streams (Dagster's names)."""

    STDOUT = "stdout"
    STDERR = "stderr"

    @property
    def extension(self) -> str:
        """The file name extension of this stream's file."""
        return ".out" if self is ComputeIOType.STDOUT else ".err"


_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def file_part(name: str) -> str:
    """`name` as one path component: kept when plain, else percent-encoded, so that no run id
    or step key can reach outside its folder (writers build paths from it as readers do)."""
    return name if _PLAIN.match(name) and name not in (".", "..") else quote(name, safe="")


@dataclass(frozen=True)
class LogChunk:
    """Bytes `offset` up to `next_offset` of one captured stream, decoded as UTF-8.

    `next_offset` never splits a UTF-8 character, so chunks read one after another join into
    the whole text. `size` is the file's size when read; `complete` says the step's capture has
    ended (no byte will be added), `exists` whether the step captured that stream at all. Output
    cut at the cap ends with the `truncated_marker` line, in the text like any other.
    """

    data: str
    offset: int
    next_offset: int
    size: int
    complete: bool
    exists: bool

    @classmethod
    def read(cls, raw: bytes, start: int, size: int, complete: bool) -> LogChunk:
        """The chunk of bytes `raw` read from `start` of a stream of `size` bytes, without a
        character cut at its end (the next read starts with it)."""
        whole = _whole_characters(raw)
        return cls(
            whole.decode("utf-8", errors="replace"),
            offset=start,
            next_offset=start + len(whole),
            size=size,
            complete=complete,
            exists=True,
        )


class LocalComputeLogManager:
    """The compute logs of one instance's storage folder: paths and reads (Dagster's name)."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = Path(base_dir)

    def run_dir(self, run_id: str) -> Path:
        """The folder holding every captured stream of run `run_id`."""
        return self.base_dir / file_part(run_id) / COMPUTE_LOGS_FOLDER

    def log_path(self, run_id: str, step_key: str, io_type: ComputeIOType) -> Path:
        """The file of one stream of one step."""
        return self.run_dir(run_id) / (file_part(step_key) + io_type.extension)

    def complete_path(self, run_id: str, step_key: str) -> Path:
        """The marker file whose presence says the step's capture has ended."""
        return self.run_dir(run_id) / (file_part(step_key) + COMPLETE_EXTENSION)

    def is_capture_complete(self, run_id: str, step_key: str) -> bool:
        """True once the step's capture has ended (its process may have died instead: callers
        that follow a log also stop when the run has finished)."""
        return self.complete_path(run_id, step_key).exists()

    def delete_logs(self, run_id: str) -> None:
        """Remove every captured stream of run `run_id` (its run folder too, once empty: it
        may hold other files under the same name, which stay)."""
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)
        with contextlib.suppress(OSError):
            self.run_dir(run_id).parent.rmdir()

    def has_logs(self, run_id: str, step_key: str) -> bool:
        """True if the step started capturing in this run."""
        return any(self.log_path(run_id, step_key, t).exists() for t in ComputeIOType)

    def get_log_data(
        self,
        run_id: str,
        step_key: str,
        io_type: ComputeIOType,
        offset: int = 0,
        max_bytes: int = MAX_BYTES_CHUNK_READ,
    ) -> LogChunk:
        """Up to `max_bytes` of the stream from byte `offset` (an offset past the end reads
        nothing, from the end)."""
        complete = self.is_capture_complete(run_id, step_key)
        path = self.log_path(run_id, step_key, io_type)
        try:
            with path.open("rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                start = min(max(offset, 0), size)
                fh.seek(start)
                raw = fh.read(max(0, min(max_bytes, size - start)))
        except FileNotFoundError:
            return LogChunk("", 0, 0, 0, complete, exists=False)
        return LogChunk.read(raw, start, size, complete)


def _whole_characters(raw: bytes) -> bytes:
    """`raw` without a UTF-8 character cut at its end (the next read starts with it whole)."""
    for back in range(1, min(4, len(raw)) + 1):
        byte = raw[-back]
        if byte < 0x80:  # ASCII: nothing is cut
            return raw
        if byte >= 0xC0:  # the lead byte of the last character: is the character whole?
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return raw if back >= need else raw[:-back]
    return raw  # only continuation bytes (not UTF-8): pass them on, they decode as U+FFFD


def started_steps(events: Iterable[EventRecord]) -> list[str]:
    """The step keys of a run's `events` in the order their steps started (STEP_START)."""
    seen: dict[str, None] = {}
    for event in events:
        if event.event_type == EventType.STEP_START and event.step_key:
            seen.setdefault(event.step_key, None)
    return list(seen)
