"""`ScriptComponent`: run a Python or shell script (or any command) as an asset.

The output is streamed to the run's log and its last lines kept as metadata; a non-zero exit
fails the step with the exit code and the output's tail in the error.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from bakehouse.components.component import (
    Component,
    ComponentLoadContext,
    Model,
    Resolvable,
    located,
)
from bakehouse.errors import BakehouseError, SourceLocation

if TYPE_CHECKING:
    from bakehouse.authoring.context import AssetExecutionContext
    from bakehouse.authoring.definitions_class import Definitions
    from bakehouse.authoring.results import MaterializeResult


class ScriptError(BakehouseError):
    """Raised when a script run as an asset exits with a non-zero code or times out."""

    def __init__(self, message: str, *, exit_code: int | None, output: str) -> None:
        self.exit_code = exit_code
        self.output = output
        super().__init__(
            f"{message}\n--- last lines of output ---\n{output}" if output else message
        )


class ScriptComponent(Component, Model, Resolvable):
    """Runs a Python or shell script, or any command, as an asset.

    Give `script` (a .py file runs with the code location's Python, a .sh file with bash) or
    `command`. Output goes to the run's log and its last lines to the materialization's
    metadata; a non-zero exit code fails the step with the output in the error.
    """

    asset_key: str | None = Field(
        None, description="Key of the asset (a/b for a prefixed key); default: the folder's name."
    )
    script: str | None = Field(
        None, description="Script file, relative to the folder holding defs.yaml."
    )
    args: list[str] = Field(default_factory=list, description="Arguments given to the script.")
    command: str | list[str] | None = Field(
        None,
        description="Instead of script: a shell command line, or a list of arguments run "
        "without a shell.",
    )
    working_dir: str = Field(
        ".", description="Folder the script runs in, relative to the folder holding defs.yaml."
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="Environment variables added for the script."
    )
    deps: list[str] = Field(
        default_factory=list, description="Keys of the assets the script reads (upstream)."
    )
    group_name: str | None = Field(None, description="Group of the asset.")
    description: str | None = Field(None, description="Description of the asset.")
    timeout_seconds: float | None = Field(
        None, gt=0, description="Stop the script and fail the step after this many seconds."
    )
    output_lines: int = Field(
        40, ge=0, le=10_000, description="Lines of output kept in the metadata."
    )

    @model_validator(mode="after")
    def _script_or_command(self) -> ScriptComponent:
        if (self.script is None) == (self.command is None):
            raise ValueError("give exactly one of 'script' or 'command'")
        if self.args and self.script is None:
            raise ValueError("'args' go with 'script'; put a command's arguments in 'command'")
        return self

    @classmethod
    def get_scaffold_attributes(cls) -> dict[str, Any]:
        return {"script": "run.py", "env": {"GREETING": "hello"}}

    @classmethod
    def get_scaffold_files(cls) -> dict[str, str]:
        return {
            "run.py": '"""Run by the ScriptComponent in defs.yaml; replace with your own work."""\n'
            "\n"
            "import os\n"
            "\n"
            "print(f\"{os.environ['GREETING']} from {os.environ['BAKEHOUSE_ASSET_KEY']}\")\n"
        }

    def argv(self, context: ComponentLoadContext) -> tuple[list[str] | str, str]:
        """What to run (a list, or a shell line) and the asset kind it suggests."""
        if self.command is not None:
            return self.command, "shell"
        assert self.script is not None
        path = context.resolve_path(self.script)
        if not path.is_file():
            raise context.error(f"{path} does not exist", "script")
        if path.suffix == ".py":
            return [sys.executable, str(path), *self.args], "python"
        if path.suffix == ".sh":
            return ["bash", str(path), *self.args], "shell"
        return [str(path), *self.args], "shell"

    def build_defs(self, context: ComponentLoadContext) -> Definitions:
        from bakehouse.authoring.assets import asset
        from bakehouse.authoring.definitions_class import Definitions
        from bakehouse.authoring.metadata import MetadataValue
        from bakehouse.authoring.results import MaterializeResult
        from bakehouse.graph.keys import AssetKey

        to_run, kind = self.argv(context)
        workdir = context.resolve_path(self.working_dir)
        if not workdir.is_dir():
            raise context.error(f"{workdir} is not a folder", "working_dir")
        try:
            key = AssetKey.from_user_string(self.asset_key or context.path.name)
        except ValueError as exc:
            raise context.error(str(exc), "asset_key") from None
        for index, dep in enumerate(self.deps):
            try:
                AssetKey.from_user_string(dep)
            except ValueError as exc:
                raise context.error(str(exc), "deps", index) from None
        shown = to_run if isinstance(to_run, str) else shlex.join(to_run)
        extra_env = dict(self.env)
        timeout, keep = self.timeout_seconds, self.output_lines

        def run_script(context: AssetExecutionContext) -> MaterializeResult[None]:
            env = {**os.environ, **extra_env}
            env["BAKEHOUSE_ASSET_KEY"] = key.to_user_string()
            env["BAKEHOUSE_RUN_ID"] = str(getattr(context, "run_id", ""))
            context.log.info(f"running {shown} in {workdir}")
            code, output, seconds = run_streaming(
                to_run, cwd=workdir, env=env, timeout=timeout, keep=keep, log=context.log.info
            )
            if code is None:
                raise ScriptError(
                    f"{shown} was stopped after {timeout:g} s", exit_code=None, output=output
                )
            if code != 0:
                raise ScriptError(f"{shown} exited with code {code}", exit_code=code, output=output)
            return MaterializeResult(
                metadata={
                    "command": shown,
                    "exit_code": code,
                    "duration_s": round(seconds, 3),
                    "output": MetadataValue.md(f"```\n{output}\n```") if output else "",
                }
            )

        source = (
            SourceLocation(str(context.resolve_path(self.script)), 1)
            if self.script
            else context.attribute_source("command")
        )
        assets_def = asset(
            key=key,
            deps=list(self.deps),
            group_name=self.group_name,
            kinds={kind},
            description=self.description or f"Runs {shown}.",
            metadata={"command": shown, "working_dir": str(workdir)},
        )(run_script)
        return Definitions(assets=[located(assets_def, source)])


def run_streaming(
    to_run: list[str] | str,
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float | None,
    keep: int,
    log: Any,
) -> tuple[int | None, str, float]:
    """Run, passing each output line to `log`; the exit code (None on timeout), the last
    `keep` lines of output and the duration."""
    started = time.monotonic()
    process = subprocess.Popen(
        to_run,
        shell=isinstance(to_run, str),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
        start_new_session=True,  # its own process group, so a timeout stops its children too
    )
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, stop) if timeout else None
    if timer:
        timer.daemon = True
        timer.start()
    tail: collections.deque[str] = collections.deque(maxlen=max(keep, 1))
    with process:  # closes the pipe and waits, even if logging a line raises
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            log(line)
        code = process.wait()
    if timer:
        timer.cancel()
    output = "\n".join(tail) if keep else ""
    return (None if timed_out.is_set() else code), output, time.monotonic() - started
