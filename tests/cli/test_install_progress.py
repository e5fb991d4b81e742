"""What `bh create project` prints of an installer's output while it works."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from bakehouse.cli.install_progress import InstallProgress, is_headline


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("Collecting sqlalchemy>=2.0.25 (from bakehouse==0.1.0)", True),
        ("Resolved 42 packages in 502ms", True),
        ("Installed 42 packages in 179ms", True),
        ("  Downloading duckdb-1.1.0-cp311-manylinux.whl (20.1 MB)", False),
        (" + duckdb==1.1.0", False),
        ("+ duckdb==1.1.0", False),
        ("Requirement already satisfied: pip in ./.venv/lib/python3.11/site-packages", False),
        ("Activate with: source .venv/bin/activate", False),
    ],
)
def test_stages_are_shown_and_details_are_not(line: str, shown: bool) -> None:
    assert is_headline(line) is shown


def test_off_a_terminal_the_stages_and_headlines_print_as_plain_lines() -> None:
    buffer = io.StringIO()
    out = Console(file=buffer, force_terminal=False, width=200)
    with InstallProgress(out) as progress:
        progress.stage("Installing bakehouse [editable] with pip")
        progress.line("Collecting click>=8.1 (from bakehouse==0.1.0)")
        progress.line("  Downloading click-8.1.7-py3-none-any.whl (97 kB)")
    assert buffer.getvalue().splitlines() == [
        "  Installing bakehouse [editable] with pip",  # not read as markup
        "    Collecting click>=8.1 (from bakehouse==0.1.0)",
    ]
