"""Loading a code location's `Definitions`: `@definitions`, `load_defs`, `load_from_defs_folder`.

`load_defs` imports every module under a defs package (nested folders included) and collects
every definition object found at module level, so nobody lists assets by hand; a folder holding
``defs.yaml`` is loaded through its component type instead.

Inside `isolating_module_errors()` (the code server and run workers enter it when the project's
``defs_errors`` is "isolate"), a module under the defs package that fails to load is recorded
as a `ModuleLoadError` and skipped, so the rest of the location loads; outside it (tests,
notebooks, ``defs_errors = "fail"``) the first such error is raised, as before.
"""

from __future__ import annotations

import importlib
import os
import sys
import sysconfig
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from bakehouse.authoring.asset_checks import AssetChecksDefinition
from bakehouse.authoring.assets import AssetsDefinition, AssetSpec
from bakehouse.authoring.definitions_class import Definitions
from bakehouse.authoring.graphs import JobDefinition
from bakehouse.authoring.jobs import AssetJobDefinition
from bakehouse.authoring.source import source_of_function
from bakehouse.errors import DefinitionError, ErrorInfo, SourceLocation, is_framework_frame
from bakehouse.protocol.wire import DEFS_ERRORS_ENV


@dataclass(frozen=True)
class ModuleLoadError:
    """A module under a defs package that failed to load and was left out of the location."""

    # The dotted module name, or the component folder whose ``defs.yaml`` failed.
    module: str
    # The module's own file (its ``__init__.py`` for a package; the ``defs.yaml``).
    path: str
    # Where the error points: the user's file and line.
    source: SourceLocation
    error: ErrorInfo


# The errors of the modules skipped so far, while `isolating_module_errors` is active.
_ISOLATED: ContextVar[list[ModuleLoadError] | None] = ContextVar("_ISOLATED", default=None)


def isolation_from_env() -> bool:
    """True unless the host asked this process to fail on a defs module that does not load
    (``defs_errors = "fail"``, passed as `DEFS_ERRORS_ENV` to code servers and run workers)."""
    return os.environ.get(DEFS_ERRORS_ENV, "isolate") != "fail"


@contextmanager
def isolating_module_errors(enabled: bool = True) -> Iterator[list[ModuleLoadError]]:
    """While active (and `enabled`), `load_defs` skips a module of the defs package that fails
    to load and appends its error to the yielded list, instead of raising it."""
    errors: list[ModuleLoadError] = []
    token = _ISOLATED.set(errors if enabled else None)
    try:
        yield errors
    finally:
        _ISOLATED.reset(token)


def isolate_module_error(module: str, path: Path | str, exc: DefinitionError) -> bool:
    """Record `exc`, raised while loading `module` (file `path`), if module errors are being
    isolated; False (the caller raises it) if not."""
    errors = _ISOLATED.get()
    if errors is None:
        return False
    source = exc.source or SourceLocation(str(path), 1)
    # The message without the file:line prefix: every view shows the file:line beside it.
    error = replace(ErrorInfo.from_exception(exc), message=exc.detail)
    errors.append(ModuleLoadError(module=module, path=str(path), source=source, error=error))
    return True


class LazyDefinitions:
    """A function decorated with `@definitions`: called once, when the location loads."""

    def __init__(self, fn: Callable[[], Definitions]) -> None:
        self.fn = fn
        self.source = source_of_function(fn)
        self.__name__ = getattr(fn, "__name__", "defs")
        self.__doc__ = fn.__doc__
        self._result: Definitions | None = None

    def __call__(self) -> Definitions:
        if self._result is None:
            try:
                result = self.fn()
            except DefinitionError:
                raise
            except Exception as exc:
                raise _user_code_error(
                    f"calling @definitions function '{self.__name__}'", exc
                ) from exc
            if not isinstance(result, Definitions):
                raise DefinitionError(
                    f"@definitions function '{self.__name__}' returned {type(result).__name__}, "
                    "not a Definitions object",
                    source=self.source,
                )
            self._result = result
        return self._result


def definitions(fn: Callable[[], Definitions]) -> LazyDefinitions:
    """Mark the function that builds a code location's `Definitions`; it runs at load time."""
    return LazyDefinitions(fn)


