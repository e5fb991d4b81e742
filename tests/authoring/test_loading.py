"""Loading a code location from real project trees: `load_defs`, `load_from_defs_folder`,
`@definitions` and `find_definitions`, and the errors that name the user's file:line."""

from __future__ import annotations

import pytest

from bakehouse.authoring.assets import AssetsDefinition, AssetSpec
from bakehouse.authoring.definitions_class import Definitions
from bakehouse.authoring.jobs import AssetJobDefinition
from bakehouse.authoring.loading import find_definitions, load_defs, load_from_defs_folder
from bakehouse.errors import DefinitionError, DuplicateKeyError, SourceLocation
from bakehouse.graph.keys import AssetKey
from tests.support.projects import Project

ORDERS = """
import bakehouse as dg


@dg.asset(group_name="sales")
def orders():
    return [1, 2, 3]
"""


def keys_of(defs: Definitions) -> set[str]:
    return {k.to_user_string() for k in defs.resolve_asset_graph().specs}


def test_every_module_under_defs_is_collected_nested_folders_included(project: Project) -> None:
    project.write("defs/orders.py", ORDERS)
    project.write(
        "defs/reports/daily.py",
        """
        import bakehouse as dg


        @dg.asset
        def daily(orders):
            return len(orders)


        raw_events = dg.AssetSpec("raw_events")
        daily_job = dg.define_asset_job("daily_job", selection="daily")
        """,
    )
    (project.path("defs/notes")).mkdir()
    (project.path("defs/notes/readme.txt")).write_text("no python here")

    defs = project.load()

    assert keys_of(defs) == {"orders", "daily", "raw_events"}
    assert [j.name for j in defs.jobs] == ["daily_job"]
    assert all(isinstance(a, (AssetsDefinition, AssetSpec)) for a in defs.assets)
    defs.validate()


def test_duplicate_key_in_two_defs_files_names_both_files_and_lines(project: Project) -> None:
    project.write("defs/a_orders.py", ORDERS)
    project.write(
        "defs/sub/other.py",
        """
        import bakehouse as dg


        # same key, different function
        @dg.asset(name="orders")
        def other_orders():
            return []
        """,
    )
    defs = project.load()

    with pytest.raises(DuplicateKeyError) as err:
        defs.validate()

    first = project.where("defs/a_orders.py", "@dg.asset")
    second = project.where("defs/sub/other.py", "@dg.asset")
    message = str(err.value)
    assert message.startswith(f"{second}: duplicate asset key 'orders'")
    assert f"also defined at {first}" in message
    assert (str(err.value.first), str(err.value.second)) == (first, second)


def test_the_same_asset_imported_into_another_defs_module_counts_once(project: Project) -> None:
    project.write("defs/orders.py", ORDERS)
    project.write(
        "defs/summary.py",
        f"""
        import bakehouse as dg
        from {project.package}.defs.orders import orders


        @dg.asset
        def summary(orders):
            return sum(orders)


        # Listing it again in a Definitions of its own must not make a duplicate either.
        defs = dg.Definitions(assets=[orders, summary])
        """,
    )

    defs = project.load()

    assert len(defs.assets) == 2
    assert keys_of(defs) == {"orders", "summary"}
    defs.validate()


def test_a_dependency_nobody_defines_is_kept_as_an_external_asset(project: Project) -> None:
    project.write(
        "defs/report.py",
        """
        import bakehouse as dg


        @dg.asset(deps=["warehouse/customers"])
        def report():
            return 1
        """,
    )

    defs = project.load()
    defs.validate()  # not an error

    graph = defs.resolve_asset_graph()
    customers = AssetKey(["warehouse", "customers"])
    assert graph.undefined_keys == {customers}
    assert graph.is_external(customers)
    assert graph.key_graph.nodes["warehouse/customers"].is_external
    assert graph.executable_keys == {AssetKey("report")}


def test_name_error_at_import_names_the_file_and_line(project: Project) -> None:
    project.write("defs/good.py", ORDERS)
    broken = project.write(
        "defs/broken.py",
        """
        import bakehouse as dg

        total = undefined_name + 1
        """,
    )

    with pytest.raises(DefinitionError) as err:
        project.load()

    assert err.value.source == SourceLocation(str(broken), 3)
    assert str(err.value).startswith(f"{broken}:3: error while importing ")
    assert f"{project.package}.defs.broken" in str(err.value)
    assert "NameError: name 'undefined_name' is not defined" in str(err.value)
    assert isinstance(err.value.__cause__, NameError)


