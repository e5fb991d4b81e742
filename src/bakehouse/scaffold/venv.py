"""A project's own environment: a ``.venv`` made with uv when present (else ``python -m venv``)
holding the very bakehouse that runs ``bh``.

Nothing is published to a registry, so "the same bakehouse" is found from this installation:
its source tree when installed editable (or when run from a checkout), else the file it was
installed from, else its version.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from bakehouse.errors import ScaffoldError

SUPPORTED = ((3, 10), (3, 13))  # bakehouse's requires-python, inclusive


def _source_tree() -> Path | None:
    """The checkout this bakehouse is imported from, if it is one."""
    import bakehouse

    root = Path(bakehouse.__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "src" / "bakehouse").is_dir():
        return root
    return None


def install_spec() -> tuple[list[str], str]:
    """The installer arguments that install this bakehouse, and how to say it."""
    try:
        dist = metadata.distribution("bakehouse")
    except metadata.PackageNotFoundError:
        tree = _source_tree()
        if tree is None:
            raise ScaffoldError("cannot tell where this bakehouse comes from") from None
        return ["-e", str(tree)], f"editable, from {tree}"
    direct = dist.read_text("direct_url.json")
    if direct:
        data = json.loads(direct)
        url = str(data.get("url", ""))
        if url.startswith("file://"):
            path = Path(unquote(urlparse(url).path))
            if data.get("dir_info", {}).get("editable"):
                return ["-e", str(path)], f"editable, from {path}"
            if path.exists():
                return [str(path)], f"from {path}"
    return [f"bakehouse=={dist.version}"], f"version {dist.version}"


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return None
    parts = done.stdout.split()
    if done.returncode != 0 or len(parts) != 2:
        return None
    return int(parts[0]), int(parts[1])


def parse_version(version: str | None) -> tuple[int, int]:
    """``"3.12"`` as ``(3, 12)``, checked against the versions bakehouse runs on; None is the
    running Python's."""
    if version is None:
        return sys.version_info.major, sys.version_info.minor
    match = re.fullmatch(r"(\d+)\.(\d+)", version.strip())
    if not match:
        raise ScaffoldError(f"--python takes a version like 3.12, got '{version}'")
    wanted = (int(match.group(1)), int(match.group(2)))
    low, high = SUPPORTED
    if not low <= wanted <= high:
        raise ScaffoldError(
            f"bakehouse runs on Python {low[0]}.{low[1]} to {high[0]}.{high[1]}, not {version}"
        )
    return wanted


def find_python(version: str | None) -> tuple[str, tuple[int, int]]:
    """The interpreter to base the venv on: ``pythonX.Y`` for `version`, else the running one."""
    wanted = parse_version(version)
    if version is None:
        return sys.executable, wanted
    candidates = [sys.executable] if sys.version_info[:2] == wanted else []
    name = f"python{wanted[0]}.{wanted[1]}"
    found = shutil.which(name)
    if found:
        candidates.append(found)
    # pyenv installs versions its shims only run when selected; use them directly.
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(p)
        for p in sorted(
            (pyenv_root / "versions").glob(f"{wanted[0]}.{wanted[1]}.*/bin/{name}"), reverse=True
        )
    ]
    for candidate in candidates:
        if _version_of(candidate) == wanted:
            return candidate, wanted
    raise ScaffoldError(
        f"Python {version} was not found (no working python{version} on PATH); install it, or "
        "leave out --python to use the Python running bh"
    )


def venv_python(venv: Path) -> Path:
    """The interpreter inside `venv`."""
    posix = venv / "bin" / "python"
    return posix if posix.exists() or sys.platform != "win32" else venv / "Scripts" / "python.exe"


def _run(command: list[str], what: str, cwd: Path) -> None:
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=1800, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ScaffoldError(f"{what} failed: {exc}") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-3000:]
        raise ScaffoldError(f"{what} failed (exit code {done.returncode}):\n{detail}")


def make_venv(
    project_root: Path,
    *,
    python: str,
    say: Callable[[str], None],
    uv: str | None = None,
) -> Path:
    """Create ``project_root/.venv`` with this bakehouse installed in it.

    On failure the half-made ``.venv`` is removed (a project without one runs with the host's
    Python) and the error says how to retry by hand.
    """
    venv = project_root / ".venv"
    uv = uv if uv is not None else shutil.which("uv")
    spec, described = install_spec()
    started = time.monotonic()
    try:
        if uv:
            say(f"Creating .venv with uv ({python})")
            _run([uv, "venv", "--quiet", "--python", python, str(venv)], "uv venv", project_root)
            say(f"Installing bakehouse ({described}) with uv")
            install = [uv, "pip", "install", "--quiet", "--python", str(venv_python(venv)), *spec]
            _run(install, "uv pip install", project_root)
        else:
            say(f"Creating .venv with {python} -m venv")
            _run([python, "-m", "venv", str(venv)], "python -m venv", project_root)
            say(f"Installing bakehouse ({described}) with pip: this takes a little while")
            pip = [str(venv_python(venv)), "-m", "pip", "install", "--quiet"]
            _run([*pip, "--disable-pip-version-check", *spec], "pip install", project_root)
    except ScaffoldError as exc:
        shutil.rmtree(venv, ignore_errors=True)
        raise ScaffoldError(
            f"{exc}\nThe project is there, without a .venv (bh will use its own Python). To "
            f"retry: cd {project_root} && {python} -m venv .venv && .venv/bin/python -m pip "
            f"install {' '.join(spec)}"
        ) from None
    say(f"Environment ready in {time.monotonic() - started:.0f} s: {venv}")
    return venv
