"""`bh list defs`: the definitions of the project's location, as tables and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import RunBh, write

pytestmark = pytest.mark.slow


def test_list_defs_json_has_the_five_assets_and_their_deps(bakery: Path, bh: RunBh) -> None:
    result = bh("list", "defs", "--json", cwd=bakery)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    deps = {a["key"]: sorted(a["deps"]) for a in data["assets"]}
    assert deps == {
        "dry_ingredients": [],
        "wet_ingredients": [],
        "cookie_dough": ["dry_ingredients", "wet_ingredients"],
        "chocolate_chip_cookie_dough": ["cookie_dough"],
        "chocolate_chip_cookies": ["chocolate_chip_cookie_dough"],
    }
    cookies = next(a for a in data["assets"] if a["key"] == "chocolate_chip_cookies")
    assert cookies["group"] == "cookies"
    assert cookies["kinds"] == ["python"]
    assert cookies["required_resources"] == ["oven"]
    assert cookies["source_file"].endswith("defs/products/cookies.py")
    assert [j["name"] for j in data["jobs"]] == ["bake_everything"]
    assert data["resources"] == [{"name": "oven", "type": "bakery.defs.resources.Oven"}]


def test_list_defs_table_shows_groups_deps_kinds_and_sections(bakery: Path, bh: RunBh) -> None:
    result = bh("list", "defs", cwd=bakery)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for word in (
        "Assets",
        "cookie_dough",
        "ingredients",
        "python",
        "Jobs",
        "bake_everything",
        "Resources",
        "oven",
        "Schedules: none",
        "Sensors: none",
    ):
        assert word in out


def test_an_unknown_dependency_is_listed_as_external(bakery: Path, bh: RunBh) -> None:
    write(
        bakery / "src/bakery/defs/frosting.py",
        "import bakehouse as dg\n\n\n@dg.asset(deps=['sugar_supplier/icing'])\n"
        "def frosting():\n    return 1\n",
    )
    result = bh("list", "defs", "--json", cwd=bakery)
    assert result.returncode == 0, result.stderr
    assets = {a["key"]: a for a in json.loads(result.stdout)["assets"]}
    assert assets["sugar_supplier/icing"]["is_external"] is True
    assert assets["sugar_supplier/icing"]["is_undefined"] is True
    assert assets["frosting"]["deps"] == ["sugar_supplier/icing"]
    table = bh("list", "defs", cwd=bakery).stdout
    assert "sugar_supplier/icing" in table
    assert "(external: not defined" in table
