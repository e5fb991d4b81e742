"""Which component types exist: bakehouse's own and those in the project's ``registry_modules``.

A ``defs.yaml`` names its type by class path (``my_project.components.Greeting``), by
bakehouse's short name (``bakehouse.SqlFolderComponent``) or by a bare class name that one
known type has (``SqlFolderComponent``).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

from bakehouse.components.component import Component, component_types_in
from bakehouse.errors import DefinitionError, SourceLocation

# Short name -> module defining the class; ``bakehouse.<Name>`` resolves to these.
BUILTIN_TYPES: dict[str, str] = {
    "SqlFolderComponent": "bakehouse.components.sql_folder",
    "ScriptComponent": "bakehouse.components.script",
}


@dataclass(frozen=True)
class ComponentType:
    """A component type and the name a ``defs.yaml`` uses for it."""

    name: str
    cls: type[Component]
    origin: str  # "bakehouse" or the registry module pattern it was found through


def type_name(cls: type) -> str:
    """The name ``defs.yaml`` uses for `cls`: bakehouse's short one, the integration
    package's (``bakehouse_dbt.DbtProjectComponent``), else its class path."""
    if BUILTIN_TYPES.get(cls.__name__) == cls.__module__:
        return f"bakehouse.{cls.__name__}"
    package = cls.__module__.split(".", 1)[0]
    if package.startswith("bakehouse_") and cls.__name__ in getattr(
        sys.modules.get(package), "__all__", ()
    ):
        return f"{package}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def builtin_types() -> list[ComponentType]:
    """bakehouse's own component types."""
    found = []
    for name, module in BUILTIN_TYPES.items():
        cls = getattr(importlib.import_module(module), name)
        found.append(ComponentType(name=f"bakehouse.{name}", cls=cls, origin="bakehouse"))
    return found


def _import_user_module(name: str) -> ModuleType | None:
    """`name` imported, or None when it does not exist; its own errors name the user's line."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise _user_error(f"importing {name}", exc) from exc
    except DefinitionError:
        raise
    except Exception as exc:
        raise _user_error(f"importing {name}", exc) from exc


def _user_error(doing: str, exc: BaseException) -> DefinitionError:
    # The one boundary that turns a user's exception into an error at the user's line.
    from bakehouse.authoring.loading import _user_code_error

    return _user_code_error(doing, exc)


def registry_types(patterns: Sequence[str]) -> list[ComponentType]:
    """The component types defined in the modules `patterns` name.

    ``pkg.components.*`` means the package and every module below it; a package that does not
    exist yet contributes nothing (a new project has no components package).
    """
    found: list[ComponentType] = []
    seen: set[type] = set()
    for pattern in patterns:
        recursive = pattern.endswith(".*")
        base = pattern[:-2] if recursive else pattern
        root = _import_user_module(base)
        if root is None:
            continue
        modules = [root]
        if recursive and hasattr(root, "__path__"):
            for info in pkgutil.walk_packages(root.__path__, prefix=f"{base}."):
                module = _import_user_module(info.name)
                if module is not None:
                    modules.append(module)
        for module in modules:
            for cls in component_types_in(list(vars(module).values())):
                if cls in seen or not cls.__module__.startswith(base):
                    continue
                seen.add(cls)
                found.append(ComponentType(name=type_name(cls), cls=cls, origin=pattern))
    return sorted(found, key=lambda t: t.name)


def resolve_type(
    name: object, *, registry_modules: Sequence[str], source: SourceLocation | None
) -> type[Component]:
    """The component class `name` refers to; errors point at `source` (the ``type:`` line)."""
    if not isinstance(name, str) or not name.strip():
        raise DefinitionError(
            "'type' must name a component type, like bakehouse.SqlFolderComponent or "
            "my_project.components.MyComponent",
            source=source,
        )
    name = name.strip()
    if "." not in name:
        return _by_bare_name(name, registry_modules, source)
    module_name, _, attr = name.rpartition(".")
    if module_name == "bakehouse" and attr in BUILTIN_TYPES:
        module_name = BUILTIN_TYPES[attr]
    module = _import_user_module(module_name)
    value = getattr(module, attr, None) if module is not None else None
    if value is None:
        where = (
            f"module '{module_name}' not found"
            if module is None
            else (f"module '{module_name}' has no '{attr}'")
        )
        raise DefinitionError(
            f"unknown component type '{name}': {where}. {_known(registry_modules)}",
            source=source,
        )
    if not (isinstance(value, type) and issubclass(value, Component)):
        raise DefinitionError(
            f"'{name}' is not a component type (a subclass of bakehouse.Component)",
            source=source,
        )
    return value


def _by_bare_name(
    name: str, registry_modules: Sequence[str], source: SourceLocation | None
) -> type[Component]:
    candidates = [
        t for t in [*builtin_types(), *registry_types(registry_modules)] if t.cls.__name__ == name
    ]
    if len(candidates) == 1:
        return candidates[0].cls
    if not candidates:
        raise DefinitionError(
            f"unknown component type '{name}'. {_known(registry_modules)}", source=source
        )
    listed = ", ".join(t.name for t in candidates)
    raise DefinitionError(
        f"component type '{name}' is ambiguous ({listed}); write its full name", source=source
    )


def _known(registry_modules: Sequence[str]) -> str:
    try:
        names = [t.name for t in [*builtin_types(), *registry_types(registry_modules)]]
    except DefinitionError:
        names = [t.name for t in builtin_types()]
    return f"Known types: {', '.join(names)} (see bh list components)."
