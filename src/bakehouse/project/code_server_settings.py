"""How long a code location may take to load, as a workspace (or a project on its own) sets it.

```toml
[tool.bakehouse.code_servers]
local_startup_timeout = 180     # seconds of the location's own time; 0: no limit
```

Dagster's key and default (``code_servers: local_startup_timeout`` in ``dagster.yaml``, 180 s).
The seconds are the loading process's own time, not the wall clock: time it spent waiting for a
CPU that other processes held does not count (`bakehouse.host.load_clock`), so a large location
on a busy machine does not fail while it is making progress. ``bh check defs --load-timeout``
(or ``BAKEHOUSE_LOAD_TIMEOUT``) overrides it for one check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bakehouse.errors import ProjectError

DEFAULT_LOAD_TIMEOUT = 180.0
SETTING = "[tool.bakehouse.code_servers] local_startup_timeout"


@dataclass(frozen=True)
class LoadLimit:
    """The most seconds of its own time a location may spend loading (0: no limit), and where
    that is set, so that a location which runs out of it says what to change."""

    seconds: float = DEFAULT_LOAD_TIMEOUT
    setting: str = f"{SETTING} (default {DEFAULT_LOAD_TIMEOUT:.0f} s; 0: no limit)"

    @property
    def limited(self) -> bool:
        """Whether loading is limited at all."""
        return self.seconds > 0


def read_load_limit(table: dict[str, Any], prefix: str, config: Path) -> LoadLimit:
    """``code_servers.local_startup_timeout`` of the settings `table` (named `prefix` in
    `config`), or the default; raises ProjectError naming the file and key when it is not a
    number of seconds, 0 or more."""
    section = table.get("code_servers", {})
    if not isinstance(section, dict):
        raise ProjectError(f"{config}: {prefix}.code_servers must be a table")
    key = f"{prefix}.code_servers.local_startup_timeout"
    value = section.get("local_startup_timeout")
    if value is None:
        return LoadLimit(setting=f"{key} in {config} (default {DEFAULT_LOAD_TIMEOUT:.0f} s)")
    # bool is an int in Python; `local_startup_timeout = true` is a mistake, not 1 s.
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ProjectError(
            f"{config}: {key} must be a number of seconds, 0 or more (0: no limit); got {value!r}"
        )
    return LoadLimit(seconds=float(value), setting=f"{key} = {value} in {config}")
