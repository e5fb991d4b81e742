"""Which module names are Dagster's and what they become: the one renaming rule of a migration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModuleRenamer:
    """Maps ``dagster`` to ``bakehouse`` and every ``dagster_*`` package to ``bakehouse_*``.

    `own_modules` are the project's own top-level packages: a course project may be called
    ``dagster_essentials``, and its imports of itself must stay as they are.
    """

    own_modules: frozenset[str] = frozenset()

    def rename(self, dotted: str) -> str | None:
        """The bakehouse module for Dagster module `dotted`, or None when it is not Dagster's."""
        top, dot, rest = dotted.partition(".")
        if top in self.own_modules:
            return None
        if top == "dagster":
            return "bakehouse" + dot + rest
        if top.startswith("dagster_") and len(top) > len("dagster_"):
            return "bakehouse_" + top.removeprefix("dagster_") + dot + rest
        return None

    def is_bakehouse(self, dotted: str) -> bool:
        """Whether `dotted` names bakehouse or one of its integration packages."""
        top = dotted.partition(".")[0]
        if top in self.own_modules:
            return False
        return top == "bakehouse" or (top.startswith("bakehouse_") and len(top) > 10)
