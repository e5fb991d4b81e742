"""The run queue's limits, as a workspace (or a project on its own) sets them.

```toml
[tool.bakehouse.run_queue]
max_concurrent_runs = 4
tag_concurrency_limits = [
    { key = "database", value = "warehouse", limit = 1 },   # runs tagged database=warehouse
    { key = "team", limit = 3 },                            # runs with a team tag, together
    { key = "customer", limit = 1, per_value = true },      # one run per customer at a time
]
```

These are Dagster's run-queue settings (``run_queue`` in ``dagster.yaml``); ``per_value = true``
stands for its ``value: {applyLimitPerUniqueValue: true}``. The ``bh dev``/``bh daemon`` option
``--max-concurrent-runs`` overrides the global limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bakehouse.errors import ProjectError

DEFAULT_MAX_CONCURRENT_RUNS = 10
_LIMIT_KEYS = ("key", "value", "limit", "per_value")


@dataclass(frozen=True)
class TagLimit:
    """At most `limit` runs at once with tag `key` (equal to `value` if given; counted per
    distinct value when `per_value`)."""

    key: str
    limit: int
    value: str | None = None
    per_value: bool = False


@dataclass(frozen=True)
class RunQueueSettings:
    """The global limit of runs in progress, and the tag limits within it."""

    max_concurrent_runs: int = DEFAULT_MAX_CONCURRENT_RUNS
    tag_concurrency_limits: tuple[TagLimit, ...] = ()


def _count(value: Any, where: str, *, allow_zero: bool) -> int:
    # bool is an int in Python; `limit = true` is a mistake, not 1.
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if allow_zero else 1):
        least = "0 or more" if allow_zero else "1 or more"
        raise ProjectError(f"{where} must be a whole number, {least}; got {value!r}")
    return value


def _tag_limit(entry: Any, where: str) -> TagLimit:
    if not isinstance(entry, dict):
        raise ProjectError(
            f'{where} must be a table like {{ key = "database", value = "warehouse", limit = 1 }}'
        )
    unknown = sorted(set(entry) - set(_LIMIT_KEYS))
    if unknown:
        raise ProjectError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_LIMIT_KEYS)})")
    key = entry.get("key")
    if not isinstance(key, str) or not key:
        raise ProjectError(f"{where}.key must be a tag name")
    if "limit" not in entry:
        raise ProjectError(f"{where}.limit is missing: how many such runs may be in progress")
    limit = _count(entry["limit"], f"{where}.limit", allow_zero=True)
    value = entry.get("value")
    if value is not None and not isinstance(value, str):
        raise ProjectError(f"{where}.value must be a string")
    per_value = entry.get("per_value", False)
    if not isinstance(per_value, bool):
        raise ProjectError(f"{where}.per_value must be true or false")
    if per_value and value is not None:
        raise ProjectError(f"{where}: give either value or per_value = true, not both")
    return TagLimit(key=key, limit=limit, value=value, per_value=per_value)


def read_run_queue(table: dict[str, Any], prefix: str, config: Path) -> RunQueueSettings:
    """The ``run_queue`` sub-table of a settings `table`; errors name the file and key."""
    section = table.get("run_queue")
    if section is None:
        return RunQueueSettings()
    where = f"{config}: {prefix}.run_queue"
    if not isinstance(section, dict):
        raise ProjectError(f"{where} must be a table")
    unknown = sorted(set(section) - {"max_concurrent_runs", "tag_concurrency_limits"})
    if unknown:
        raise ProjectError(
            f"{where}: unknown key {unknown[0]!r} (known: max_concurrent_runs, "
            "tag_concurrency_limits)"
        )
    most = _count(
        section.get("max_concurrent_runs", DEFAULT_MAX_CONCURRENT_RUNS),
        f"{where}.max_concurrent_runs",
        allow_zero=False,
    )
    entries = section.get("tag_concurrency_limits", [])
    if not isinstance(entries, list):
        raise ProjectError(f"{where}.tag_concurrency_limits must be a list of tables")
    limits = tuple(
        _tag_limit(entry, f"{where}.tag_concurrency_limits[{index}]")
        for index, entry in enumerate(entries)
    )
    return RunQueueSettings(max_concurrent_runs=most, tag_concurrency_limits=limits)
