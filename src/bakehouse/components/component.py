"""The component base classes: `Component`, `Model`, `Resolvable` and `ComponentLoadContext`.

A component type turns a few validated attributes into definitions. An instance is a folder
under ``defs/`` whose ``defs.yaml`` names the type and gives its attributes, as in Dagster::

    class Greeting(dg.Component, dg.Model, dg.Resolvable):
        name: str = "world"

        def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
            @dg.asset(key=f"greeting_{self.name}")
            def greeting() -> str:
                return f"hello {self.name}"

            return dg.Definitions(assets=[greeting])
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict

from bakehouse.errors import DefinitionError, SourceLocation

if TYPE_CHECKING:
    from bakehouse.authoring.assets import AssetsDefinition
    from bakehouse.authoring.definitions_class import Definitions
    from bakehouse.components.yaml_source import YamlDocument

C = TypeVar("C", bound="Component")


class ComponentLoadContext:
    """What a component knows while it builds its definitions: where its instance lives."""

    def __init__(
        self,
        *,
        path: Path,
        project_root: Path | None = None,
        document: YamlDocument | None = None,
    ) -> None:
        self.path = path
        self.project_root = project_root
        self.document = document

    @property
    def defs_yaml(self) -> Path | None:
        """The ``defs.yaml`` file of this instance, when it was loaded from one."""
        return self.document.file if self.document else None

    def resolve_path(self, value: str | Path) -> Path:
        """`value` as an absolute path; a relative one is relative to the instance's folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.path / path).resolve()

    def attribute_source(self, *path: str | int) -> SourceLocation:
        """Where attribute `path` (e.g. ``"sql_folder"``) was written, for error messages."""
        if self.document is None:
            return SourceLocation(str(self.path), 1)
        return self.document.source(("attributes", *path))

    def error(self, message: str, *path: str | int) -> DefinitionError:
        """A `DefinitionError` pointing at the line of attribute `path` in ``defs.yaml``."""
        where = ".".join(str(p) for p in ("attributes", *path)) if path else ""
        return DefinitionError(
            f"{where}: {message}" if where else message, source=self.attribute_source(*path)
        )


class Component(ABC):
    """A reusable building block that turns its attributes into `Definitions`."""

    @abstractmethod
    def build_defs(self, context: ComponentLoadContext) -> Definitions:
        """The definitions this instance contributes to the code location."""

    @classmethod
    def load(
        cls: type[C], attributes: Mapping[str, Any] | None, context: ComponentLoadContext
    ) -> C:
        """An instance from the ``attributes`` of ``defs.yaml``.

        A pydantic model (`Model`) validates them; a dataclass is validated by pydantic too.
        Raises pydantic's `ValidationError`, which the loader maps to YAML lines.
        """
        attributes = dict(attributes or {})
        if issubclass(cls, BaseModel):
            return cls.model_validate(attributes)
        if dataclasses.is_dataclass(cls):
            from pydantic import TypeAdapter

            known = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(set(attributes) - known)
            if unknown:
                raise context.error(
                    f"unknown attribute '{unknown[0]}' (attributes: {', '.join(sorted(known))})",
                    unknown[0],
                )
            return TypeAdapter(cls).validate_python(attributes)
        if attributes:
            first = next(iter(attributes))
            raise context.error(f"{cls.__name__} takes no attributes", first)
        return cls()

    @classmethod
    def get_scaffold_attributes(cls) -> Mapping[str, Any] | None:
        """Example attributes for ``bh scaffold defs``; None uses each attribute's default."""
        return None

    @classmethod
    def get_scaffold_files(cls) -> Mapping[str, str]:
        """Files ``bh scaffold defs`` writes beside ``defs.yaml`` (relative path to text)."""
        return {}

    @classmethod
    def get_description(cls) -> str:
        """What the type does, for ``bh list components``: its docstring."""
        import inspect

        return inspect.getdoc(cls) or ""


class Model(BaseModel):
    """Base for a component's attributes: a pydantic model that refuses unknown attributes."""

    # A docstring under an attribute becomes its description (comments in scaffolded YAML).
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class Resolvable:
    """Marks a component whose attributes are read from YAML (kept for Dagster's spelling)."""


def component_types_in(values: Sequence[object]) -> list[type[Component]]:
    """The concrete `Component` subclasses among `values`."""
    import inspect

    return [
        v
        for v in values
        if isinstance(v, type) and issubclass(v, Component) and not inspect.isabstract(v)
    ]


def located(assets_def: AssetsDefinition, source: SourceLocation) -> AssetsDefinition:
    """`assets_def` with its source set to `source` (the file its definition came from)."""
    from bakehouse.authoring.assets import AssetsDefinition

    return AssetsDefinition(
        specs=[s.replace_attributes(source=source) for s in assets_def.specs],
        fn=assets_def.fn,
        op_name=assets_def.op_name,
        params=assets_def.params,
        output_names=assets_def.output_names,
        required_resource_keys=assets_def.required_resource_keys,
        source=source,
        can_subset=assets_def.can_subset,
        op_tags=assets_def.op_tags,
        is_multi=assets_def.is_multi,
        check_specs=assets_def.check_specs,
        backfill_policy=assets_def.backfill_policy,
        retry_policy=assets_def.retry_policy,
        output_types=assets_def.output_types,
    )
