"""`build_last_update_freshness_checks` and `build_sensor_for_freshness_checks`, Dagster's
documented examples run in-process against a real instance: a fresh asset passes, one last
materialized before the lower bound is overdue (WARN, Dagster's default severity), one never
materialized fails; the checks carry Dagster's metadata keys."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.codeserver.loader import build_snapshot
from bakehouse.errors import DefinitionError
from bakehouse.execution.materialize import AssetCheckEvaluation
from bakehouse.storage import Instance
from tests.support.materializations import store_materialization


@dg.asset
def hourly_sales() -> int:
    return 12


feed = dg.AssetSpec("feed")

checks = dg.build_last_update_freshness_checks(
    assets=[hourly_sales, feed], lower_bound_delta=timedelta(hours=1)
)


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[str, AssetCheckEvaluation]:
    return {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}


def test_a_fresh_asset_passes_and_says_until_when(tmp_path: Path) -> None:
    with Instance.for_home(tmp_path / "home") as instance:
        result = dg.materialize([hourly_sales, *checks], instance=instance)
        found = _evaluations(result)
    assert found["hourly_sales"].passed
    metadata = found["hourly_sales"].metadata
    assert metadata["dagster/freshness_params"].value == {
        "lower_bound_delta_seconds": 3600.0,
        "timezone": "UTC",
    }
    fresh_until = metadata["dagster/fresh_until_timestamp"].value
    assert time.time() + 3500 < fresh_until < time.time() + 3700
    # Checked in the same run: the external feed was never materialized.
    assert not found["feed"].passed
    assert found["feed"].description == "Asset has never been materialized."


def test_an_asset_updated_before_the_lower_bound_is_overdue_with_warn_severity(
    tmp_path: Path,
) -> None:
    with Instance.for_home(tmp_path / "home") as instance:
        store_materialization(instance, "hourly_sales", time.time() - 3 * 3600)
        result = dg.materialize(
            [hourly_sales, *checks],
            instance=instance,
            selection=dg.AssetSelection.checks(*checks),
        )
        found = _evaluations(result)
    assert not found["hourly_sales"].passed
    assert found["hourly_sales"].severity == dg.AssetCheckSeverity.WARN
    assert found["hourly_sales"].description is not None
    assert found["hourly_sales"].description.startswith("Asset is overdue: updated 3 hours")
    assert "dagster/fresh_until_timestamp" not in found["hourly_sales"].metadata


def test_a_deadline_cron_judges_by_its_latest_tick(tmp_path: Path) -> None:
    every_minute = dg.build_last_update_freshness_checks(
        assets=[hourly_sales], lower_bound_delta=timedelta(minutes=30), deadline_cron="* * * * *"
    )
    with Instance.for_home(tmp_path / "home") as instance:
        store_materialization(instance, "hourly_sales", time.time() - 10 * 60)
        result = dg.materialize(
            [hourly_sales, *every_minute],
            instance=instance,
            selection=dg.AssetSelection.checks(*every_minute),
        )
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed
    assert "dagster/latest_cron_tick_timestamp" in evaluation.metadata


def test_the_sensor_is_described_in_the_snapshot_for_the_daemon() -> None:
    sensor = dg.build_sensor_for_freshness_checks(freshness_checks=checks, tags={"team": "ops"})
    snap = build_snapshot(
        dg.Definitions(assets=[hourly_sales, feed], asset_checks=checks, sensors=[sensor]),
        name="loc",
        module="m",
        load_seconds=0,
    )
    (sensor_snap,) = snap.sensors
    assert sensor_snap.name == "freshness_checks_sensor"
    assert sensor_snap.kind == "freshness_checks"
    assert sensor_snap.default_status == "STOPPED"
    assert sensor_snap.check_keys == ("feed:freshness_check", "hourly_sales:freshness_check")
    assert sensor_snap.run_tags == {"team": "ops"}
    check_snaps = {c.asset_key: c for c in snap.asset_checks}
    assert check_snaps["feed"].metadata["dagster/freshness_params"]["type"] == "json"


def test_mistakes_are_refused_where_they_are_written() -> None:
    with pytest.raises(DefinitionError, match="assets are given twice: hourly_sales"):
        dg.build_last_update_freshness_checks(
            assets=[hourly_sales, "hourly_sales"], lower_bound_delta=timedelta(hours=1)
        )
    with pytest.raises(DefinitionError, match="deadline_cron 'daily'"):
        dg.build_last_update_freshness_checks(
            assets=[hourly_sales], lower_bound_delta=timedelta(hours=1), deadline_cron="daily"
        )

    @dg.asset_check(asset=hourly_sales)
    def positive() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    with pytest.raises(DefinitionError, match="hourly_sales:positive are not freshness checks"):
        dg.build_sensor_for_freshness_checks(freshness_checks=[positive])
