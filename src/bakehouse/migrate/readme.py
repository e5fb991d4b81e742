"""Rewrite the Dagster commands a README tells its reader to run into ``bh`` commands.

Only commands are touched, where a command starts (a line, a code span, a ``$`` prompt, or
after ``&&``), so prose that mentions Dagster keeps its words.
"""

from __future__ import annotations

import re

# (Dagster's command, bakehouse's). Longer ones first: `dagster asset materialize` before
# `dagster dev` does not matter, but `dg scaffold defs dagster.asset` before `dg scaffold`.
_COMMANDS: tuple[tuple[str, str], ...] = (
    (r"(?:uvx\s+(?:-U\s+)?)?create-dagster(?:@latest)?\s+project", "bh create project"),
    (r"dagster\s+dev", "bh dev"),
    (r"dagster\s+asset\s+materialize\s+--select", "bh launch --assets"),
    (r"dagster\s+job\s+(?:launch|execute)\s+(?:-j|--job)", "bh launch --job"),
    (r"dagster-webserver", "bh webserver"),
    (r"dagster-daemon\s+run", "bh daemon"),
    (r"dg\s+scaffold\s+defs\s+dagster\.", "bh scaffold defs "),
    (r"dg\s+(?=(?:dev|check|list|launch|scaffold)\b)", "bh "),
)

_START = r"(?P<start>^[ \t]*|`|\$ |&& |; )"


def rewrite_readme(text: str) -> str:
    """`text` with every Dagster command replaced by the ``bh`` command that does the same."""
    for command, replacement in _COMMANDS:
        pattern = re.compile(_START + command, re.MULTILINE)
        text = pattern.sub(r"\g<start>" + replacement.replace("\\", "\\\\"), text)
    return text
