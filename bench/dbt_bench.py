"""A generated dbt project of N models (default 200) loaded and built by bakehouse_dbt and by
Dagster's dagster-dbt, side by side on the same dbt.

    .venv/bin/python bench/dbt_bench.py [--models 200] [--repeat 3]

Both tools get the same dbt project (bench/.work/dbt_bench/project: model m_000 selects ten
rows, each later model reads its predecessor and the model at half its index, all tables in one
DuckDB file) and the same definitions, `@dbt_assets` over the parsed manifest with
``yield from dbt.cli(["build"], context=context).stream()``, differing only in the imports. Both
run the same ``dbt`` (bench/.venv-dagster's, where dagster-dbt is installed), so dbt's own time
is the same work. Measured, wall clock, each `--repeat` times (median shown):

- load: ``bh check defs`` against ``dagster definitions validate`` (the manifest already parsed);
- build: ``bh launch --assets '*'`` against ``dagster asset materialize --select '*'``, and what
  dbt itself reports for its run (``elapsed_time`` of run_results.json); the difference, per
  model, is the tool's overhead beyond dbt's own time (process starts, loading the code,
  reading dbt's events, storing them). dbt's own start and parse count as overhead for both.

Results go to stdout and bench/.work/dbt_bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work" / "dbt_bench"
BAKEHOUSE_PYTHON = REPO / ".venv" / "bin" / "python"

sys.path.insert(0, str(BENCH))
import run as bench_run  # noqa: E402  (bench/run.py: the venv it makes for Dagster)

DEFINITIONS = """\
from pathlib import Path

import {tool} as dg
from {dbt_module} import DbtCliResource, DbtProject, dbt_assets

project = DbtProject(project_dir=Path({project!r}))


@dbt_assets(manifest=project.manifest_path)
def bench_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()


defs = dg.Definitions(
    assets=[bench_dbt_assets], resources={{"dbt": DbtCliResource(project_dir=project)}}
)
"""


def dagster_python() -> str:
    """bench/.venv-dagster's interpreter, with dagster-dbt and dbt-duckdb added."""
    # dbt-core 1.12 builds a parser it downloads from outside the package index.
    packages = ["dagster-dbt", "dbt-duckdb", "dbt-core<1.12"]
    return str(bench_run.dagster_venv_with("dagster_dbt", packages, "dbt_bench"))


