"""Queue runs through the host's launch service, as every entry point does."""

from __future__ import annotations

from collections.abc import Mapping

from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.launching import plan_run, submit
from bakehouse.storage import Instance, RunRecord


def queue_run(
    instance: Instance,
    graph: GlobalAssetGraph,
    keys: list[str],
    *,
    tags: Mapping[str, str] | None = None,
    partition_key: str | None = None,
) -> RunRecord:
    """Plan a run of `keys` against `graph` and store it QUEUED."""
    plan = plan_run(
        graph,
        dynamic_keys=instance.get_dynamic_partitions,
        asset_keys=keys,
        tags=tags,
        partition_key=partition_key,
    )
    return submit(instance, plan)
