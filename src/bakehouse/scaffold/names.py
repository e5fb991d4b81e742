"""Names users give to scaffolding commands: checked before anything is written."""

from __future__ import annotations

import keyword
import re
import sys

from bakehouse.errors import ScaffoldError

# Names a project must not take: they would shadow what its code imports.
_TAKEN = {"bakehouse", "dagster", "dg", "test", "tests", "src", "site", "setup"}
_CLASS = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def check_module_name(name: str, *, what: str = "project name") -> str:
    """`name` if it can be a top-level Python module; otherwise a `ScaffoldError` saying why."""
    if not name.isidentifier() or not name.isascii():
        hint = name.replace("-", "_").replace(" ", "_").replace(".", "_")
        suggestion = f" (try '{hint}')" if hint.isidentifier() and hint.isascii() else ""
        raise ScaffoldError(
            f"invalid {what} '{name}': it becomes a Python module name, so use letters, digits "
            f"and '_', not starting with a digit{suggestion}"
        )
    if keyword.iskeyword(name):
        raise ScaffoldError(f"invalid {what} '{name}': it is a Python keyword")
    if name in sys.stdlib_module_names or name in _TAKEN:
        raise ScaffoldError(
            f"invalid {what} '{name}': a module of that name already exists ({name} from "
            "the standard library or your tools) and would be shadowed; pick another name"
        )
    return name


def check_class_name(name: str) -> str:
    """`name` if it is a CamelCase class name."""
    if not _CLASS.match(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"invalid component name '{name}': use a class name in CamelCase, like "
            "ShellCommand or WeatherApi"
        )
    return name


def snake_case(name: str) -> str:
    """``WeatherApiComponent`` -> ``weather_api_component``."""
    spaced = re.sub(r"(?<=[a-z0-9])([A-Z])|(?<=[A-Z])([A-Z][a-z])", r"_\1\2", name)
    return spaced.lower()
