"""Staleness from real storage on every backend: the asset index keeps each latest
materialization's code version (revision 0011 adds it to an index that has rows), and
`host.staleness` reads "upstream changed", "code version changed" and "never materialized" from
it and the snapshot."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.staleness import keys_to_read, staleness
from bakehouse.protocol.snapshot import AssetNodeSnap, LocationSnap
from bakehouse.storage import Instance, dialect, migrate, schema
from tests.storage.conftest import upgrade_to
from tests.support.materializations import store_materialization


def _graph(code_version: str | None) -> GlobalAssetGraph:
    nodes = (
        AssetNodeSnap(key="raw", step_key="raw"),
        AssetNodeSnap(key="clean", deps=("raw",), step_key="clean", code_version=code_version),
        AssetNodeSnap(key="report", deps=("clean",), step_key="report"),
        AssetNodeSnap(key="feed", is_external=True),
        AssetNodeSnap(key="fresh", deps=("feed",), step_key="fresh"),
    )
    return GlobalAssetGraph([LocationSnap(name="loc", assets=nodes)])


def test_upstream_changes_code_versions_and_never_materialized_are_told_apart(
    instance: Instance,
) -> None:
    store_materialization(instance, "raw", 1.0)
    store_materialization(instance, "clean", 2.0, data={"code_version": "v1"})
    store_materialization(instance, "report", 3.0)
    store_materialization(instance, "fresh", 4.0)
    graph = _graph("v1")
    keys = sorted(graph.assets)
    assert staleness(graph, keys, instance.get_latest_materializations(keys)) == {}
    assert instance.get_latest_materializations(["clean"])["clean"].code_version == "v1"

    store_materialization(instance, "raw", 5.0)  # raw moved on: clean is behind, report not yet
    changed = _graph("v2")  # and clean's code changed
    found = staleness(changed, keys, instance.get_latest_materializations(keys))
    assert set(found) == {"clean"}
    assert found["clean"].causes == ("upstream", "code")
    assert found["clean"].describe() == [
        "upstream changed since this materialization: raw",
        "code version changed: materialized with v1, now v2",
    ]

    store_materialization(instance, "clean", 6.0, data={"code_version": "v2"})
    found = staleness(changed, keys, instance.get_latest_materializations(keys))
    assert {k: s.causes for k, s in found.items()} == {"report": ("upstream",)}


def test_never_materialized_assets_are_unsynced_but_external_ones_are_not(
    instance: Instance,
) -> None:
    graph = _graph(None)
    wanted = keys_to_read(graph, ["report", "feed"])
    assert wanted == ["report", "feed", "clean"]
    found = staleness(graph, ["report", "feed"], instance.get_latest_materializations(wanted))
    assert {k: s.causes for k, s in found.items()} == {"report": ("never",)}


def test_revision_0011_keeps_the_index_rows_of_a_0010_database(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    upgrade_to(engine, "0010")
    row = {
        "asset_key": "raw",
        "last_materialization_storage_id": 7,
        "last_run_id": "r1",
        "last_materialization_timestamp": 1.5,
        "partition_key": None,
        "metadata": "{}",
    }
    with engine.connect() as conn:
        conn.execution_options(**dialect.WRITE_OPTIONS)
        with conn.begin():
            conn.execute(sa.table("asset_keys", *map(sa.column, row)).insert(), [row])
    with Instance.open(db_url, storage_dir=tmp_path / "storage") as instance:
        with engine.connect() as conn:
            assert migrate.current_revisions(conn) == migrate.known_revisions()[-1:]
            assert "code_version" in {c.name for c in schema.asset_keys.c}
        kept = instance.get_latest_materializations(["raw"])["raw"]
        assert (kept.storage_id, kept.run_id, kept.code_version) == (7, "r1", None)
