"""Which bakehouse goes into a new project's venv, and which Python it is based on."""

from __future__ import annotations

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
