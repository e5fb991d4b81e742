"""An asset's status from its newest run and its latest materialization."""

from __future__ import annotations

from bakehouse.storage.records import AssetMaterializationRecord, RunRecord, RunStatus
from bakehouse.web.asset_status import statuses


def _run(run_id: str, status: RunStatus, *keys: str) -> RunRecord:
    return RunRecord(run_id=run_id, status=status, asset_selection=keys)


def _mat(key: str, run_id: str) -> AssetMaterializationRecord:
    return AssetMaterializationRecord(asset_key=key, run_id=run_id, storage_id=1, timestamp=10.0)


def test_each_state_follows_the_newest_run_that_includes_the_asset() -> None:
    runs = [  # newest first
        _run("r3", RunStatus.STARTED, "a", "b"),
        _run("r2", RunStatus.FAILURE, "c", "d"),
        _run("r1", RunStatus.QUEUED, "e"),
        _run("r0", RunStatus.SUCCESS, "a", "c", "f"),
    ]
    latest = {
        "a": _mat("a", "r0"),
        "b": _mat("b", "r3"),  # already materialized by the run still going
        "c": _mat("c", "r0"),
        "d": _mat("d", "r2"),  # the failed run materialized it before failing
        "f": _mat("f", "r0"),
    }
    found = statuses("abcdefg", runs, latest)
    assert {k: s.state for k, s in found.items()} == {
        "a": "running",
        "b": "materialized",
        "c": "failed",
        "d": "materialized",
        "e": "queued",
        "f": "materialized",
        "g": "never",
    }
    assert found["c"].run_id == "r2"
    assert found["c"].materialized_run == "r0"
    assert found["g"].run_id is None
