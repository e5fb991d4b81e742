"""A location's snapshot says how each asset and job is partitioned, as plain data."""

from __future__ import annotations

import bakehouse as dg
from bakehouse.codeserver.loader import build_snapshot
from bakehouse.protocol import snapshot

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="Europe/Berlin")
REGIONS = dg.StaticPartitionsDefinition(["us", "eu"])


@dg.asset(partitions_def=DAILY)
def visits() -> int:
    return 1


@dg.asset(partitions_def=dg.MultiPartitionsDefinition({"date": DAILY, "region": REGIONS}))
def orders() -> int:
    return 1


@dg.asset(partitions_def=dg.DynamicPartitionsDefinition(name="customers"))
def customer() -> int:
    return 1


@dg.asset
def summary(visits: dict[str, int]) -> int:
    return len(visits)


def test_partitions_travel_in_the_snapshot_and_survive_the_codec() -> None:
    job = dg.define_asset_job("daily_visits", selection=[visits], partitions_def=DAILY)
    defs = dg.Definitions(assets=[visits, orders, customer, summary], jobs=[job])
    snap = build_snapshot(defs, name="shop", module="shop", load_seconds=0.0)

    decoded = snapshot.loads(snapshot.dumps(snap))

    assert isinstance(decoded, snapshot.LocationSnap)
    nodes = {a.key: a for a in decoded.assets}
    daily = snapshot.TimeWindowPartitionsSnap(
        cron_schedule="0 0 * * *",
        start="2024-01-01T00:00:00+01:00",
        timezone="Europe/Berlin",
        fmt="%Y-%m-%d",
        schedule_type="DAILY",
    )
    assert nodes["visits"].partitions == daily
    assert nodes["summary"].partitions is None
    assert nodes["customer"].partitions == snapshot.DynamicPartitionsSnap(name="customers")
    multi = nodes["orders"].partitions
    assert isinstance(multi, snapshot.MultiPartitionsSnap)
    assert [d.name for d in multi.dimensions] == ["date", "region"]
    assert multi.dimensions[0].partitions == daily
    assert multi.dimensions[1].partitions == snapshot.StaticPartitionsSnap(keys=("us", "eu"))
    (job_snap,) = decoded.jobs
    assert job_snap.partitions == daily
