"""``bh create project`` and ``bh create workspace``: new folders ready to run."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bakehouse.cli.output import console
from bakehouse.errors import ScaffoldError


@click.group()
def create() -> None:
    """Create a project (one code location) or a workspace (several projects)."""


def _shown(path: Path) -> str:
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative


@create.command("project")
@click.argument("name")
@click.option(
    "--python",
    "python_version",
    metavar="X.Y",
    help="Python version of the project's .venv (default: the Python running bh).",
)
@click.option(
    "--no-venv",
    is_flag=True,
    help="Do not create .venv: the project then runs with the Python running bh.",
)
@click.option(
    "--installer",
    type=click.Choice(["auto", "uv", "pip"]),
    default="auto",
    show_default=True,
    help="What makes the .venv: uv (on PATH or beside bh's Python), pip, or uv when found "
    "and pip otherwise.",
)
def create_project(name: str, python_version: str | None, no_venv: bool, installer: str) -> None:
    """Create project NAME: pyproject.toml, src/NAME/definitions.py, src/NAME/defs/, tests/,
    README.md, .gitignore and, unless --no-venv, a .venv with this bakehouse and pytest
    installed (with uv when it is on PATH or beside bh's Python, else with pip).

    NAME is a folder path whose last part must be a Python module name. At the root of a
    workspace the project goes to projects/NAME; in a workspace it is added to its list once
    its .venv is ready.
    """
    from bakehouse.cli.install_progress import InstallProgress
    from bakehouse.scaffold.project import create_project as create_it

    out = console()
    try:
        with InstallProgress(out) as shown:
            created = create_it(
                name,
                cwd=Path.cwd(),
                python=python_version,
                make_venv=not no_venv,
                installer=installer,
                say=shown.stage,
                progress=shown.line,
            )
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    where = _shown(created.root)
    out.print(f"[green]✓[/] Created project [bold]{created.name}[/] in {where}")
    if created.workspace_config:
        out.print(f"  listed in the workspace's {_shown(created.workspace_config)}")
    if created.venv_error:
        from rich.markup import escape

        out.print(f"[red]✗ Could not make its .venv:[/] {escape(created.venv_error)}")
        raise SystemExit(1)
    bh = ".venv/bin/bh" if created.venv else "bh"
    steps = [
        (f"cd {where}", ""),
        (f"{bh} scaffold defs asset raw/orders.py", "a first asset under defs/"),
        (f"{bh} check defs", "load the code location"),
        (f"{bh} launch --assets '*'", "materialize every asset"),
        (f"{bh} dev", "the UI"),
    ]
    width = max(len(command) for command, _ in steps)
    out.print("Next:")
    for command, why in steps:
        out.print(f"  {command:<{width}}   # {why}" if why else f"  {command}", markup=False)


@create.command("workspace")
@click.argument("name")
def create_workspace(name: str) -> None:
    """Create workspace NAME: a pyproject.toml that lists projects, and a projects/ folder.

    Inside it, `bh create project X` creates projects/X and lists it; `bh check defs` and
    `bh dev` then cover every project, each in its own interpreter.
    """
    from bakehouse.scaffold.project import create_workspace as create_it

    try:
        created = create_it(name, cwd=Path.cwd())
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    out = console()
    where = _shown(created.root)
    out.print(f"[green]✓[/] Created workspace [bold]{created.name}[/] in {where}")
    out.print("Next:")
    out.print(f"  cd {where}")
    out.print("  bh create project analytics   # creates projects/analytics and lists it")
