"""The ``scale`` workload: bakehouse with 5,000, 20,000 and 50,000 assets, every one materialized.

For each size, a ``layered`` project from `gen_project.py` (10 layers, each asset taking two of
the layer before) is measured:

- ``bh check defs``: process wall time and the CPU time of its process tree, median of
  `--reps` after one untimed run that writes the bytecode;
- the asset index filled, untimed, straight into storage: one run of ``*`` with a
  materialization of every asset (``Instance.store_events``, 1,000 events a transaction), so
  that every asset is materialized without timing a 50,000-step run;
- ``bh webserver`` started on that instance: start to LOADED (``/api/locations``, polled every
  50 ms), the RSS of the webserver process then;
- ``/api/graph`` (the laid-out structure): first call, warm median (200 with the body), and a
  revalidation (If-None-Match, 304), and its size; ``/api/graph/status``: first, warm, size;
  ``/api/assets`` (its first page, 1,000 rows) and the catalog page ``/assets`` (server render,
  every row embedded): first, warm, size;
- in Debian's chromium (headless, 1440x900, a fresh context per load; first load, then the
  median of the next): the lineage page until its canvas has drawn every node
  (`lineage_browser.py`'s watcher: the page opens fitted on the whole graph, so that frame
  has every node in view, drawn at the level of detail of that zoom: blocks far out, and only
  the selection's edges past 20,000 edges in view), then one redraw at fit and one zoomed in
  to 1:1 (what panning and zooming cost); and the catalog page until its table shows the first
  screen of rows with the count of every asset (`catalog_bench.py`'s watcher; the table holds
  only the rows around the viewport), in the page's own clock from navigation start, then from
  scrolling to the bottom until the last asset's row is drawn in view (`catalog_bench.BOTTOM`);
- **idle CPU**: the webserver process's user+system CPU time (``/proc/PID/stat``) over 30 s,
  as a share of one core, with no page open, then with one client on ``/api/stream`` (a page
  open, nothing changing). The code server is a process of its own and is reported apart.

Dagster beside the loading rows (`scale_dagster.py`, bench/.venv-dagster): ``dg check defs``
and ``dg dev`` start to LOADED on the same project, once each within ``--dagster-cap`` seconds
(the output says when it did not load within them); ``--no-dagster`` leaves them out. Usage
(this repository's dev venv: httpx, playwright):

    .venv/bin/python bench/scale_bench.py                         # 5,000 / 20,000 / 50,000
    .venv/bin/python bench/scale_bench.py --sizes 5000 --idle 10 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import scale_dagster
from catalog_bench import BOTTOM as BOTTOM_CATALOG, WATCH as WATCH_CATALOG
from lineage_browser import WATCH_BAKEHOUSE
from ui_bench import CHROMIUM_ARGS, _gen_project

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EVENTS_PER_TRANSACTION = 1_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _env(home: Path, project: Path) -> dict[str, str]:
    # Bytecode is written, so that runs after the first are warm (as a user's are).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BAKEHOUSE_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["BAKEHOUSE_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(project / "src")])
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def check_defs(project: Path, home: Path, reps: int) -> tuple[float, float]:
    """Median wall seconds of ``bh check defs`` in `project`, and median CPU seconds of its
    process tree (the command and the location's loading process), after one untimed run."""
    times, cpu = [], []
    for rep in range(max(reps, 1) + 1):
        cpu_before = _children_cpu()
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bakehouse", "check", "defs"],
            cwd=project,
            env=_env(home, project),
            capture_output=True,
            text=True,
            check=False,
        )
        if rep:
            times.append(time.perf_counter() - started)
            cpu.append(_children_cpu() - cpu_before)
        if done.returncode != 0:
            raise RuntimeError(f"bh check defs failed:\n{done.stdout}\n{done.stderr}")
    return statistics.median(times), statistics.median(cpu)


def materialize_all(home: Path, keys: list[str]) -> float:
    """Store one successful run of every key with a materialization of each; its seconds."""
    sys.path.insert(0, str(REPO / "src"))
    from bakehouse.storage import EventRecord, EventType, Instance, RunRecord

    started = time.perf_counter()
    with Instance.for_home(home) as instance:
        run_id = "scale-bench-all"
        instance.create_run(RunRecord(run_id=run_id, asset_selection=tuple(keys)))
        now = time.time()
        instance.store_event(
            EventRecord(run_id=run_id, event_type=EventType.RUN_START, timestamp=now)
        )
        for start in range(0, len(keys), EVENTS_PER_TRANSACTION):
            instance.store_events(
                EventRecord(
                    run_id=run_id,
                    event_type=EventType.ASSET_MATERIALIZATION,
                    asset_key=key,
                    step_key=key,
                    timestamp=time.time(),
                    data={"metadata": {}},
                )
                for key in keys[start : start + EVENTS_PER_TRANSACTION]
            )
        instance.store_event(
            EventRecord(run_id=run_id, event_type=EventType.RUN_SUCCESS, timestamp=time.time())
        )
    return time.perf_counter() - started


