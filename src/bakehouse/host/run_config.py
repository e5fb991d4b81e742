"""Run config checked on the host, against the config schemas the snapshots carry.

A launch is refused before its run is stored when its config names a step the run does not
have, gives config to a step that takes none, or gives a `Config` class values it would refuse.
The schemas are the JSON schemas pydantic writes for `Config` classes; values are checked the
way pydantic's lax mode reads them ("3" is an int, 1 a float), so nothing pydantic accepts is
refused here. The run worker builds the `Config` objects from the same values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.protocol.snapshot import AssetNodeSnap

_TRUE_OR_FALSE = {"0", "1", "true", "false", "t", "f", "yes", "no", "y", "n", "on", "off"}


class ConfigProblem(ValueError):
    """Raised by `check_value` with the path of the field at fault and what is wrong."""


def run_config_problem(
    graph: GlobalAssetGraph, asset_keys: Sequence[str], run_config: Mapping[str, Any]
) -> str | None:
    """What is wrong with `run_config` for a run of `asset_keys`, or None if nothing is."""
    if not isinstance(run_config, Mapping):
        return f"run config must be a mapping like {{'ops': {{...}}}}, not a {_kind(run_config)}"
    ops = run_config.get("ops", {})
    if not isinstance(ops, Mapping):
        return "run_config['ops'] must be a mapping of asset name to config"
    steps: dict[str, AssetNodeSnap] = {}
    names: dict[str, str] = {}
    for key in asset_keys:
        node = graph.assets[key].node
        if node.step_key is None:
            continue
        steps.setdefault(node.step_key, node)
        names[node.step_key] = node.step_key
        if node.function_name:
            names.setdefault(node.function_name, node.step_key)
    unknown = sorted(set(ops) - set(names))
    if unknown:
        return (
            f"run_config names {unknown}, which are not assets in this run "
            f"(assets: {sorted(steps)})"
        )
    for name, entry in ops.items():
        step = names[name]
        if steps[step].op_names:
            problem = _graph_entry_problem(step, entry)
        else:
            problem = _entry_problem(step, steps[step].config_schema, entry)
        if problem is not None:
            return problem
    return None


def _entry_problem(step: str, schema: dict[str, Any] | None, entry: Any) -> str | None:
    if entry is None:
        return None
    if not isinstance(entry, Mapping):
        return f"run_config for asset '{step}' is a {_kind(entry)}, not a mapping with 'config'"
    stray = sorted(set(entry) - {"config"})
    if stray:
        return (
            f"run_config for asset '{step}' has {stray} beside 'config'; put the values "
            f"under it: {{'ops': {{'{step}': {{'config': {{...}}}}}}}}"
        )
    values = entry.get("config")
    if schema is None:
        if values:
            return f"run_config gives config to asset '{step}', which takes no Config parameter"
        return None
    try:
        check_value(schema, values if values is not None else {}, schema, "")
    except ConfigProblem as exc:
        return f"invalid config for asset '{step}': {exc}"
    return None


def _graph_entry_problem(step: str, entry: Any) -> str | None:
    """A graph-backed asset's entry: its ops' config under "ops" (each op checks its own)."""
    if entry is None:
        return None
    if not isinstance(entry, Mapping) or not isinstance(entry.get("ops", {}), Mapping):
        return f"run_config for asset '{step}' must be {{'ops': {{op name: {{'config': ...}}}}}}"
    stray = sorted(set(entry) - {"ops"})
    if stray:
        return (
            f"run_config for asset '{step}' has {stray} beside 'ops'; it is graph-backed: give "
            f"its ops their config as {{'ops': {{'{step}': {{'ops': {{op: {{'config': ...}}}}}}}}}}"
        )
    return None


def check_value(schema: Mapping[str, Any], value: Any, root: Mapping[str, Any], at: str) -> None:
    """Raise `ConfigProblem` if `value` does not fit `schema` (a pydantic JSON schema; `root`
    holds its ``$defs``); keywords it does not know are not checked."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        schema = root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        problems = []
        for option in options:
            try:
                check_value(option, value, root, at)
                return
            except ConfigProblem as exc:
                problems.append(str(exc))
        raise ConfigProblem(problems[0] if len(problems) == 1 else " or ".join(problems))
    for part in schema.get("allOf", ()):
        check_value(part, value, root, at)
    if "enum" in schema and value not in schema["enum"]:
        raise ConfigProblem(f"{_where(at)}{value!r} is not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        raise ConfigProblem(f"{_where(at)}{value!r} is not {schema['const']!r}")
    kind = schema.get("type")
    if kind is None:
        return
    if not _fits(kind, value):
        raise ConfigProblem(f"{_where(at)}expected {kind}, got {_kind(value)} {value!r}")
    if kind == "object":
        _check_object(schema, value, root, at)
    elif kind == "array" and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            check_value(schema["items"], item, root, f"{at}[{index}]")


def _check_object(
    schema: Mapping[str, Any], value: Mapping[str, Any], root: Mapping[str, Any], at: str
) -> None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    missing = [name for name in schema.get("required", ()) if name not in value]
    if missing:
        raise ConfigProblem(f"{_where(at)}missing required field {', '.join(map(repr, missing))}")
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        path = f"{at}.{name}" if at else str(name)
        if name in properties:
            check_value(properties[name], item, root, path)
        elif extra is False:
            known = ", ".join(properties) or "none"
            raise ConfigProblem(f"unknown field {path!r} (fields: {known})")
        elif isinstance(extra, Mapping):
            check_value(extra, item, root, path)


def _fits(kind: str, value: Any) -> bool:
    """Whether pydantic (lax mode) reads `value` as a `kind`."""
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool) or value in (0, 1) or _is_word(value)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, int) or (isinstance(value, str) and _parses(int, value))
    if kind == "number":
        if isinstance(value, bool):
            return False
        return isinstance(value, (int, float)) or (isinstance(value, str) and _parses(float, value))
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, (list, tuple))
    if kind == "object":
        return isinstance(value, Mapping)
    return True


def _is_word(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in _TRUE_OR_FALSE


def _parses(convert: type, text: str) -> bool:
    try:
        convert(text.strip())
    except ValueError:
        return False
    return True


def _where(at: str) -> str:
    return f"field {at!r}: " if at else ""


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
