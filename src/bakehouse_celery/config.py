"""The celery executor's config, checked once: what the run's side and the workers build their
Celery app from."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bakehouse.errors import ExecutionError

DEFAULT_BACKEND = "rpc://"
DEFAULT_WORKER_TIMEOUT = 60.0


def default_broker() -> str:
    """Dagster's default: RabbitMQ on ``BAKEHOUSE_CELERY_BROKER_HOST`` (else localhost)."""
    return f"pyamqp://guest@{os.environ.get('BAKEHOUSE_CELERY_BROKER_HOST', 'localhost')}//"


@dataclass(frozen=True)
class CeleryConfig:
    """Where the broker and the result backend are, and how steps are retried."""

    broker: str
    backend: str = DEFAULT_BACKEND
    include: tuple[str, ...] = ()
    config_source: Mapping[str, Any] = field(default_factory=dict)
    retries_enabled: bool = True
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT

    @classmethod
    def from_executor_config(cls, config: Mapping[str, Any]) -> CeleryConfig:
        """Check `config` (the executor definition's); errors name the field at fault."""

        def text(key: str, default: str) -> str:
            value = config.get(key)
            if value is None:
                return default
            if not isinstance(value, str) or not value:
                raise ExecutionError(f"celery executor: {key} must be a URL string, not {value!r}")
            return value

        include = config.get("include") or []
        if not isinstance(include, (list, tuple)) or not all(isinstance(m, str) for m in include):
            raise ExecutionError(
                f"celery executor: include must be a list of module names, not {include!r}"
            )
        source = config.get("config_source") or {}
        if not isinstance(source, Mapping):
            raise ExecutionError(
                f"celery executor: config_source must be a mapping of Celery settings, not "
                f"{source!r}"
            )
        retries = config.get("retries") or {"enabled": {}}
        if (
            not isinstance(retries, Mapping)
            or len(retries) != 1
            or next(iter(retries))
            not in (
                "enabled",
                "disabled",
            )
        ):
            raise ExecutionError(
                'celery executor: retries must be {"enabled": {}} or {"disabled": {}}, not '
                f"{retries!r}"
            )
        timeout = config.get("worker_timeout", DEFAULT_WORKER_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ExecutionError(
                f"celery executor: worker_timeout must be a number of seconds above 0, not "
                f"{timeout!r}"
            )
        return cls(
            broker=text("broker", default_broker()),
            backend=text("backend", DEFAULT_BACKEND),
            include=tuple(include),
            config_source=dict(source),
            retries_enabled="enabled" in retries,
            worker_timeout=float(timeout),
        )

    @property
    def is_redis(self) -> bool:
        """True when the broker is Redis (whose priorities run the other way)."""
        return self.broker.startswith(("redis://", "rediss://", "redis+socket://"))

    def to_json(self) -> str:
        """This config as the executor definition's config, in JSON (for `bh worker start`)."""
        return json.dumps(
            {
                "broker": self.broker,
                "backend": self.backend,
                "include": list(self.include),
                "config_source": dict(self.config_source),
                "retries": {"enabled" if self.retries_enabled else "disabled": {}},
                "worker_timeout": self.worker_timeout,
            }
        )
