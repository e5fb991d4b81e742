"""A job of ops carries its top-level ops' `Config` schemas in the snapshot (the host scaffolds
and checks launchpad config from them); an asset job and an op without a Config carry none."""

from __future__ import annotations

import bakehouse as dg
from bakehouse.codeserver.loader import build_snapshot
from bakehouse.protocol import snapshot


class KneadConfig(dg.Config):
    minutes: int
    flour: str = "rye"


@dg.op
def knead(config: KneadConfig) -> int:
    return config.minutes


@dg.op
def rest(kneaded: int) -> int:
    return kneaded


@dg.job
def dough_job() -> None:
    rest(knead())


@dg.asset
def loaf() -> int:
    return 1


def test_op_config_schemas_travel_in_the_snapshot() -> None:
    defs = dg.Definitions(
        assets=[loaf], jobs=[dough_job, dg.define_asset_job("loaf_job", selection=[loaf])]
    )
    built = build_snapshot(defs, name="bakery", module="bakery", load_seconds=0.0)
    decoded = snapshot.loads(snapshot.dumps(built))
    assert isinstance(decoded, snapshot.LocationSnap)
    jobs = {j.name: j for j in decoded.jobs}
    schemas = jobs["dough_job"].op_config_schemas
    assert list(schemas) == ["knead"]
    assert schemas["knead"]["required"] == ["minutes"]
    assert schemas["knead"]["properties"]["flour"]["default"] == "rye"
    assert jobs["loaf_job"].op_config_schemas == {}
