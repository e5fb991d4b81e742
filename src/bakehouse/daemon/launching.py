"""A schedule's or sensor's run request, launched through the launch service once per run key.

The request arrives from the code server as data; it is planned like any launch
(`host.launching.plan_run`: same partition rule, same config check), so a request that does not
fit fails its tick with the message `bh launch` would print, and stores no run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bakehouse.errors import RunNotFoundError
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.launching import plan_run, submit
from bakehouse.protocol.snapshot import LocationSnap
from bakehouse.serdes import replace

if TYPE_CHECKING:
    from bakehouse.storage import Instance


def launch_request(
    *,
    instance: Instance,
    graph: GlobalAssetGraph,
    snapshot: LocationSnap,
    origin: str,
    request: Mapping[str, Any],
    run_key: str | None,
    tags: Mapping[str, str],
) -> tuple[str, bool]:
    """Queue the run `request` asks for; returns (run id, True if it was created now).

    Its job is looked up in the requesting location. With a `run_key`, the key is claimed
    first: if it was claimed before, no second run is made, and a run lost between claim and
    creation (a killed daemon) is created then. `tags` are the daemon's own; the request's
    are the user's, bounded like any caller's. Raises `LaunchError` for a request that does
    not fit.
    """
    plan = plan_run(
        graph,
        dynamic_keys=instance.get_dynamic_partitions,
        asset_keys=list(request.get("asset_selection") or ()),
        job_name=request.get("job_name"),
        job_location=snapshot.name,
        partition_key=request.get("partition_key"),
        run_config=request.get("run_config") or {},
        tags=request.get("tags") or {},
        system_tags={**tags, **({"bakehouse/run_key": run_key} if run_key else {})},
        check_keys=request.get("asset_check_keys"),
    )
    if run_key is not None:
        claimed = instance.claim_run_key(origin, run_key, plan.run_id)
        if claimed is not None:
            try:
                instance.get_run(claimed)
                return claimed, False
            except RunNotFoundError:
                # Claimed by a daemon that died before creating the run: create that very run.
                plan = replace(plan, run_id=claimed)
    return submit(instance, plan).run_id, True
