"""`bh check defs` on real projects, loaded in a subprocess of the location's interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import RunBh, write

pytestmark = pytest.mark.slow


def test_check_defs_counts_the_bakery(bakery: Path, bh: RunBh) -> None:
    result = bh("check", "defs", cwd=bakery)
    assert result.returncode == 0, result.stderr
    assert "code location bakery" in result.stdout
    assert "5 assets" in result.stdout
    assert "1 job" in result.stdout
    assert "1 resource" in result.stdout


def test_check_defs_works_from_a_subfolder(bakery: Path, bh: RunBh) -> None:
    result = bh("check", "defs", cwd=bakery / "src" / "bakery" / "defs")
    assert result.returncode == 0, result.stderr
    assert "5 assets" in result.stdout


def test_check_defs_names_the_file_and_line_of_a_broken_defs_file(bakery: Path, bh: RunBh) -> None:
    broken = write(
        bakery / "src/bakery/defs/broken.py",
        "import bakehouse as dg\n\nVALUE = undefined_name + 1\n",
    )
    result = bh("check", "defs", cwd=bakery)
    assert result.returncode == 1
    assert f"{broken}:3" in result.stdout
    assert "NameError" in result.stdout
    assert "undefined_name" in result.stdout


def test_check_defs_reports_a_syntax_error_with_its_line(bakery: Path, bh: RunBh) -> None:
    broken = write(bakery / "src/bakery/defs/typo.py", "x = 1\ndef oops(:\n    pass\n")
    result = bh("check", "defs", cwd=bakery)
    assert result.returncode == 1
    assert f"{broken}:2" in result.stdout
    assert "SyntaxError" in result.stdout


def test_check_defs_reports_a_duplicate_key_naming_both_places(bakery: Path, bh: RunBh) -> None:
    write(
        bakery / "src/bakery/defs/again.py",
        "import bakehouse as dg\n\n\n@dg.asset\ndef cookie_dough():\n    return 1\n",
    )
    result = bh("check", "defs", cwd=bakery)
    assert result.returncode == 1
    assert "duplicate asset key 'cookie_dough'" in result.stdout
    assert "again.py:4" in result.stdout
    assert "cookies.py:7" in result.stdout


def test_user_code_printing_on_import_does_not_break_the_snapshot(bakery: Path, bh: RunBh) -> None:
    write(bakery / "src/bakery/defs/noisy.py", "print('hello from user code')\n")
    result = bh("check", "defs", cwd=bakery)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 assets" in result.stdout


def test_check_defs_outside_a_project_says_what_is_missing(tmp_path: Path, bh: RunBh) -> None:
    result = bh("check", "defs", cwd=tmp_path)
    assert result.returncode == 1
    assert "no bakehouse project found" in result.stderr
    assert "[tool.bakehouse]" in result.stderr


def test_a_dg_project_table_is_read_like_a_bakehouse_one(bakery: Path, bh: RunBh) -> None:
    pyproject = bakery / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("tool.bakehouse", "tool.dg"))
    result = bh("check", "defs", cwd=bakery)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 assets" in result.stdout


def test_a_bad_root_module_names_the_key_and_the_file(bakery: Path, bh: RunBh) -> None:
    pyproject = bakery / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('root_module = "bakery"', 'root_module = "nope"')
    )
    result = bh("check", "defs", cwd=bakery)
    assert result.returncode == 1
    assert "tool.bakehouse.project.root_module" in result.stderr
    assert str(pyproject) in result.stderr
