"""Freshness policies and freshness checks, from the examples of Dagster's freshness guides
(docs/guides/observe/asset-freshness-policies, guides/test/data-freshness-testing), run
unchanged but for ``import bakehouse as dg``: they load, and the snapshot carries what the
host's daemon evaluates."""

from __future__ import annotations

from datetime import timedelta

import bakehouse as dg
from bakehouse.codeserver.loader import build_snapshot


def test_the_guides_time_window_and_cron_policies_load_into_the_snapshot() -> None:
    # Fresh if materialized in the last 24 hours, warning after 12.
    policy = dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=24), warn_window=timedelta(hours=12)
    )

    @dg.asset(freshness_policy=policy)
    def hourly_asset() -> None: ...

    @dg.asset(
        freshness_policy=dg.FreshnessPolicy.cron(
            deadline_cron="0 10 * * *",
            lower_bound_delta=timedelta(hours=1),
            timezone="America/Los_Angeles",
        )
    )
    def daily_asset() -> None:
        """Expected to materialize every day between 9:00am and 10:00am Pacific Time."""

    spec = dg.AssetSpec("external_table", freshness_policy=policy)
    snap = build_snapshot(
        dg.Definitions(assets=[hourly_asset, daily_asset, spec]),
        name="loc",
        module="m",
        load_seconds=0,
    )
    policies = {a.key: a.freshness_policy for a in snap.assets}
    hourly, daily, external = (
        policies["hourly_asset"],
        policies["daily_asset"],
        policies["external_table"],
    )
    assert hourly is not None
    assert (hourly.kind, hourly.fail_window_seconds, hourly.warn_window_seconds) == (
        "time_window",
        86400.0,
        43200.0,
    )
    assert daily is not None
    assert (daily.kind, daily.deadline_cron, daily.lower_bound_delta_seconds, daily.timezone) == (
        "cron",
        "0 10 * * *",
        3600.0,
        "America/Los_Angeles",
    )
    assert external == hourly


def test_the_testing_guides_freshness_check_and_sensor_load() -> None:
    @dg.asset
    def hourly_sales() -> int:
        return 1

    hourly_sales_freshness_check = dg.build_last_update_freshness_checks(
        assets=[hourly_sales],
        lower_bound_delta=timedelta(hours=1),
    )
    freshness_checks_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=hourly_sales_freshness_check
    )
    defs = dg.Definitions(
        assets=[hourly_sales],
        asset_checks=hourly_sales_freshness_check,
        sensors=[freshness_checks_sensor],
    )
    snap = build_snapshot(defs, name="loc", module="m", load_seconds=0)
    (check,) = snap.asset_checks
    assert (check.asset_key, check.name) == ("hourly_sales", "freshness_check")
    (sensor,) = snap.sensors
    assert (sensor.name, sensor.kind, sensor.minimum_interval_seconds) == (
        "freshness_checks_sensor",
        "freshness_checks",
        30,
    )
    result = dg.materialize([hourly_sales, *hourly_sales_freshness_check])
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed
