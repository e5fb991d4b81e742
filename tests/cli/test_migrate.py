"""`bh migrate-from-dagster` on real Dagster project trees written to disk, run as a subprocess."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest

from tests.cli.helpers import RunBh, write


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


ASSETS = dedent(
    """
    import dagster as dg
    from dagster_duckdb import DuckDBResource  # the warehouse

    from dagster_course.defs import constants


    @dg.asset(
        group_name="raw_files",
        kinds={"python"},  # shown in the UI
    )
    def taxi_zones_file() -> dg.MaterializeResult:
        \"\"\"The raw CSV file of taxi zones.\"\"\"
        return dg.MaterializeResult(metadata={"rows": dg.MetadataValue.int(constants.ROWS)})


    @dg.asset(deps=["taxi_zones_file"])
    def taxi_zones(database: DuckDBResource) -> None:
        with database.get_connection() as conn:
            conn.execute("create or replace table zones as select 3 as zone_count")
    """
)

JOBS = dedent(
    """
    from dagster import (
        AssetSelection,   # odd spacing kept
        define_asset_job,
    )

    everything = define_asset_job(name="everything", selection=AssetSelection.all())
    """
)

DEFINITIONS = dedent(
    """
    from pathlib import Path

    import dagster as dg


    @dg.definitions
    def defs():
        return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    """
)

PYPROJECT = dedent(
    """
    [project]
    name = "dagster_course"
    version = "0.1.0"
    dependencies = [
        "dagster==1.13.*",
        "dagster-snowflake",  # not in bakehouse
        "pandas",
    ]

    [dependency-groups]
    dev = [
        "dagster-webserver",
        "dagster-dg-cli",
        "pytest",
    ]

    [tool.dg]
    directory_type = "project"

    [tool.dg.project]
    root_module = "dagster_course"
    """
)

README = dedent(
    """
    # dagster_course

    Install with `pip install -e ".[dev]" dagster dagster-webserver`, then start the UI with
    `dg dev`, or from a shell:

    ```sh
    $ dagster dev
    dg check defs
    ```

    ```python
    import dagster as dg  # as in the code

    result = dg.materialize([taxi_zones_file])
    ```

    Dagster runs the assets.
    """
)


def course_project(root: Path) -> Path:
    """A course-style Dagster project in the `dg` layout: definitions.py, defs/, [tool.dg]."""
    package = root / "src" / "dagster_course"
    write(root / "pyproject.toml", PYPROJECT)
    write(root / "README.md", README)
    write(package / "__init__.py", "")
    write(package / "definitions.py", DEFINITIONS)
    write(package / "defs" / "__init__.py", "")
    write(package / "defs" / "constants.py", "ROWS = 3\n")
    write(package / "defs" / "assets.py", ASSETS)
    write(package / "defs" / "jobs.py", JOBS)
    return root


def snapshot(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_migrates_a_course_project_in_place(tmp_path: Path, bh: RunBh) -> None:
    root = course_project(tmp_path / "course")
    result = bh("migrate-from-dagster", "--yes", str(root), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    package = root / "src" / "dagster_course"
    assets = (package / "defs" / "assets.py").read_text()
    assert assets.startswith(
        "import bakehouse as dg\n"
        "from bakehouse_duckdb import DuckDBResource  # the warehouse\n\n"
        # The project's own package keeps its name though it starts with dagster_.
        "from dagster_course.defs import constants\n"
    )
    assert (
        assets.replace("import bakehouse as dg", "import dagster as dg").replace(
            "from bakehouse_duckdb", "from dagster_duckdb"
        )
        == ASSETS
    )
    assert (package / "definitions.py").read_text() == DEFINITIONS.replace(
        "import dagster as dg", "import bakehouse as dg"
    )
    pyproject = (root / "pyproject.toml").read_text()
    assert pyproject == PYPROJECT.replace('"dagster==1.13.*"', '"bakehouse"').replace(
        '    "dagster-webserver",\n    "dagster-dg-cli",\n', ""
    ).replace("[tool.dg]", "[tool.bakehouse]").replace(
        "[tool.dg.project]", "[tool.bakehouse.project]"
    )
    assert "dagster-snowflake" in pyproject
    assert "'dagster-snowflake' has no bakehouse counterpart; kept" in result.stdout
    readme = (root / "README.md").read_text()
    assert readme == README.replace(
        '`pip install -e ".[dev]" dagster dagster-webserver`',
        '`pip install -e ".[dev]" bakehouse`',
    ).replace("`dg dev`", "`bh dev`").replace(
        "$ dagster dev\ndg check defs\n", "$ bh dev\nbh check defs\n"
    ).replace("import dagster as dg  # as in", "import bakehouse as dg  # as in")
    assert "Dagster runs the assets." in readme  # prose is not a command


@pytest.mark.slow  # starts a code server
def test_the_migrated_project_loads_and_runs_in_bakehouse(tmp_path: Path, bh: RunBh) -> None:
    root = course_project(tmp_path / "course")
    write(
        root / "src/dagster_course/defs/resources.py",
        dedent(
            """
            import dagster as dg
            from dagster_duckdb import DuckDBResource


            @dg.definitions
            def resources():
                return dg.Definitions(
                    resources={"database": DuckDBResource(database=dg.EnvVar("DUCKDB_DATABASE"))}
                )
            """
        ),
    )
    migrated = bh("migrate-from-dagster", "--yes", cwd=root)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "Every Dagster name this project uses exists in bakehouse." in migrated.stdout
    env = {"DUCKDB_DATABASE": str(tmp_path / "course.duckdb")}
    checked = bh("check", "defs", cwd=root, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "2 assets" in checked.stdout
    assert "1 job" in checked.stdout
    launched = bh("launch", "--job", "everything", cwd=root, env=env)
    assert launched.returncode == 0, launched.stdout + launched.stderr
    # The DuckDB asset really ran, through bakehouse_duckdb's resource.
    with duckdb.connect(env["DUCKDB_DATABASE"], read_only=True) as conn:
        assert conn.execute("select zone_count from zones").fetchall() == [(3,)]


def test_shows_the_diff_and_writes_nothing_when_declined(tmp_path: Path, bh: RunBh) -> None:
    root = course_project(tmp_path / "course")
    before = snapshot(root)
    result = bh("migrate-from-dagster", str(root), cwd=tmp_path, input="n\n")
    assert result.returncode == 1
    assert "--- a/src/dagster_course/definitions.py\n" in result.stdout
    assert "+++ b/src/dagster_course/definitions.py\n" in result.stdout
    assert "-import dagster as dg\n+import bakehouse as dg\n" in result.stdout
    assert "-[tool.dg]\n+[tool.bakehouse]\n" in result.stdout
    assert "Apply these changes to 5 files?" in result.stdout
    assert "Nothing written." in result.stdout
    assert snapshot(root) == before


def test_diff_comes_before_the_question_and_yes_writes(tmp_path: Path, bh: RunBh) -> None:
    root = course_project(tmp_path / "course")
    result = bh("migrate-from-dagster", cwd=root, input="y\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (
        out.index("+import bakehouse as dg")
        < out.index("Apply these changes")
        < out.index("Migrated 5 files")
    )
    assert "import bakehouse as dg" in (root / "src/dagster_course/definitions.py").read_text()


def test_check_reports_and_exits_1_without_writing(tmp_path: Path, bh: RunBh) -> None:
    root = course_project(tmp_path / "course")
    before = snapshot(root)
    result = bh("migrate-from-dagster", "--check", cwd=root)
    assert result.returncode == 1
    assert "+import bakehouse as dg" in result.stdout
    assert "5 files would change" in result.stdout
    assert snapshot(root) == before
    bh("migrate-from-dagster", "--yes", cwd=root)
    after = bh("migrate-from-dagster", "--check", cwd=root)
    assert after.returncode == 0, after.stdout
    assert "Nothing to change" in after.stdout


def test_lists_names_bakehouse_lacks_with_file_and_line(tmp_path: Path, bh: RunBh) -> None:
    root = course_project(tmp_path / "course")
    write(
        root / "src/dagster_course/defs/external.py",
        dedent(
            """
            import dagster as dg
            from dagster_snowflake import SnowflakeResource


            @dg.asset
            def scored(pipes: dg.PipesSubprocessClient) -> None:
                dg.AssetSelection.all()
            """
        ),
    )
    result = bh("migrate-from-dagster", "--check", cwd=root)
    lines = result.stdout.splitlines()
    assert (
        "  src/dagster_course/defs/external.py:2: from bakehouse_snowflake import "
        "SnowflakeResource: no module bakehouse_snowflake"
    ) in lines
    assert (
        "  src/dagster_course/defs/external.py:6: dg.PipesSubprocessClient: "
        "bakehouse has no PipesSubprocessClient"
    ) in lines
    # Names bakehouse has are not listed.
    report = result.stdout.split("names bakehouse does not have")[1].splitlines()
    assert not any("AssetSelection" in line or "dg.asset" in line for line in report)
    # Names are checked after the rewrite too: a second run still lists them.
    bh("migrate-from-dagster", "--yes", cwd=root)
    again = bh("migrate-from-dagster", "--check", cwd=root)
    assert "external.py:6: dg.PipesSubprocessClient" in again.stdout


def test_a_second_run_changes_nothing(tmp_path: Path, bh: RunBh) -> None:
    root = course_project(tmp_path / "course")
    assert bh("migrate-from-dagster", "--yes", cwd=root).returncode == 0
    migrated = snapshot(root)
    second = bh("migrate-from-dagster", "--yes", cwd=root)
    assert second.returncode == 0
    assert "Nothing to change" in second.stdout
    assert snapshot(root) == migrated


def test_keeps_comments_and_formatting(tmp_path: Path, bh: RunBh) -> None:
    root = course_project(tmp_path / "course")
    bh("migrate-from-dagster", "--yes", cwd=root)
    jobs = (root / "src/dagster_course/defs/jobs.py").read_text()
    assert jobs == JOBS.replace("from dagster import (", "from bakehouse import (")


@pytest.mark.slow  # starts a code server
def test_pre_dg_layout_with_setup_py_and_requirements_loads(tmp_path: Path, bh: RunBh) -> None:
    root = tmp_path / "legacy"
    write(
        root / "pyproject.toml",
        dedent(
            """
            [build-system]
            requires = ["setuptools"]

            [tool.dagster]
            module_name = "legacy.definitions"
            code_location_name = "legacy_location"
            """
        ),
    )
    write(
        root / "setup.py",
        dedent(
            """
            from setuptools import find_packages, setup

            setup(
                name="legacy",
                install_requires=[
                    "dagster==1.10.*",
                    'dagster-webserver',
                    "pandas",  # data frames
                ],
            )
            """
        ),
    )
    write(root / "requirements.txt", "dagster>=1.9  # the orchestrator\ndagster-cloud\nrequests\n")
    write(root / "workspace.yaml", "load_from:\n  - python_module: legacy.definitions\n")
    write(root / "legacy" / "__init__.py", "")
    write(
        root / "legacy" / "definitions.py",
        dedent(
            """
            import dagster


            @dagster.asset
            def greeting() -> str:
                return "hello"


            defs = dagster.Definitions(assets=[greeting])
            """
        ),
    )
    result = bh("migrate-from-dagster", "--yes", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        (root / "legacy/definitions.py")
        .read_text()
        .startswith("import bakehouse\n\n\n@bakehouse.asset\n")
    )
    assert (
        "defs = bakehouse.Definitions(assets=[greeting])"
        in (root / "legacy/definitions.py").read_text()
    )
    pyproject = (root / "pyproject.toml").read_text()
    assert pyproject.endswith(
        dedent(
            """
            [tool.bakehouse]
            directory_type = "project"

            [tool.bakehouse.project]
            root_module = "legacy"
            code_location_target_module = "legacy.definitions"
            code_location_name = "legacy_location"
            """
        )
    )
    setup_py = (root / "setup.py").read_text()
    assert '"bakehouse",\n        "pandas",  # data frames\n' in setup_py
    assert "dagster" not in setup_py
    assert (root / "requirements.txt").read_text() == "bakehouse  # the orchestrator\nrequests\n"
    assert "note: workspace.yaml: bakehouse does not read it;" in result.stdout
    checked = bh("check", "defs", cwd=root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "code location legacy_location" in checked.stdout
    assert "1 asset" in checked.stdout


def test_a_workspace_migrates_each_project(tmp_path: Path, bh: RunBh) -> None:
    workspace = tmp_path / "ws"
    write(workspace / "dg.toml", 'directory_type = "workspace"\n')
    course_project(workspace / "projects" / "course")
    pipeline = workspace / "projects" / "pipeline"
    write(
        pipeline / "pyproject.toml",
        PYPROJECT.replace("dagster_course", "dagster_pipeline"),
    )
    write(pipeline / "README.md", "Run `dg dev`.\n")
    write(pipeline / "src/dagster_pipeline/__init__.py", "")
    write(
        pipeline / "src/dagster_pipeline/definitions.py",
        "import dagster as dg\nfrom dagster_pipeline.defs import x\n",
    )
    result = bh("migrate-from-dagster", "--yes", cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    for project in ("course", "pipeline"):
        root = workspace / "projects" / project
        assert "[tool.bakehouse]" in (root / "pyproject.toml").read_text()
        assert "`bh dev`" in (root / "README.md").read_text()
    assert (pipeline / "src/dagster_pipeline/definitions.py").read_text() == (
        "import bakehouse as dg\nfrom dagster_pipeline.defs import x\n"
    )
    assert (workspace / "dg.toml").read_text() == 'directory_type = "workspace"\n'


def test_a_file_that_is_not_python_is_named_and_the_rest_migrates(
    tmp_path: Path, bh: RunBh
) -> None:
    root = course_project(tmp_path / "course")
    broken = write(root / "src/dagster_course/defs/broken.py", "import dagster\ndef oops(:\n")
    result = bh("migrate-from-dagster", "--yes", cwd=root)
    assert "src/dagster_course/defs/broken.py:2: not valid Python, left as is" in result.stderr
    assert broken.read_text() == "import dagster\ndef oops(:\n"
    assert "bakehouse" in (root / "src/dagster_course/definitions.py").read_text()


def test_a_path_that_is_not_a_folder_is_refused(tmp_path: Path, bh: RunBh) -> None:
    result = bh("migrate-from-dagster", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 2
    assert "does not exist" in result.stderr
