"""The instance storage settings a workspace (or a project on its own) makes.

```toml
[tool.bakehouse.storage]
durability = "full"     # or "normal" (the default)
```

``normal``: a committed run, event or state survives a crash of any bakehouse process, not a
power cut or an OS crash (SQLite ``synchronous=NORMAL`` in WAL mode; PostgreSQL
``synchronous_commit=off``). ``full``: it survives those too (SQLite ``synchronous=FULL``, as
Dagster's SQLite storage; PostgreSQL as the server is set, ``synchronous_commit=on`` by default).
A storage URL's own ``?durability=`` wins over this setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bakehouse.errors import ProjectError
from bakehouse.storage.durability import DURABILITY_LEVELS, Durability, is_durability


def read_durability(table: dict[str, Any], prefix: str, config: Path) -> Durability | None:
    """``storage.durability`` of the settings `table` (named `prefix` in `config`), None when
    unset; raises ProjectError naming the file and key when it is not a level."""
    storage = table.get("storage", {})
    if not isinstance(storage, dict):
        raise ProjectError(f"{config}: {prefix}.storage must be a table")
    value = storage.get("durability")
    if value is None:
        return None
    if not is_durability(value):
        levels = " or ".join(f'"{level}"' for level in DURABILITY_LEVELS)
        raise ProjectError(f"{config}: {prefix}.storage.durability must be {levels}, got {value!r}")
    level: Durability = value
    return level
