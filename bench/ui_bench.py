"""Time the web UI's graph on generated projects of 100, 1,000 and 5,000 assets.

For each size, a project from `gen_project.py` (shape ``layered``: 10 layers, each asset
taking two of the layer before) is served by a real ``bh dev`` and measured:

- ``layout``: `bakehouse.web.layout.layout_graph` alone, in this process, on the served graph;
- ``/api/assets`` and ``/api/graph``: the API's response (first call, then warm median);
- ``/lineage``: the page's server render, layout included on the first call;
- with Debian's chromium: the time from navigation until the canvas has drawn every node,
  and one frame's draw time at fit and at zoom 1 (pan and zoom redraw the same way).

Standard library plus this repository's dev venv (httpx, playwright). Usage:

    .venv/bin/python bench/ui_bench.py                 # 100, 1000, 5000
    .venv/bin/python bench/ui_bench.py --sizes 100 --reps 3 --json out.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _gen_project() -> Any:
    spec = importlib.util.spec_from_file_location("gen_project", HERE / "gen_project.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Dev:
    """``bh dev`` serving one project, stopped (with its children) on exit."""

    def __init__(self, project: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bakehouse", "dev", "--port", "0", "--no-reload"],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = ""

    def __enter__(self) -> Dev:
        assert self.process.stdout is not None
        seen = []
        for line in self.process.stdout:
            seen.append(line)
            match = re.search(r"Serving (http://[\d.]+:\d+)", line)
            if match:
                self.url = match.group(1)
                return self
        raise RuntimeError("bh dev did not start:\n" + "".join(seen))

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _timed(http: httpx.Client, path: str, reps: int) -> tuple[float, float, int]:
    """First call's seconds, the median of `reps` more, and the response size."""
    started = time.perf_counter()
    response = http.get(path)
    response.raise_for_status()
    first = time.perf_counter() - started
    warm = []
    for _ in range(reps):
        started = time.perf_counter()
        http.get(path).raise_for_status()
        warm.append(time.perf_counter() - started)
    return first, statistics.median(warm) if warm else first, len(response.content)


def _wait_loaded(http: httpx.Client, timeout: float = 600) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        states = http.get("/api/locations").json()
        if states and all(s["status"] == "LOADED" for s in states):
            return time.perf_counter() - started
        if any(s["status"] == "FAILED" for s in states):
            raise RuntimeError(f"the project failed to load: {states}")
        time.sleep(0.1)
    raise RuntimeError("the project did not load in time")


def _layout_seconds(assets: list[dict[str, Any]], reps: int) -> float:
    from bakehouse.web.layout import NodeSpec, layout_graph

    specs = [NodeSpec(a["key"], a["location"], a["group"], tuple(a["deps"])) for a in assets]
    times = []
    for _ in range(max(reps, 1)):
        started = time.perf_counter()
        layout_graph(specs)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _browser(url: str, count: int, reps: int) -> dict[str, float] | None:
    executable = shutil.which("chromium")
    if executable is None:
        return None
    from playwright.sync_api import sync_playwright

    drawn, in_page, fit_ms, zoom_ms = [], [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            for _ in range(max(reps, 1)):
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                started = time.perf_counter()
                page.goto(url + "/lineage", wait_until="commit")
                page.wait_for_function(
                    f"window.bhLineage && bhLineage.drawnNodes() === {count}", timeout=120_000
                )
                drawn.append(time.perf_counter() - started)
                in_page.append(page.evaluate("performance.now()") / 1000)
                fit_ms.append(
                    statistics.median(page.evaluate("bhLineage.redraw()") for _ in range(5))
                )
                page.evaluate("bhLineage.zoom(1)")
                zoom_ms.append(
                    statistics.median(page.evaluate("bhLineage.redraw()") for _ in range(5))
                )
                page.close()
        finally:
            browser.close()
    return {
        "drawn_s": statistics.median(drawn),
        "drawn_in_page_s": statistics.median(in_page),
        "frame_fit_ms": statistics.median(fit_ms),
        "frame_zoom1_ms": statistics.median(zoom_ms),
    }


def measure(root: Path, n: int, reps: int, with_browser: bool) -> dict[str, Any]:
    """Every number for one project size."""
    project = _gen_project().generate(root, "bakehouse", "layered", n)
    with Dev(project) as dev, httpx.Client(base_url=dev.url, timeout=300) as http:
        load_s = _wait_loaded(http)
        assets_first, assets_warm, assets_bytes = _timed(http, "/api/assets?limit=10000", reps)
        graph_first, graph_warm, graph_bytes = _timed(http, "/api/graph", reps)
        # A selection of every key is laid out anew (another cache entry): render + layout.
        page_first, _, _ = _timed(http, "/lineage?selection=*", 0)
        _, page_warm, page_bytes = _timed(http, "/lineage", reps)
        assets = http.get("/api/assets?limit=10000").json()
        row: dict[str, Any] = {
            "assets": n,
            "load_s": load_s,
            "layout_s": _layout_seconds(assets, reps),
            "api_assets_first_s": assets_first,
            "api_assets_warm_s": assets_warm,
            "api_assets_bytes": assets_bytes,
            "api_graph_first_s": graph_first,
            "api_graph_warm_s": graph_warm,
            "api_graph_bytes": graph_bytes,
            "lineage_render_with_layout_s": page_first,
            "lineage_render_warm_s": page_warm,
            "lineage_bytes": page_bytes,
        }
        browser = _browser(dev.url, n, min(reps, 3)) if with_browser else None
        if browser:
            row.update(browser)
    return row


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.0f} ms"


def report(rows: list[dict[str, Any]]) -> str:
    """The numbers as a Markdown table."""
    lines = [
        "| assets | layout | /api/assets (first / warm) | /api/graph (first / warm, size) "
        "| /lineage render + layout / warm | chromium: all nodes drawn | frame at fit / zoom 1 |",
        "|---:|---:|---|---|---|---|---|",
    ]
    for r in rows:
        drawn = _ms(r.get("drawn_s"))
        frame = "—"
        if "frame_fit_ms" in r:
            frame = f"{r['frame_fit_ms']:.1f} / {r['frame_zoom1_ms']:.1f} ms"
        lines.append(
            f"| {r['assets']:,} | {_ms(r['layout_s'])} "
            f"| {_ms(r['api_assets_first_s'])} / {_ms(r['api_assets_warm_s'])} "
            f"| {_ms(r['api_graph_first_s'])} / {_ms(r['api_graph_warm_s'])}, "
            f"{r['api_graph_bytes'] / 1024:,.0f} KiB "
            f"| {_ms(r['lineage_render_with_layout_s'])} / {_ms(r['lineage_render_warm_s'])} "
            f"| {drawn} | {frame} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000", help="comma-separated asset counts")
    parser.add_argument("--reps", type=int, default=5, help="warm repetitions per measurement")
    parser.add_argument("--no-browser", action="store_true", help="skip the chromium timings")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    parser.add_argument("--keep", type=Path, help="generate projects here instead of a tmp dir")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bh-ui-bench-") as tmp:
        root = args.keep or Path(tmp)
        for n in sizes:
            print(f"measuring {n:,} assets…", file=sys.stderr, flush=True)
            rows.append(measure(root, n, args.reps, not args.no_browser))
    print(report(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
