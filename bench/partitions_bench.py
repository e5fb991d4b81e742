"""Partition workloads of bench/run.py: the status of 10,000 partitions, and a backfill.

Imported by run.py, whose registry (`run.workload`) these functions join; the same harness
times, alternates, checks and reports them. Both tools get the same generated project,
``bench_parts`` (the `dg` layout of gen_project.py), with two assets on one
``DailyPartitionsDefinition(start_date="1990-01-01", end_date="2017-05-19")``, 10,000 daily
partitions:

- ``parts_10k``: never run by the bench; `partitions_probe.py setup` writes its statuses
  straight into each tool's storage (9,000 materialized, 500 failed, 500 missing, alternating
  along the range), untimed. Dagster's setup takes a minute or two (a commit per event), so the
  fresh home it leaves is kept under bench/.work/partition-setup/ and copied for each bench run
  (redone when the probe or the tool's venv changes).
- ``bf_daily``: a trivial body; the backfill workload materializes 100 of its partitions
  (10 with --quick), one run per partition.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import gen_project
import run
from run import Ctx, Proc, workload

PKG = "bench_parts"
STATUS_ASSET = "parts_10k"
BACKFILL_ASSET = "bf_daily"
START = _dt.date(1990, 1, 1)
PROBE = run.BENCH / "partitions_probe.py"
SETUP_CACHE = run.WORK / "partition-setup"
BACKFILL_SIZE = 100
BACKFILL_SIZE_QUICK = 10
MAX_CONCURRENT_RUNS = 4  # `bh launch --partition-range`'s default; Dagster's run queue gets it too

ASSETS_PY = """\
{import_line}

# 10,000 daily partitions (the end date is excluded).
daily = dg.DailyPartitionsDefinition(start_date="1990-01-01", end_date="2017-05-19")


@dg.asset(partitions_def=daily)
def {status_asset}(context) -> int:
    # Never run by the bench: its partition statuses are written into storage directly.
    return 0


@dg.asset(partitions_def=daily)
def {backfill_asset}(context) -> int:
    return len(context.partition_key)
