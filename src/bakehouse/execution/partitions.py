"""Which partition each step of a run materializes, and which upstream partitions it reads.

A run has at most one partition key. Its partitioned steps all materialize that partition (they
must share one partitions definition); its unpartitioned steps run once, unpartitioned. An input
reads the upstream partitions its partition mapping gives (Dagster's default when none is set).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bakehouse.errors import ExecutionError
from bakehouse.graph.keys import AssetKey

if TYPE_CHECKING:
    from bakehouse.authoring.asset_checks import AssetChecksDefinition
    from bakehouse.authoring.assets import AssetsDefinition
    from bakehouse.authoring.partitions import PartitionsDefinition
    from bakehouse.execution.plan import ExecutionPlan


def check_run_partition(plan: ExecutionPlan, partition_key: str | None, store: Any) -> None:
    """Raise ExecutionError unless `partition_key` fits the plan's partitioned steps.

    `store` (the instance) answers for dynamic partitions. An unknown key raises
    `UnknownPartitionError`.
    """
    partitioned = [s for s in plan.steps if s.assets_def.partitions_def is not None]
    if not partitioned:
        if partition_key is not None:
            raise ExecutionError(
                f"partition {partition_key!r} was asked for, but no asset in this run is "
                f"partitioned (steps: {[s.key for s in plan.steps]})"
            )
        return
    defs = {s.assets_def.partitions_def for s in partitioned}
    if len(defs) > 1:
        described = "; ".join(f"{s.key}: {s.assets_def.partitions_def}" for s in partitioned)
        raise ExecutionError(
            "the partitioned assets of one run must share one partitions definition, and these "
            f"differ ({described}); materialize them in separate runs"
        )
    if partition_key is None:
        raise ExecutionError(
            f"{sorted(s.key for s in partitioned)} are partitioned: choose a partition, with "
            "materialize(..., partition_key=...) or bh launch --partition KEY"
        )
    (partitions_def,) = defs
    assert partitions_def is not None
    partitions_def.validate_partition_key(partition_key, dynamic_partitions_store=store)


def step_partition_key(
    assets_def: AssetsDefinition | AssetChecksDefinition, run_partition_key: str | None
) -> str | None:
    """The partition a step materializes: the run's for a partitioned step, else None."""
    return run_partition_key if assets_def.partitions_def is not None else None


def input_partition_keys(
    assets_def: AssetsDefinition | AssetChecksDefinition,
    upstream_key: AssetKey,
    partition_key: str | None,
    upstream_partitions: Mapping[AssetKey, PartitionsDefinition | None],
    store: Any,
) -> list[str] | None:
    """The partitions of `upstream_key` the step reads; None when that asset is unpartitioned."""
    upstream_def = upstream_partitions.get(upstream_key)
    if upstream_def is None:
        return None
    from bakehouse.authoring.partition_mappings import upstream_partition_keys

    mapping = next(
        (s.partition_mappings[upstream_key] for s in assets_def.specs
         if upstream_key in s.partition_mappings),
        None,
    )  # fmt: skip
    return upstream_partition_keys(
        mapping,
        partition_key,
        assets_def.partitions_def,
        upstream_def,
        dynamic_partitions_store=store,
    )