def test_syntax_error_names_the_file_and_line(project: Project) -> None:
    broken = project.write(
        "defs/broken.py",
        """
        import bakehouse as dg

        def oops(:
            pass
        """,
    )

    with pytest.raises(DefinitionError) as err:
        project.load()

    assert err.value.source == SourceLocation(str(broken), 3)
    assert str(err.value).startswith(f"{broken}:3: ")
    assert "SyntaxError" in str(err.value)


def test_a_library_raising_on_the_users_behalf_points_at_the_users_line(project: Project) -> None:
    broken = project.write(
        "defs/settings.py",
        """
        import json

        SETTINGS = json.loads("{not json")
        """,
    )

    with pytest.raises(DefinitionError) as err:
        project.load()

    # The line to change is the user's call, not the raise inside the json package.
    assert err.value.source == SourceLocation(str(broken), 3)
    assert "JSONDecodeError" in str(err.value)


def test_a_frozen_stdlib_module_raising_points_at_the_users_line(project: Project) -> None:
    broken = project.write(
        "defs/settings.py",
        """
        import os

        TOKEN = os.environ["BH_TEST_SURELY_UNSET_TOKEN"]
        """,
    )

    with pytest.raises(DefinitionError) as err:
        project.load()

    assert err.value.source == SourceLocation(str(broken), 3)  # not <frozen os>
    assert "KeyError: 'BH_TEST_SURELY_UNSET_TOKEN'" in str(err.value)


def test_an_error_in_a_helper_module_points_at_the_helper(project: Project) -> None:
    helper = project.write(
        "helpers.py",
        """
        def rate():
            return 1 / 0


        RATE = rate()
        """,
    )
    project.write("defs/uses_helper.py", f"from {project.package}.helpers import RATE\n")

    with pytest.raises(DefinitionError) as err:
        project.load()

    assert err.value.source == SourceLocation(str(helper), 2)
    assert "ZeroDivisionError" in str(err.value)


def test_a_definition_error_raised_at_import_keeps_its_own_location(project: Project) -> None:
    bad = project.write(
        "defs/bad.py",
        """
        import bakehouse as dg


        @dg.asset
        def takes_anything(*args):
            return args
        """,
    )

    with pytest.raises(DefinitionError) as err:
        project.load()

    assert err.value.source == SourceLocation(str(bad), 4)
    assert "error while importing" not in str(err.value)
    assert "*args and **kwargs are not supported" in str(err.value)


def test_definitions_in_defs_modules_are_merged_with_loose_objects(project: Project) -> None:
    project.write("defs/orders.py", ORDERS)
    project.write(
        "defs/resources.py",
        """
        import bakehouse as dg


        class Warehouse(dg.ConfigurableResource):
            dsn: str = "duckdb://"


        @dg.definitions
        def resources():
            return dg.Definitions(resources={"warehouse": Warehouse()})
        """,
    )

    defs = project.load()

    assert set(defs.resources) == {"warehouse"}
    assert keys_of(defs) == {"orders"}


def test_two_defs_files_giving_one_resource_key_name_both_places(project: Project) -> None:
    for name in ("one", "two"):
        project.write(
            f"defs/{name}.py",
            """
            import bakehouse as dg

            defs = dg.Definitions(resources={"api": object()})
            """,
        )

    with pytest.raises(DuplicateKeyError) as err:
        project.load()

    one = project.where("defs/one.py", "dg.Definitions(")
    two = project.where("defs/two.py", "dg.Definitions(")
    assert str(err.value).startswith(f"{two}: duplicate resource key 'api'")
    assert f"also defined at {one}" in str(err.value)


def test_a_component_folder_of_an_unknown_type_is_refused_at_its_line(project: Project) -> None:
    # Component folders load through their type (tests/components); an unknown one names the
    # defs.yaml line, instead of being skipped as a namespace package would be.
    project.write("defs/orders.py", ORDERS)
    yaml = project.write("defs/component/defs.yaml", "type: some.Component\n")

    with pytest.raises(DefinitionError) as err:
        project.load()

    assert err.value.source == SourceLocation(str(yaml), 1)
    assert "unknown component type 'some.Component'" in str(err.value)


def test_load_defs_takes_a_module_or_its_name(project: Project) -> None:
    project.write("defs/orders.py", ORDERS)
    module = project.import_module("defs")

    assert keys_of(load_defs(module)) == {"orders"}
    assert keys_of(load_defs(f"{project.package}.defs")) == {"orders"}


