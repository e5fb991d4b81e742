"""Load a component instance folder (one holding ``defs.yaml``) into `Definitions`.

Each YAML document names a component type and its attributes; the type validates them and
builds definitions. Every error names ``defs.yaml`` and the line of the value at fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bakehouse.components.component import Component, ComponentLoadContext
from bakehouse.components.registry import resolve_type
from bakehouse.components.templating import TemplateScope, expand
from bakehouse.components.yaml_source import YamlDocument, parse_yaml_documents
from bakehouse.errors import DefinitionError, SourceLocation, is_framework_frame

if TYPE_CHECKING:
    from pydantic import ValidationError

    from bakehouse.authoring.definitions_class import Definitions

DEFS_YAML = "defs.yaml"
_KEYS = ("type", "attributes")
# Dagster keys we recognise but do not implement: refused by name rather than ignored.
_UNSUPPORTED = ("requirements", "post_processing", "template_vars_module")


def project_of(folder: Path) -> tuple[Path | None, tuple[str, ...]]:
    """The root and ``registry_modules`` of the project holding `folder`, if any."""
    from bakehouse.errors import ProjectError
    from bakehouse.project.settings import find_project_file, read_project

    try:
        settings = read_project(find_project_file(folder))
    except ProjectError:
        return None, ()
    return settings.root, settings.registry_modules


def load_component_folder(folder: Path) -> Definitions:
    """The definitions of every component instance declared in ``folder/defs.yaml``."""
    from bakehouse.authoring.definitions_class import Definitions
    from bakehouse.authoring.loading import isolate_module_error

    yaml_file = folder / DEFS_YAML
    documents = parse_yaml_documents(yaml_file)
    if not documents:
        raise DefinitionError(
            "defs.yaml is empty: give 'type:' (a component type) and 'attributes:'",
            source=SourceLocation(str(yaml_file), 1),
        )
    project_root, registry = project_of(folder)
    parts = []
    for index, document in enumerate(documents):
        try:
            parts.append(load_document(document, project_root=project_root, registry=registry))
        except DefinitionError as exc:
            # One failing document of several is that component's error alone when module
            # errors are isolated (`authoring.loading.isolating_module_errors`).
            name = f"{folder} (document {index + 1})" if len(documents) > 1 else str(folder)
            if not isolate_module_error(name, yaml_file, exc):
                raise
    merged = Definitions.merge(*parts)
    merged.source = SourceLocation(str(yaml_file), 1)
    return merged


def instantiate(
    document: YamlDocument, *, project_root: Path | None, registry: tuple[str, ...]
) -> tuple[Component, ComponentLoadContext]:
    """The component instance one YAML document declares, with its attributes validated."""
    value = document.value
    if not isinstance(value, dict):
        raise DefinitionError(
            "a component is a mapping with 'type:' and 'attributes:'", source=document.source()
        )
    for key in value:
        if key in _UNSUPPORTED:
            raise DefinitionError(
                f"'{key}' is not supported by bakehouse components yet",
                source=document.source((key,)),
            )
        if key not in _KEYS:
            raise DefinitionError(
                f"unknown key '{key}' (a component has: {', '.join(_KEYS)})",
                source=document.source((key,)),
            )
    if "type" not in value:
        raise DefinitionError("missing 'type:' (the component type)", source=document.source())
    cls = resolve_type(value["type"], registry_modules=registry, source=document.source(("type",)))
    attributes = value.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise DefinitionError(
            "'attributes' must be a mapping of attribute names to values",
            source=document.source(("attributes",)),
        )
    folder = document.file.parent
    scope = TemplateScope(project_root=project_root, component_root=folder)
    attributes = expand(attributes, scope, document, ("attributes",))
    context = ComponentLoadContext(path=folder, project_root=project_root, document=document)
    from pydantic import ValidationError

    try:
        component = cls.load(attributes, context)
    except ValidationError as exc:
        raise validation_error(exc, document, cls) from None
    except DefinitionError:
        raise
    except Exception as exc:
        raise _located(f"loading {cls.__name__}", exc, document) from exc
    return component, context


def load_document(
    document: YamlDocument, *, project_root: Path | None, registry: tuple[str, ...]
) -> Definitions:
    """The definitions of the component instance one YAML document declares."""
    from bakehouse.authoring.definitions_class import Definitions

    component, context = instantiate(document, project_root=project_root, registry=registry)
    name = type(component).__name__
    try:
        defs = component.build_defs(context)
    except DefinitionError:
        raise
    except Exception as exc:
        raise _located(f"building the definitions of {name}", exc, document) from exc
    if not isinstance(defs, Definitions):
        raise DefinitionError(
            f"{name}.build_defs returned {type(defs).__name__}, not a Definitions object",
            source=document.source(("type",)),
        )
    return defs


def _located(doing: str, exc: BaseException, document: YamlDocument) -> DefinitionError:
    """`exc` as an error at the user's line, or at the ``type:`` line if it rose in bakehouse."""
    from bakehouse.authoring.loading import _user_code_error

    error = _user_code_error(doing, exc)
    if error.source is None or is_framework_frame(error.source.file):
        return DefinitionError(error.detail, source=document.source(("type",)))
    return error


def validation_error(exc: ValidationError, document: YamlDocument, cls: type) -> DefinitionError:
    """A pydantic error as one `DefinitionError` per bad attribute, each with its YAML line."""
    problems: list[tuple[int, str]] = []
    for item in exc.errors(include_url=False):
        path = ("attributes", *item["loc"])
        where = ".".join(str(p) for p in path)
        message = item["msg"]
        if item["type"] not in ("missing", "extra_forbidden"):
            message += f" (got {_short(item.get('input'))})"
        elif item["type"] == "extra_forbidden":
            message = f"unknown attribute for {cls.__name__}"
        problems.append((document.line_of(path), f"{where}: {message}"))
    first_line, first = problems[0]
    more = "".join(f"\n  {document.file}:{line}: {text}" for line, text in problems[1:])
    return DefinitionError(f"{first}{more}", source=SourceLocation(str(document.file), first_line))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
