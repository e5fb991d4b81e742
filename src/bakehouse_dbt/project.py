"""`DbtProject`: where a dbt project lives and its manifest, parsed again when it is stale.

A code server loading ``@dbt_assets(manifest=project.manifest_path)`` needs ``manifest.json``;
`prepare_if_dev` runs ``dbt parse`` when it is missing or older than a file of the project, so
an edited model shows in the next load. The host never runs dbt: it never imports user code.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from bakehouse.errors import DefinitionError
from bakehouse_dbt.executable import dbt_command, dbt_environment

# Folders of a dbt project whose files never change what `dbt parse` produces.
_SKIPPED_DIRS = {"target", "dbt_packages", "logs", ".git", ".venv", "__pycache__"}
# Suffixes of the files `dbt parse` reads (models, tests, macros, YAML, seeds, docs).
_PROJECT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".py", ".md"}


class DbtProject:
    """A dbt project folder and how to reach its manifest (Dagster's ``DbtProject``).

    ``DbtProject(project_dir)``: the folder holding ``dbt_project.yml``; `target_path` (default
    ``target``, relative to the project) holds ``manifest.json``; `profiles_dir` defaults to the
    project folder when it holds ``profiles.yml``; `profile` and `target` pick the connection.
    """

    def __init__(
        self,
        project_dir: str | os.PathLike[str],
        *,
        target_path: str | os.PathLike[str] = "target",
        profiles_dir: str | os.PathLike[str] | None = None,
        profile: str | None = None,
        target: str | None = None,
        packaged_project_dir: str | os.PathLike[str] | None = None,
        state_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.project_dir = Path(project_dir).resolve()
        if packaged_project_dir is not None and Path(packaged_project_dir).is_dir():
            # A deployed copy of the project, as Dagster's packaging step leaves it.
            self.project_dir = Path(packaged_project_dir).resolve()
        if not (self.project_dir / "dbt_project.yml").is_file():
            raise DefinitionError(
                f"DbtProject: {self.project_dir} holds no dbt_project.yml; give the folder of "
                "a dbt project"
            )
        target_dir = Path(target_path)
        self.target_path = target_dir if target_dir.is_absolute() else self.project_dir / target_dir
        if profiles_dir is not None:
            self.profiles_dir: Path | None = Path(profiles_dir).resolve()
        elif (self.project_dir / "profiles.yml").is_file():
            self.profiles_dir = self.project_dir
        else:
            self.profiles_dir = None
        self.profile = profile
        self.target = target
        self.state_path = self.project_dir / state_path if state_path is not None else None
        self.name = self.project_dir.name

    @property
    def manifest_path(self) -> Path:
        """``target/manifest.json`` of the project."""
        return self.target_path / "manifest.json"

    def __repr__(self) -> str:
        return f"DbtProject({str(self.project_dir)!r})"

    def __fspath__(self) -> str:
        return str(self.project_dir)

    def manifest_is_stale(self) -> bool:
        """Whether the manifest is missing or older than a file `dbt parse` reads."""
        manifest = self.manifest_path
        if not manifest.is_file():
            return True
        built = manifest.stat().st_mtime
        return any(path.stat().st_mtime > built for path in self._project_files())

    def _project_files(self) -> Iterator[Path]:
        for root, dirs, files in os.walk(self.project_dir):
            here = Path(root)
            dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith(".")]
            if self.target_path.resolve() == here.resolve():
                continue
            for name in files:
                if Path(name).suffix in _PROJECT_SUFFIXES:
                    yield here / name

    def prepare(self) -> None:
        """Run ``dbt parse`` now (after ``dbt deps`` when the project lists packages)."""
        if (self.project_dir / "packages.yml").is_file() or (
            self.project_dir / "dependencies.yml"
        ).is_file():
            self._run_dbt(["deps"])
        self._run_dbt(["parse", "--quiet"])

    def prepare_if_dev(self) -> None:
        """Parse the project when its manifest is missing or stale.

        Dagster parses only under ``dagster dev``; bakehouse parses wherever the manifest is
        behind its project, which is what a deployment building from source needs too.
        """
        if self.manifest_is_stale():
            self.prepare()

    def cli_flags(self) -> list[str]:
        """The flags naming this project's profile and target for a dbt command."""
        flags: list[str] = []
        if self.profiles_dir is not None:
            flags += ["--profiles-dir", str(self.profiles_dir)]
        if self.profile:
            flags += ["--profile", self.profile]
        if self.target:
            flags += ["--target", self.target]
        return flags

    def _run_dbt(self, args: Sequence[str]) -> None:
        command = [
            *dbt_command(),
            *args,
            "--project-dir",
            str(self.project_dir),
            "--target-path",
            str(self.target_path),
            *self.cli_flags(),
        ]
        done = subprocess.run(
            command,
            cwd=self.project_dir,
            env=dbt_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip()[-4000:]
            raise DefinitionError(
                f"dbt {args[0]} failed in {self.project_dir} (exit {done.returncode}):\n{output}",
                source=None,
            )
