"""Each asset's status as the UI shows it, from recent runs and the latest materializations.

An asset is *running* (or *queued*) while the newest run that includes it is in progress and has
not materialized it yet, *failed* when that run failed or was canceled without materializing it,
*materialized* when it has a materialization, else *never* materialized. The lineage page's
script applies the same rule to the live updates it receives (``assetState`` in
``static/lineage.js``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bakehouse.storage.records import AssetMaterializationRecord, RunRecord, RunStatus

RECENT_RUNS = 50

_IN_PROGRESS = {
    RunStatus.QUEUED: "queued",
    RunStatus.STARTING: "running",
    RunStatus.STARTED: "running",
    RunStatus.CANCELING: "running",
}


@dataclass(frozen=True)
class AssetStatus:
    """One asset's state, its latest materialization, and the run that decided the state."""

    state: str
    materialized_at: float | None = None
    materialized_run: str | None = None
    run_id: str | None = None


def newest_run_by_asset(runs: Sequence[RunRecord]) -> dict[str, RunRecord]:
    """For each asset key in `runs` (newest first), the newest run that includes it."""
    newest: dict[str, RunRecord] = {}
    for run in runs:
        for key in run.asset_selection:
            newest.setdefault(key, run)
    return newest


def status_of(run: RunRecord | None, latest: AssetMaterializationRecord | None) -> AssetStatus:
    """The status of an asset whose newest run is `run` and latest materialization `latest`."""
    at = latest.timestamp if latest else None
    by = latest.run_id if latest else None
    if run is not None and by != run.run_id:
        waiting = _IN_PROGRESS.get(run.status)
        if waiting:
            return AssetStatus(waiting, at, by, run.run_id)
        if run.status in (RunStatus.FAILURE, RunStatus.CANCELED):
            return AssetStatus("failed", at, by, run.run_id)
    return AssetStatus("materialized" if latest else "never", at, by, run.run_id if run else None)


def statuses(
    keys: Iterable[str],
    runs: Sequence[RunRecord],
    latest: Mapping[str, AssetMaterializationRecord],
) -> dict[str, AssetStatus]:
    """The status of each of `keys`, from recent runs (newest first) and latest materializations."""
    newest = newest_run_by_asset(runs)
    return {key: status_of(newest.get(key), latest.get(key)) for key in keys}
