"""Both spellings of `definitions.py` in the seed lesson load a code location, in its own process:
``defs = dg.components.load_defs(defs_module)`` and ``@definitions`` +
``load_from_defs_folder(project_root=...)``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bakehouse.host.client import fetch_snapshot, target_for_project
from bakehouse.project.workspace import find_workspace
from bakehouse.protocol.snapshot import LocationSnap
from tests.support.projects import write_project

COOKIES = {
    "defs/assets/__init__.py": "",
    "defs/assets/dough.py": """\
        import bakehouse as dg


        @dg.asset
        def dry_ingredients() -> dict:
            return {"flour": 280}


        @dg.asset
        def cookie_dough(dry_ingredients: dict) -> dict:
            return dry_ingredients
        """,
}

SPELLINGS = {
    "load_defs": """\
        import bakehouse as dg

        from . import defs as defs_module

        defs = dg.components.load_defs(defs_module)
        """,
    "load_from_defs_folder": """\
        from pathlib import Path

        from bakehouse import definitions, load_from_defs_folder


        @definitions
        def defs():
            return load_from_defs_folder(project_root=Path(__file__).parent.parent.parent)
        """,
}


@pytest.mark.slow
@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_each_spelling_of_the_seed_loads_the_location(tmp_path: Path, spelling: str) -> None:
    root = write_project(tmp_path / "kitchen", "seed_kitchen", COOKIES)
    (root / "src" / "seed_kitchen" / "definitions.py").write_text(
        textwrap.dedent(SPELLINGS[spelling])
    )
    workspace = find_workspace(root)
    snapshot = fetch_snapshot(target_for_project(workspace.projects[0]))
    assert isinstance(snapshot, LocationSnap), snapshot
    assert snapshot.name == "seed_kitchen"
    assets = {a.key: a for a in snapshot.assets}
    assert sorted(assets) == ["cookie_dough", "dry_ingredients"]
    assert list(assets["cookie_dough"].deps) == ["dry_ingredients"]
