"""The asset views' cache key (`data_version`) on real SQLite: it moves with every write that
changes what the views show, and with the clock only where the graph changes with time."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.codeserver.loader import build_snapshot
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.storage import EventRecord, EventType, Instance, RunRecord, RunStatus
from bakehouse.web import data_version as dv
from bakehouse.web.data_version import VersionedCache, changes_with_time, data_version


@dg.asset
def plain() -> int:
    return 1


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
def split() -> int:
    return 1


@dg.asset(freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=1)))
def watched() -> int:
    return 1


def _graph(*assets: dg.AssetsDefinition) -> GlobalAssetGraph:
    snap = build_snapshot(
        dg.Definitions(assets=list(assets)), name="loc", module="m", load_seconds=0
    )
    return GlobalAssetGraph([snap])


def test_only_partitions_or_freshness_make_the_views_change_with_time() -> None:
    assert not changes_with_time(_graph(plain))
    assert changes_with_time(_graph(plain, split))
    assert changes_with_time(_graph(plain, watched))


def test_the_version_moves_with_events_and_run_updates_not_with_reads(tmp_path: Path) -> None:
    with Instance.for_home(tmp_path) as instance:
        empty = data_version(instance, clocked=False)
        assert data_version(instance, clocked=False) == empty
        instance.create_run(RunRecord(run_id="r1", asset_selection=("plain",)))
        queued = data_version(instance, clocked=False)
        assert queued != empty
        instance.store_event(
            EventRecord(
                run_id="r1",
                event_type=EventType.ASSET_MATERIALIZATION,
                asset_key="plain",
                timestamp=time.time(),
            )
        )
        stored = data_version(instance, clocked=False)
        assert stored != queued
        instance.update_run("r1", status=RunStatus.CANCELED)  # no event: the run's head moves
        assert data_version(instance, clocked=False) != stored


def test_the_clock_moves_the_version_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Instance.for_home(tmp_path) as instance:
        now = time.time()
        monkeypatch.setattr(time, "time", lambda: now)
        clocked, plain_version = data_version(instance), data_version(instance, clocked=False)
        monkeypatch.setattr(time, "time", lambda: now + dv.CLOCK_S)
        assert data_version(instance) != clocked
        assert data_version(instance, clocked=False) == plain_version


def test_the_cache_builds_once_per_key_and_forgets_the_least_recent() -> None:
    cache: VersionedCache[str] = VersionedCache(size=2)
    built: list[str] = []

    def build(value: str) -> str:
        built.append(value)
        return value

    assert cache.get("a", lambda: build("a")) == "a"
    assert cache.get("a", lambda: build("again")) == "a"
    cache.get("b", lambda: build("b"))
    cache.get("a", lambda: build("again"))  # a is now the most recent
    cache.get("c", lambda: build("c"))  # b goes
    cache.get("b", lambda: build("b2"))
    assert built == ["a", "b", "c", "b2"]
