"""`bh scaffold`, `bh list components` and `bh check settings` on real projects, as processes.

Also what the seed's users do: a `[tool.dg]` project with `registry_modules` and a component
of its own loads and runs, and a folder of SQL files materializes into DuckDB in order.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.cli.helpers import RunBh, write

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(tmp_path: Path, bh: RunBh) -> Path:
    made = bh("create", "project", "demo", "--no-venv", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    return tmp_path / "demo"


def asset_keys(bh: RunBh, project: Path) -> dict[str, list[str]]:
    listed = bh("list", "defs", "--json", cwd=project)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    return {a["key"]: list(a["deps"]) for a in json.loads(listed.stdout)["assets"]}


def test_scaffolded_definitions_show_up_without_editing(demo: Path, bh: RunBh) -> None:
    for kind, path in [("asset", "raw/orders.py"), ("multi_asset", "stats.py"),
                       ("resource", "warehouse_api.py"), ("job", "everything.py"),
                       ("sensor", "watch.py")]:  # fmt: skip
        done = bh("scaffold", "defs", kind, path, cwd=demo)
        assert done.returncode == 0, done.stderr
    assert (demo / "src/demo/defs/raw/__init__.py").exists()
    listed = bh("list", "defs", "--json", cwd=demo)
    snap = json.loads(listed.stdout)
    assert {a["key"] for a in snap["assets"]} == {"orders", "stats_rows", "stats_summary"}
    assert {j["name"] for j in snap["jobs"]} == {"everything", "watch_job"}
    assert [s["name"] for s in snap["sensors"]] == ["watch"]
    assert [r["name"] for r in snap["resources"]] == ["warehouse_api"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("../escape.py", "leaves the defs folder"),
        ("/tmp/escape.py", "is an absolute path"),
        ("raw/../../../escape.py", "leaves the defs folder"),
    ],
)
def test_paths_outside_defs_are_refused(demo: Path, bh: RunBh, path: str, expected: str) -> None:
    result = bh("scaffold", "defs", "asset", path, cwd=demo)
    assert result.returncode == 1
    assert expected in result.stderr
    assert not (demo / "src/demo/escape.py").exists()


def test_an_existing_file_needs_force(demo: Path, bh: RunBh) -> None:
    target = write(demo / "src/demo/defs/orders.py", "# mine\n")
    result = bh("scaffold", "defs", "asset", "orders.py", cwd=demo)
    assert result.returncode == 1
    assert "already exists; use --force to replace it" in result.stderr
    assert target.read_text() == "# mine\n"
    assert bh("scaffold", "defs", "asset", "orders.py", "--force", cwd=demo).returncode == 0
    assert "def orders(" in target.read_text()


def test_an_unknown_kind_lists_kinds_and_component_types(demo: Path, bh: RunBh) -> None:
    result = bh("scaffold", "defs", "assett", "x.py", cwd=demo)
    assert result.returncode == 1
    assert "'assett' is neither a kind of definition (asset, multi_asset" in result.stderr
    assert "bakehouse.SqlFolderComponent" in result.stderr


def test_scaffold_outside_a_project_says_so(tmp_path: Path, bh: RunBh) -> None:
    result = bh("scaffold", "defs", "asset", "x.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "no bakehouse project found" in result.stderr


def test_a_component_type_of_the_project_is_listed_and_instantiated(demo: Path, bh: RunBh) -> None:
    made = bh("scaffold", "component", "Greeting", cwd=demo)
    assert made.returncode == 0, made.stderr
    assert "type: demo.components.greeting.Greeting" in made.stdout
    listed = bh("list", "components", "--json", cwd=demo)
    assert listed.returncode == 0, listed.stderr
    names = [t["name"] for t in json.loads(listed.stdout)]
    assert names == [
        "bakehouse.SqlFolderComponent",
        "bakehouse.ScriptComponent",
        "demo.components.greeting.Greeting",
    ]
    table = bh("list", "components", cwd=demo)
    assert "demo.components.greeting.Greeting" in table.stdout
    instance = bh("scaffold", "defs", "demo.components.greeting.Greeting", "hello", cwd=demo)
    assert instance.returncode == 0, instance.stderr
    yaml_text = (demo / "src/demo/defs/hello/defs.yaml").read_text()
    assert "  # message: hello\n" in yaml_text
    assert asset_keys(bh, demo) == {"hello": []}
    launched = bh("launch", "--assets", "hello", cwd=demo)
    assert launched.returncode == 0, launched.stdout + launched.stderr


def test_a_broken_component_module_is_reported_by_list_components(demo: Path, bh: RunBh) -> None:
    broken = write(demo / "src/demo/components/broken.py", "import nowhere_at_all\n")
    result = bh("list", "components", cwd=demo)
    assert result.returncode == 1
    assert f"{broken}:1" in result.stdout
    assert "nowhere_at_all" in result.stdout


def test_sql_folder_with_three_files_materializes_into_duckdb_in_order(
    demo: Path, bh: RunBh
) -> None:
    made = bh("scaffold", "defs", "bakehouse.SqlFolderComponent", "shop", cwd=demo)
    assert made.returncode == 0, made.stderr
    folder = demo / "src/demo/defs/shop"
    for example in folder.glob("example_*.sql"):
        example.unlink()
    write(folder / "orders.sql", "select range as id, range % 4 as customer_id, 10 as amount "
          "from range(40)\n")  # fmt: skip
    write(folder / "customers.sql", "select range as id, 'c' || range as name from range(4)\n")
    write(
        folder / "revenue.sql",
        "select c.name, sum(o.amount) as total\nfrom orders o\n"
        "join customers c on c.id = o.customer_id\ngroup by c.name\n",
    )
    assert asset_keys(bh, demo) == {
        "customers": [],
        "orders": [],
        "revenue": ["customers", "orders"],
    }
    listed = bh("list", "defs", cwd=demo)
    assert "customers, orders" in listed.stdout  # the deps column of the table
    launched = bh("launch", "--assets", "*", cwd=demo)
    assert launched.returncode == 0, launched.stdout + launched.stderr
    out = launched.stdout
    assert out.index("✓ revenue") > max(out.index("✓ orders"), out.index("✓ customers"))
    assert "row_count=4" in out
    with duckdb.connect(str(demo / "data/warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select sum(total) from revenue").fetchone() == (400,)


def test_a_bad_yaml_attribute_fails_check_defs_naming_file_and_line(demo: Path, bh: RunBh) -> None:
    assert bh("scaffold", "defs", "bakehouse.SqlFolderComponent", "shop", cwd=demo).returncode == 0
    yaml_file = demo / "src/demo/defs/shop/defs.yaml"
    text = yaml_file.read_text().replace("materialize_as: table", "materialize_as: tabel")
    yaml_file.write_text(text)
    line = text.splitlines().index("  materialize_as: tabel") + 1
    result = bh("check", "defs", cwd=demo)
    assert result.returncode == 1
    assert f"{yaml_file}:{line}: attributes.materialize_as: Input should be 'table' or 'view'" in (
        result.stdout
    )


def test_a_script_component_failure_fails_the_run_with_its_output(demo: Path, bh: RunBh) -> None:
    write(
        demo / "src/demo/defs/nightly_export/defs.yaml",
        "type: ScriptComponent\nattributes:\n"
        "  command: echo exporting; echo disk full >&2; exit 2\n",
    )
    result = bh("launch", "--assets", "nightly_export", cwd=demo)
    assert result.returncode == 1
    assert "exited with code 2" in result.stdout
    assert "disk full" in result.stdout


SEED_PYPROJECT = """\
[project]
name = "dagster_essentials"
version = "0.1.0"

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "dagster_essentials"
registry_modules = ["dagster_essentials.components.*"]
"""
SEED_DEFINITIONS = """\
from pathlib import Path

