"""Names both sides of the code-server boundary must spell the same way.

A code server announces itself on stdout with `READY_PREFIX` followed by JSON; the host reads
that line. Run tags that the host sets and a run worker reads are named here too.
"""

from __future__ import annotations

READY_PREFIX = "BAKEHOUSE_CODE_SERVER_READY "
"""Starts the one stdout line a code server prints once it serves: the prefix, then JSON
``{"host", "port", "pid", "status"}``."""

EXECUTOR_TAG = "bakehouse/executor"
"""A run tag naming the executor to use (``in_process`` or ``multiprocess``); `bh launch
--executor` sets it, and it reaches the run worker however the run is started."""

LOCATIONS_TAG = "bakehouse/locations"
"""A run tag listing, comma-separated, the code locations whose run workers execute the run."""

# A run worker that storage refused (disk full, read-only, connection lost) exits with this code
# after printing one line to stderr: this prefix and the storage error's message (one line). The
# coordinator reads it from the worker's log and records it as the run's failure.
STORAGE_FAILED_EXIT = 3
STORAGE_FAILURE_PREFIX = "BAKEHOUSE_STORAGE_FAILURE "
