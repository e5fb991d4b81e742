"""The example's dbt project (examples/jaffle/jaffle_dbt) copied for a test, its raw tables
loaded into a DuckDB file, what dbt's own artifacts say a run did, and dbt itself.

dbt-core pins libraries the development tools cannot share (pathspec, with mypy 2), so the
tests run dbt from a venv of its own, built once and cached like the tests' other venvs, and
named to bakehouse by BAKEHOUSE_DBT_EXECUTABLE.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.support.projects import VENV_CACHE

REPO = Path(__file__).resolve().parents[2]
DBT_PACKAGES = ["dbt-core>=1.8,<1.12", "dbt-duckdb>=1.8"]
JAFFLE = REPO / "examples" / "jaffle"
RAW_TABLES = ("customers", "orders", "payments")


def copy_jaffle(target: Path) -> Path:
    """A copy of the whole example project at `target` (without artifacts or databases)."""
    shutil.copytree(
        JAFFLE,
        target,
        ignore=shutil.ignore_patterns(".bakehouse", "target", "logs", "*.duckdb", "*.wal"),
    )
    return target


def copy_jaffle_dbt(target: Path) -> Path:
    """A copy of the example's dbt project at `target`."""
    shutil.copytree(JAFFLE / "jaffle_dbt", target, ignore=shutil.ignore_patterns("target", "logs"))
    return target


def load_raw_tables(database: Path) -> None:
    """The raw.* tables the dbt sources read, from the example's CSV files."""
    with duckdb.connect(str(database)) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
        for table in RAW_TABLES:
            csv = JAFFLE / "data" / f"raw_{table}.csv"
            conn.execute(f"CREATE OR REPLACE TABLE raw.{table} AS SELECT * FROM read_csv('{csv}')")


def last_run_results(project_dir: Path) -> list[str]:
    """The unique ids dbt ran in its newest invocation (its run_results.json)."""
    found = sorted(
        (project_dir / "target").glob("*/run_results.json"), key=lambda p: p.stat().st_mtime
    )
    assert found, f"dbt wrote no run_results.json under {project_dir / 'target'}"
    results = json.loads(found[-1].read_text(encoding="utf-8"))["results"]
    return [r["unique_id"] for r in results]


def table_rows(database: Path, query: str) -> list[tuple[object, ...]]:
    """The rows of `query` in `database`, read-only."""
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(query).fetchall()


def dbt_in_venv() -> Path:
    """The ``dbt`` of a venv holding only dbt-core and dbt-duckdb, built once per machine."""
    key = hashlib.sha256("|".join([sys.version, *DBT_PACKAGES]).encode()).hexdigest()[:16]
    venv = VENV_CACHE / f"dbt-{key}"
    VENV_CACHE.mkdir(exist_ok=True)
    with (VENV_CACHE / f"dbt-{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers wait for the one building it
        if not (venv / ".ready").exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
            subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                 "--disable-pip-version-check", *DBT_PACKAGES],
                check=True,
                timeout=900,
            )  # fmt: skip
            (venv / ".ready").write_text("ok")
    return venv / "bin" / "dbt"


@pytest.fixture(scope="session")
def dbt_executable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """dbt for this session's tests and the processes they start: this Python's own when it
    has one (``pip install 'bakehouse[dbt]'``), else the cached venv's, found on PATH (`bh`
    and `bh dev` in tests drop BAKEHOUSE_ variables, so BAKEHOUSE_DBT_EXECUTABLE would not
    reach their code servers; a folder holding only ``dbt`` puts nothing else on PATH)."""
    beside = Path(sys.executable).parent / "dbt"
    executable = beside if beside.is_file() else dbt_in_venv()
    folder = tmp_path_factory.mktemp("dbt-bin")
    (folder / "dbt").symlink_to(executable)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
        yield executable


@pytest.fixture(scope="session")
def parsed_jaffle(tmp_path_factory: pytest.TempPathFactory, dbt_executable: Path) -> Path:
    """One parsed copy of the example's dbt project per test process (parsing takes seconds);
    tests read its manifest and must not change it."""
    from bakehouse_dbt import DbtProject

    project = DbtProject(copy_jaffle_dbt(tmp_path_factory.mktemp("parsed") / "jaffle_dbt"))
    project.prepare()
    return project.project_dir
