"""Host side of component questions: ask the project's own interpreter, which can import the
project's component types (``python -m bakehouse.components.describe``)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bakehouse.errors import ErrorInfo, LocationLoadError, ScaffoldError
from bakehouse.host.client import target_for_project
from bakehouse.project.settings import ProjectSettings


def _ask(project: ProjectSettings, *args: str, timeout: float = 300) -> dict[str, Any]:
    target = target_for_project(project)
    with tempfile.TemporaryDirectory(prefix="bakehouse-components-") as tmp:
        out = Path(tmp) / "answer.json"
        command = [
            target.python,
            "-m",
            "bakehouse.components.describe",
            *args,
            "--project",
            str(project.pyproject),
            "--out",
            str(out),
        ]
        try:
            done = subprocess.run(
                command,
                cwd=target.root,
                env=target.process_env(),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            raise ScaffoldError(
                f"the project's interpreter {target.python} does not exist"
            ) from None
        if not out.is_file():
            detail = (done.stderr or done.stdout).strip()[-3000:]
            raise ScaffoldError(
                f"{target.python} could not describe component types (is bakehouse installed "
                f"in it?):\n{detail}"
            )
        answer: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    if "error" in answer:
        raise LocationLoadError(target.name, ErrorInfo.from_dict(answer["error"]))
    return answer


def list_component_types(project: ProjectSettings) -> list[dict[str, Any]]:
    """Every component type the project can use: name, origin, summary, attributes."""
    types: list[dict[str, Any]] = _ask(project, "list")["types"]
    return types


def instance_files(
    project: ProjectSettings, type_name: str, attributes: dict[str, Any] | None = None
) -> tuple[str, dict[str, str]]:
    """The canonical type name and the files of a new instance of it (``defs.yaml`` first),
    with the given `attributes` set in it."""
    extra = ["--attributes", json.dumps(attributes)] if attributes else []
    answer = _ask(project, "scaffold", type_name, *extra)
    return str(answer["type"]), dict(answer["files"])
