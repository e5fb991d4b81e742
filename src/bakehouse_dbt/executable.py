"""How bakehouse starts dbt: the ``dbt`` named by ``BAKEHOUSE_DBT_EXECUTABLE``, else the one
beside the running Python, with its usage tracking off."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from bakehouse.errors import DefinitionError

# Names a dbt installed apart from the location's Python (dbt pins libraries that may clash
# with the location's own), as Dagster's `dbt_executable` does per resource.
EXECUTABLE_VARIABLE = "BAKEHOUSE_DBT_EXECUTABLE"


def dbt_command(executable: str | None = None) -> list[str]:
    """The command starting dbt: `executable` if given, else ``$BAKEHOUSE_DBT_EXECUTABLE``,
    else the ``dbt`` script of this Python's environment (a code server's PATH may not hold
    its venv), else ``dbt`` on PATH."""
    chosen = executable or os.environ.get(EXECUTABLE_VARIABLE)
    if chosen:
        return [chosen]
    beside = Path(sys.executable).parent / "dbt"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("dbt")
    if found:
        return [found]
    raise DefinitionError(
        "dbt is not installed in this location's Python: pip install 'bakehouse[dbt]' "
        f"(dbt-core and an adapter such as dbt-duckdb), or name its dbt in {EXECUTABLE_VARIABLE}"
    )


def dbt_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a dbt process: ours, without dbt's usage tracking (it would reach
    outside this machine on every command), plus `extra`."""
    env = dict(os.environ)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.update(extra or {})
    return env
