"""``bh automation``: the assets the daemon automates, and why each evaluation of their
conditions did or did not request a run (the tree of sub-conditions, true ones marked)."""

from __future__ import annotations

import json

import click

from bakehouse.cli.automation import _snapshots
from bakehouse.cli.context import load_workspace, open_instance
from bakehouse.cli.output import console, format_time
from bakehouse.host.automation_view import automated_assets
from bakehouse.serdes import to_builtins
from bakehouse.storage.automation_records import AutomationEvaluation, ConditionNodeResult


@click.group("automation")
def automation() -> None:
    """Declarative automation: assets with automation conditions and their evaluations."""


@automation.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_automated(as_json: bool) -> None:
    """Assets with an automation condition, their sensor and latest evaluation."""
    from rich.table import Table

    snapshots = _snapshots()
    with open_instance(load_workspace()) as instance:
        found = automated_assets(snapshots, instance)
    if as_json:
        click.echo(json.dumps(to_builtins(found), indent=2))
        return
    out = console()
    if not found:
        out.print("No asset has an automation condition (automation_condition=... on @asset).")
        return
    table = Table()
    for column in ("Asset", "Location", "Condition", "Sensor", "Last evaluated", "Last requested"):
        table.add_column(column, overflow="fold")
    for a in found:
        sensor = f"{a.sensor} ({a.sensor_status})" if a.sensor else "-"
        latest = (
            f"{format_time(a.latest.evaluated_at)} "
            + ("requested" if a.latest.requested else "not requested")
            if a.latest
            else "never"
        )
        requested = format_time(a.latest_requested.evaluated_at) if a.latest_requested else "never"
        table.add_row(a.asset_key, a.location, a.condition, sensor, latest, requested)
    out.print(table)


@automation.command("show")
@click.argument("asset_key")
@click.option("--evaluation", "evaluation_id", type=int, help="Show this evaluation's tree.")
@click.option("--limit", default=10, show_default=True, help="Evaluations listed.")
@click.option("--json", "as_json", is_flag=True, help="Print the evaluations as JSON.")
def show(asset_key: str, evaluation_id: int | None, limit: int, as_json: bool) -> None:
    """The recent evaluations of ASSET_KEY's condition, and the tree of the newest one (or of
    --evaluation ID): each sub-condition, ✓ where it was true."""
    with open_instance(load_workspace()) as instance:
        evaluations = instance.get_automation_evaluations(asset_key, limit=limit)
        chosen = evaluations[0] if evaluations else None
        if evaluation_id is not None:
            chosen = instance.get_automation_evaluation(evaluation_id)
            if chosen is None or chosen.asset_key != asset_key:
                raise click.ClickException(
                    f"no evaluation {evaluation_id} of '{asset_key}' is kept "
                    f"(see bh automation show {asset_key})"
                )
    if as_json:
        click.echo(json.dumps(to_builtins(evaluations), indent=2))
        return
    if chosen is None:
        raise click.ClickException(
            f"'{asset_key}' has no stored evaluation: is its automation condition sensor on? "
            "(bh sensor list; bh sensor start default_automation_condition_sensor)"
        )
    out = console()
    for e in evaluations:
        runs = ", ".join(e.run_ids) or "-"
        what = "requested" if e.requested else "not requested"
        out.print(f"  [{e.storage_id}] {format_time(e.evaluated_at)}  {what}  runs: {runs}")
    out.print()
    out.print(_headline(chosen))
    for line in tree_lines(chosen.tree):
        out.print(line, highlight=False, markup=False)


def _headline(evaluation: AutomationEvaluation) -> str:
    what = "requested" if evaluation.requested else "not requested"
    return (
        f"Evaluation {evaluation.storage_id} of {evaluation.asset_key} at "
        f"{format_time(evaluation.evaluated_at)}: {what}"
    )


def tree_lines(node: ConditionNodeResult, depth: int = 0) -> list[str]:
    """The tree as indented lines: ✓ or ✗, label and name, the dependency, partitions."""
    mark = "✓" if node.is_true else "✗"
    name = f"{node.label} ({node.name})" if node.label else node.name
    dep = f" [dep {node.dep}]" if node.dep else ""
    shown = [p for p in node.true_partitions if p]
    parts = f"  true for {len(shown)} of {node.candidates} partitions" if shown else ""
    lines = [f"{'  ' * depth}{mark} {name}{dep}{parts}"]
    for child in node.children:
        lines.extend(tree_lines(child, depth + 1))
    return lines
