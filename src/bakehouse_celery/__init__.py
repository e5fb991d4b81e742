"""Celery for bakehouse: each step of a run is a Celery task, executed by workers that run in
their code location's own interpreter, on this host or others (Dagster's ``dagster_celery``).

```python
from bakehouse_celery import celery_executor

defs = dg.Definitions(
    assets=[...],
    executor=celery_executor.configured({"broker": "redis://broker:6379/0"}),
)
```

Workers: ``bh worker start --location NAME`` (see docs/deploying.md). Importing this package is
cheap: Celery itself is imported when a run or a worker needs it.
"""

from __future__ import annotations

from bakehouse.authoring.executors import ExecutorDefinition

QUEUE_TAG = "bakehouse-celery/queue"
"""An asset's op tag naming the queue its step goes to (default: its code location's name)."""

PRIORITY_TAG = "bakehouse-celery/priority"
"""An asset's op tag giving its step's priority, 0 (last) to 9 (first); default 5."""

RUN_PRIORITY_TAG = "bakehouse-celery/run_priority"
"""A run tag added to the priority of each of its steps (may be negative)."""

celery_executor = ExecutorDefinition("celery")
"""Executes each step as a Celery task on its code location's queue.

Config, as Dagster's ``celery_executor``: ``broker`` (default
``pyamqp://guest@localhost//``), ``backend`` (default ``rpc://``), ``include`` (modules every
worker imports), ``config_source`` (more Celery settings, lowercase names), ``retries``
(``{"enabled": {}}``, the default, or ``{"disabled": {}}``: steps' RetryPolicy ignored). And
bakehouse's ``worker_timeout`` (seconds, default 60): how long a step waits for a worker that
stopped heartbeating, or for any worker on its queue, before it is retried or failed.
"""

__all__ = ["PRIORITY_TAG", "QUEUE_TAG", "RUN_PRIORITY_TAG", "celery_executor"]
