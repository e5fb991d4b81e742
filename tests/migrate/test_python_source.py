"""The libcst rewrite of one module: which names change, which stay, what is listed."""

from __future__ import annotations

import libcst as cst
import pytest

from bakehouse.migrate.modules import ModuleRenamer
from bakehouse.migrate.python_source import rewrite_module

RENAMER = ModuleRenamer(own_modules=frozenset({"dagster_essentials"}))


def test_bare_module_imports_rename_their_attribute_paths_too() -> None:
    source = (
        "import dagster\n"
        "import dagster_duckdb\n"
        "import dagster._utils.backoff\n\n"
        "def f(db: dagster_duckdb.DuckDBResource):\n"
        "    dagster._utils.backoff.backoff(print)\n"
        "    return dagster.Definitions()\n"
    )
    assert rewrite_module(source, RENAMER).text == (
        "import bakehouse\n"
        "import bakehouse_duckdb\n"
        "import bakehouse._utils.backoff\n\n"
        "def f(db: bakehouse_duckdb.DuckDBResource):\n"
        "    bakehouse._utils.backoff.backoff(print)\n"
        "    return bakehouse.Definitions()\n"
    )


def test_names_that_only_look_like_dagster_stay() -> None:
    source = (
        "from dagster_essentials.defs import constants\n"  # the project's own package
        "from mylib import dagster_helper\n"  # an imported name, not a module
        "from . import dagster_things\n"  # relative
        "import dagsterish\n"
        "x = obj.dagster.asset\n"  # an attribute of something else
        's = "dagster dev"\n'
    )
    assert rewrite_module(source, RENAMER).text == source


def test_aliases_and_from_imports_keep_their_local_names() -> None:
    source = "import dagster as dg\nfrom dagster import asset as a, Definitions\n"
    assert rewrite_module(source, RENAMER).text == (
        "import bakehouse as dg\nfrom bakehouse import asset as a, Definitions\n"
    )


def test_lists_each_name_with_its_line_as_written() -> None:
    source = (
        "import dagster as dg\n"
        "from dagster import MetadataValue as MV\n\n"
        "x = dg.AssetSelection.all().upstream()\n"
        "y = MV.md('x')\n"
    )
    uses = rewrite_module(source, RENAMER).uses
    assert [(u.line, u.target, u.shown) for u in uses] == [
        (1, "bakehouse", "import bakehouse"),
        (2, "bakehouse.MetadataValue", "from bakehouse import MetadataValue"),
        # Only the chain the module reaches by name: the call's result is not followed.
        (4, "bakehouse.AssetSelection.all", "dg.AssetSelection.all"),
        (5, "bakehouse.MetadataValue.md", "MV.md"),
    ]


def test_invalid_python_raises_the_parser_error() -> None:
    with pytest.raises(cst.ParserSyntaxError):
        rewrite_module("def oops(:\n", RENAMER)
