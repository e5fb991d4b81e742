"""Run config as plain data, whichever way the user wrote it.

Dagster code passes run config as a dict, as a dict whose ``ops`` hold `Config` objects, or as a
`RunConfig`, wherever run config is taken (schedules, run requests, jobs, `materialize`). This
module turns each into the one JSON-ready form runs store. It is duck-typed, so schedules and
sensors that use plain dicts never import pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def is_run_config_object(value: object) -> bool:
    """True for a `RunConfig` (anything offering ``to_config_dict()``)."""
    return callable(getattr(value, "to_config_dict", None))


def plain_run_config(run_config: Mapping[str, Any] | Any | None) -> dict[str, Any]:
    """Run config as plain JSON-ready data: a `RunConfig`, or a dict whose ops may hold
    `Config` objects, becomes ``{"ops": {name: {"config": {...}}}}``."""
    to_config_dict = getattr(run_config, "to_config_dict", None)
    if callable(to_config_dict):
        return dict(to_config_dict())
    if run_config is not None and not isinstance(run_config, Mapping):
        raise TypeError(
            f"run config must be a dict or a RunConfig, not a {type(run_config).__name__}"
        )
    config = dict(run_config or {})
    ops = config.get("ops")
    if isinstance(ops, Mapping):
        config["ops"] = {
            name: {"config": value.model_dump()} if hasattr(value, "model_dump") else value
            for name, value in ops.items()
        }
    return config
