"""Executors: how a run's steps are executed. Chosen per `Definitions` or per job."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExecutorDefinition:
    """Names an executor and its configuration; the run worker picks the implementation."""

    name: str
    config: dict[str, Any] = field(default_factory=dict)

    def configured(self, config: dict[str, Any]) -> ExecutorDefinition:
        """This executor with `config` (e.g. ``{"max_concurrent": 4}``)."""
        return ExecutorDefinition(self.name, {**self.config, **config})


in_process_executor = ExecutorDefinition("in_process")
"""Runs every step one after another in the run worker's own process."""
