"""The Celery app both sides build from one `CeleryConfig`: the run's executor sends step tasks
with it, and `bh worker start` runs a worker of it.

Delivery is at least once and made exactly-once per attempt by a claim in storage (see
`tasks`): a task is acknowledged only after its step ran (``task_acks_late``), a task whose pool
process died is handed back to the broker (``task_reject_on_worker_lost``), and each worker
process takes one task at a time (prefetch 1), so a worker that dies holds no queued steps.
"""

from __future__ import annotations

import socket
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from bakehouse_celery.config import CeleryConfig

if TYPE_CHECKING:
    from celery import Celery

TASK_NAME = "bakehouse.execute_step"
# Priorities as RabbitMQ orders them (higher first); Redis's are turned around when sending.
MAX_PRIORITY = 9
DEFAULT_PRIORITY = 5
# How long Redis keeps a task that a worker took but did not acknowledge before it hands it out
# again. A worker that died leaves its started task there; the executor does not wait for it
# (it retries from the worker's missing heartbeat), and a redelivered attempt that was claimed
# already is dropped, so a short timeout only brings back tasks that were never started.
REDIS_VISIBILITY_TIMEOUT = 30


def make_app(config: CeleryConfig) -> Celery:
    """A Celery app for `config`, with the step task registered."""
    from celery import Celery

    app = Celery(
        "bakehouse", broker=config.broker, backend=config.backend, include=list(config.include)
    )
    transport: dict[str, object] = {}
    if config.is_redis:
        transport = {
            "visibility_timeout": REDIS_VISIBILITY_TIMEOUT,
            "queue_order_strategy": "priority",
            "priority_steps": list(range(MAX_PRIORITY + 1)),
        }
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_queue_max_priority=MAX_PRIORITY,
        task_default_priority=DEFAULT_PRIORITY,
        task_create_missing_queues=True,
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        result_expires=24 * 3600,
    )
    # The user's settings last, as Dagster passes config_source to Celery.
    app.conf.update(dict(config.config_source))
    from bakehouse_celery.tasks import execute_step_task

    app.task(name=TASK_NAME, bind=True, acks_late=True)(execute_step_task)
    return app


@cache
def host_id() -> str:
    """What tells this machine from others: /etc/machine-id where there is one, else the host
    name. (Network namespaces share it: they are one machine.)"""
    for path in (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id")):
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text:
            return text
    return socket.gethostname()


def task_id(run_id: str, attempt: int, step_key: str) -> str:
    """The Celery task id of one attempt of a step: readable in worker lists, parsed back by
    `parse_task_id`."""
    return f"bh:{run_id}:{attempt}:{step_key}"


def parse_task_id(text: str) -> tuple[str, int, str] | None:
    """(run id, attempt, step key) of a task id `task_id` made, or None."""
    parts = text.split(":", 3)
    if len(parts) != 4 or parts[0] != "bh" or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2]), parts[3]