def _collectable(value: object) -> bool:
    if isinstance(
        value,
        (AssetsDefinition, AssetSpec, AssetJobDefinition, JobDefinition, AssetChecksDefinition),
    ):
        return True
    # Schedules and sensors register their classes here when their module is imported.
    return isinstance(value, tuple(_EXTRA_KINDS))


# Class -> the Definitions field ("schedules" or "sensors") its instances go into.
_EXTRA_KINDS: dict[type, str] = {}


def register_definition_kind(field_name: str) -> Callable[[type], type]:
    """Class decorator: let `load_defs` collect module-level instances into `field_name`."""

    def register(cls: type) -> type:
        _EXTRA_KINDS[cls] = field_name
        return cls

    return register


def _of_field(values: list[Any], field_name: str) -> list[Any]:
    return [
        v
        for v in values
        if any(isinstance(v, c) for c, f in _EXTRA_KINDS.items() if f == field_name)
    ]


def _library_dirs() -> tuple[str, ...]:
    """The standard library's and site-packages' folders: code there is not the user's."""
    paths = sysconfig.get_paths()
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    return tuple({os.path.realpath(paths[n]) + os.sep for n in names if n in paths})


def _user_code_error(doing: str, exc: BaseException) -> DefinitionError:
    """`exc`, raised by user code while `doing` something, as an error naming the user's line."""
    where: SourceLocation | None
    if isinstance(exc, SyntaxError) and exc.filename:
        where = SourceLocation(exc.filename, exc.lineno or 0)
    else:
        frames = traceback.extract_tb(exc.__traceback__)
        user = [f for f in frames if not is_framework_frame(f.filename)]
        # When the user's code calls into a library that raises (json.loads on bad text, or
        # os.environ["X"] in a frozen stdlib module), the line to change is the user's call.
        libraries = _library_dirs()
        own = [
            f
            for f in user
            if not f.filename.startswith("<frozen ")
            and not os.path.realpath(f.filename).startswith(libraries)
        ]
        frame = (own or user or frames)[-1] if frames else None
        where = SourceLocation(frame.filename, frame.lineno or 0) if frame else None
    message = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return DefinitionError(f"error while {doing}: {message}", source=where)


def _import_error(module_name: str, exc: BaseException) -> DefinitionError:
    return _user_code_error(f"importing {module_name}", exc)


