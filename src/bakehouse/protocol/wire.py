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

LOCATION_NAME_ENV = "BAKEHOUSE_LOCATION_NAME"
"""The environment variable naming the code location a host-started process serves (a run
worker's celery executor sends steps to the queue of that name)."""

DEFAULT_EXECUTOR_ENV = "BAKEHOUSE_DEFAULT_EXECUTOR"
"""The environment variable holding the deployment's default executor
(``[tool.bakehouse.executor]``) as JSON ``{"name": ..., "config": {...}}``: a run worker uses it
when neither the run, its job nor the definitions name one."""

LOCATIONS_TAG = "bakehouse/locations"
"""A run tag listing, comma-separated, the code locations whose run workers execute the run."""

# A run worker that storage refused (disk full, read-only, connection lost) exits with this code
# after printing one line to stderr: this prefix and the storage error's message (one line). The
# coordinator reads it from the worker's log and records it as the run's failure.
STORAGE_FAILED_EXIT = 3
STORAGE_FAILURE_PREFIX = "BAKEHOUSE_STORAGE_FAILURE "

DEFS_ERRORS_ENV = "BAKEHOUSE_DEFS_ERRORS"
"""An environment variable the host sets for a location's code server and run workers from the
project's ``defs_errors`` setting: ``isolate`` (a module under the defs folder that fails to load
is skipped and reported in the snapshot) or ``fail`` (it fails the location). Unset: isolate."""
