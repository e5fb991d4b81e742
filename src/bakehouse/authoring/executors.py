"""Executors: how a run's steps are executed. Chosen per `Definitions` or per job."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bakehouse.errors import DefinitionError

# The multiprocess executor's config is checked when the definition is made, so that a typo
# fails at import rather than when a run starts. (The in-process executor ignores its config.)
_MULTIPROCESS_CONFIG = ("max_concurrent", "start_method")
_START_METHODS = ("fork", "spawn")
# The keys of each executor that takes config; `bakehouse_celery` checks the celery executor's
# values itself when it builds its app.
_CONFIG_KEYS = {
    "multiprocess": _MULTIPROCESS_CONFIG,
    "celery": ("broker", "backend", "include", "config_source", "retries", "worker_timeout"),
}


def _check_config(name: str, config: dict[str, Any]) -> None:
    accepted = _CONFIG_KEYS.get(name)
    if accepted is None:
        return
    unknown = sorted(set(config) - set(accepted))
    if unknown:
        raise DefinitionError(
            f"executor '{name}' has no config {unknown} (it accepts: {', '.join(accepted)})"
        )
    if name != "multiprocess":
        return
    limit = config.get("max_concurrent")
    if limit is not None and (type(limit) is not int or limit < 1):
        raise DefinitionError(
            f"executor '{name}': max_concurrent must be a whole number of at least 1, not {limit!r}"
        )
    method = config.get("start_method")
    if method is not None and method not in _START_METHODS:
        raise DefinitionError(
            f"executor '{name}': start_method must be one of {', '.join(_START_METHODS)}, "
            f"not {method!r}"
        )


@dataclass(frozen=True)
class ExecutorDefinition:
    """Names an executor and its configuration; the run worker picks the implementation."""

    name: str
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_config(self.name, self.config)

    def configured(self, config: dict[str, Any]) -> ExecutorDefinition:
        """This executor with `config` (e.g. ``{"max_concurrent": 4}``)."""
        return ExecutorDefinition(self.name, {**self.config, **config})


in_process_executor = ExecutorDefinition("in_process")
"""Runs every step one after another in the run worker's own process."""

multiprocess_executor = ExecutorDefinition("multiprocess")
"""Runs independent steps in parallel in warm worker processes forked from the run worker.

Config: ``max_concurrent`` (steps at once; default ``os.cpu_count()``) and ``start_method``
(``"fork"``, the default where the platform has it, or ``"spawn"``). The default executor of
runs launched through a run worker; ``materialize()`` always runs in process.
"""
