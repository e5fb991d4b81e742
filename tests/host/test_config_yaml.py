"""Run config as YAML: scaffolded from Config schemas, parsed, problems placed on their line."""

from __future__ import annotations

import yaml

from bakehouse.host.config_yaml import line_of, parse, scaffold
from bakehouse.host.launch_needs import check_config, needs_of
from bakehouse.host.launching import LaunchTarget
from tests.host.test_run_config import GRAPH, SALES_SCHEMA


def _no_dynamic(name: str) -> list[str]:
    return []


def test_the_scaffold_lists_every_field_with_defaults_and_leaves_required_ones_empty() -> None:
    text = scaffold({"sales": SALES_SCHEMA})
    assert text.splitlines()[:4] == [
        "ops:",
        "  sales:",
        "    config:",
        "      rows:  # required; integer",
    ]
    assert '      note: "x"  # string' in text
    assert '      mode: "a"  # one of "a", "b"' in text
    assert yaml.safe_load(text)["ops"]["sales"]["config"]["inner"] == {"a": 1}


def test_a_jobs_default_config_comes_first_and_wins() -> None:
    text = scaffold({"sales": SALES_SCHEMA}, {"ops": {"sales": {"config": {"rows": 4}}}})
    assert yaml.safe_load(text) == {"ops": {"sales": {"config": {"rows": 4}}}}


def test_yaml_errors_and_problems_carry_their_line() -> None:
    broken = parse("ops:\n  sales:\n    config: {rows: [1,\n")
    assert broken.error is not None
    assert broken.error.startswith("not valid YAML")
    assert broken.line == 4
    assert parse("").value == {}
    text = "ops:\n  sales:\n    config:\n      note: y\n      rows: many\n"
    assert line_of(text, ("ops", "sales", "config", "rows")) == 5
    # A field that is not there points at the mapping that misses it.
    assert line_of(text, ("ops", "sales", "config", "ratio")) == 3
    assert line_of("[1, 2]\n", ("ops",)) == 1


def test_checking_typed_config_names_the_line_of_the_problem() -> None:
    target = LaunchTarget(keys=("sales", "plain"))
    text = "ops:\n  sales:\n    config:\n      note: y\n      rows: many\n"
    checked = check_config(GRAPH, target, text)
    assert not checked.valid
    (problem,) = checked.problems
    assert problem.line == 5
    assert "field 'rows': expected integer, got str 'many'" in problem.message
    missing = check_config(GRAPH, target, "ops:\n  sales:\n    config:\n      note: y\n")
    assert missing.problems[0].line == 3
    assert "missing required field 'rows'" in missing.problems[0].message
    fine = check_config(GRAPH, target, "ops:\n  sales:\n    config:\n      rows: 3\n")
    assert fine.valid
    assert fine.run_config == {"ops": {"sales": {"config": {"rows": 3}}}}


def test_a_launch_needs_config_only_when_its_default_does_not_validate() -> None:
    needs = needs_of(GRAPH, LaunchTarget(keys=("sales", "plain")), dynamic_keys=_no_dynamic)
    assert needs.config_needed
    assert needs.needed
    assert needs.partitions is None
    assert "rows:" in needs.config_yaml
    plain = needs_of(GRAPH, LaunchTarget(keys=("plain",)), dynamic_keys=_no_dynamic)
    assert not plain.needed
    assert plain.config_yaml == ""
