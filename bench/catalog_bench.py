"""Time the asset catalog page (``/assets``) with 5,000 assets drawn in Debian's chromium.

The project is generated here (`catalog_files`): N assets in 4 code locations, 20 groups,
kinds and owners on some, every 10th asset partitioned (daily, 60 partitions) and every 10th
with an asset check, in the layered shape of gen_project.py (each asset depends on two of
the layer before). Before measuring, untimed, one group is materialized (``bh launch``) and
one partition of one partitioned asset, so statuses, times and counts are not all empty.

Measured on a real ``bh dev`` (once loaded):

- ``/api/assets``: the API's response, first call and warm median;
- ``/assets``: the page's server render (every row read from storage and embedded), first
  call and warm median, and its size;
- with Debian's chromium (headless, 1440x900, a fresh context per load): the page's own clock
  (``performance.now()``, from navigation start) at the first animation frame in which the
  table shows its first screen of rows and the count of all N assets (the table holds only
  the rows around the viewport); then, from scrolling to the bottom of the page, the time until
  the frame in which the last asset's row is drawn in view; first load, then the median of
  the next;
- filtering in the page: from changing the group filter (or typing a search) until the frame
  after the page has drawn the result, median of 5.

Needs this repository's dev venv (httpx, playwright) and chromium on PATH. Usage:

    .venv/bin/python bench/catalog_bench.py                       # 5,000 assets
    .venv/bin/python bench/catalog_bench.py --assets 1000 --loads 3 --json out.json
    .venv/bin/python bench/catalog_bench.py --write-docs          # also into docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from ui_bench import CHROMIUM_ARGS, Dev, _timed, _wait_loaded

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DOC = REPO / "docs" / "benchmarks.md"
# docs/benchmarks.md is rewritten by run.py --write-docs, which keeps this section.
BEGIN = "<!-- catalog_bench: begin -->"
END = "<!-- catalog_bench: end -->"

LOCATIONS = 4
GROUPS = 20
LAYERS = 10
PARTITIONS_START = "2024-01-01"
PARTITIONS_END = "2024-03-01"  # 60 daily partitions
GOAL_S = 1.0

# Installed before the page's scripts: records the page's clock at the first animation frame
# in which the table shows its first screen of rows with the count of every asset ("5,000
# assets"): what a user sees first. The table holds only the rows around the viewport.
WATCH = """
(() => {
  const want = %d;
  const text = want.toLocaleString("en-US") + (want === 1 ? " asset" : " assets");
  window.__bench = {done: false, at: null, nodes: 0};
  const tick = () => {
    const c = window.bhCatalog;
    const count = document.getElementById("catalog-count");
    if (c && c.renderedRows() > 0 && c.total() === want && count && count.textContent === text) {
      window.__bench.nodes = c.renderedRows();
      window.__bench.at = performance.now();
      window.__bench.done = true;
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""

# Scroll to the bottom of the page, then wait for the animation frame in which the last row of
# the list is drawn inside the viewport; milliseconds from the scroll to that frame.
BOTTOM = """
() => new Promise((resolve) => {
  const keys = window.bhCatalog.shownKeys();
  const last = keys[keys.length - 1];
  const started = performance.now();
  window.scrollTo(0, document.documentElement.scrollHeight);
  const tick = () => {
    const rows = document.getElementById("catalog-body").rows;
    const row = rows.length ? rows[rows.length - 1] : null;
    const seen = row && row.getBoundingClientRect().bottom <= window.innerHeight + 1;
    if (seen && row.dataset.key === last) {
      resolve({ms: performance.now() - started, rows: rows.length});
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})
"""

# Change a filter control, then wait for the frame after the page has drawn the result (the
# rows around the viewport, and the count).
FILTER = """
([id, value]) => new Promise((resolve) => {
  const el = document.getElementById(id);
  const started = performance.now();
  delete document.body.dataset.catalog; // set again once the page has drawn the new view
  el.value = value;
  el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input"));
  const tick = () => {
    const c = window.bhCatalog;
    if (document.body.dataset.catalog === "ready") {
      resolve({ms: performance.now() - started, rows: c.shownKeys().length});
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})
"""


def _asset_source(index: int, name: str, deps: list[str], group: str) -> str:
    args = [f'group_name="{group}"']
    if deps:
        args.append(f"deps={deps!r}")
    if index % 3 == 0:
        args.append('kinds={"python"}')
    elif index % 3 == 1:
        args.append('kinds={"duckdb", "sql"}')
    if index % 4 == 0:
        args.append(f'owners=["team:t{index % 7}"]')
    if index % 10 == 5:
        args.append("partitions_def=DAYS")
    source = f"@dg.asset({', '.join(args)})\ndef {name}() -> None:\n    return None\n"
    if index % 10 == 3:
        source += (
            f"\n\n@dg.asset_check(asset={name!r})\ndef {name}_ok() -> dg.AssetCheckResult:\n"
            "    return dg.AssetCheckResult(passed=True)\n"
        )
    return source


def catalog_files(n: int) -> dict[str, str]:
    """Relative path -> content of a workspace of LOCATIONS projects with `n` assets in all."""
    if n % (LAYERS * LOCATIONS):
        raise SystemExit(f"--assets must be a multiple of {LAYERS * LOCATIONS}")
    width = n // LAYERS
    names = [f"l{layer}_{j:05d}" for layer in range(LAYERS) for j in range(width)]
    files: dict[str, str] = {}
    entries = ""
    per_location = n // LOCATIONS
    for loc in range(LOCATIONS):
        pkg = f"catalog_loc{loc}"
        root = f"projects/{pkg}"
        entries += f'[[tool.bakehouse.workspace.projects]]\npath = "{root}"\n\n'
        files[f"{root}/pyproject.toml"] = (
            f'[project]\nname = "{pkg}"\nversion = "0.0.0"\n\n[tool.bakehouse]\n'
            f'directory_type = "project"\n\n[tool.bakehouse.project]\nroot_module = "{pkg}"\n'
        )
        src = f"{root}/src/{pkg}"
        files[f"{src}/__init__.py"] = ""
        files[f"{src}/defs/__init__.py"] = ""
        files[f"{src}/definitions.py"] = (
            "from pathlib import Path\n\nimport bakehouse as dg\n\n\n@dg.definitions\n"
            "def defs():\n"
            "    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)\n"
        )
        mine = range(loc * per_location, (loc + 1) * per_location)
        for file_no, start in enumerate(range(mine.start, mine.stop, 50)):
            chunk = []
            for i in range(start, min(start + 50, mine.stop)):
                layer, j = divmod(i, width)
                deps = (
                    []
                    if layer == 0
                    else [f"l{layer - 1}_{k:05d}" for k in sorted({j, (j + 1) % width})]
                )
                chunk.append(_asset_source(i, names[i], deps, f"g{i % GROUPS:02d}"))
            files[f"{src}/defs/assets_{file_no:04d}.py"] = (
                "import bakehouse as dg\n\n"
                f'DAYS = dg.DailyPartitionsDefinition(start_date="{PARTITIONS_START}", '
                f'end_date="{PARTITIONS_END}")\n\n\n' + "\n\n".join(chunk)
            )
    files["pyproject.toml"] = f'[tool.bakehouse]\ndirectory_type = "workspace"\n\n{entries}'
    return files


def generate(root: Path, n: int) -> Path:
    """Write the workspace of `n` assets under `root`; return its folder."""
    ws = root / f"catalog_{n}"
    for relative, text in catalog_files(n).items():
        path = ws / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return ws


def _launch(http: httpx.Client, body: dict[str, Any], timeout: float = 600) -> None:
    created = http.post("/api/runs", json=body)
    created.raise_for_status()
    run_id = created.json()["run_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = http.get(f"/api/runs/{run_id}").json()["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            if status != "SUCCESS":
                raise RuntimeError(f"setup run {run_id} ended {status}")
            return
        time.sleep(0.2)
    raise RuntimeError(f"setup run {run_id} did not finish")


def _browser(url: str, n: int, loads: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("no chromium on PATH (Debian: apt-get install chromium)")
    drawn: list[float] = []
    bottom: list[float] = []
    group_ms: list[float] = []
    search_ms: list[float] = []
    shown: dict[str, int] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            for load in range(loads):
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                try:
                    page = context.new_page()
                    page.add_init_script(WATCH % n)
                    page.goto(url + "/assets", wait_until="commit")
                    page.wait_for_function("window.__bench && window.__bench.done", timeout=120_000)
                    drawn.append(page.evaluate("window.__bench.at") / 1000)
                    bottom.append(page.evaluate(BOTTOM)["ms"])
                    if load == 0:
                        for _ in range(5):
                            for value in ("g07", ""):
                                done = page.evaluate(FILTER, ["filter-group", value])
                                if value:
                                    group_ms.append(done["ms"])
                                    shown["group"] = done["rows"]
                            for value in ("l9_0", ""):
                                done = page.evaluate(FILTER, ["catalog-search", value])
                                if value:
                                    search_ms.append(done["ms"])
                                    shown["search"] = done["rows"]
                finally:
                    context.close()
        finally:
            browser.close()
    return {
        "drawn_first_s": drawn[0],
        "drawn_next_s": statistics.median(drawn[1:]) if len(drawn) > 1 else None,
        "drawn_s": drawn,
        "bottom_first_ms": bottom[0],
        "bottom_next_ms": statistics.median(bottom[1:]) if len(bottom) > 1 else None,
        "filter_group_ms": statistics.median(group_ms),
        "filter_group_rows": shown["group"],
        "search_ms": statistics.median(search_ms),
        "search_rows": shown["search"],
    }


def measure(root: Path, n: int, loads: int, reps: int) -> dict[str, Any]:
    """Every number for a workspace of `n` assets."""
    ws = generate(root, n)
    with Dev(ws) as dev, httpx.Client(base_url=dev.url, timeout=600) as http:
        load_s = _wait_loaded(http)
        # Untimed setup: one group materialized, one partition of one partitioned asset.
        _launch(http, {"selection": "group:g00"})
        _launch(http, {"asset_keys": ["l0_00005"], "partition_key": PARTITIONS_START})
        api_first, api_warm, api_bytes = _timed(http, "/api/assets?limit=10000", reps)
        page_first, page_warm, page_bytes = _timed(http, "/assets", reps)
        assert len(http.get("/api/assets?limit=10000").json()) == n
        row: dict[str, Any] = {
            "assets": n,
            "locations": LOCATIONS,
            "load_s": load_s,
            "api_assets_first_s": api_first,
            "api_assets_warm_s": api_warm,
            "api_assets_bytes": api_bytes,
            "page_first_s": page_first,
            "page_warm_s": page_warm,
            "page_bytes": page_bytes,
        }
        row.update(_browser(dev.url, n, loads))
    return row


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.0f} ms"


def _ms_or_none(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:,.0f} ms"


def report(row: dict[str, Any], facts: dict[str, str]) -> str:
    """The section docs/benchmarks.md carries."""
    n = row["assets"]
    verdict = "met" if row["drawn_first_s"] < GOAL_S else "NOT met"
    verdict_next = "met" if (row["drawn_next_s"] or 0) < GOAL_S else "NOT met"
    lines = [
        BEGIN,
        "## Asset catalog page (bench/catalog_bench.py)",
        "",
        f"Measured {facts['when']} on this machine ({facts['cpu']}, `nproc` = "
        f"{facts['nproc']}), bakehouse at commit {facts['commit']}; load average "
        f"{facts['load']} at the start and {os.getloadavg()[0]:.2f} at the end (the machine's 2 "
        "cores were shared with other work: every figure here is inflated by it). Written by "
        "`.venv/bin/python bench/catalog_bench.py "
        "--write-docs`, which replaces only this section (`run.py --write-docs` keeps it).",
        "",
        f"A generated workspace of {n:,} assets in {row['locations']} code locations "
        f"(20 groups, kinds and owners on some, every 10th asset partitioned daily with 60 "
        "partitions, every 10th with a check; one group and one partition materialized "
        "before measuring), served by `bh dev --no-reload`. The table holds only the rows "
        "around the viewport (every row stays in the page's memory, filtered and sorted there). "
        "The page is drawn at the animation frame in which the table shows its first screen of "
        f"rows and the count of all {n:,} assets, in the page's own clock (`performance.now()` "
        "from navigation start), in Debian's chromium (headless, 1440x900, a fresh browser "
        "context per load). Scrolled to the bottom: from `window.scrollTo` to the bottom of the "
        "page until the frame in which the last asset's row is drawn in view. The HTTP figures "
        "come first and fill the page's row cache, so the browser's loads get cached rows (see "
        "`first` of `GET /assets` for building them).",
        "",
        "| measurement | bakehouse |",
        "|---|---|",
        f"| catalog page drawn in chromium (first screen of rows, full count), first load "
        f"(goal < {GOAL_S:.0f} s: {verdict}) | {_ms(row['drawn_first_s'])} |",
        f"| catalog page drawn, median of the next {len(row['drawn_s']) - 1} loads "
        f"({verdict_next}) | {_ms(row['drawn_next_s'])} |",
        f"| scrolled to the bottom until the last row is drawn, first load / median of the next "
        f"| {row['bottom_first_ms']:,.0f} ms / {_ms_or_none(row['bottom_next_ms'])} |",
        f"| `GET /assets`: server render with every row, first / warm median "
        f"| {_ms(row['page_first_s'])} / {_ms(row['page_warm_s'])} "
        f"({row['page_bytes'] / 1024:,.0f} KiB) |",
        f"| `GET /api/assets`: first / warm median | {_ms(row['api_assets_first_s'])} / "
        f"{_ms(row['api_assets_warm_s'])} ({row['api_assets_bytes'] / 1024:,.0f} KiB) |",
        f"| filter to one group in the page, until painted ({row['filter_group_rows']} rows), "
        f"median of 5 | {row['filter_group_ms']:.0f} ms |",
        f"| type a search in the page, until painted ({row['search_rows']} rows), median of 5 "
        f"| {row['search_ms']:.0f} ms |",
        "",
        facts["dagster"],
        END,
    ]
    return "\n".join(lines)


DAGSTER_NOTE = (
    "Dagster is not beside it in this table: its asset catalog (`/assets` in `dg dev`) is, "
    "like this one, a virtualized list that renders only the rows in view (its catalog tables "
    "use `@tanstack/react-virtual`), but this machine has no `bench/.venv-dagster` built "
    "(bench/run.py makes it; its `ui_graph` rows measured `dg dev` at about 20 s to load "
    "5,000 assets and 10 s to draw its lineage page)."
)


def write_docs(section: str) -> None:
    """Put `section` into docs/benchmarks.md, replacing an earlier one."""
    text = DOC.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text)


def _facts() -> dict[str, str]:
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    cpu = platform.processor() or "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu,
        "nproc": str(os.cpu_count()),
        "commit": commit or "unknown",
        "load": f"{os.getloadavg()[0]:.2f}",
        "dagster": DAGSTER_NOTE,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=5000, help="assets in the workspace")
    parser.add_argument("--loads", type=int, default=4, help="page loads in chromium")
    parser.add_argument("--reps", type=int, default=5, help="warm HTTP repetitions")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    parser.add_argument("--keep", type=Path, help="generate the workspace here, not in /tmp")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    facts = _facts()
    with tempfile.TemporaryDirectory(prefix="bh-catalog-bench-") as tmp:
        row = measure(args.keep or Path(tmp), args.assets, max(args.loads, 1), args.reps)
    section = report(row, facts)
    print(section)
    if args.json:
        args.json.write_text(json.dumps(row, indent=2))
    if args.write_docs:
        write_docs(section)


if __name__ == "__main__":
    sys.exit(main())