def test_load_from_defs_folder_finds_the_project_from_a_path_inside_it(project: Project) -> None:
    path = project.write("defs/orders.py", ORDERS)

    defs = load_from_defs_folder(path_within_project=path.parent)

    assert keys_of(defs) == {"orders"}


def test_load_from_defs_folder_needs_a_project(project: Project) -> None:
    with pytest.raises(DefinitionError, match="needs project_root= or path_within_project="):
        load_from_defs_folder()


def test_the_course_layout_definitions_py_loading_the_defs_folder(project: Project) -> None:
    project.write("defs/orders.py", ORDERS)
    project.write(
        "definitions.py",
        """
        from pathlib import Path

        import bakehouse as dg


        @dg.definitions
        def defs():
            return dg.load_from_defs_folder(project_root=Path(__file__).parent.parent.parent)
        """,
    )

    defs = find_definitions(project.import_module("definitions"))

    assert isinstance(defs, Definitions)
    assert keys_of(defs) == {"orders"}


def test_two_definitions_in_one_module_is_an_error_naming_both(project: Project) -> None:
    path = project.write(
        "definitions.py",
        """
        import bakehouse as dg

        defs = dg.Definitions()
        more_defs = dg.Definitions()
        """,
    )

    with pytest.raises(DefinitionError) as err:
        find_definitions(project.import_module("definitions"))

    message = str(err.value)
    assert message.startswith(f"{path}:1: ")
    assert "exposes 2 Definitions objects" in message
    assert f"'defs' ({path}:3)" in message
    assert f"'more_defs' ({path}:4)" in message
    assert "a code location has exactly one" in message


def test_a_definitions_object_and_a_definitions_function_are_also_two(project: Project) -> None:
    project.write(
        "definitions.py",
        """
        import bakehouse as dg

        defs = dg.Definitions()


        @dg.definitions
        def more():
            return dg.Definitions()
        """,
    )

    with pytest.raises(DefinitionError, match="exposes 2 Definitions objects"):
        find_definitions(project.import_module("definitions"))


def test_a_module_without_definitions_says_how_to_add_one(project: Project) -> None:
    path = project.write("definitions.py", "x = 1\n")

    with pytest.raises(DefinitionError) as err:
        find_definitions(project.import_module("definitions"))

    assert str(err.value).startswith(f"{path}:1: module {project.package}.definitions has no")
    assert "@definitions" in str(err.value)


def test_a_definitions_function_runs_once_and_must_return_definitions(project: Project) -> None:
    path = project.write(
        "definitions.py",
        """
        import bakehouse as dg

        calls = []


        @dg.definitions
        def defs():
            calls.append(1)
            return dg.Definitions()


        @dg.definitions
        def wrong():
            return {"assets": []}
        """,
    )
    module = project.import_module("definitions")

    assert module.defs() is module.defs()
    assert module.calls == [1]
    with pytest.raises(DefinitionError) as err:
        module.wrong()
    assert str(err.value).startswith(f"{path}:12: @definitions function 'wrong' returned dict")


def test_module_level_jobs_and_specs_are_collected(project: Project) -> None:
    project.write(
        "defs/things.py",
        """
        import bakehouse as dg

        ext = dg.AssetSpec("ext")


        @dg.asset(deps=[ext])
        def uses_ext():
            return 1


        job = dg.define_asset_job("everything")
        """,
    )

    defs = project.load()

    assert any(isinstance(a, AssetSpec) and a.key == AssetKey("ext") for a in defs.assets)
    assert [type(j) for j in defs.jobs] == [AssetJobDefinition]
    assert defs.resolve_job_keys(defs.jobs[0]) == [AssetKey("uses_ext")]


def test_an_error_inside_a_definitions_function_names_the_users_line(project: Project) -> None:
    path = project.write(
        "defs/resources.py",
        """
        import os

        import bakehouse as dg


        @dg.definitions
        def resources():
            token = os.environ["BH_TEST_SURELY_UNSET_TOKEN"]
            return dg.Definitions(resources={"token": token})
        """,
    )

    with pytest.raises(DefinitionError) as err:
        project.load()

    assert err.value.source == SourceLocation(str(path), 8)
    assert "error while calling @definitions function 'resources': KeyError" in str(err.value)
    assert isinstance(err.value.__cause__, KeyError)
