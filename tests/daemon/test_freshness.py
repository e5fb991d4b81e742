"""The freshness loop on every storage backend (a SQLite file and PostgreSQL): policies from a
snapshot built in this process, materializations stored by hand, time moved by an injected
clock; what it stores is read back as asset check results."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import bakehouse as dg
from bakehouse.codeserver.loader import build_snapshot
from bakehouse.daemon.freshness import FreshnessDaemon
from bakehouse.errors import DefinitionError
from bakehouse.host.freshness import POLICY_CHECK_NAME, freshness_of_result
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.storage import Instance
from tests.storage import conftest as storage_fixtures
from tests.support.materializations import store_materialization

backend = storage_fixtures.backend
db_url = storage_fixtures.db_url
open_instance = storage_fixtures.open_instance
postgres_database = storage_fixtures.postgres_database
instance = storage_fixtures.instance

HOUR = 3600.0


def at(day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc).timestamp()


@dg.asset(
    freshness_policy=dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=24), warn_window=timedelta(hours=12)
    )
)
def orders() -> int:
    return 1


@dg.asset(
    freshness_policy=dg.FreshnessPolicy.cron(
        deadline_cron="0 10 * * *", lower_bound_delta=timedelta(hours=1)
    )
)
def daily_report() -> int:
    return 2


@dg.asset
def unwatched() -> int:
    return 3


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def daemon(instance: Instance, clock: Clock) -> FreshnessDaemon:
    snap = build_snapshot(
        dg.Definitions(assets=[orders, daily_report, unwatched]),
        name="loc",
        module="m",
        load_seconds=0,
    )
    graph = GlobalAssetGraph([snap])
    return FreshnessDaemon(instance, lambda: graph, clock=clock)


def stored(instance: Instance, key: str) -> list[tuple[str, str]]:
    """(state, description) of every stored evaluation of `key`'s policy, oldest first."""
    found = []
    for event in reversed(instance.get_asset_check_history(key)):
        if event.data.get("check_name") == POLICY_CHECK_NAME:
            assert event.run_id == ""
            result = freshness_of_result(event.data, event.timestamp, event.run_id)
            assert result is not None
            found.append((result.state, result.description))
    return found


def test_a_time_window_policy_goes_fresh_stale_overdue_and_back_storing_only_changes(
    instance: Instance,
) -> None:
    clock = Clock(at(1, 8))
    loop = daemon(instance, clock)
    loop.tick()
    assert stored(instance, "orders") == [("UNKNOWN", "never materialized")]
    assert stored(instance, "unwatched") == []

    store_materialization(instance, "orders", at(1, 9))
    clock.now = at(1, 10)
    loop.tick()
    loop.tick()  # the same state again: nothing more is stored
    clock.now = at(1, 21, 30)  # 12 h 30 min old: past the warn window
    loop.tick()
    clock.now = at(2, 12)  # 27 h old: past the fail window
    loop.tick()
    assert stored(instance, "orders") == [
        ("UNKNOWN", "never materialized"),
        ("PASS", "last updated 1 h ago, fail window 24 h"),
        ("WARN", "last updated 12 h ago, warn window 12 h, fail window 24 h"),
        ("FAIL", "last updated 27 h ago, fail window 24 h"),
    ]

    store_materialization(instance, "orders", at(2, 12, 5))
    clock.now = at(2, 12, 6)
    loop.tick()
    assert stored(instance, "orders")[-1] == ("PASS", "last updated 1 min ago, fail window 24 h")


def test_a_cron_policy_fails_after_a_deadline_missed_and_passes_once_materialized(
    instance: Instance,
) -> None:
    clock = Clock(at(1, 10, 30))
    loop = daemon(instance, clock)
    store_materialization(instance, "daily_report", at(1, 9, 30))  # inside 09:00-10:00
    loop.tick()
    clock.now = at(2, 9, 59)  # before the next deadline: still judged on day 1's window
    loop.tick()
    clock.now = at(2, 10, 1)  # day 2's deadline passed without a materialization
    loop.tick()
    store_materialization(instance, "daily_report", at(2, 10, 30))  # late, but after 09:00
    clock.now = at(2, 10, 31)
    loop.tick()
    states = [state for state, _ in stored(instance, "daily_report")]
    assert states == ["PASS", "FAIL", "PASS"]
    assert stored(instance, "daily_report")[1][1] == (
        "last updated 24 h ago, not in the 1 h before the last deadline 0 10 * * * (UTC)"
    )


def test_a_restarted_daemon_reads_the_stored_state_instead_of_storing_it_again(
    instance: Instance,
) -> None:
    clock = Clock(at(1, 10))
    store_materialization(instance, "orders", at(1, 9))
    daemon(instance, clock).tick()
    assert daemon(instance, clock).tick() == {}
    assert len(stored(instance, "orders")) == 1


def test_a_changed_policy_is_judged_again_and_stored_even_in_the_same_state(
    instance: Instance,
) -> None:
    clock = Clock(at(1, 10))
    store_materialization(instance, "orders", at(1, 9))
    daemon(instance, clock).tick()
    looser = dg.AssetSpec(
        "orders",
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=48)),
    )
    snap = build_snapshot(dg.Definitions(assets=[looser]), name="loc", module="m", load_seconds=0)
    graph = GlobalAssetGraph([snap])
    FreshnessDaemon(instance, lambda: graph, clock=clock).tick()
    assert stored(instance, "orders") == [
        ("PASS", "last updated 1 h ago, fail window 24 h"),
        ("PASS", "last updated 1 h ago, fail window 2 d"),
    ]


def test_policies_are_checked_where_they_are_written() -> None:
    with pytest.raises(DefinitionError, match=r"warn_window .* must be less than fail_window"):
        dg.FreshnessPolicy.time_window(
            fail_window=timedelta(hours=1), warn_window=timedelta(hours=2)
        )
    with pytest.raises(DefinitionError, match="cannot be less than 1 minute"):
        dg.FreshnessPolicy.time_window(fail_window=timedelta(seconds=30))
    with pytest.raises(DefinitionError, match="not a cron string"):
        dg.FreshnessPolicy.cron(deadline_cron="every day", lower_bound_delta=timedelta(hours=1))
    with pytest.raises(DefinitionError, match="must fit within the smallest interval"):
        dg.FreshnessPolicy.cron(deadline_cron="0 * * * *", lower_bound_delta=timedelta(hours=2))
    not_a_policy: Any = "daily"
    with pytest.raises(DefinitionError, match="freshness_policy must be a FreshnessPolicy"):
        dg.AssetSpec("wrong", freshness_policy=not_a_policy)
