"""Rewrite what a README tells its reader to run: commands, installs and Python examples.

Only commands are touched, where a command starts (a line, a code span, a ``$`` prompt, or
after ``&&``), so prose that mentions Dagster keeps its words. ``pip install``/``uv add`` lines
get bakehouse's requirements, and fenced Python blocks go through the same rewrite as the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bakehouse.migrate.requirements import RequirementRule

# (Dagster's command, bakehouse's). Longer ones first: `dagster asset materialize` before
# `dagster dev` does not matter, but `dg scaffold defs dagster.asset` before `dg scaffold`.
_COMMANDS: tuple[tuple[str, str], ...] = (
    (r"(?:uvx\s+(?:-U\s+)?)?create-dagster(?:@latest)?\s+project", "bh create project"),
    (r"dagster\s+dev", "bh dev"),
    (r"dagster-webserver", "bh webserver"),
    (r"dagster-daemon\s+run", "bh daemon"),
    (r"dg\s+scaffold\s+defs\s+dagster\.", "bh scaffold defs "),
    (r"dg\s+(?=(?:dev|check|list|launch|scaffold)\b)", "bh "),
)

_START = r"(?P<start>^[ \t]*|`|\$ |&& |; )"
_LAUNCH = re.compile(
    _START + r"dagster\s+(?:asset\s+materialize|job\s+(?:launch|execute))(?P<args>[^`\n;&|]*)",
    re.MULTILINE,
)
# Options that say where the code is: bh finds the project from the folder it runs in.
_LOCATION_OPTIONS = {"-m", "--module-name", "-f", "--python-file", "-w", "--workspace"}
_LAUNCH_OPTIONS = {"--select": "--assets", "-j": "--job", "--job": "--job"}
_INSTALL = re.compile(
    r"(?P<command>\b(?:pip3?\s+install|uv\s+pip\s+install|uv\s+add))(?P<args>[^`\n;&|]*)"
)
_PYTHON_FENCE = re.compile(
    r"^(?P<open>[ \t]*```[ \t]*(?:python|py)[ \t]*\n)(?P<code>.*?)(?P<close>^[ \t]*```)",
    re.MULTILINE | re.DOTALL,
)


def _install(match: re.Match[str], rule: RequirementRule) -> str:
    words = match.group("args").split(" ")
    # Options and empty words are no requirements: "" leaves them as they are.
    wanted = [w.strip("'\"") if w and not w.startswith("-") else "" for w in words]
    converted = rule.convert_all(wanted)
    kept = [
        word if new == plain else word.replace(plain, new)
        for word, plain, new in zip(words, wanted, converted, strict=True)
        if new is not None
    ]
    return match.group("command") + " ".join(kept)


def _launch(match: re.Match[str]) -> str:
    words = match.group("args").split()
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _LOCATION_OPTIONS:
            skip = True
        else:
            kept.append(_LAUNCH_OPTIONS.get(word, word))
    trailing = " " if match.group("args").endswith(" ") else ""
    return match.group("start") + " ".join(["bh launch", *kept]) + trailing


def _python_block(match: re.Match[str], rewrite_code: Callable[[str], str | None]) -> str:
    code = rewrite_code(match.group("code"))
    return match.group("open") + (code or match.group("code")) + match.group("close")


def rewrite_readme(
    text: str, rule: RequirementRule, rewrite_code: Callable[[str], str | None]
) -> str:
    """`text` with Dagster commands, requirements and Python examples in bakehouse's terms.

    `rewrite_code` rewrites one Python block, or returns None when it does not parse.
    """
    for command, replacement in _COMMANDS:
        pattern = re.compile(_START + command, re.MULTILINE)
        text = pattern.sub(r"\g<start>" + replacement.replace("\\", "\\\\"), text)
    text = _LAUNCH.sub(_launch, text)
    text = _INSTALL.sub(lambda match: _install(match, rule), text)
    return _PYTHON_FENCE.sub(lambda match: _python_block(match, rewrite_code), text)
