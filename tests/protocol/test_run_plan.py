"""A run plan crosses to the run worker in the protocol's envelope, as a snapshot does."""

from __future__ import annotations

import pytest

from bakehouse.errors import ProtocolError
from bakehouse.protocol import run_plan


def test_a_plan_round_trips_and_another_version_is_refused_by_name() -> None:
    plan = run_plan.RunPlan(
        run_id="r1",
        asset_keys=("a", "b/c"),
        partition_range=("2024-01-01", "2024-01-03"),
        run_config={"ops": {"a": {"config": {"n": 1}}}},
        tags={"team": "data"},
        locations=("shop",),
    )
    text = run_plan.dumps(plan)

    assert run_plan.loads(text) == plan
    with pytest.raises(ProtocolError, match="run plan protocol 9 is not one of"):
        run_plan.loads(text.replace('"protocol":2', '"protocol":9'))
    with pytest.raises(ProtocolError, match=r"corrupt run plan: .*\$\.body\.asset_keys"):
        run_plan.loads(text.replace('"asset_keys":["a","b/c"]', '"asset_keys":"a"'))
