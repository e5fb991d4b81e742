"""What each Dagster requirement string becomes in a bakehouse project.

``dagster`` becomes ``bakehouse``. Dagster's own tools (the webserver, the ``dg`` CLI, the
daemon, ...) are part of bakehouse, so they go, and so do integrations bakehouse ships
(``dagster-duckdb`` when ``bakehouse_duckdb`` exists). Other integrations stay, with a note.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

# Dagster distributions whose job the bakehouse distribution itself does.
PART_OF_BAKEHOUSE = frozenset(
    {
        "dagster-webserver",
        "dagster-dg-cli",
        "dagster-dg",
        "dagster-dg-core",
        "dagster-graphql",
        "dagster-daemon",
        "dagster-shared",
        "dagster-cloud",
        "dagster-postgres",
        "create-dagster",
    }
)

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name: str) -> str:
    """A distribution name as pip compares them: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str | None:
    """The normalized distribution name a requirement string starts with."""
    match = _NAME.match(requirement)
    return normalize(match.group(1)) if match else None


def is_dagster(requirement: str) -> bool:
    """Whether `requirement` asks for a Dagster distribution."""
    name = requirement_name(requirement)
    if name is None:
        return False
    return name in ("dagster", "create-dagster") or name.startswith("dagster-")


@dataclass(frozen=True)
class RequirementRule:
    """Decides each requirement's fate; `bundled` are the ``bakehouse_*`` packages installed."""

    bundled: Collection[str]

    def convert(self, requirement: str) -> str | None:
        """The bakehouse requirement for `requirement`: the same string when it is not
        Dagster's or has no bakehouse counterpart, None when bakehouse itself covers it.
        """
        name = requirement_name(requirement)
        if name is None or not is_dagster(requirement):
            return requirement
        if name == "dagster":
            marker = requirement.partition(";")[2].strip()
            return "bakehouse" + (f"; {marker}" if marker else "")
        if name in PART_OF_BAKEHOUSE:
            return None
        if self.module_for(name) in self.bundled:
            return None
        return requirement

    @staticmethod
    def module_for(name: str) -> str:
        """``dagster-duckdb-pandas`` -> ``bakehouse_duckdb_pandas``."""
        return "bakehouse_" + name.removeprefix("dagster-").replace("-", "_")

    def convert_all(self, requirements: list[str]) -> list[str | None]:
        """Each requirement converted; a second ``bakehouse`` (the project had both) goes too."""
        has_bakehouse = any(requirement_name(r) == "bakehouse" for r in requirements)
        converted: list[str | None] = []
        for requirement in requirements:
            new = self.convert(requirement)
            if new is not None and new != requirement and requirement_name(new) == "bakehouse":
                new = None if has_bakehouse else new
                has_bakehouse = True
            converted.append(new)
        return converted

    def kept(self, requirement: str) -> bool:
        """Whether `requirement` is Dagster's and stays because bakehouse has no counterpart."""
        return is_dagster(requirement) and self.convert(requirement) == requirement