def _import(module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except DefinitionError:
        raise
    except Exception as exc:
        raise _import_error(module_name, exc) from exc


def _component_defs(folder: Path) -> Definitions:
    # Imported only when a project has a component, so plain projects never load pydantic.
    from bakehouse.components.loader import load_component_folder

    return load_component_folder(folder)


def _iter_modules(package: ModuleType) -> Iterator[ModuleType | Definitions]:
    """`package` and every module below it, depth first, in file-name order.

    A folder holding ``defs.yaml`` is a component instance: it yields the definitions its
    component builds, and no module in it is imported.
    """
    yield package
    paths = getattr(package, "__path__", None)
    if paths is None:
        return
    seen: set[str] = set()
    for folder in (Path(p) for p in paths):
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            name = entry.stem if entry.suffix == ".py" else entry.name
            if name in seen or name.startswith((".", "__")):
                continue
            if entry.is_dir() and (entry / "defs.yaml").is_file():
                seen.add(name)
                try:
                    component = _component_defs(entry)
                except DefinitionError as exc:
                    if not isolate_module_error(str(entry), entry / "defs.yaml", exc):
                        raise
                    continue
                yield component
                continue
            if not name.isidentifier():
                continue
            if entry.is_dir():
                if not any(entry.rglob("*.py")) and not any(entry.rglob("defs.yaml")):
                    continue
            elif entry.suffix != ".py":
                continue
            seen.add(name)
            child_name = f"{package.__name__}.{name}"
            try:
                child = _import(child_name)
            except DefinitionError as exc:
                path = entry / "__init__.py" if entry.is_dir() else entry
                if not isolate_module_error(child_name, path, exc):
                    raise
                continue
            yield from _iter_modules(child)


def iter_package_modules(package: ModuleType) -> list[ModuleType]:
    """`package` and every module below it, imported (component folders left out)."""
    return [m for m in _iter_modules(package) if isinstance(m, ModuleType)]


def load_defs(defs_root: ModuleType | str) -> Definitions:
    """Import every module under `defs_root` and merge every definition found at module level.

    Objects reachable from several modules count once; two different objects with one key are
    an error naming both places.
    """
    root = _import(defs_root) if isinstance(defs_root, str) else defs_root
    found: list[Any] = []
    parts: list[Definitions] = []
    seen: set[int] = set()
    for module in _iter_modules(root):
        if isinstance(module, Definitions):
            parts.append(module)
            continue
        for value in list(vars(module).values()):
            if id(value) in seen:
                continue
            if isinstance(value, Definitions):
                seen.add(id(value))
                parts.append(value)
            elif isinstance(value, LazyDefinitions):
                seen.add(id(value))
                try:
                    parts.append(value())
                except DefinitionError as exc:
                    # An @definitions function of one module raising is that module's error.
                    path = getattr(module, "__file__", None) or module.__name__
                    if module is root or not isolate_module_error(module.__name__, path, exc):
                        raise
            elif _collectable(value):
                seen.add(id(value))
                found.append(value)
    collected = Definitions(
        assets=[v for v in found if isinstance(v, (AssetsDefinition, AssetSpec))],
        jobs=[v for v in found if isinstance(v, (AssetJobDefinition, JobDefinition))],
        asset_checks=[v for v in found if isinstance(v, AssetChecksDefinition)],
        schedules=_of_field(found, "schedules"),
        sensors=_of_field(found, "sensors"),
    )
    collected.source = SourceLocation(getattr(root, "__file__", None) or root.__name__, 1)
    return Definitions.merge(collected, *parts)


def load_from_defs_folder(
    *, project_root: Path | str | None = None, path_within_project: Path | str | None = None
) -> Definitions:
    """Load the `Definitions` of the project at `project_root` (or the one holding
    `path_within_project`) from its defs package, as set in its `pyproject.toml`.
    """
    from bakehouse.project.settings import find_project, read_project

    if project_root is not None:
        settings = read_project(Path(project_root) / "pyproject.toml")
    elif path_within_project is not None:
        settings = find_project(Path(path_within_project))
    else:
        raise DefinitionError("load_from_defs_folder needs project_root= or path_within_project=")
    source_dir = str(settings.source_dir)
    if source_dir not in sys.path:
        sys.path.insert(0, source_dir)
    return load_defs(settings.defs_module)


def find_definitions(module: ModuleType) -> Definitions:
    """The one `Definitions` a code location's module exposes (calling `@definitions` if so).

    Zero or several is an error: a code location has exactly one `Definitions`.
    """
    candidates = [
        (name, value)
        for name, value in vars(module).items()
        if isinstance(value, (Definitions, LazyDefinitions))
    ]
    where = SourceLocation(getattr(module, "__file__", None) or module.__name__, 1)
    if not candidates:
        raise DefinitionError(
            f"module {module.__name__} has no Definitions: add `defs = Definitions(...)` or an "
            "@definitions function",
            source=where,
        )
    if len(candidates) > 1:
        listed = ", ".join(
            f"'{name}' ({value.source})" if value.source else f"'{name}'"
            for name, value in candidates
        )
        raise DefinitionError(
            f"module {module.__name__} exposes {len(candidates)} Definitions objects ({listed}); "
            "a code location has exactly one. Merge them with Definitions.merge(...)",
            source=where,
        )
    value = candidates[0][1]
    return value() if isinstance(value, LazyDefinitions) else value


def load_definitions(module_name: str, *, defs_module: str | None = None) -> Definitions:
    """Import `module_name` and return its one validated `Definitions`.

    With no `module_name`, the `defs_module` package is loaded with `load_defs`.
    """
    if module_name:
        try:
            module = importlib.import_module(module_name)
        except DefinitionError:
            raise
        except Exception as exc:
            raise _import_error(module_name, exc) from exc
        defs = find_definitions(module)
    elif defs_module:
        defs = load_defs(defs_module)
    else:
        raise DefinitionError("nothing to load: give a definitions module or a defs module")
    defs.validate()
    return defs