"""


def project(tool: str) -> Path:
    """Write (or bring up to date) the `bench_parts` project of `tool`; return its directory."""
    import_line = gen_project.TOOLS[tool]
    src = f"src/{PKG}"
    files = {
        "pyproject.toml": gen_project.PYPROJECT_TOML.format(
            pkg=PKG, version=gen_project.GENERATOR_VERSION
        ),
        f"{src}/__init__.py": "",
        f"{src}/definitions.py": gen_project.DEFINITIONS_PY.format(import_line=import_line),
        f"{src}/defs/__init__.py": "",
        f"{src}/defs/assets.py": ASSETS_PY.format(
            import_line=import_line, status_asset=STATUS_ASSET, backfill_asset=BACKFILL_ASSET
        ),
    }
    proj = run.PROJECTS / tool / PKG
    gen_project._write_project(proj, files)
    return proj


def project_env(tool: str) -> dict[str, str]:
    return {"PYTHONPATH": str(project(tool) / "src")}


def _probe_json(res: Proc) -> dict[str, Any]:
    lines = res.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ValueError(f"the probe printed no JSON: {run.tail(res.stderr or res.stdout, 300)}")
    return answer


# --------------------------------------------------------------------------- status setup


def _setup_stamp(tool: str) -> str:
    """Changes when the statuses written, or the tool installed, may change."""
    venv = run.VENVS[tool]
    text = PROBE.read_bytes() + (venv.stamp_file.read_bytes() if venv.stamp_file.exists() else b"")
    return hashlib.sha256(text).hexdigest()[:12]


def pristine_home(ctx: Ctx, tool: str) -> Path:
    """A home holding `parts_10k`'s statuses as the setup wrote them, nothing queried yet
    (Dagster has no status cache in it). Made once per stamp; never used in place."""
    done = SETUP_CACHE / f"{tool}-{_setup_stamp(tool)}"
    if (done / ".bench-setup.json").exists():
        return done
    shutil.rmtree(done, ignore_errors=True)
    SETUP_CACHE.mkdir(parents=True, exist_ok=True)
    for old in SETUP_CACHE.glob(f"{tool}-*"):
        shutil.rmtree(old, ignore_errors=True)
    done.mkdir()
    if tool == "dagster":
        (done / "dagster.yaml").write_text(run.DAGSTER_YAML)
    run.log(f"{tool}: writing {STATUS_ASSET}'s partition statuses (untimed setup, kept)")
    env = ctx.env_for(tool, project(tool), done, None)
    res = run.run_process(
        [str(run.VENVS[tool].python), str(PROBE), "setup", tool],
        cwd=project(tool),
        env=env,
        timeout=1800,
    )
    if res.rc != 0:
        shutil.rmtree(done, ignore_errors=True)
        raise RuntimeError(f"setup failed: {run.summary_line(res.stderr or res.stdout)}")
    info = _probe_json(res)
    run.log(f"  {tool}: setup took {info['setup_s']:.1f} s")
    (done / ".bench-setup.json").write_text(json.dumps(info))
    return done


def fresh_copy(ctx: Ctx, tool: str, pristine: Path) -> Path:
    home = ctx.new_home(tool)
    shutil.copytree(pristine, home, dirs_exist_ok=True)
    return home


def probe_runner(ctx: Ctx, homes: dict[str, Path] | None, pristine: dict[str, Path]) -> run.Runner:
    """Runs partitions_probe.py and takes the seconds it measured inside its process (not the
    process's wall). `homes`: tool -> the home every run uses; None: a fresh copy of the
    pristine home per run. The statuses it reads must be the ones the setup wrote."""

    def runner(
        tool: str, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float
    ) -> Proc:
        home = homes[tool] if homes else fresh_copy(ctx, tool, pristine[tool])
        res = run.run_process(
            argv, cwd=cwd, env={**env, run.HOME_VAR[tool]: str(home)}, timeout=timeout
        )
        if res.rc != 0:
            return res
        try:
            answer = _probe_json(res)
        except ValueError as exc:
            res.error = str(exc)
            return res
        if answer["counts"] != answer["expected"] or answer["total"] != 10_000:
            res.error = f"wrong statuses: {answer['total']} partitions, {answer['counts']}"
        res.seconds = float(answer["seconds"])
        return res

    return runner


# --------------------------------------------------------------------------- servers


DAGSTER_PARTITIONS_QUERY = """
query Partitions($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode {
      partitionKeysByDimension { name partitionKeys }
      assetPartitionStatuses {
        __typename
        ... on TimePartitionStatuses { ranges { status startKey endKey } }
        ... on DefaultPartitionStatuses {
          materializedPartitions failedPartitions materializingPartitions
        }
      }
    }
  }
}
"""


def _counts_from_dagster(answer: Any) -> tuple[int, dict[str, int]] | str:
    """(number of keys, counts by state) from DAGSTER_PARTITIONS_QUERY's answer, or an error."""
    node = ((answer or {}).get("data") or {}).get("assetNodeOrError") or {}
    if node.get("__typename") != "AssetNode":
        return f"no asset node: {str(answer)[:300]}"
    keys = node["partitionKeysByDimension"][0]["partitionKeys"]
    index = {k: i for i, k in enumerate(keys)}
    counts = {"materialized": 0, "failed": 0, "in_progress": 0, "missing": len(keys)}
    for r in node["assetPartitionStatuses"].get("ranges") or []:
        n = index[r["endKey"]] - index[r["startKey"]] + 1
        state = {"MATERIALIZED": "materialized", "FAILED": "failed"}.get(r["status"], "in_progress")
        counts[state] += n
        counts["missing"] -= n
    return len(keys), counts


def _bakehouse_partitions(port: int) -> Any:
    return run.http_json(port, f"/api/assets/{STATUS_ASSET}/partitions", timeout=60)


def _dagster_partitions(port: int) -> Any:
    return run.http_json(
        port,
        "/graphql",
        {"query": DAGSTER_PARTITIONS_QUERY, "variables": {"assetKey": {"path": [STATUS_ASSET]}}},
        timeout=60,
    )


def _check_partitions(tool: str, answer: Any) -> str | None:
    """None when the answer lists 10,000 partitions with the states the setup wrote."""
    expected = {"materialized": 9000, "failed": 500, "in_progress": 0, "missing": 500}
    if tool == "bakehouse":
        if not isinstance(answer, dict) or "counts" not in answer:
            return f"no partitions answer: {str(answer)[:300]}"
        total, counts = answer["total"], answer["counts"]
        if len(answer["partitions"]) != total:
            return f"{len(answer['partitions'])} partitions listed of {total}"
    else:
        found = _counts_from_dagster(answer)
        if isinstance(found, str):
            return found
        total, counts = found
    if total != 10_000 or counts != expected:
        return f"wrong statuses: {total} partitions, {counts}"
    return None


