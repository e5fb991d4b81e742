"""Staleness on a large graph: `host.staleness.staleness` for every asset of a layered graph
of N assets (10 layers, 2 upstream each), from a real SQLite asset index.

    PYTHONPATH=src .venv/bin/python bench/staleness_bench.py [N ...]

Prints, per N: the asset index read (`get_latest_materializations`, which the lineage view
makes anyway) and the staleness pass on top of it, best of 5.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.staleness import staleness
from bakehouse.protocol.snapshot import AssetNodeSnap, LocationSnap
from bakehouse.storage import EventRecord, EventType, Instance


def graph_of(n: int) -> GlobalAssetGraph:
    per_layer = max(n // 10, 1)
    nodes = []
    rng = random.Random(7)
    for i in range(n):
        layer = i // per_layer
        deps: tuple[str, ...] = ()
        if layer:
            start = (layer - 1) * per_layer
            deps = tuple(f"a{start + rng.randrange(per_layer):06d}" for _ in range(2))
        nodes.append(
            AssetNodeSnap(key=f"a{i:06d}", deps=deps, step_key=f"a{i:06d}", code_version="v2")
        )
    return GlobalAssetGraph([LocationSnap(name="loc", assets=tuple(nodes))])


def main(sizes: list[int]) -> None:
    for n in sizes:
        graph = graph_of(n)
        with tempfile.TemporaryDirectory() as folder, Instance.for_home(Path(folder)) as inst:
            keys = sorted(graph.assets)
            rng = random.Random(3)
            inst.store_events(
                EventRecord(
                    run_id="bench",
                    event_type=EventType.ASSET_MATERIALIZATION,
                    timestamp=float(i),
                    asset_key=key,
                    data={"code_version": rng.choice(["v1", "v2"])},
                )
                for i, key in enumerate(rng.sample(keys, len(keys)))
            )
            read_s, stale_s, found = [], [], {}
            for _ in range(5):
                started = time.perf_counter()
                latest = inst.get_latest_materializations(None)
                read_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                found = staleness(graph, keys, latest)
                stale_s.append(time.perf_counter() - started)
            print(
                f"{n:>7,} assets: index read {min(read_s) * 1000:7.1f} ms, staleness "
                f"{min(stale_s) * 1000:6.1f} ms ({len(found):,} unsynced)"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 5_000, 20_000])
