"""Check dotted names against bakehouse by importing it in a separate interpreter.

The CLI is a host process and must not load the authoring API, so the names are resolved in a
child process: the project's own Python when it has bakehouse, else the one running ``bh``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

# Runs in the child: for each dotted path, import the longest module prefix, then walk the
# attributes; answers with what is missing (or null when the path resolves).
_PROBE = r"""
import importlib, json, sys

def resolve(path):
    parts = path.split(".")
    obj, depth, error = None, 0, None
    for depth in range(len(parts), 0, -1):
        name = ".".join(parts[:depth])
        try:
            obj = importlib.import_module(name)
            break
        except ModuleNotFoundError as exc:
            if exc.name is not None and not name.startswith(exc.name):
                return f"importing {name} fails: {exc}"
        except Exception as exc:
            return f"importing {name} fails: {type(exc).__name__}: {exc}"
    else:
        return f"no module {parts[0]}"
    for index in range(depth, len(parts)):
        try:
            obj = getattr(obj, parts[index])
        except AttributeError:
            return f"{'.'.join(parts[:index])} has no {parts[index]}"
        except Exception as exc:
            return f"{'.'.join(parts[:index + 1])} fails: {type(exc).__name__}: {exc}"
    return None

paths = json.load(sys.stdin)
print(json.dumps({p: resolve(p) for p in paths}))
"""


class ResolveError(Exception):
    """Raised when the interpreter that should import bakehouse could not answer."""


def interpreter_for(project_root: Path) -> str:
    """The project's own Python if it has bakehouse installed, else the one running ``bh``."""
    for candidate in (project_root / ".venv" / "bin" / "python",):
        if candidate.is_file():
            done = subprocess.run(
                [str(candidate), "-c", "import bakehouse"],
                capture_output=True,
                timeout=60,
                check=False,
            )
            if done.returncode == 0:
                return str(candidate)
    return sys.executable


def missing_names(paths: Iterable[str], python: str) -> dict[str, str]:
    """Of `paths`, the ones bakehouse lacks in `python`, each with what is missing."""
    wanted = sorted(set(paths))
    if not wanted:
        return {}
    done = subprocess.run(
        [python, "-c", _PROBE],
        input=json.dumps(wanted),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise ResolveError(f"{python} could not check names against bakehouse:\n{done.stderr}")
    answers: dict[str, str | None] = json.loads(done.stdout.strip().splitlines()[-1])
    return {path: reason for path, reason in answers.items() if reason is not None}
