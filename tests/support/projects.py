"""Real projects and workspaces written to disk, and venvs for them."""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from bakehouse.scaffold.venv import find_uv

if TYPE_CHECKING:
    from bakehouse.authoring.definitions_class import Definitions

REPO = Path(__file__).resolve().parents[2]
VENV_CACHE = REPO / ".test-venvs"


def write_project(
    root: Path,
    module: str,
    files: dict[str, str],
    *,
    definitions: bool = True,
    defs_errors: str | None = None,
) -> Path:
    """A project at `root` with root module `module`; `files` are paths under ``src/<module>/``
    (dedented). Its ``definitions.py`` loads the defs folder, unless `definitions` is False or
    `files` has its own. `defs_errors` ("isolate" or "fail") is written to its settings when
    given: a test of a location that fails to load as a whole breaks a defs module with "fail"."""
    root.mkdir(parents=True, exist_ok=True)
    setting = f'defs_errors = "{defs_errors}"\n' if defs_errors else ""
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "{module}"
            version = "0.1.0"

            [tool.bakehouse]
            directory_type = "project"
            """
        )
        + setting
        + textwrap.dedent(
            f"""\

            [tool.bakehouse.project]
            root_module = "{module}"
            """
        )
    )
    package = root / "src" / module
    (package / "defs").mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "defs" / "__init__.py").write_text("")
    if definitions:
        (package / "definitions.py").write_text(
            "from pathlib import Path\n\nimport bakehouse as dg\n\n\n@dg.definitions\n"
            "def defs():\n"
            "    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)\n"
        )
    for relative, text in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def line_of(path: Path, marker: str) -> int:
    """The 1-based number of the first line of `path` that contains `marker`."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} is not in {path}")


class Project:
    """A project on disk to import in this process: ``pyproject.toml`` and ``src/<package>/``
    with ``defs/``; tests write the modules (and a ``definitions.py``) they need."""

    def __init__(self, root: Path, package: str) -> None:
        self.root = root
        self.package = package
        self.src = root / "src"
        self.package_dir = self.src / package
        write_project(root, package, {}, definitions=False)

    def write(self, relative: str, text: str) -> Path:
        """Write `text` (dedented) to ``src/<package>/<relative>``, creating folders."""
        path = self.package_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def path(self, relative: str) -> Path:
        """The file ``src/<package>/<relative>``."""
        return self.package_dir / relative

    def where(self, relative: str, marker: str) -> str:
        """``file:line`` of the first line of `relative` containing `marker`."""
        path = self.path(relative)
        return f"{path}:{line_of(path, marker)}"

    def load(self) -> Definitions:
        """The project's defs folder, loaded as `load_from_defs_folder` does for users."""
        from bakehouse.authoring.loading import load_from_defs_folder

        return load_from_defs_folder(project_root=self.root)

    def import_module(self, relative_module: str) -> ModuleType:
        """Import ``<package>.<relative_module>`` with the project's ``src`` on the path."""
        if str(self.src) not in sys.path:
            sys.path.insert(0, str(self.src))
        return importlib.import_module(f"{self.package}.{relative_module}")


def write_workspace(root: Path, project_paths: list[str]) -> Path:
    """A workspace at `root` listing `project_paths`."""
    root.mkdir(parents=True, exist_ok=True)
    entries = "\n".join(
        f'[[tool.bakehouse.workspace.projects]]\npath = "{p}"\n' for p in project_paths
    )
    (root / "pyproject.toml").write_text(
        f'[tool.bakehouse]\ndirectory_type = "workspace"\n\n{entries}'
    )
    return root


def cached_venv(python: str, packages: list[str]) -> Path:
    """A venv of `python` with bakehouse (this checkout) and `packages`, built once and reused.

    The cache key covers the interpreter, the packages and bakehouse's pyproject.toml.
    """
    key_text = "|".join([python, *packages, (REPO / "pyproject.toml").read_text()])
    key = hashlib.sha256(key_text.encode()).hexdigest()[:16]
    venv = VENV_CACHE / key
    stamp = venv / ".ready"
    VENV_CACHE.mkdir(exist_ok=True)
    # xdist workers (and other checkouts' test runs) may want the same venv at once: one builds
    # it while the others wait on the lock, then find the stamp.
    with (VENV_CACHE / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            _build_venv(venv, python, packages)
            stamp.write_text("ok")
    return venv


def _build_venv(venv: Path, python: str, packages: list[str]) -> None:
    shutil.rmtree(venv, ignore_errors=True)
    # uv (from the dev extra) takes seconds where pip takes minutes on a busy machine.
    uv = find_uv()
    if uv:
        subprocess.run([uv, "venv", "--quiet", "--python", python, str(venv)], check=True,
                       timeout=300)  # fmt: skip
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
             "-e", str(REPO), *packages],
            check=True,
            timeout=900,
        )  # fmt: skip
        return
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", "-e", str(REPO), *packages],
        check=True,
        timeout=900,
    )  # fmt: skip


def link_venv(project: Path, venv: Path) -> None:
    """Give `project` its own ``.venv`` (a link to a cached one)."""
    (project / ".venv").symlink_to(venv, target_is_directory=True)
