"""`DbtCliResource`: runs dbt commands in a project, for the assets of `@dbt_assets`."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from bakehouse.authoring.resources import ConfigurableResource
from bakehouse_dbt.asset_decorator import dbt_info_of
from bakehouse_dbt.executable import dbt_command, dbt_environment
from bakehouse_dbt.invocation import DbtCliInvocation
from bakehouse_dbt.project import DbtProject
from bakehouse_dbt.selection import selection_args

_SELECTION_FLAGS = {"--select", "-s", "--models", "-m", "--exclude", "--selector"}
# dbt commands that take a node selection.
_SELECTING_COMMANDS = {
    "build", "run", "test", "seed", "snapshot", "compile", "ls", "list", "show", "docs",
    "source", "clone",
}  # fmt: skip


class DbtCliResource(ConfigurableResource):
    """Runs dbt in `project_dir` (a path or a `DbtProject`).

    ``dbt.cli(["build"], context=context).stream()`` inside `@dbt_assets` runs only what the
    run selected and yields the materializations and check results dbt reports.
    """

    project_dir: str | DbtProject = Field(
        description="The dbt project's folder (holding dbt_project.yml), or its DbtProject."
    )
    profiles_dir: str | None = Field(
        default=None, description="Folder of profiles.yml; default: the project's, if it has one."
    )
    profile: str | None = Field(
        default=None, description="The profile to use (default: the project's)."
    )
    target: str | None = Field(default=None, description="The profile's target to use.")
    global_config_flags: list[str] = Field(
        default_factory=list, description="Flags given to every command, e.g. ['--no-use-colors']."
    )
    dbt_executable: str | None = Field(
        default=None, description="The dbt command; default: the dbt of this Python's environment."
    )
    state_path: str | None = Field(
        default=None, description="Folder of a previous run's artifacts."
    )

    @field_validator("project_dir", mode="before")
    @classmethod
    def _project_dir_of(cls, value: Any) -> Any:
        if isinstance(value, DbtProject):
            return str(value.project_dir)
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        return value

    def _project(self) -> DbtProject:
        return DbtProject(
            self.project_dir,
            profiles_dir=self.profiles_dir,
            profile=self.profile,
            target=self.target,
        )

    def cli(
        self,
        args: Sequence[str],
        *,
        context: Any = None,
        raise_on_error: bool = True,
        manifest: Any = None,
        dagster_dbt_translator: Any = None,
        target_path: str | os.PathLike[str] | None = None,
    ) -> DbtCliInvocation:
        """Start ``dbt ARGS`` and return the running invocation.

        With the `context` of a `@dbt_assets` run, the run's selection is added as
        ``--select`` (unless `args` select themselves), and `stream()` maps dbt's events to
        its assets and checks. Each invocation writes its artifacts to its own target folder
        (``target/bakehouse-...``), so runs side by side do not overwrite each other.
        """
        del manifest, dagster_dbt_translator  # the definition's own are used
        project = self._project()
        info = dbt_info_of(context) if context is not None else None
        command_args = list(args)
        extra_env: dict[str, str] = {}
        selecting = bool(command_args) and command_args[0] in _SELECTING_COMMANDS
        if info is not None and selecting and not _SELECTION_FLAGS & set(command_args):
            flags, extra_env = selection_args(info, context)
            command_args += flags
        run_target = Path(target_path) if target_path else _new_target_path(project, context)
        _carry_partial_parse(project.target_path, run_target)
        command = [
            *dbt_command(self.dbt_executable),
            "--log-format",
            "json",
            "--log-level",
            "debug",
            # The run log shows dbt's lines as text; colour codes would show as garbage.
            "--no-use-colors",
            *self.global_config_flags,
            *command_args,
            "--project-dir",
            str(project.project_dir),
            "--target-path",
            str(run_target),
            "--log-path",
            str(run_target),
            *project.cli_flags(),
        ]
        if self.state_path and selecting:
            command += ["--state", str(Path(project.project_dir) / self.state_path)]
        log = getattr(context, "log", None)
        if log is not None:
            log.info(f"running {' '.join(['dbt', *command_args])} (artifacts in {run_target})")
        process = subprocess.Popen(
            command,
            cwd=project.project_dir,
            env=dbt_environment(extra_env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        return DbtCliInvocation(
            process=process,
            args=command_args,
            project_dir=project.project_dir,
            target_path=run_target,
            info=info,
            context=context,
            raise_on_error=raise_on_error,
        )


def _new_target_path(project: DbtProject, context: Any) -> Path:
    run_id = str(getattr(context, "run_id", "") or "")[:8]
    name = "-".join(p for p in ("bakehouse", run_id, uuid.uuid4().hex[:8]) if p)
    return project.target_path / name


def _carry_partial_parse(source: Path, target: Path) -> None:
    """Copy dbt's partial-parse state into a new target folder: without it, every invocation
    would parse the whole project again."""
    state = source / "partial_parse.msgpack"
    target.mkdir(parents=True, exist_ok=True)
    if state.is_file():
        shutil.copy2(state, target / "partial_parse.msgpack")
