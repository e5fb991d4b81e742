"""What a reload changed: the definitions one `LocationSnap` has that another has not, and those
both have but define differently, field by field.

A pure function of two snapshots. Where a definition was written (file and line) is left out:
moving code, or adding a function above another, changes no definition.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bakehouse.protocol.snapshot import (
    AssetCheckSnap,
    AssetNodeSnap,
    JobSnap,
    LocationSnap,
    ResourceSnap,
    ScheduleSnap,
    SensorSnap,
)
from bakehouse.serdes import Record, to_builtins
from bakehouse.storage.reload_records import DefinitionChange, DefinitionsDiff, FieldChange

# Fields no definition is compared on: where it was written, and for assets what only follows
# from fields compared already (the step key follows the key, the function name the code).
_IGNORED = frozenset({"source_file", "source_line", "step_key", "function_name"})

# Fields that map user keys to values: a change says which keys entered and left.
_KEYED = frozenset({"metadata", "tags", "run_tags", "run_config", "op_config_schemas"})

# Values longer than this are cut in a `FieldChange` (a diff names the change, it is no dump).
_MAX_TEXT = 200


def diff_snapshots(before: LocationSnap, after: LocationSnap) -> DefinitionsDiff:
    """The definitions `after` adds to `before`, removes from it, and defines differently:
    assets (deps, code version, partitions, metadata, group, kinds, ...), asset checks, jobs,
    schedules, sensors and resources. Each list is ordered by kind, then name."""
    added: list[DefinitionChange] = []
    removed: list[DefinitionChange] = []
    changed: list[DefinitionChange] = []
    for kind, old, new in _by_kind(before, after):
        for name in sorted(new.keys() - old.keys()):
            added.append(DefinitionChange(kind=kind, name=name))
        for name in sorted(old.keys() - new.keys()):
            removed.append(DefinitionChange(kind=kind, name=name))
        for name in sorted(old.keys() & new.keys()):
            if old[name] == new[name]:  # records compare by value: the common case, fast
                continue
            fields = _field_changes(old[name], new[name])
            if fields:
                changed.append(DefinitionChange(kind=kind, name=name, fields=fields))
    return DefinitionsDiff(added=tuple(added), removed=tuple(removed), changed=tuple(changed))


def _by_kind(
    before: LocationSnap, after: LocationSnap
) -> Iterable[tuple[str, dict[str, Record], dict[str, Record]]]:
    """Each kind of definition in both snapshots, by name."""

    def index(items: Iterable[Any], name: Callable[[Any], str]) -> dict[str, Record]:
        return {name(item): item for item in items}

    def assets(snap: LocationSnap) -> dict[str, Record]:
        # Keys the location only depends on (defined elsewhere, or nowhere) are no definition.
        return index((a for a in snap.assets if not a.is_undefined), _asset_name)

    yield "asset", assets(before), assets(after)
    yield "check", index(before.asset_checks, _check_name), index(after.asset_checks, _check_name)
    # Jobs named "__..." are made by bakehouse for a schedule or sensor that targets assets:
    # the schedule's change says it.
    yield "job", index(_own(before.jobs), _name), index(_own(after.jobs), _name)
    yield "schedule", index(before.schedules, _name), index(after.schedules, _name)
    yield "sensor", index(before.sensors, _name), index(after.sensors, _name)
    yield "resource", index(before.resources, _name), index(after.resources, _name)


def _own(jobs: Iterable[JobSnap]) -> Iterable[JobSnap]:
    return (job for job in jobs if not job.name.startswith("__"))


def _asset_name(asset: AssetNodeSnap) -> str:
    return asset.key


def _check_name(check: AssetCheckSnap) -> str:
    return f"{check.asset_key}:{check.name}"


def _name(item: JobSnap | ScheduleSnap | SensorSnap | ResourceSnap) -> str:
    return item.name


def _field_changes(old: Record, new: Record) -> tuple[FieldChange, ...]:
    """The fields of one definition that differ, in the record's field order."""
    before: dict[str, Any] = to_builtins(old)
    after: dict[str, Any] = to_builtins(new)
    changes: list[FieldChange] = []
    for field in dict.fromkeys([*before, *after]):
        if field in _IGNORED:
            continue
        a, b = before.get(field), after.get(field)
        if a == b:
            continue
        changes.append(_field_change(field, a, b))
    return tuple(changes)


def _field_change(field: str, before: Any, after: Any) -> FieldChange:
    """One differing field: lists of names say what entered and left, mappings which keys
    changed, everything else both values as short text."""
    if _is_names(before) and _is_names(after):
        old, new = list(before or ()), list(after or ())
        return FieldChange(
            field=field,
            before=_text(old),
            after=_text(new),
            added=tuple(x for x in new if x not in old),
            removed=tuple(x for x in old if x not in new),
        )
    if field in _KEYED and isinstance(before or {}, Mapping) and isinstance(after or {}, Mapping):
        old_map, new_map = dict(before or {}), dict(after or {})
        return FieldChange(
            field=field,
            before=_text(old_map) if before is not None else None,
            after=_text(new_map) if after is not None else None,
            added=tuple(sorted(k for k in new_map if k not in old_map)),
            removed=tuple(sorted(k for k in old_map if k not in new_map)),
        )
    return FieldChange(field=field, before=_text(before), after=_text(after))


def _is_names(value: Any) -> bool:
    return value is None or (
        isinstance(value, list | tuple) and all(isinstance(x, str) for x in value)
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "\u2026"
