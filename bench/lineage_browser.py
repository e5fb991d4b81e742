"""Time a lineage page in Debian's chromium until its asset graph is drawn (for bench/run.py).

    .venv/bin/python bench/lineage_browser.py --tool bakehouse --url http://127.0.0.1:P \\
        --assets 1000 --loads 3

Prints one JSON object: ``{"drawn_s": [...], "nodes": [...]}``, one entry per page load, each
load in a fresh browser context (no HTTP cache, no IndexedDB). Times are the page's own clock
(`performance.now()`, whose origin is the start of the navigation) at the moment the graph
counted as drawn:

- bakehouse, ``/lineage``: the first animation frame in which the canvas has drawn every one
  of the project's nodes (``bhLineage.drawnNodes()``, the count its last full draw painted);
- Dagster, ``/asset-groups`` ("Global asset lineage" in 1.13): Dagster draws each asset as an
  SVG ``foreignObject`` and only those inside the viewport, and above ~100 assets it opens at a
  minimum zoom that shows only part of the graph. So "drawn" is: the graph's asset nodes in
  the DOM stopped changing. The time reported is that of the frame in which the count of
  asset nodes last changed, once it has stayed the same for QUIET_S seconds (the quiet wait
  is not counted). ``nodes`` says how many were drawn.

Needs this repository's dev venv (playwright) and /usr/bin/chromium (found on PATH). Errors go
to stderr with exit status 1; a page that never draws times out after --timeout seconds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from typing import TYPE_CHECKING, Any

from ui_bench import CHROMIUM_ARGS  # the same browser flags as the bakehouse-only UI bench

if TYPE_CHECKING:
    from playwright.sync_api import Page

QUIET_S = 2.0  # Dagster: the asset-node count must stay put this long to count as final
ROUTES = {"bakehouse": "/lineage", "dagster": "/asset-groups"}

# Installed before the page's own scripts run; checks once per animation frame and records
# `performance.now()` of the frame the condition first held (bakehouse) or the frame in which
# the drawn-node count last changed (Dagster).
WATCH_COUNT = """
(() => {
  const want = %d;
  window.__bench = {done: false, at: null, nodes: 0};
  const tick = () => {
    const drawn = (COUNT);
    window.__bench.nodes = drawn;
    if (drawn === want) {
      window.__bench.at = performance.now();
      window.__bench.done = true;
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""

WATCH_BAKEHOUSE = WATCH_COUNT.replace(
    "COUNT", "window.bhLineage ? window.bhLineage.drawnNodes() : 0"
)

WATCH_DAGSTER = """
(() => {
  const quietMs = %d;
  window.__bench = {done: false, at: null, nodes: 0};
  const count = () =>
    document.querySelectorAll('svg foreignObject [class*="AssetNode_assetName"]').length;
  const tick = () => {
    const now = performance.now();
    const n = count();
    if (n !== window.__bench.nodes) {
      window.__bench.nodes = n;
      window.__bench.at = now;
    }
    if (window.__bench.nodes > 0 && now - window.__bench.at >= quietMs) {
      window.__bench.done = true;
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


def _wait_done(page: Page, timeout: float) -> dict[str, Any]:
    """Poll the watcher's state until it says drawn. Polled from here, not with
    `wait_for_function`: Dagster's Content-Security-Policy forbids the eval that one uses.
    The time itself is the page's, so the polling interval does not enter it."""
    deadline = time.monotonic() + timeout
    while True:
        state: dict[str, Any] | None = page.evaluate("window.__bench || null")
        if state and state["done"]:
            return state
        if time.monotonic() > deadline:
            raise RuntimeError(f"not drawn after {timeout:.0f} s (watcher state: {state})")
        time.sleep(0.05)


def measure(tool: str, url: str, assets: int, loads: int, timeout: float) -> dict[str, list[float]]:
    """Load the tool's lineage page `loads` times; the drawn time and node count of each."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("no chromium on PATH (Debian: apt-get install chromium)")
    script = WATCH_BAKEHOUSE % assets if tool == "bakehouse" else WATCH_DAGSTER % (QUIET_S * 1000)
    drawn: list[float] = []
    nodes: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                try:
                    page = context.new_page()
                    page.add_init_script(script)
                    page.goto(url + ROUTES[tool], wait_until="commit")
                    state = _wait_done(page, timeout)
                    drawn.append(float(state["at"]) / 1000)
                    nodes.append(int(state["nodes"]))
                finally:
                    context.close()
        finally:
            browser.close()
    return {"drawn_s": drawn, "nodes": nodes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", choices=sorted(ROUTES), required=True)
    parser.add_argument("--url", required=True, help="the server's base URL")
    parser.add_argument("--assets", type=int, required=True, help="assets in the project")
    parser.add_argument("--loads", type=int, default=1, help="page loads (fresh contexts)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per page load")
    args = parser.parse_args()
    from playwright.sync_api import Error as PlaywrightError  # its TimeoutError is one too

    try:
        result = measure(args.tool, args.url.rstrip("/"), args.assets, args.loads, args.timeout)
    except (PlaywrightError, RuntimeError, OSError) as exc:  # the harness records it
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
