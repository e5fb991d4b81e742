"""Turning a schedule's or sensor's run request into a queued run, at most once per run key.

A request's `partition_key` becomes the run's, as `bh launch --partition` makes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bakehouse.errors import RunNotFoundError, SelectionError
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.run_coordinator import RunCoordinator
from bakehouse.protocol.snapshot import LocationSnap

if TYPE_CHECKING:
    from bakehouse.storage import Instance


def request_keys(
    request: Mapping[str, Any], snapshot: LocationSnap, graph: GlobalAssetGraph
) -> list[str]:
    """The asset keys a run request targets: its own selection, else its job's assets."""
    selection = request.get("asset_selection")
    if selection:
        unknown = [k for k in selection if k not in graph.assets]
        if unknown:
            raise SelectionError(f"run request names unknown assets {unknown}")
        return graph.key_graph.toposort(selection)
    job_name = request.get("job_name")
    for job in snapshot.jobs:
        if job.name == job_name:
            return list(job.asset_keys)
    raise SelectionError(
        f"run request targets job {job_name!r}, which location '{snapshot.name}' does not define"
    )


def launch_request(
    *,
    instance: Instance,
    coordinator: RunCoordinator,
    graph: GlobalAssetGraph,
    snapshot: LocationSnap,
    origin: str,
    request: Mapping[str, Any],
    run_key: str | None,
    tags: Mapping[str, str],
) -> tuple[str, bool]:
    """Queue the run `request` asks for; returns (run id, True if it was created now).

    With a `run_key`, the key is claimed first: if it was claimed before, no second run is
    made, and a run lost between claim and creation (a killed daemon) is created then.
    """
    keys = request_keys(request, snapshot, graph)
    partition_key = request.get("partition_key")
    if partition_key is not None and not any(graph.assets[k].node.partitions for k in keys):
        # The code server checks keys against the definitions; this guards a request that
        # reached the host some other way.
        raise SelectionError(
            f"run request asks for partition {partition_key!r}, but none of {keys} is partitioned"
        )
    run_id = str(uuid.uuid4())
    if run_key is not None:
        claimed = instance.claim_run_key(origin, run_key, run_id)
        if claimed is not None:
            try:
                instance.get_run(claimed)
                return claimed, False
            except RunNotFoundError:
                run_id = claimed  # claimed by a daemon that died before creating the run
    run = coordinator.create_run(
        graph,
        keys,
        job_name=request.get("job_name"),
        tags={**tags, **(request.get("tags") or {})}
        | ({"bakehouse/run_key": run_key} if run_key else {}),
        run_config=request.get("run_config") or {},
        run_id=run_id,
        partition_key=partition_key,
    )
    return run.run_id, True
