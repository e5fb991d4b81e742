"""Code-server cost of the snapshot codec: import it, build and dump a 1,000-asset snapshot.

Each sample runs in a fresh interpreter (as a code server starts), so module imports count.
Run with the dev venv: ``.venv/bin/python bench/snapshot_codec.py [--samples 7] [--assets 1000]``.
Prints the median and the spread in milliseconds, and the snapshot's size.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

PROBE = """
import time
started = time.perf_counter()
from bakehouse.protocol import snapshot as s
daily = s.TimeWindowPartitionsSnap(
    cron_schedule="0 0 * * *", start="2024-01-01T00:00:00+00:00", fmt="%Y-%m-%d"
)
assets = tuple(
    s.AssetNodeSnap(
        key=f"group{i % 10}/asset_{i}",
        deps=tuple(f"group{j % 10}/asset_{j}" for j in range(max(0, i - 3), i)),
        group=f"g{i % 10}",
        kinds=("python",),
        description="An asset that does things. " * 3,
        metadata={"owner": {"type": "text", "value": "me"}},
        tags={"team": "data"},
        step_key=f"asset_{i}",
        source_file="/project/src/pkg/defs/assets.py",
        source_line=i,
        partitions=daily if i % 3 == 0 else None,
    )
    for i in range(ASSETS)
)
text = s.dumps(s.LocationSnap(name="loc", assets=assets))
print((time.perf_counter() - started) * 1000, len(text))
"""


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--assets", type=int, default=1000)
    args = parser.parse_args()
    code = PROBE.replace("ASSETS", str(args.assets))
    times: list[float] = []
    size = 0
    for _ in range(args.samples):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        times.append(float(out[0]))
        size = int(out[1])
    print(
        f"import + build + dump of {args.assets} assets: median {statistics.median(times):.0f} ms "
        f"(min {min(times):.0f}, max {max(times):.0f}, {args.samples} samples), {size} bytes"
    )


if __name__ == "__main__":
    main()
