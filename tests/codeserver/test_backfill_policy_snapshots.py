"""An asset's BackfillPolicy travels in the location snapshot, and a snapshot from an older code
server (no policy field) decodes with none."""

from __future__ import annotations

import json

import bakehouse as dg
from bakehouse.codeserver.loader import build_snapshot
from bakehouse.protocol import snapshot

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def whole() -> None: ...


@dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.multi_run(7))
def weekly_chunks() -> None: ...


@dg.asset(partitions_def=DAILY)
def plain() -> None: ...


def test_policies_travel_in_the_snapshot_and_older_snapshots_have_none() -> None:
    defs = dg.Definitions(assets=[whole, weekly_chunks, plain])
    built = build_snapshot(defs, name="shop", module="shop", load_seconds=0.0)
    text = snapshot.dumps(built)
    decoded = snapshot.loads(text)
    assert decoded == built
    assert isinstance(decoded, snapshot.LocationSnap)
    policies = {a.key: a.backfill_policy for a in decoded.assets}
    assert policies == {
        "whole": snapshot.BackfillPolicySnap(max_partitions_per_run=None),
        "weekly_chunks": snapshot.BackfillPolicySnap(max_partitions_per_run=7),
        "plain": None,
    }

    # An older code server sends asset nodes without the field.
    envelope = json.loads(text)
    for node in envelope["body"]["assets"]:
        node.pop("backfill_policy")
    old = snapshot.loads(json.dumps(envelope))
    assert isinstance(old, snapshot.LocationSnap)
    assert {a.backfill_policy for a in old.assets} == {None}
