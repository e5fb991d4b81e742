"""A location's snapshot carries its asset checks through the codec, and the host's global graph
places each check beside its asset, from whichever location defines it."""

from __future__ import annotations

import bakehouse as dg
from bakehouse.codeserver.loader import build_snapshot
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.protocol import snapshot


@dg.asset
def orders() -> list[int]:
    return [1]


@dg.asset(check_specs=[dg.AssetCheckSpec("fresh", asset="totals", description="recent")])
def totals() -> dg.MaterializeResult:
    return dg.MaterializeResult(check_results=[dg.AssetCheckResult(passed=True)])


@dg.asset_check(asset=orders, blocking=True, additional_deps=["totals"])
def has_rows(orders: list[int]) -> dg.AssetCheckResult:
    """Orders is never empty."""
    return dg.AssetCheckResult(passed=bool(orders))


@dg.asset_check(asset="customers")
def customers_ok() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _snap(name: str, defs: dg.Definitions) -> snapshot.LocationSnap:
    built = build_snapshot(defs, name=name, module=name, load_seconds=0.0)
    decoded = snapshot.loads(snapshot.dumps(built))
    assert isinstance(decoded, snapshot.LocationSnap)
    assert decoded == built  # the codec loses nothing
    return decoded


def test_checks_travel_in_the_snapshot_and_survive_the_codec() -> None:
    snap = _snap("shop", dg.Definitions(assets=[orders, totals], asset_checks=[has_rows]))
    by_name = {c.name: c for c in snap.asset_checks}
    assert by_name["has_rows"] == snapshot.AssetCheckSnap(
        name="has_rows",
        asset_key="orders",
        description="Orders is never empty.",
        blocking=True,
        step_key="orders_has_rows",
        additional_deps=("totals",),
        source_file=__file__,
        source_line=has_rows.source.line if has_rows.source else None,
    )
    assert by_name["fresh"].step_key == "totals"  # evaluated in its asset's own step
    assert by_name["fresh"].description == "recent"


def test_an_older_snapshot_without_checks_still_decodes() -> None:
    snap = _snap("shop", dg.Definitions(assets=[orders]))
    text = snapshot.dumps(snap).replace(',"asset_checks":[]', "")
    assert "asset_checks" not in text
    decoded = snapshot.loads(text)
    assert isinstance(decoded, snapshot.LocationSnap)
    assert decoded.asset_checks == ()


def test_the_global_graph_places_checks_by_asset_across_locations() -> None:
    shop = _snap("shop", dg.Definitions(assets=[orders, totals], asset_checks=[has_rows]))
    crm = _snap("crm", dg.Definitions(asset_checks=[customers_ok]))
    graph = GlobalAssetGraph([shop, crm])
    assert [(c.check.name, c.location) for c in graph.checks["orders"]] == [("has_rows", "shop")]
    # "customers" is defined nowhere: its check is reported, naming where it was written.
    [missing] = graph.checks_of_missing_assets()
    assert (missing.check.name, missing.location) == ("customers_ok", "crm")
    assert missing.check.source_file == __file__

    @dg.asset(name="customers")
    def customers_asset() -> int:
        return 1

    people = _snap("people", dg.Definitions(assets=[customers_asset]))
    assert GlobalAssetGraph([shop, crm, people]).checks_of_missing_assets() == []
