"""Asset checks through the `bh` command, run as real subprocesses on a copy of the bakery:
listed and counted from the location's snapshot, evaluated by `bh launch`, shown by
`bh runs show`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import RunBh, write

pytestmark = pytest.mark.slow

CHECKS = '''\
"""Checks of the pantry."""

import bakehouse as dg


@dg.asset_check(asset="dry_ingredients", description="Enough flour for one batch.")
def enough_flour(dry_ingredients: dict[str, int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=dry_ingredients["flour"] >= 250, metadata={"flour_g": dry_ingredients["flour"]}
    )


@dg.asset_check(asset="wet_ingredients", blocking=True)
def no_eggs(wet_ingredients: dict[str, int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed="eggs" not in wet_ingredients,
        metadata={"eggs_g": wet_ingredients.get("eggs", 0)},
        description="this bakery is vegan",
    )
'''


def _with_checks(bakery: Path) -> Path:
    return write(bakery / "src/bakery/defs/ingredients/checks.py", CHECKS)


def test_list_defs_shows_each_check_with_its_asset_and_place(bakery: Path, bh: RunBh) -> None:
    checks = _with_checks(bakery)
    result = bh("list", "defs", cwd=bakery)
    assert result.returncode == 0, result.stderr
    assert "Asset checks" in result.stdout
    assert "enough_flour" in result.stdout
    assert "Enough flour for one batch." in result.stdout

    listed = bh("list", "defs", "--json", cwd=bakery)
    assert listed.returncode == 0, listed.stderr
    by_name = {c["name"]: c for c in json.loads(listed.stdout)["asset_checks"]}
    assert by_name["no_eggs"]["asset_key"] == "wet_ingredients"
    assert by_name["no_eggs"]["blocking"] is True
    assert by_name["no_eggs"]["step_key"] == "wet_ingredients_no_eggs"
    assert (by_name["enough_flour"]["source_file"], by_name["enough_flour"]["source_line"]) == (
        str(checks),
        6,
    )


def test_check_defs_counts_checks_and_warns_of_a_check_of_no_asset(bakery: Path, bh: RunBh) -> None:
    _with_checks(bakery)
    typo = write(
        bakery / "src/bakery/defs/typo_check.py",
        "import bakehouse as dg\n\n\n"
        '@dg.asset_check(asset="cookie_dogh")\n'
        "def dough_ok() -> dg.AssetCheckResult:\n"
        "    return dg.AssetCheckResult(passed=True)\n",
    )
    result = bh("check", "defs", cwd=bakery)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 asset checks" in result.stdout
    warning = " ".join(result.stdout.split())  # rich wraps long lines
    assert f"{typo.relative_to(bakery)}:4" in warning or f"{typo}:4" in warning
    assert "asset check 'dough_ok'" in warning
    assert "checks asset 'cookie_dogh', which no code location defines" in warning


def test_check_defs_fails_on_two_checks_of_one_name_naming_both_files(
    bakery: Path, bh: RunBh
) -> None:
    first = _with_checks(bakery)
    second = write(
        bakery / "src/bakery/defs/products/again.py",
        "import bakehouse as dg\n\n\n"
        '@dg.asset_check(asset="dry_ingredients")\n'
        "def enough_flour() -> dg.AssetCheckResult:\n"
        "    return dg.AssetCheckResult(passed=True)\n",
    )
    result = bh("check", "defs", cwd=bakery)
    assert result.returncode == 1
    text = " ".join(result.stdout.split())
    assert "duplicate asset check key 'dry_ingredients:enough_flour'" in text
    assert f"{first}:6" in text
    assert f"{second}:4" in text


def test_launch_prints_check_results_and_a_blocking_failure_skips_downstream(
    bakery: Path, bh: RunBh
) -> None:
    _with_checks(bakery)
    result = bh("launch", "--assets", "*", cwd=bakery)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "✓ check dry_ingredients:enough_flour passed · flour_g=280" in out
    assert "✗ check wet_ingredients:no_eggs failed (ERROR, blocking) · eggs_g=100" in out
    assert "1 blocking asset check failed with ERROR severity" in out
    # Everything made from the wet ingredients waits for the blocking check, and is skipped.
    assert "3 skipped" in out
    assert "2 assets materialized; 1 check passed, 1 failed." in out

    runs = json.loads(bh("runs", "list", "--json", cwd=bakery).stdout)
    shown = bh("runs", "show", runs[0]["run_id"], cwd=bakery)
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    assert "ASSET_CHECK_EVALUATION" in text
    assert "Asset check 'no_eggs' of wet_ingredients failed (ERROR)." in text
    assert "this bakery is vegan" in text
    events = json.loads(bh("runs", "show", runs[0]["run_id"], "--json", cwd=bakery).stdout)
    evaluations = [e for e in events["events"] if e["event_type"] == "ASSET_CHECK_EVALUATION"]
    assert {e["data"]["check_name"]: e["data"]["passed"] for e in evaluations} == {
        "enough_flour": True,
        "no_eggs": False,
    }


def test_launch_of_one_asset_runs_only_its_checks(bakery: Path, bh: RunBh) -> None:
    _with_checks(bakery)
    result = bh("launch", "--assets", "dry_ingredients", cwd=bakery)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check dry_ingredients:enough_flour passed" in result.stdout
    assert "no_eggs" not in result.stdout
    assert "2 steps succeeded, 0 failed, 0 skipped" in result.stdout
