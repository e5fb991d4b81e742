"""Resources: the connections and clients that assets receive as typed parameters."""

from __future__ import annotations

import os
from collections.abc import Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)

from bakehouse.errors import DefinitionError

if TYPE_CHECKING:
    from bakehouse.authoring.context import InitResourceContext

T = TypeVar("T")
R = TypeVar("R", bound="ConfigurableResource")


class EnvVar(str):
    """A value read from an environment variable when a run starts, not when code is loaded.

    ``MyResource(api_key=EnvVar("API_KEY"))`` keeps the secret out of code and snapshots.
    """

    @property
    def env_var_name(self) -> str:
        """The variable's name."""
        return str(self)

    def get_value(self, default: str | None = None) -> str | None:
        """The variable's current value, or `default`."""
        return os.environ.get(self.env_var_name, default)

    @classmethod
    def int(cls, name: str) -> EnvVar:
        """An environment variable holding an integer (converted when the run starts)."""
        var = cls(name)
        var._as_int = True  # type: ignore[attr-defined]
        return var

    def __repr__(self) -> str:
        return f"EnvVar({self.env_var_name!r})"


class ConfigurableResource(BaseModel):
    """Base class for resources: a pydantic model whose fields are its configuration.

    Subclass it, declare fields, and add the methods assets call. Override
    `setup_for_execution` / `teardown_after_execution` to open and close connections per run.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    @field_validator("*", mode="wrap")
    @classmethod
    def _keep_env_vars(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # Pydantic would turn an EnvVar into a plain str (the variable's *name*), so the run
        # would receive the name as the value. Keep the EnvVar as given; the value it resolves
        # to is validated when the run starts (`with_env_vars_resolved`).
        if isinstance(value, EnvVar):
            return value
        return handler(value)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Called once per run before any asset uses the resource."""

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Called once per run after every asset is done, even when one failed."""

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Generator[Any, None, None]:
        """Set up, hand the resource to the run, tear down; override for full control."""
        self.setup_for_execution(context)
        try:
            yield self
        finally:
            self.teardown_after_execution(context)

    def with_env_vars_resolved(self: R, resource_key: str) -> R:
        """A copy with every `EnvVar` field replaced by its value; errors name the field."""
        updates: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, EnvVar):
                resolved = value.get_value()
                if resolved is None:
                    raise DefinitionError(
                        f"resource '{resource_key}' field '{name}': environment variable "
                        f"{value.env_var_name} is not set"
                    )
                updates[name] = int(resolved) if getattr(value, "_as_int", False) else resolved
            elif isinstance(value, ConfigurableResource):
                nested = value.with_env_vars_resolved(f"{resource_key}.{name}")
                if nested is not value:
                    updates[name] = nested
        if not updates:
            return self
        values = {name: getattr(self, name) for name in self.model_fields_set}
        try:
            return type(self).model_validate({**values, **updates})
        except ValidationError as exc:
            raise DefinitionError(
                f"resource '{resource_key}': a value read from the environment is invalid: {exc}"
            ) from None


class _ResourceParamMarker:
    """Marks a parameter annotated ``ResourceParam[T]`` as a resource of any type."""


ResourceParam = Annotated[T, _ResourceParamMarker]
"""Annotate a parameter ``ResourceParam[MyClient]`` to receive a plain-object resource."""
