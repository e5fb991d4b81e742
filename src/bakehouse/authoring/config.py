"""Run configuration: `Config` classes that assets take as a parameter, and `RunConfig`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict


class Config(BaseModel):
    """Base class for an asset's run configuration; annotate a parameter with a subclass.

    Values come from ``run_config={"ops": {"<asset name>": {"config": {...}}}}`` or
    ``RunConfig(ops={"<asset name>": MyConfig(...)})`` and are validated by pydantic.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class RunConfig:
    """Typed run configuration: config objects by asset (op) name."""

    def __init__(self, ops: Mapping[str, Config | Mapping[str, Any]] | None = None) -> None:
        self.ops = dict(ops or {})

    def to_config_dict(self) -> dict[str, Any]:
        """The plain ``{"ops": {name: {"config": {...}}}}`` form."""
        ops: dict[str, Any] = {}
        for name, value in self.ops.items():
            config = value.model_dump() if isinstance(value, BaseModel) else dict(value)
            ops[name] = {"config": config}
        return {"ops": ops}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunConfig) and self.to_config_dict() == other.to_config_dict()

    def __hash__(self) -> int:
        return hash(repr(self.to_config_dict()))

    def __repr__(self) -> str:
        return f"RunConfig(ops={self.ops!r})"
