"""A project's own environment: a ``.venv`` made with uv when present (else ``python -m venv``
and pip) holding the very bakehouse that runs ``bh``, and pytest for the project's tests.

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


# What goes into the venv beside bakehouse: the scaffolded test says to run it with
# `.venv/bin/python -m pytest`.
EXTRA_PACKAGES = ("pytest",)


def find_uv() -> str | None:
    """The uv to use: the one on PATH, else the one beside the Python running bh.

    ``pip install uv`` puts it in that venv's ``bin/``, which is not on PATH when bh is called
    as ``.venv/bin/bh`` without activating the venv.
    """
    found = shutil.which("uv")
    if found:
        return found
    beside = Path(sys.executable).parent / ("uv.exe" if sys.platform == "win32" else "uv")
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def choose_installer(installer: str) -> str:
    """The uv to make a venv with for `installer` ("auto": `find_uv`; "uv": it, which must be
    there; "pip": none), or "" for pip."""
    if installer == "pip":
        return ""
    found = find_uv()
    if found is None and installer == "uv":
        raise ScaffoldError(
            "--installer uv: no uv on PATH nor beside this Python; install it (pip install uv) "
            "or use --installer pip"
        )
    if installer not in ("auto", "uv"):
        raise ScaffoldError(f"installer must be auto, uv or pip, not {installer!r}")
    return found or ""


def _run(command: list[str], what: str, cwd: Path, progress: Callable[[str], None]) -> None:
    """Run an installer, passing each line it prints to `progress`; its last lines make the
    error when it fails."""
    tail: list[str] = []
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
    except OSError as exc:
        raise ScaffoldError(f"{what} failed: {exc}") from None
    assert process.stdout is not None
    with process:
        for raw in process.stdout:
            line = raw.rstrip()
            if line:
                tail = [*tail[-39:], line]
                progress(line)
        code = process.wait()
    if code != 0:
        detail = "\n".join(tail)[-3000:]
        raise ScaffoldError(f"{what} failed (exit code {code}):\n{detail}")


def make_venv(
    project_root: Path,
    *,
    python: str,
    say: Callable[[str], None],
    uv: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Path:
    """Create ``project_root/.venv`` with this bakehouse and pytest installed in it, with uv
    when there is one (`uv`: its path, "" for none, None to look for it), else with pip.

    `say` gets a line per stage; `progress` each line the installers print. On failure the
    half-made ``.venv`` is removed (a project without one runs with the host's Python) and the
    error says how to retry by hand.
    """
    venv = project_root / ".venv"
    uv = uv if uv is not None else find_uv()
    spec, described = install_spec()
    packages = [*spec, *EXTRA_PACKAGES]
    started = time.monotonic()
    try:
        if uv:
            say(f"Creating .venv with uv ({python})")
            _run([uv, "venv", "--python", python, str(venv)], "uv venv", project_root, progress)
            say(f"Installing bakehouse ({described}) and pytest with uv")
            install = [uv, "pip", "install", "--python", str(venv_python(venv)), *packages]
            _run(install, "uv pip install", project_root, progress)
        else:
            say(f"Creating .venv with {python} -m venv (uv is faster: pip install uv)")
            _run([python, "-m", "venv", str(venv)], "python -m venv", project_root, progress)
            say(f"Installing bakehouse ({described}) and pytest with pip")
            pip = [str(venv_python(venv)), "-m", "pip", "install", "--progress-bar", "off"]
            _run(
                [*pip, "--disable-pip-version-check", *packages],
                "pip install",
                project_root,
                progress,
            )
    except (ScaffoldError, KeyboardInterrupt) as exc:
        shutil.rmtree(venv, ignore_errors=True)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ScaffoldError(
            f"{exc}\nThe project is there, without a .venv (bh will use its own Python). To "
            f"retry: cd {project_root} && {python} -m venv .venv && .venv/bin/python -m pip "
            f"install {' '.join(packages)}"
        ) from None
    say(f"Environment ready in {time.monotonic() - started:.1f} s: {venv}")
    return venv
