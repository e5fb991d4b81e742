"""Which bakehouse goes into a new project's venv, and which Python it is based on."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from bakehouse.errors import ScaffoldError
from bakehouse.scaffold import venv

pytestmark = pytest.mark.slow


def test_an_editable_install_gives_its_source_tree() -> None:
    # The test venv has bakehouse installed editable from a checkout (scripts/setup).
    args, described = venv.install_spec()
    assert args[0] == "-e"
    assert (Path(args[1]) / "src" / "bakehouse" / "__init__.py").is_file()
    assert described == f"editable, from {args[1]}"


def test_a_version_install_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    class Dist:
        version = "9.9.9"

        def read_text(self, name: str) -> None:
            return None

    monkeypatch.setattr(metadata, "distribution", lambda name: Dist())
    assert venv.install_spec() == (["bakehouse==9.9.9"], "version 9.9.9")


def test_the_running_python_is_the_default() -> None:
    assert venv.find_python(None) == (sys.executable, sys.version_info[:2])
    current = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert venv.find_python(current)[1] == sys.version_info[:2]


@pytest.mark.parametrize(("version", "reason"), [("3", "like 3.12"), ("3.8", "not 3.8")])
def test_bad_versions_are_refused(version: str, reason: str) -> None:
    with pytest.raises(ScaffoldError, match=reason):
        venv.find_python(version)


def test_a_failed_install_removes_the_half_made_venv(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError) as err:
        venv.make_venv(tmp_path, python=str(tmp_path / "no-python"), say=lambda _: None, uv="")
    assert "python -m venv failed" in str(err.value)
    assert "To retry" in str(err.value)
    assert not (tmp_path / ".venv").exists()


def test_uv_beside_the_running_python_is_found_without_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `.venv/bin/bh` is run without activating the venv: its bin/ is not on PATH.
    monkeypatch.setenv("PATH", "/nowhere")
    beside = Path(sys.executable).parent / "uv"
    assert beside.exists(), "the dev extra installs uv into the venv (scripts/setup)"
    assert venv.find_uv() == str(beside)
    assert venv.choose_installer("auto") == str(beside)
    assert venv.choose_installer("pip") == ""


def test_asking_for_uv_where_there_is_none_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert venv.find_uv() is None
    assert venv.choose_installer("auto") == ""
    with pytest.raises(ScaffoldError, match="--installer uv: no uv on PATH"):
        venv.choose_installer("uv")


def test_the_installer_lines_reach_progress_as_it_prints_them(tmp_path: Path) -> None:
    lines: list[str] = []
    stages: list[str] = []
    made = venv.make_venv(tmp_path, python=sys.executable, say=stages.append, progress=lines.append)
    assert made == tmp_path / ".venv"
    assert any(line.startswith("Installed ") for line in lines), lines  # uv's summary
    assert stages[0].startswith("Creating .venv with uv")
    assert stages[-1].startswith("Environment ready in ")
    python = venv.venv_python(made)
    done = subprocess.run(
        [str(python), "-c", "import bakehouse, pytest"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