from bakehouse import definitions, load_from_defs_folder


@definitions
def defs():
    return load_from_defs_folder(project_root=Path(__file__).parent.parent.parent)
"""
TRIPS = """\
import bakehouse as dg


@dg.asset
def taxi_trips_file() -> list[int]:
    return [3, 5, 8]


@dg.asset
def taxi_trips(taxi_trips_file: list[int]) -> int:
    return sum(taxi_trips_file)
"""
COMPONENT = '''\
import bakehouse as dg


class TripReport(dg.Component, dg.Model, dg.Resolvable):
    """A report over the trips."""

    title: str

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        title = self.title

        @dg.asset(key="trip_report", deps=["taxi_trips"])
        def report() -> str:
            return title

        return dg.Definitions(assets=[report])
'''


def test_a_seed_style_dg_project_with_registry_modules_loads_and_runs(
    tmp_path: Path, bh: RunBh
) -> None:
    root = tmp_path / "dagster-essentials"
    package = root / "src/dagster_essentials"
    write(root / "pyproject.toml", SEED_PYPROJECT)
    write(package / "__init__.py", "")
    write(package / "definitions.py", SEED_DEFINITIONS)
    write(package / "defs/__init__.py", "")
    write(package / "defs/assets/__init__.py", "")
    write(package / "defs/assets/constants.py", "TRIPS_FILE = 'data/trips.csv'\n")
    write(package / "defs/assets/trips.py", TRIPS)
    write(package / "components/__init__.py", "")
    write(package / "components/reports.py", COMPONENT)
    write(package / "defs/report/defs.yaml", "type: TripReport\nattributes:\n  title: Weekly\n")
    listed = bh("list", "components", "--json", cwd=root)
    assert "dagster_essentials.components.reports.TripReport" in listed.stdout
    assert asset_keys(bh, root) == {
        "taxi_trips_file": [],
        "taxi_trips": ["taxi_trips_file"],
        "trip_report": ["taxi_trips"],
    }
    launched = bh("launch", "--assets", "*", cwd=root)
    assert launched.returncode == 0, launched.stdout + launched.stderr
    assert "3 assets materialized" in launched.stdout
    settings = bh("check", "settings", cwd=root)
    assert settings.returncode == 0, settings.stderr
    assert "[tool.dg]" in settings.stdout
    assert "dagster_essentials.components.*" in settings.stdout


def test_check_settings_warns_of_unknown_keys_and_names_bad_ones(demo: Path, bh: RunBh) -> None:
    pyproject = demo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("registry_modules", "registy_modules"))
    result = bh("check", "settings", cwd=demo)
    assert result.returncode == 0
    assert (
        f"{pyproject}: tool.bakehouse.project.registy_modules: unknown key, ignored (did you "
        "mean registry_modules?)"
    ) in result.stdout
    checked = bh("check", "defs", cwd=demo)
    assert "registy_modules: unknown key" in checked.stdout
    pyproject.write_text(pyproject.read_text().replace("registy_modules", "registry_modules"))
    pyproject.write_text(pyproject.read_text().replace('"demo.components.*"', '"demo/components"'))
    bad = bh("check", "settings", cwd=demo)
    assert bad.returncode == 1
    assert f"{pyproject}: tool.bakehouse.project.registry_modules[0] must be a module name" in (
        bad.stderr
    )


def test_env_file_variables_reach_components(demo: Path, bh: RunBh) -> None:
    (demo / ".env").write_text("GREETING=hello from .env\n")
    write(
        demo / "src/demo/defs/greet/defs.yaml",
        "type: ScriptComponent\nattributes:\n"
        "  command: 'echo {{ env.GREETING }}; echo $GREETING'\n",
    )
    result = bh("launch", "--assets", "greet", cwd=demo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("hello from .env") >= 2
    settings = bh("check", "settings", cwd=demo)
    assert ".env variables       GREETING" in settings.stdout
