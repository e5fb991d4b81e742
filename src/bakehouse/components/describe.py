"""``python -m bakehouse.components.describe``: component types as JSON, for the host.

Runs in a project's own interpreter, where its component modules can be imported: ``list``
describes every known component type and its attributes; ``scaffold TYPE`` returns the files of
a new instance (a commented ``defs.yaml`` and the type's example files). The answer goes to the
``--out`` file, so that whatever user code prints cannot corrupt it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import textwrap
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bakehouse.components.component import Component
from bakehouse.components.registry import (
    ComponentType,
    builtin_types,
    registry_types,
    resolve_type,
    type_name,
)


@dataclasses.dataclass(frozen=True)
class Attribute:
    """One attribute of a component type, as ``defs.yaml`` sets it."""

    name: str
    type: str
    required: bool
    default: Any
    description: str


def _type_text(annotation: Any) -> str:
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def attributes_of(cls: type[Component]) -> list[Attribute]:
    """The attributes `cls` reads from ``defs.yaml``, with defaults and descriptions."""
    from pydantic import BaseModel
    from pydantic_core import PydanticUndefined

    found: list[Attribute] = []
    if issubclass(cls, BaseModel):
        for name, info in cls.model_fields.items():
            required = info.is_required()
            default = None
            if not required:
                default = (
                    info.default_factory()  # type: ignore[call-arg]
                    if info.default_factory is not None
                    else info.default
                )
                default = None if default is PydanticUndefined else default
            found.append(
                Attribute(
                    name=info.alias or name,
                    type=_type_text(info.annotation),
                    required=required,
                    default=default,
                    description=info.description or "",
                )
            )
    elif dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            missing = dataclasses.MISSING
            has_default = f.default is not missing or f.default_factory is not missing
            default = (
                f.default
                if f.default is not missing
                else (f.default_factory() if f.default_factory is not missing else None)
            )
            found.append(
                Attribute(
                    name=f.name,
                    type=_type_text(f.type),
                    required=not has_default,
                    default=default,
                    description=str(f.metadata.get("description", "")),
                )
            )
    return found


def describe(component_type: ComponentType) -> dict[str, Any]:
    """A component type as JSON-ready data."""
    description = component_type.cls.get_description()
    return {
        "name": component_type.name,
        "origin": component_type.origin,
        "summary": description.split("\n\n")[0].replace("\n", " "),
        "description": description,
        "attributes": [
            {**dataclasses.asdict(a), "default": _jsonable(a.default)}
            for a in attributes_of(component_type.cls)
        ],
    }


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _yaml_entry(name: str, value: Any) -> list[str]:
    import yaml

    text = yaml.safe_dump({name: value}, default_flow_style=False, sort_keys=False, width=88)
    return text.rstrip("\n").splitlines()


def defs_yaml(cls: type[Component], given: Mapping[str, Any] | None = None) -> str:
    """A commented ``defs.yaml`` for a new instance of `cls`: example values (or the `given`
    ones) set, the other attributes shown commented out with their defaults."""
    lines = [f"# {line}".rstrip() for line in cls.get_description().split("\n\n")[0].splitlines()]
    lines += [
        "# Written by `bh scaffold defs`; `bh list components` describes every attribute.",
        f"type: {type_name(cls)}",
        "",
    ]
    attributes = attributes_of(cls)
    if not attributes:
        return "\n".join([*lines, "attributes: {}", ""])
    lines.append("attributes:")
    examples = {**dict(cls.get_scaffold_attributes() or {}), **dict(given or {})}
    for index, attribute in enumerate(attributes):
        if index:
            lines.append("")
        for text in textwrap.wrap(attribute.description, width=90):
            lines.append(f"  # {text}")
        if attribute.name in examples:
            lines += [
                f"  {entry}" for entry in _yaml_entry(attribute.name, examples[attribute.name])
            ]
        elif attribute.required:
            lines.append(f"  {attribute.name}:  # required ({attribute.type})")
        else:
            entries = _yaml_entry(attribute.name, attribute.default)
            lines += [f"  # {entry}" for entry in entries]
    return "\n".join([*lines, ""])


def scaffold_files(cls: type[Component], given: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The files of a new instance folder: ``defs.yaml`` first (with the `given` attribute
    values), then the type's examples (none when values were given: they replace them)."""
    extra = {} if given else dict(cls.get_scaffold_files())
    return {"defs.yaml": defs_yaml(cls, given), **extra}


def _answer(args: argparse.Namespace) -> dict[str, Any]:
    from bakehouse.project.settings import read_project

    registry = read_project(Path(args.project)).registry_modules if args.project else ()
    if args.command == "list":
        types = [*builtin_types(), *registry_types(registry)]
        return {"types": [describe(t) for t in types]}
    cls = resolve_type(args.type, registry_modules=registry, source=None)
    given = json.loads(args.attributes) if args.attributes else None
    return {"type": type_name(cls), "files": scaffold_files(cls, given)}


def main(argv: list[str] | None = None) -> int:
    """Write the answer (or the error) as JSON to ``--out``."""
    from bakehouse.errors import ErrorInfo

    parser = argparse.ArgumentParser(prog="python -m bakehouse.components.describe")
    parser.add_argument("command", choices=("list", "scaffold"))
    parser.add_argument("type", nargs="?", help="component type to scaffold")
    parser.add_argument("--project", help="the project's pyproject.toml (for registry_modules)")
    parser.add_argument("--out", required=True, help="file to write the JSON answer to")
    parser.add_argument("--attributes", help="JSON object of attribute values to scaffold with")
    args = parser.parse_args(argv)
    if args.command == "scaffold" and not args.type:
        parser.error("scaffold needs a component type")
    sys.stdout = sys.stderr  # user code printing while imported must not mix with the answer
    try:
        answer = _answer(args)
    except Exception as exc:  # noqa: BLE001 - reported to the host as data
        answer = {"error": ErrorInfo.from_exception(exc).to_dict()}
    Path(args.out).write_text(json.dumps(answer, indent=1), encoding="utf-8")
    return 1 if "error" in answer else 0


if __name__ == "__main__":
    sys.exit(main())
