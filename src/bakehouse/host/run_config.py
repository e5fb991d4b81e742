"""Run config checked on the host, against the config schemas the snapshots carry.

A launch is refused before its run is stored when its config names a step the run does not
have, gives config to a step that takes none, or gives a `Config` class values it would refuse.
The schemas are the JSON schemas pydantic writes for `Config` classes; values are checked the
way pydantic's lax mode reads them ("3" is an int, 1 a float), so nothing pydantic accepts is
refused here. The run worker builds the `Config` objects from the same values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.protocol.snapshot import AssetNodeSnap

_TRUE_OR_FALSE = {"0", "1", "true", "false", "t", "f", "yes", "no", "y", "n", "on", "off"}


Path = tuple[str | int, ...]


class ConfigProblem(ValueError):
    """Raised by `check_value` with what is wrong; `path` is where in the value (field names
    and list indices), for an editor to point at the line."""

    def __init__(self, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class ConfigIssue:
    """What is wrong with a run config and where: `path` leads from the top of the config
    (``("ops", "sales", "config", "rows")``) to the entry at fault, as far as it exists."""

    message: str
    path: Path = ()


def run_config_problem(
    graph: GlobalAssetGraph, asset_keys: Sequence[str], run_config: Mapping[str, Any]
) -> str | None:
    """What is wrong with `run_config` for a run of `asset_keys`, or None if nothing is."""
    issue = run_config_issue(graph, asset_keys, run_config)
    return issue.message if issue is not None else None


def config_steps(graph: GlobalAssetGraph, asset_keys: Sequence[str]) -> dict[str, AssetNodeSnap]:
    """The steps of a run of `asset_keys` by step key, each with (one of) its asset nodes."""
    steps: dict[str, AssetNodeSnap] = {}
    for key in asset_keys:
        node = graph.assets[key].node
        if node.step_key is not None:
            steps.setdefault(node.step_key, node)
    return steps


def run_config_issue(
    graph: GlobalAssetGraph, asset_keys: Sequence[str], run_config: Mapping[str, Any]
) -> ConfigIssue | None:
    """What is wrong with `run_config` for a run of `asset_keys` and where, or None."""
    if not isinstance(run_config, Mapping):
        return ConfigIssue(
            f"run config must be a mapping like {{'ops': {{...}}}}, not a {_kind(run_config)}"
        )
    ops = run_config.get("ops", {})
    if not isinstance(ops, Mapping):
        return ConfigIssue("run_config['ops'] must be a mapping of asset name to config", ("ops",))
    steps = config_steps(graph, asset_keys)
    names = {step: step for step in steps}
    for step, node in steps.items():
        if node.function_name:
            names.setdefault(node.function_name, step)
    unknown = sorted(set(ops) - set(names))
    if unknown:
        return ConfigIssue(
            f"run_config names {unknown}, which are not assets in this run "
            f"(assets: {sorted(steps)})",
            ("ops", unknown[0]),
        )
    for name, entry in ops.items():
        step = names[name]
        if steps[step].op_names:
            problem = _graph_entry_problem(step, entry)
            issue = ConfigIssue(problem, ("ops", name)) if problem is not None else None
        else:
            issue = _entry_issue(step, name, steps[step].config_schema, entry)
        if issue is not None:
            return issue
    # A step left out of the config gets {}: refused now if its Config has required fields,
    # rather than a run that fails in its step.
    given = {names[name] for name in ops}
    return _missing_issue(
        {s: n.config_schema for s, n in steps.items() if n.config_schema and not n.op_names},
        given,
        "asset",
    )


def op_job_config_issue(
    schemas: Mapping[str, Mapping[str, Any]], run_config: Mapping[str, Any]
) -> ConfigIssue | None:
    """What is wrong with `run_config` for a job of ops whose top-level ops have the `Config`
    `schemas` (by node name), or None. Entries of other nodes (ops without a `Config` class,
    nested graphs) are left to the location, which checks them when it runs."""
    if not isinstance(run_config, Mapping):
        return ConfigIssue(
            f"run config must be a mapping like {{'ops': {{...}}}}, not a {_kind(run_config)}"
        )
    ops = run_config.get("ops", {})
    if not isinstance(ops, Mapping):
        return ConfigIssue("run_config['ops'] must be a mapping of op name to config", ("ops",))
    for name, entry in ops.items():
        if name in schemas:
            issue = _entry_issue(name, name, dict(schemas[name]), entry, kind="op")
            if issue is not None:
                return issue
    return _missing_issue(schemas, set(ops), "op")


def _missing_issue(
    schemas: Mapping[str, Mapping[str, Any]], given: set[str], kind: str
) -> ConfigIssue | None:
    """A step left out of the config gets {}: refused now if its Config has required fields,
    rather than a run that fails in its step."""
    for step, schema in schemas.items():
        if step in given or not schema:
            continue
        try:
            check_value(schema, {}, schema, "")
        except ConfigProblem as exc:
            return ConfigIssue(
                f"{kind} '{step}' needs config: {exc}; give it as "
                f"{{'ops': {{'{step}': {{'config': {{...}}}}}}}}",
                ("ops",),
            )
    return None


def _entry_issue(
    step: str, name: str, schema: dict[str, Any] | None, entry: Any, kind: str = "asset"
) -> ConfigIssue | None:
    at: Path = ("ops", name)
    if entry is None:
        entry = {}
    if not isinstance(entry, Mapping):
        return ConfigIssue(
            f"run_config for {kind} '{step}' is a {_kind(entry)}, not a mapping with 'config'", at
        )
    stray = sorted(set(entry) - {"config"})
    if stray:
        return ConfigIssue(
            f"run_config for {kind} '{step}' has {stray} beside 'config'; put the values "
            f"under it: {{'ops': {{'{step}': {{'config': {{...}}}}}}}}",
            (*at, stray[0]),
        )
    values = entry.get("config")
    if schema is None:
        if values:
            return ConfigIssue(
                f"run_config gives config to {kind} '{step}', which takes no Config parameter",
                (*at, "config"),
            )
        return None
    try:
        check_value(schema, values if values is not None else {}, schema, "")
    except ConfigProblem as exc:
        where = (*at, "config") if "config" in entry else at
        return ConfigIssue(f"invalid config for {kind} '{step}': {exc}", (*where, *exc.path))
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


def check_value(
    schema: Mapping[str, Any], value: Any, root: Mapping[str, Any], at: str, path: Path = ()
) -> None:
    """Raise `ConfigProblem` if `value` does not fit `schema` (a pydantic JSON schema; `root`
    holds its ``$defs``); keywords it does not know are not checked. `at` names the value in
    messages, `path` leads to it."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        schema = root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        problems: list[ConfigProblem] = []
        for option in options:
            try:
                check_value(option, value, root, at, path)
                return
            except ConfigProblem as exc:
                problems.append(exc)
        deepest = max(problems, key=lambda p: len(p.path))
        text = str(problems[0]) if len(problems) == 1 else " or ".join(map(str, problems))
        raise ConfigProblem(text, deepest.path)
    for part in schema.get("allOf", ()):
        check_value(part, value, root, at, path)
    if "enum" in schema and value not in schema["enum"]:
        raise ConfigProblem(f"{_where(at)}{value!r} is not one of {schema['enum']}", path)
    if "const" in schema and value != schema["const"]:
        raise ConfigProblem(f"{_where(at)}{value!r} is not {schema['const']!r}", path)
    kind = schema.get("type")
    if kind is None:
        return
    if not _fits(kind, value):
        raise ConfigProblem(f"{_where(at)}expected {kind}, got {_kind(value)} {value!r}", path)
    if kind == "object":
        _check_object(schema, value, root, at, path)
    elif kind == "array" and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            check_value(schema["items"], item, root, f"{at}[{index}]", (*path, index))


def _check_object(
    schema: Mapping[str, Any],
    value: Mapping[str, Any],
    root: Mapping[str, Any],
    at: str,
    path: Path,
) -> None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    missing = [name for name in schema.get("required", ()) if name not in value]
    if missing:
        raise ConfigProblem(
            f"{_where(at)}missing required field {', '.join(map(repr, missing))}", path
        )
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        dotted = f"{at}.{name}" if at else str(name)
        if name in properties:
            check_value(properties[name], item, root, dotted, (*path, name))
        elif extra is False:
            known = ", ".join(properties) or "none"
            raise ConfigProblem(f"unknown field {dotted!r} (fields: {known})", (*path, name))
        elif isinstance(extra, Mapping):
            check_value(extra, item, root, dotted, (*path, name))


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