class Webserver:
    """``bh webserver --port 0`` on one instance and project, stopped on exit."""

    def __init__(self, project: Path, home: Path) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bakehouse", "webserver", "--port", "0"],
            cwd=project,
            env=_env(home, project),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = ""
        self.output: list[str] = []

    def __enter__(self) -> Webserver:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            match = re.search(r"(http://[\d.]+:\d+)", line)
            if match:
                self.url = match.group(1)
                # Keep reading its output so that the pipe never fills.
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        raise RuntimeError("bh webserver did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _wait_loaded(http: httpx.Client, timeout: float = 900) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states: list[dict[str, Any]] = http.get("/api/locations").json()
        if states and all(s["status"] == "LOADED" for s in states):
            return states
        if any(s["status"] == "FAILED" for s in states):
            raise RuntimeError(f"the project failed to load: {states}")
        time.sleep(0.05)
    raise RuntimeError("the project did not load in time")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def idle_cpu(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Each process's CPU time over `seconds`, as a share of one core (0.01 = 1%)."""
    before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    return {name: (_cpu_seconds(pid) - before[name]) / elapsed for name, pid in pids.items()}


def _ok(response: httpx.Response) -> httpx.Response:
    """`response`, unless it is an error (a 304 is what a revalidation should get)."""
    if response.status_code != 304:
        response.raise_for_status()
    return response


def _timed(
    http: httpx.Client, path: str, reps: int, headers: dict[str, str] | None = None
) -> tuple[float, float, int]:
    """First call's seconds, the median of `reps` more, and the first answer's size."""
    started = time.perf_counter()
    response = _ok(http.get(path, headers=headers))
    first = time.perf_counter() - started
    warm = []
    for _ in range(reps):
        started = time.perf_counter()
        _ok(http.get(path, headers=headers))
        warm.append(time.perf_counter() - started)
    return first, statistics.median(warm) if warm else first, len(response.content)


def _wire_bytes(http: httpx.Client, path: str) -> int:
    """The size of `path`'s answer as sent to a client that accepts gzip (httpx's default)."""
    with http.stream("GET", path) as response:
        _ok(response)
        return sum(len(chunk) for chunk in response.iter_raw())


def _browser(url: str, n: int, loads: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("no chromium on PATH (Debian: apt-get install chromium)")
    found: dict[str, list[float]] = {
        "lineage": [],
        "catalog": [],
        "catalog_bottom_ms": [],
        "frame_fit_ms": [],
        "frame_close_ms": [],
    }
    lod: dict[str, Any] = {}
    pages = (("lineage", "/lineage", WATCH_BAKEHOUSE), ("catalog", "/assets", WATCH_CATALOG))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            for name, route, watch in pages:
                for _ in range(max(loads, 1)):
                    context = browser.new_context(viewport={"width": 1440, "height": 900})
                    try:
                        page = context.new_page()
                        page.add_init_script(watch % n)
                        page.goto(url + route, wait_until="commit")
                        page.wait_for_function(
                            "window.__bench && window.__bench.done", timeout=600_000
                        )
                        found[name].append(page.evaluate("window.__bench.at") / 1000)
                        if name == "catalog":
                            found["catalog_bottom_ms"].append(page.evaluate(BOTTOM_CATALOG)["ms"])
                        if name == "lineage":
                            lod = page.evaluate("bhLineage.lod()")
                            found["frame_fit_ms"].append(
                                statistics.median(
                                    page.evaluate("bhLineage.redraw()") for _ in range(5)
                                )
                            )
                            page.evaluate("bhLineage.zoom(1)")
                            found["frame_close_ms"].append(
                                statistics.median(
                                    page.evaluate("bhLineage.redraw()") for _ in range(5)
                                )
                            )
                    finally:
                        context.close()
        finally:
            browser.close()
    row: dict[str, Any] = {}
    for name in ("lineage", "catalog"):
        times = found[name]
        row[f"{name}_drawn_first_s"] = times[0]
        row[f"{name}_drawn_next_s"] = statistics.median(times[1:]) if len(times) > 1 else None
    bottom = found["catalog_bottom_ms"]
    row["catalog_bottom_first_ms"] = bottom[0]
    row["catalog_bottom_next_ms"] = statistics.median(bottom[1:]) if len(bottom) > 1 else None
    row["lineage_frame_fit_ms"] = statistics.median(found["frame_fit_ms"])
    row["lineage_frame_close_ms"] = statistics.median(found["frame_close_ms"])
    # The level of detail of the frame at fit: 0 = blocks; overview = too many edges in view.
    row["lineage_fit_lod"] = lod
    return row


class Listener:
    """A client listening on /api/stream (as an open page does) until closed."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._listen, args=(url,), daemon=True)
        self.thread.start()
        if not self.opened.wait(60):
            raise RuntimeError("/api/stream did not answer")

    def _listen(self, url: str) -> None:
        try:
            with self.client.stream("GET", url + "/api/stream") as response:
                self.opened.set()
                for _ in response.iter_raw():
                    pass
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by `close`

    def close(self) -> None:
        """Disconnect, ending the listening thread."""
        self.client.close()
        self.thread.join(timeout=10)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def measure(
    root: Path,
    n: int,
    reps: int,
    loads: int,
    idle_s: float,
    browser: bool,
    dagster_cap: float | None = None,
) -> dict[str, Any]:
    """Every number for one project size."""
    gen = _gen_project()
    project = gen.generate(root, "bakehouse", "layered", n)
    keys = gen.asset_names("layered", n)
    home = Path(tempfile.mkdtemp(prefix="bh-scale-"))
    try:
        row: dict[str, Any] = {"assets": n}
        row["check_defs_s"], row["check_defs_cpu_s"] = check_defs(project, home, reps)
        row["materialize_untimed_s"] = materialize_all(home, keys)
        with (
            Webserver(project, home) as server,
            httpx.Client(base_url=server.url, timeout=600) as http,
        ):
            _wait_loaded(http)
            row["start_to_loaded_s"] = time.perf_counter() - server.started
            row["webserver_rss_mb"] = _rss_mb(server.process.pid)
            first, warm, size = _timed(http, "/api/graph", reps)
            etag = http.get("/api/graph").headers["etag"]
            _, revalidated, _ = _timed(http, "/api/graph", reps, {"if-none-match": etag})
            row.update(graph_first_s=first, graph_warm_s=warm, graph_304_s=revalidated)
            row["graph_bytes"] = size
            row["graph_wire_bytes"] = _wire_bytes(http, "/api/graph")
            first, warm, size = _timed(http, "/api/graph/status", reps)
            row.update(status_first_s=first, status_warm_s=warm, status_bytes=size)
            first, warm, size = _timed(http, "/api/assets", reps)
            row.update(assets_page_first_s=first, assets_page_warm_s=warm, assets_page_bytes=size)
            first, warm, size = _timed(http, "/assets", reps)
            row.update(catalog_first_s=first, catalog_warm_s=warm, catalog_bytes=size)
            if browser:
                row.update(_browser(server.url, n, loads))
            pids = {"webserver": server.process.pid}
            for child in _children(server.process.pid):
                pids[f"child_{child}"] = child
            time.sleep(2)  # let the page loads' work end before measuring idle
            idle = idle_cpu(pids, idle_s)
            row["idle_cpu_no_client"] = idle["webserver"]
            row["idle_cpu_code_server"] = sum(v for k, v in idle.items() if k != "webserver")
            listener = Listener(server.url)
            try:
                time.sleep(2)
                row["idle_cpu_one_client"] = idle_cpu({"webserver": server.process.pid}, idle_s)[
                    "webserver"
                ]
                assert listener.thread.is_alive(), "the listening client was disconnected"
            finally:
                listener.close()
        if dagster_cap:
            row.update(scale_dagster.measure(root, n, dagster_cap))
        return row
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.0f} ms"


def _in_ms(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:,.0f} ms"


def _s(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f} s"


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def _lod_text(row: dict[str, Any]) -> str:
    lod = row["lineage_fit_lod"]
    shown = ("blocks", "keys", "full")[lod["lod"]]
    edges = "selection's edges only" if lod["overview"] else f"{lod['edges']:,} edges"
    return f"{shown}, {edges}, zoom {lod['zoom']:.3f}"


def _dagster(row: dict[str, Any], name: str) -> str:
    """A Dagster cell: its seconds, or why there are none (not loaded within the cap, failed)."""
    seconds = row.get(f"{name}_s")
    return _s(seconds) if seconds is not None else str(row.get(f"{name}_note") or "—")


def report(rows: list[dict[str, Any]], idle_s: float) -> str:
    """A Markdown table, one column per size."""
    head = "| | " + " | ".join(f"{r['assets']:,} assets" for r in rows) + " |"
    lines = [head, "|---|" + "---|" * len(rows)]

    def line(label: str, fmt: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(fmt(r) for r in rows) + " |")

    line(
        "`bh check defs` wall (CPU)",
        lambda r: f"{_s(r['check_defs_s'])} ({_s(r.get('check_defs_cpu_s'))})",
    )
    if "dagster_check_defs_s" in rows[0]:
        line(
            "`dg check defs` wall (CPU)",
            lambda r: (
                _dagster(r, "dagster_check_defs")
                if r["dagster_check_defs_s"] is None
                else f"{_s(r['dagster_check_defs_s'])} ({_s(r['dagster_check_defs_cpu_s'])})"
            ),
        )
    line("`bh webserver` start to LOADED", lambda r: _s(r["start_to_loaded_s"]))
    if "dagster_start_to_loaded_s" in rows[0]:
        line("`dg dev` start to LOADED", lambda r: _dagster(r, "dagster_start_to_loaded"))
    line("webserver RSS when LOADED", lambda r: f"{r['webserver_rss_mb']:.0f} MB")
    line(
        "`/api/graph` first / warm / 304",
        lambda r: f"{_ms(r['graph_first_s'])} / {_ms(r['graph_warm_s'])} / {_ms(r['graph_304_s'])}",
    )
    line(
        "`/api/graph` size (gzipped as sent)",
        lambda r: f"{_mb(r['graph_bytes'])} ({_mb(r['graph_wire_bytes'])})",
    )
    line(
        "`/api/graph/status` first / warm (size)",
        lambda r: (
            f"{_ms(r['status_first_s'])} / {_ms(r['status_warm_s'])} ({_mb(r['status_bytes'])})"
        ),
    )
    line(
        "`/api/assets` first page (1,000 rows) first / warm (size)",
        lambda r: (
            f"{_ms(r['assets_page_first_s'])} / {_ms(r['assets_page_warm_s'])} "
            f"({_mb(r['assets_page_bytes'])})"
        ),
    )
    line(
        "catalog page `/assets` render first / warm (size)",
        lambda r: (
            f"{_ms(r['catalog_first_s'])} / {_ms(r['catalog_warm_s'])} ({_mb(r['catalog_bytes'])})"
        ),
    )
    if "lineage_drawn_first_s" in rows[0]:
        line(
            "lineage page, every node drawn (at fit, level of detail), first / next",
            lambda r: f"{_s(r['lineage_drawn_first_s'])} / {_s(r['lineage_drawn_next_s'])}",
        )
        line("lineage fit: level of detail", _lod_text)
        line(
            "lineage frame at fit / zoomed in to 1:1",
            lambda r: f"{r['lineage_frame_fit_ms']:.0f} ms / {r['lineage_frame_close_ms']:.0f} ms",
        )
        line(
            "catalog page drawn in chromium (first screen of rows, full count), first / next",
            lambda r: f"{_s(r['catalog_drawn_first_s'])} / {_s(r['catalog_drawn_next_s'])}",
        )
        line(
            "catalog scrolled to the bottom until the last row is drawn, first / next",
            lambda r: (
                f"{_in_ms(r['catalog_bottom_first_ms'])} / {_in_ms(r['catalog_bottom_next_ms'])}"
            ),
        )
    line(
        f"idle webserver CPU over {idle_s:.0f} s, no page open",
        lambda r: f"{r['idle_cpu_no_client'] * 100:.2f}%",
    )
    line(
        "idle webserver CPU, one page listening",
        lambda r: f"{r['idle_cpu_one_client'] * 100:.2f}%",
    )
    line("idle code server CPU", lambda r: f"{r['idle_cpu_code_server'] * 100:.2f}%")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 50_000])
    parser.add_argument("--reps", type=int, default=5, help="warm calls (and check defs runs)")
    parser.add_argument("--loads", type=int, default=2, help="page loads per page in chromium")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measured")
    parser.add_argument("--no-browser", action="store_true", help="skip the chromium rows")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--no-dagster", action="store_true", help="skip Dagster's rows")
    parser.add_argument(
        "--dagster-cap",
        type=float,
        default=600.0,
        help="seconds each Dagster row may take before it is stopped and reported as not loaded",
    )
    parser.add_argument("--work", type=Path, default=HERE / ".work" / "scale")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        row = measure(
            args.work,
            n,
            args.reps,
            args.loads,
            args.idle,
            not args.no_browser,
            None if args.no_dagster else args.dagster_cap,
        )
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    print(report(rows, args.idle))


if __name__ == "__main__":
    main()