def write_dbt_project(root: Path, models: int) -> None:
    """N models in a chain with shortcuts, all tables in one DuckDB file."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: bench\nversion: '1.0'\nprofile: bench\nmodels:\n  bench:\n    +materialized: table\n"
    )
    (root / "profiles.yml").write_text(
        "bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {root / 'bench.duckdb'}\n      threads: 1\n"
    )
    (root / "models" / "m_000.sql").write_text("select range as id from range(10)\n")
    for index in range(1, models):
        parents = sorted({index - 1, index // 2})
        reads = " union all ".join(f"select id from {{{{ ref('m_{p:03d}') }}}}" for p in parents)
        (root / "models" / f"m_{index:03d}.sql").write_text(f"select distinct id from ({reads})\n")


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds `command` took; exits the bench when it fails."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(
            f"dbt_bench: {' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return elapsed


def newest_dbt_elapsed(project: Path, since: float) -> float:
    """``elapsed_time`` of the newest run_results.json written under the project after `since`."""
    found = [p for p in project.rglob("run_results.json") if p.stat().st_mtime >= since]
    if not found:
        sys.exit(f"dbt_bench: no run_results.json written under {project}")
    newest = max(found, key=lambda p: p.stat().st_mtime)
    return float(json.loads(newest.read_text())["elapsed_time"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    dagster = dagster_python()
    dbt = Path(dagster).parent / "dbt"
    project = WORK / "project"
    write_dbt_project(project, args.models)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("BAKEHOUSE_", "DAGSTER_"))}
    base_env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    base_env["PYTHONWARNINGS"] = "ignore"
    subprocess.run(
        [
            str(dbt),
            "parse",
            "--quiet",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
        ],
        check=True,
        env=base_env,
    )

    # bakehouse: a project whose one module holds the definitions.
    bh_root = WORK / "bakehouse"
    shutil.rmtree(bh_root, ignore_errors=True)
    (bh_root / "src" / "bbench").mkdir(parents=True)
    (bh_root / "pyproject.toml").write_text(
        '[project]\nname = "bbench"\nversion = "0.1.0"\n\n[tool.bakehouse]\n'
        'directory_type = "project"\n\n[tool.bakehouse.project]\nroot_module = "bbench"\n'
    )
    (bh_root / "src" / "bbench" / "__init__.py").write_text("")
    (bh_root / "src" / "bbench" / "definitions.py").write_text(
        DEFINITIONS.format(tool="bakehouse", dbt_module="bakehouse_dbt", project=str(project))
    )
    bh_env = {**base_env, "BAKEHOUSE_DBT_EXECUTABLE": str(dbt)}
    bh = [str(BAKEHOUSE_PYTHON), "-m", "bakehouse"]

    # Dagster: the same definitions in one file, run with a fresh DAGSTER_HOME.
    dg_root = WORK / "dagster"
    shutil.rmtree(dg_root, ignore_errors=True)
    dg_root.mkdir(parents=True)
    (dg_root / "defs.py").write_text(
        DEFINITIONS.format(tool="dagster", dbt_module="dagster_dbt", project=str(project))
    )
    dagster_bin = str(Path(dagster).parent / "dagster")
    rows: dict[str, list[float]] = {k: [] for k in ("bh_load", "dg_load")}
    builds: dict[str, list[tuple[float, float]]] = {"bakehouse": [], "dagster": []}
    for _ in range(args.repeat):
        rows["bh_load"].append(timed([*bh, "check", "defs"], bh_root, bh_env))
        with tempfile.TemporaryDirectory() as home:
            dg_env = {**base_env, "DAGSTER_HOME": home, "PATH": f"{dbt.parent}:{base_env['PATH']}"}
            rows["dg_load"].append(
                timed([dagster_bin, "definitions", "validate", "-f", "defs.py"], dg_root, dg_env)
            )
            since = time.time()
            wall = timed(
                [dagster_bin, "asset", "materialize", "-f", "defs.py", "--select", "*"],
                dg_root,
                dg_env,
            )
            builds["dagster"].append((wall, newest_dbt_elapsed(project, since)))
        shutil.rmtree(bh_root / ".bakehouse", ignore_errors=True)
        since = time.time()
        wall = timed([*bh, "launch", "--assets", "*"], bh_root, bh_env)
        builds["bakehouse"].append((wall, newest_dbt_elapsed(project, since)))

    med = statistics.median
    lines = [
        f"dbt project of {args.models} models (tables in DuckDB), median of {args.repeat}; "
        "seconds, wall clock",
        "",
        "| | bakehouse_dbt | dagster-dbt |",
        "|---|---|---|",
        f"| load (`bh check defs` / `dagster definitions validate`) | {med(rows['bh_load']):.2f} "
        f"| {med(rows['dg_load']):.2f} |",
    ]
    for label, index in (("full build", 0), ("dbt's own run (run_results elapsed_time)", 1)):
        lines.append(
            f"| {label} | {med(b[index] for b in builds['bakehouse']):.2f} "
            f"| {med(b[index] for b in builds['dagster']):.2f} |"
        )
    overhead = {
        tool: med((wall - dbt_time) / args.models * 1000 for wall, dbt_time in runs)
        for tool, runs in builds.items()
    }
    lines.append(
        f"| overhead beyond dbt's run, per model (ms) | {overhead['bakehouse']:.1f} "
        f"| {overhead['dagster']:.1f} |"
    )
    text = "\n".join(lines) + "\n"
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
