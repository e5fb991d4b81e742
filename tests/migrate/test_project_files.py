"""Requirements, pyproject.toml settings and README commands in bakehouse's terms."""

from __future__ import annotations

import textwrap

from bakehouse.migrate.dependency_files import rewrite_requirements_txt
from bakehouse.migrate.pyproject_file import rewrite_pyproject
from bakehouse.migrate.readme import rewrite_readme
from bakehouse.migrate.requirements import RequirementRule

RULE = RequirementRule(bundled=frozenset({"bakehouse_duckdb"}))


def test_dagster_becomes_bakehouse_and_its_tools_and_bundled_integrations_go() -> None:
    assert RULE.convert("dagster==1.13.*") == "bakehouse"
    assert RULE.convert('dagster>=1.9; python_version < "3.13"') == (
        'bakehouse; python_version < "3.13"'
    )
    assert RULE.convert("dagster-webserver") is None
    assert RULE.convert("dagster_dg_cli") is None  # names compare as pip compares them
    assert RULE.convert("dagster-duckdb>=0.25") is None
    assert RULE.convert("dagster-dbt") == "dagster-dbt"  # no bakehouse counterpart: kept
    assert RULE.kept("dagster-dbt")
    assert RULE.convert("pandas") == "pandas"


def test_a_project_that_already_lists_bakehouse_does_not_get_it_twice() -> None:
    assert RULE.convert_all(["bakehouse", "dagster", "pandas"]) == ["bakehouse", None, "pandas"]


def test_requirements_txt_keeps_comments_options_and_other_lines() -> None:
    text = "-r base.txt\ndagster==1.10.*  # pinned\ndagster-cloud\n\nrequests>=2\n"
    assert rewrite_requirements_txt(text, RULE) == (
        "-r base.txt\nbakehouse  # pinned\n\nrequests>=2\n"
    )


def test_tool_dagster_becomes_a_bakehouse_project_and_unknown_keys_are_noted() -> None:
    text = textwrap.dedent(
        """\
        [tool.dagster]
        module_name = "course.definitions"
        python_file = "x.py"
        """
    )
    result = rewrite_pyproject(text, RULE)
    assert result.text == textwrap.dedent(
        """\
        [tool.bakehouse]
        directory_type = "project"

        [tool.bakehouse.project]
        root_module = "course"
        code_location_target_module = "course.definitions"
        """
    )
    assert result.notes == ["[tool.dagster] python_file: no bakehouse setting means this; dropped"]


def test_an_existing_tool_bakehouse_table_wins() -> None:
    text = '[tool.bakehouse]\ndirectory_type = "project"\n\n[tool.dg]\ndirectory_type = "project"\n'
    result = rewrite_pyproject(text, RULE)
    assert result.text == text
    assert result.notes == ["[tool.dg] left as is: [tool.bakehouse] is already there"]


def test_readme_commands_installs_and_python_blocks() -> None:
    text = textwrap.dedent(
        """\
        uvx create-dagster@latest project demo && dg dev
        dagster asset materialize --select taxi_trips -m course.definitions
        dagster-webserver -p 3000
        Or `dagster job launch -m course -j nightly` to run the job.
        uv add dagster dagster-duckdb pandas
        Use dg to check your work; `dg list defs` lists them.
        ```py
        >>> partial example
        ```
        """
    )
    rewritten = rewrite_readme(text, RULE, lambda code: None)
    assert rewritten == textwrap.dedent(
        """\
        bh create project demo && bh dev
        bh launch --assets taxi_trips
        bh webserver -p 3000
        Or `bh launch --job nightly` to run the job.
        uv add bakehouse pandas
        Use dg to check your work; `bh list defs` lists them.
        ```py
        >>> partial example
        ```
        """
    )
