"""What a launch needs from the person launching it: config its assets require, a partition
of its partitioned assets; and config typed as YAML checked with the line of each problem.

The UI's launchpad asks this before a launch: when nothing is needed it launches at once, else
it opens with the scaffolded config and a partition picker. Checking uses the same rules as
`launching.plan_run` (`run_config.run_config_issue`), so what the editor accepts is launched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bakehouse.host import config_yaml
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.launching import LaunchTarget
from bakehouse.host.partition_keys import DynamicKeys, describe, partition_keys
from bakehouse.host.run_config import (
    ConfigIssue,
    config_steps,
    op_job_config_issue,
    run_config_issue,
)
from bakehouse.protocol.snapshot import PartitionsSnap

__all__ = ["ConfigCheck", "LaunchNeeds", "PartitionChoice", "check_config", "needs_of"]


@dataclass(frozen=True)
class PartitionChoice:
    """The partitions a launch picks from: one definition's keys, oldest first."""

    description: str
    keys: list[str]
    partitioned_assets: list[str]
    unpartitioned_assets: list[str]


@dataclass(frozen=True)
class LaunchNeeds:
    """What a launch target needs: whether its config must be given (its default does not
    validate), its scaffolded config, and the partitions to pick one of (or why none can be
    picked: the partitioned assets do not share one definition)."""

    target: LaunchTarget
    config_needed: bool
    config_yaml: str
    config_schemas: dict[str, dict[str, Any]]
    partitions: PartitionChoice | None = None
    partition_problem: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def needed(self) -> bool:
        """Whether the launch must ask before it runs."""
        return self.config_needed or self.partitions is not None or bool(self.partition_problem)


@dataclass(frozen=True)
class ConfigProblemAt:
    """A problem with config typed as YAML, and its line (1-based)."""

    message: str
    line: int


@dataclass(frozen=True)
class ConfigCheck:
    """Config typed as YAML, checked: its value when it parses, and what is wrong where."""

    run_config: dict[str, Any] | None
    problems: list[ConfigProblemAt]

    @property
    def valid(self) -> bool:
        """Whether it parses and fits the run's steps."""
        return not self.problems


def needs_of(
    graph: GlobalAssetGraph, target: LaunchTarget, *, dynamic_keys: DynamicKeys
) -> LaunchNeeds:
    """What launching `target` needs (see `LaunchNeeds`)."""
    job = target.job
    default = dict(job.run_config) if job is not None else {}
    if target.is_ops_job and job is not None:
        schemas = {name: dict(schema) for name, schema in job.op_config_schemas.items()}
    else:
        steps = config_steps(graph, target.keys)
        schemas = {
            step: dict(node.config_schema)
            for step, node in steps.items()
            if node.config_schema is not None and not node.op_names
        }
    config_needed = _issue(graph, target, default) is not None
    choice, problem = _partitions(graph, target, dynamic_keys)
    return LaunchNeeds(
        target=target,
        config_needed=config_needed,
        config_yaml=config_yaml.scaffold(schemas, default),
        config_schemas=schemas,
        partitions=choice,
        partition_problem=problem,
        tags=dict(job.tags) if job is not None else {},
    )


def _issue(
    graph: GlobalAssetGraph, target: LaunchTarget, config: Mapping[str, Any]
) -> ConfigIssue | None:
    """What is wrong with `config` for `target`, by the rules `launching.plan_run` applies."""
    if target.is_ops_job and target.job is not None:
        return op_job_config_issue(target.job.op_config_schemas, config)
    return run_config_issue(graph, target.keys, config)


def _partitions(
    graph: GlobalAssetGraph, target: LaunchTarget, dynamic_keys: DynamicKeys
) -> tuple[PartitionChoice | None, str | None]:
    partitioned = [k for k in target.keys if graph.assets[k].node.partitions is not None]
    snaps: list[PartitionsSnap] = []
    for key in partitioned:
        snap = graph.assets[key].node.partitions
        if snap is not None and snap not in snaps:
            snaps.append(snap)
    if not snaps and target.is_ops_job and target.job is not None and target.job.partitions:
        snaps = [target.job.partitions]
    if not snaps:
        return None, None
    if len(snaps) > 1:
        listed = "; ".join(
            f"{k}: {describe(graph.assets[k].node.partitions)}"  # type: ignore[arg-type]
            for k in partitioned
        )
        return None, (
            "the partitioned assets of one run must share one partitions definition, and these "
            f"differ ({listed}); launch them in separate runs, or a backfill"
        )
    (snap,) = snaps
    return (
        PartitionChoice(
            description=describe(snap),
            keys=partition_keys(snap, dynamic_keys=dynamic_keys),
            partitioned_assets=partitioned,
            unpartitioned_assets=[k for k in target.keys if k not in partitioned],
        ),
        None,
    )


def check_config(graph: GlobalAssetGraph, target: LaunchTarget, text: str) -> ConfigCheck:
    """`text` (YAML run config) parsed and checked for a run of `target`; each problem with
    the line it is about."""
    parsed = config_yaml.parse(text)
    if parsed.error is not None:
        return ConfigCheck(None, [ConfigProblemAt(parsed.error, parsed.line or 1)])
    value = parsed.value
    if not isinstance(value, Mapping):
        kind = type(value).__name__
        return ConfigCheck(
            None,
            [ConfigProblemAt(f"run config must be a mapping like 'ops: ...', not a {kind}", 1)],
        )
    config = dict(value)
    issue = _issue(graph, target, config)
    if issue is None:
        return ConfigCheck(config, [])
    return ConfigCheck(
        config, [ConfigProblemAt(issue.message, config_yaml.line_of(text, issue.path))]
    )
