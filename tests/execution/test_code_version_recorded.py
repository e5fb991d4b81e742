"""A materialization records its asset's code version (Dagster's dagster/code_version), so the
asset index can tell later that the definition's code version changed."""

from __future__ import annotations

from pathlib import Path

import bakehouse as dg
from bakehouse.storage import EventType, Instance


@dg.asset(code_version="v3")
def versioned() -> int:
    return 1


@dg.asset
def unversioned() -> int:
    return 2


def test_each_materialization_records_the_code_version_its_asset_had(tmp_path: Path) -> None:
    with Instance.for_home(tmp_path / "home") as instance:
        result = dg.materialize([versioned, unversioned], instance=instance)
        assert result.success
        events = instance.get_events(result.run_id, event_types=[EventType.ASSET_MATERIALIZATION])
        recorded = {e.asset_key: e.data.get("code_version") for e in events}
        assert recorded == {"versioned": "v3", "unversioned": None}
        latest = instance.get_latest_materializations()
        assert latest["versioned"].code_version == "v3"
        assert latest["unversioned"].code_version is None
