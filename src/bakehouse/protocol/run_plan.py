"""The run plan: what one run worker executes, resolved once by the host's launch service.

The host resolves a launch (selection or job, checks, partition, config, tags) against the
snapshots before the run is stored; each run worker is handed the part of the plan that its
location executes and resolves nothing again. A `Record` written by `bakehouse.serdes` inside
the protocol's envelope (`protocol.envelope`), as snapshots are; never pickled.
"""

from __future__ import annotations

from typing import Any

from bakehouse.protocol import envelope
from bakehouse.serdes import Record


class RunPlan(Record, frozen=True, kw_only=True):
    """A run resolved: the assets and checks it runs, of which partition, with which config."""

    run_id: str
    # Materializable asset keys, in dependency order.
    asset_keys: tuple[str, ...] = ()
    # Asset checks evaluated, as ``asset/key:check_name``.
    check_keys: tuple[str, ...] = ()
    job_name: str | None = None
    selection_query: str | None = None
    partition_key: str | None = None
    # (first, last) for a run of a range of partitions; never together with partition_key.
    partition_range: tuple[str, str] | None = None
    # Validated against the snapshots' config schemas; a job's default config when none given.
    run_config: dict[str, Any] = {}
    # The job's tags under the caller's.
    tags: dict[str, str] = {}
    # The code locations whose run workers execute it, by name.
    locations: tuple[str, ...] = ()


def dumps(plan: RunPlan) -> str:
    """JSON for `plan`, with the protocol version."""
    return envelope.dumps(plan)


def loads(text: str | bytes) -> RunPlan:
    """Parse what `dumps` wrote; a wrong version or shape is a `ProtocolError`."""
    plan: RunPlan = envelope.loads(text, RunPlan, what="run plan")
    return plan