@contextlib.contextmanager
def serving(tool: str, argv: list[str], cwd: Path, env: dict[str, str], ready: Any) -> Any:
    """Start a server (`{port}` in argv), wait until `ready(port)` is true (300 s at most),
    yield its port; stop it and every process it started as Ctrl-C would (run.stop_server)."""
    port = run.free_port()
    argv = [a.replace("{port}", str(port)) for a in argv]
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=run._default_sigint,
        )
        try:
            deadline = time.monotonic() + 300
            while not ready(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    out.seek(0)
                    text = out.read().decode(errors="replace")
                    raise RuntimeError(f"{tool} server never got ready: {run.tail(text, 800)}")
                time.sleep(0.1)
            yield port
        finally:
            left, seconds = run.stop_server(proc)
            if left or seconds > run.SLOW_STOP:
                run.log(f"  {tool} server: {left} processes killed, stop took {seconds:.1f} s")


def http_runner(ports: dict[str, int]) -> run.Runner:
    """Times one request for all partitions' statuses against the tool's running server."""

    def runner(
        tool: str, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float
    ) -> Proc:
        fetch = _bakehouse_partitions if tool == "bakehouse" else _dagster_partitions
        started = time.perf_counter()
        answer = fetch(ports[tool])
        seconds = time.perf_counter() - started
        error = _check_partitions(tool, answer)
        return Proc(seconds, 1 if error else 0, "", "", error=error)

    return runner


# --------------------------------------------------------------------------- partition_status


@workload(
    "partition_status",
    heavy=True,
    help="status of every partition of an asset with 10,000 (9,000 materialized, 500 failed, "
    "500 missing): first query, warm in-process query, and over HTTP against a running server",
)
def wl_partition_status(ctx: Ctx) -> None:
    try:
        _partition_status(ctx)
    except RuntimeError as exc:  # a setup or a server failed: say so in a row, go on
        failed_row(ctx, "partition status, 10,000 partitions: setup", str(exc))


def failed_row(ctx: Ctx, label: str, error: str) -> None:
    run.log(f"  FAILED {label}: {error.splitlines()[0]}")
    cells = {t: run.Cell(failures=[error]) for t in ctx.tools}
    ctx.rows.append(run.Row(ctx.current.name if ctx.current else "", label, cells))


def _partition_status(ctx: Ctx) -> None:
    tools = [t for t in ctx.tools if t not in ctx.broken]
    pristine = {t: pristine_home(ctx, t) for t in tools}
    probe = ["python", str(PROBE)]
    env = {t: project_env(t) for t in run.TOOLS}
    where = project
    ctx.compare(
        "partition status, 10,000 partitions: first query after the events, in-process",
        {t: [*probe, "first", t] for t in run.TOOLS},
        cwd=where,
        env=env,
        runner=probe_runner(ctx, None, pristine),
        timeout=600,
        warmup=(),
    )
    ctx.rows[-1].unit = "ms"
    # Homes whose Dagster status cache is up to date, as after any query: the warm rows.
    warm = {t: fresh_copy(ctx, t, pristine[t]) for t in tools}
    for tool in tools:
        res = run.run_process(
            [str(run.VENVS[tool].python), str(PROBE), "first", tool],
            cwd=project(tool),
            env=ctx.env_for(tool, project(tool), warm[tool], None),
            timeout=600,
        )
        if res.rc != 0:
            run.log(f"  {tool}: warming the home failed: {run.summary_line(res.stderr)}")
    for mode, what in (
        ("public", "Instance.get_partition_status vs DagsterInstance.get_status_by_partition"),
        ("subsets", "vs Dagster's status cache as its GraphQL reads it (private API)"),
    ):
        ctx.compare(
            f"partition status, 10,000 partitions: warm in-process query, {what}",
            {t: [*probe, "query", t, mode] for t in run.TOOLS},
            cwd=where,
            env=env,
            runner=probe_runner(ctx, warm, pristine),
            timeout=600,
        )
        ctx.rows[-1].unit = "ms"
    servers = {
        "bakehouse": ["bh", "webserver", "--port", "{port}"],
        "dagster": [
            "dagster-webserver",
            "-m",
            f"{PKG}.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            "{port}",
        ],
    }
    ports: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        for tool in tools:
            argv = [str(run.VENVS[tool].bin(servers[tool][0])), *servers[tool][1:]]
            fetch = _bakehouse_partitions if tool == "bakehouse" else _dagster_partitions
            ports[tool] = stack.enter_context(
                serving(
                    tool,
                    argv,
                    project(tool),
                    ctx.env_for(tool, project(tool), warm[tool], None),
                    # Ready once it answers right: the first answer is untimed.
                    lambda port, fetch=fetch, tool=tool: (
                        _check_partitions(tool, fetch(port)) is None
                    ),
                )
            )
        ctx.compare(
            "partition status, 10,000 partitions: over HTTP, GET /api/assets/{key}/partitions "
            "vs GraphQL assetPartitionStatuses + partitionKeysByDimension",
            {
                "bakehouse": ["GET", f"/api/assets/{STATUS_ASSET}/partitions"],
                "dagster": ["POST", "/graphql", "assetNodeOrError{...}"],
            },
            cwd=where,
            runner=http_runner(ports),
            timeout=120,
        )
        ctx.rows[-1].unit = "ms"


# --------------------------------------------------------------------------- backfill


def backfill_keys(n: int) -> list[str]:
    return [(START + _dt.timedelta(days=i)).isoformat() for i in range(n)]


def validate_bakehouse_backfill(ctx: Ctx, n: int, ends: dict[str, list[float]]) -> Any:
    """`bh launch` must say COMPLETED with n succeeded, and `bh backfill show --json` must list
    n partitions, each with a run that succeeded. Adds to `ends` the seconds from the start of
    `bh launch` until the backfill's last run ended (`bh runs list --json`)."""

    def validate(tool: str, res: Proc, _project: tuple[str, int] | None) -> str | None:
        if tool != "bakehouse":
            return None
        started = time.time() - res.seconds
        output = run.ANSI.sub("", res.stdout + res.stderr)
        found = re.search(r"Backfill (\S+) COMPLETED: (\d+) succeeded", output)
        if not found or int(found.group(2)) != n:
            return f"bh launch did not report {n} partitions succeeded: {run.summary_line(output)}"
        argv, cwd, env = ctx.plans[tool]
        shown = run.run_process(
            [str(Path(argv[0]).parent / "bh"), "backfill", "show", "--json", found.group(1)],
            cwd=cwd,
            env=env,
            timeout=60,
        )
        try:
            partitions = json.loads(shown.stdout)["partitions"]
        except (ValueError, KeyError):
            return f"bh backfill show --json: {run.tail(shown.stderr or shown.stdout, 300)}"
        keys = [p["partition_key"] for p in partitions if p["run_status"] == "SUCCESS"]
        if sorted(keys) != backfill_keys(n):
            return f"bh backfill show: {len(keys)} of {n} partitions have a successful run"
        listed = run.run_process(
            [str(Path(argv[0]).parent / "bh"), "runs", "list", "--json", "--limit", str(n + 50)],
            cwd=cwd,
            env=env,
            timeout=60,
        )
        with contextlib.suppress(ValueError, KeyError, TypeError):
            done = [
                r["ended_at"]
                for r in json.loads(listed.stdout)
                if r["tags"].get("bakehouse/backfill") == found.group(1)
            ]
            if len(done) == n:
                ends[tool].append(max(done) - started)
        return None

    return validate


LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}
"""
BACKFILL_STATE = """
query State($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status }
    ... on PythonError { message }
  }
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    __typename
    ... on Runs { results { status endTime tags { key value } } }
  }
}
"""
MATERIALIZED_COUNT = """
query Stats($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode { partitionStats { numMaterialized numFailed } }
  }
}
"""
DAGSTER_DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
RUN_DONE = {"SUCCESS", "FAILURE", "CANCELED"}
DAGSTER_RUN_QUEUE = f"run_queue:\n  max_concurrent_runs: {MAX_CONCURRENT_RUNS}\n"


def _graphql(port: int, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = run.http_json(port, "/graphql", {"query": query, "variables": variables}, timeout=60)
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        raise RuntimeError(f"GraphQL: {str(answer)[:300]}")
    return data


ASSET_LOADED = """
query Loaded($assetKey: AssetKeyInput!) { assetNodeOrError(assetKey: $assetKey) { __typename } }
"""


def _dagster_ready(port: int) -> bool:
    """Whether the webserver answers and has loaded the code location with the asset."""
    answer = run.http_json(
        port,
        "/graphql",
        {"query": ASSET_LOADED, "variables": {"assetKey": {"path": [BACKFILL_ASSET]}}},
    )
    node = ((answer or {}).get("data") or {}).get("assetNodeOrError") if answer else None
    return bool(node) and node.get("__typename") == "AssetNode"


def dagster_backfill_runner(ctx: Ctx, n: int, ends: dict[str, list[float]]) -> run.Runner:
    """Starts `dagster dev` on a fresh home (untimed, until the asset is loaded), then times
    from sending launchPartitionBackfill until the backfill is done and every run it made has
    finished; checks n runs succeeded, one per partition, and n partitions materialized."""

    def runner(
        tool: str, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float
    ) -> Proc:
        home = ctx.new_home(tool)
        (home / "dagster.yaml").write_text(run.DAGSTER_YAML + DAGSTER_RUN_QUEUE)
        keys = backfill_keys(n)
        seconds = 0.0
        try:
            with serving(
                tool, argv, cwd, {**env, "DAGSTER_HOME": str(home)}, _dagster_ready
            ) as port:
                params = {"assetSelection": [{"path": [BACKFILL_ASSET]}], "partitionNames": keys}
                started = time.perf_counter()
                started_at = time.time()
                launched = _graphql(port, LAUNCH_BACKFILL, {"params": params})
                result = launched["launchPartitionBackfill"]
                if result.get("__typename") != "LaunchBackfillSuccess":
                    raise RuntimeError(f"launchPartitionBackfill: {result}")
                backfill_id = result["backfillId"]
                while True:
                    state = _graphql(port, BACKFILL_STATE, {"id": backfill_id})
                    status = state["partitionBackfillOrError"].get("status")
                    runs = state["runsOrError"].get("results") or []
                    if status in DAGSTER_DONE and all(r["status"] in RUN_DONE for r in runs):
                        break
                    if time.perf_counter() - started > timeout:
                        raise RuntimeError(f"backfill not done after {timeout:.0f} s: {status}")
                    time.sleep(0.25)
                seconds = time.perf_counter() - started
                succeeded = sorted(
                    tag["value"]
                    for r in runs
                    if r["status"] == "SUCCESS"
                    for tag in r["tags"]
                    if tag["key"] == "dagster/partition"
                )
                stats = _graphql(port, MATERIALIZED_COUNT, {"assetKey": {"path": [BACKFILL_ASSET]}})
                materialized = stats["assetNodeOrError"]["partitionStats"]["numMaterialized"]
                error = None
                if status != "COMPLETED_SUCCESS" or succeeded != keys or len(runs) != n:
                    error = (
                        f"backfill {status}: {len(succeeded)} of {n} partitions with a "
                        f"successful run, {len(runs)} runs"
                    )
                elif materialized != n:
                    error = f"{materialized} partitions materialized, not {n}"
                else:
                    ends[tool].append(max(r["endTime"] for r in runs) - started_at)
        except RuntimeError as exc:
            return Proc(seconds, 1, "", "", error=str(exc))
        return Proc(seconds, 1 if error else 0, "", "", error=error)

    return runner


@workload(
    "backfill",
    heavy=True,
    help=f"a {BACKFILL_SIZE}-partition backfill ({BACKFILL_SIZE_QUICK} with --quick), one run "
    "per partition: `bh launch --partition-range` in the foreground vs Dagster's daemon "
    "(`dagster dev`, GraphQL launchPartitionBackfill) until every run finished",
)
def wl_backfill(ctx: Ctx) -> None:
    n = BACKFILL_SIZE_QUICK if ctx.args.quick else BACKFILL_SIZE
    keys = backfill_keys(n)
    ends: dict[str, list[float]] = {t: [] for t in run.TOOLS}
    cells = ctx.compare(
        f"backfill of {n} partitions, one run each (wall)",
        {
            "bakehouse": [
                "bh",
                "launch",
                "--assets",
                BACKFILL_ASSET,
                "--partition-range",
                f"{keys[0]}...{keys[-1]}",
                "--max-concurrent-runs",
                str(MAX_CONCURRENT_RUNS),
            ],
            "dagster": [
                "dagster",
                "dev",
                "-m",
                f"{PKG}.definitions",
                "-h",
                "127.0.0.1",
                "-p",
                "{port}",
            ],
        },
        cwd=project,
        env={t: project_env(t) for t in run.TOOLS},
        runner=_backfill_runner(ctx, n, ends),
        validate=validate_bakehouse_backfill(ctx, n, ends),
        timeout=1800,
        # Dagster starts a Python process per run (and per step): about 2-4 s each here.
        reps={"dagster": 1} if not ctx.args.reps else None,
        warmup=("bakehouse",),
    )
    # The same runs, timed until the last one ended (Dagster's daemon marks the backfill
    # complete on a later pass). Warm-up runs are not counted.
    measured = ctx.rows[-1]
    last = {t: run.Cell(times=ends[t][-cells[t].n :] if cells[t].n else []) for t in ctx.tools}
    ctx.rows.append(
        run.Row(
            measured.workload,
            f"backfill of {n} partitions: from the request until its last run ended",
            last,
            foreign_cpus=measured.foreign_cpus,
        )
    )
    ctx.derived(
        f"backfill of {n} partitions: wall / {n}",
        {t: None if c.median is None else c.median / n for t, c in cells.items()},
        unit="ms",
    )


def _backfill_runner(ctx: Ctx, n: int, ends: dict[str, list[float]]) -> run.Runner:
    dagster = dagster_backfill_runner(ctx, n, ends)

    def runner(
        tool: str, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float
    ) -> Proc:
        if tool == "dagster":
            return dagster(tool, argv, cwd=cwd, env=env, timeout=timeout)
        return run.run_process(argv, cwd=cwd, env=env, timeout=timeout)

    return runner


def reading_notes(rows: list[run.Row]) -> list[str]:
    """The bullets of docs/benchmarks.md's "Reading the numbers" for these workloads."""
    notes = []
    if run.find_row(rows, "partition status"):
        notes.append(
            "- *partition status*: one asset with 10,000 daily partitions whose statuses the "
            "bench writes straight into each tool's storage (untimed; 95 runs of 100 "
            "partitions: 9,000 materialized, 500 failed, 500 missing, alternating along the "
            "range). Times are measured inside the process or as one HTTP request, not as "
            "process walls, and every answer must give those counts for all 10,000 keys. "
            "*first query*: a fresh process right after the events were written (Dagster "
            "builds its status cache in the asset's record then). *warm in-process*: the "
            "second query in one process: the definition's keys plus bakehouse's "
            "`Instance.get_partition_status`, vs Dagster's public "
            "`DagsterInstance.get_status_by_partition` (which tests each key against its "
            "cached subsets) or the cached subsets read as its GraphQL resolvers read them. "
            "*over HTTP*: a running `bh webserver` vs `dagster-webserver` (no daemons), one "
            "request after an untimed first one: bakehouse's JSON lists every key with its "
            "state, counts and merged ranges; Dagster's query asks for what its asset page "
            "asks for (every key, and the status ranges)."
        )
    if run.find_row(rows, "backfill of"):
        notes.append(
            "- *backfill*: one run per partition on both sides, at most "
            f"{MAX_CONCURRENT_RUNS} at once, each tool's default executor. bakehouse: "
            "`bh launch --partition-range` with no deployment running drives the backfill "
            "itself; its whole process wall is timed, and `bh backfill show --json` must "
            "list a successful run for every partition. Dagster: its CLI runs a partition "
            "range only as one run (it requires `BackfillPolicy.single_run()`), so the "
            "one-run-per-partition equivalent is its daemon: `dagster dev` is started "
            "untimed with `run_queue: max_concurrent_runs: "
            f"{MAX_CONCURRENT_RUNS}` (its default is 10), then the time runs from the "
            "GraphQL `launchPartitionBackfill` until the backfill is `COMPLETED_SUCCESS` "
            "and every run it launched has finished, polled every 250 ms; every partition "
            "must have a successful run and `partitionStats` must count them materialized. "
            "Dagster's start-up is thus not in its figure, while bakehouse's is. Dagster's "
            "row runs once, without a warm-up. *until its last run ended*: the same runs, "
            "timed from the start of `bh launch` or from the mutation until the latest end "
            "time of the backfill's runs (Dagster's backfill daemon creates the runs and "
            "marks the backfill complete on its passes, about 30 s apart here, so the "
            "complete status comes up to one pass after the last run)."
        )
    return notes


run.READING_NOTES.append(reading_notes)
