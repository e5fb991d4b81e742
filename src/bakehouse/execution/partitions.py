"""Which partition each step of a run materializes, and which upstream partitions it reads.

A run has one partition key or one partition range (first..last key of one definition). Its
partitioned steps all materialize that partition, or every key of the range in ONE execution
(they must share one partitions definition); its unpartitioned steps run once, unpartitioned.
An input reads the upstream partitions its partition mapping gives for each key the step
materializes (Dagster's default when none is set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bakehouse.errors import ExecutionError
from bakehouse.graph.keys import AssetKey

if TYPE_CHECKING:
    from bakehouse.authoring.asset_checks import AssetChecksDefinition
    from bakehouse.authoring.assets import AssetsDefinition
    from bakehouse.authoring.partitions import PartitionsDefinition
    from bakehouse.execution.plan import ExecutionPlan


def check_run_partition(
    plan: ExecutionPlan,
    partition_key: str | None,
    store: Any,
    partition_range: tuple[str, str] | None = None,
) -> list[str] | None:
    """The partition keys the run's partitioned steps materialize (`[partition_key]`, or every
    key of `partition_range` in definition order); None for a run of unpartitioned steps.

    Raises ExecutionError unless the key or range fits the plan's partitioned steps. `store`
    (the instance) answers for dynamic partitions. An unknown key raises
    `UnknownPartitionError`.
    """
    if partition_key is not None and partition_range is not None:
        raise ExecutionError("a run has a partition key or a partition range, not both")
    asked = partition_key if partition_range is None else "...".join(partition_range)
    partitioned = [s for s in plan.steps if s.assets_def.partitions_def is not None]
    if not partitioned:
        if asked is not None:
            raise ExecutionError(
                f"partition {asked!r} was asked for, but no asset in this run is "
                f"partitioned (steps: {[s.key for s in plan.steps]})"
            )
        return None
    defs = {s.assets_def.partitions_def for s in partitioned}
    if len(defs) > 1:
        described = "; ".join(f"{s.key}: {s.assets_def.partitions_def}" for s in partitioned)
        raise ExecutionError(
            "the partitioned assets of one run must share one partitions definition, and these "
            f"differ ({described}); materialize them in separate runs"
        )
    if asked is None:
        raise ExecutionError(
            f"{sorted(s.key for s in partitioned)} are partitioned: choose a partition, with "
            "materialize(..., partition_key=...) or bh launch --partition KEY"
        )
    (partitions_def,) = defs
    assert partitions_def is not None
    if partition_range is None:
        assert partition_key is not None
        partitions_def.validate_partition_key(partition_key, dynamic_partitions_store=store)
        return [partition_key]
    from bakehouse.authoring.partitions import PartitionKeyRange

    start, end = partition_range
    for key in (start, end):
        partitions_def.validate_partition_key(key, dynamic_partitions_store=store)
    keys = list(
        partitions_def.get_partition_keys_in_range(
            PartitionKeyRange(start, end), dynamic_partitions_store=store
        )
    )
    if not keys:
        raise ExecutionError(f"partition range {start}...{end} is empty: {start} comes after {end}")
    return keys


def run_partition_keys(
    plan: ExecutionPlan,
    partition_key: str | None,
    partition_range: tuple[str, str] | None,
    store: Any,
) -> list[str] | None:
    """The keys `check_run_partition` gave for this run, again, without checking: a process
    executing some steps of a run that was checked when it started."""
    if partition_range is None:
        return [partition_key] if partition_key is not None else None
    defs = {s.assets_def.partitions_def for s in plan.steps} - {None}
    if not defs:
        return None
    from bakehouse.authoring.partitions import PartitionKeyRange

    partitions_def = next(iter(defs))
    assert partitions_def is not None
    keys = partitions_def.get_partition_keys_in_range(
        PartitionKeyRange(*partition_range), dynamic_partitions_store=store
    )
    return list(keys)


def step_partition_keys(
    assets_def: AssetsDefinition | AssetChecksDefinition, run_partition_keys: Sequence[str] | None
) -> list[str] | None:
    """The partitions a step materializes: the run's for a partitioned step, else None."""
    if assets_def.partitions_def is None or run_partition_keys is None:
        return None
    return list(run_partition_keys)


def step_partition_key(
    assets_def: AssetsDefinition | AssetChecksDefinition, run_partition_key: str | None
) -> str | None:
    """The partition a step materializes: the run's for a partitioned step, else None."""
    return run_partition_key if assets_def.partitions_def is not None else None


def input_partition_keys(
    assets_def: AssetsDefinition | AssetChecksDefinition,
    upstream_key: AssetKey,
    partition_keys: Sequence[str] | None,
    upstream_partitions: Mapping[AssetKey, PartitionsDefinition | None],
    store: Any,
) -> list[str] | None:
    """The partitions of `upstream_key` the step reads for the partitions it materializes (the
    union over them, in order); None when that asset is unpartitioned."""
    upstream_def = upstream_partitions.get(upstream_key)
    if upstream_def is None:
        return None
    from bakehouse.authoring.partition_mappings import upstream_partition_keys

    mapping = next(
        (s.partition_mappings[upstream_key] for s in assets_def.specs
         if upstream_key in s.partition_mappings),
        None,
    )  # fmt: skip
    if partition_keys is None or assets_def.partitions_def is None:
        return upstream_partition_keys(
            mapping, None, assets_def.partitions_def, upstream_def, dynamic_partitions_store=store
        )
    if mapping is None and upstream_def == assets_def.partitions_def:
        # Dagster's default between one definition is the identity: skip mapping key by key.
        return list(partition_keys)
    found: dict[str, None] = {}
    for key in partition_keys:
        keys = upstream_partition_keys(
            mapping, key, assets_def.partitions_def, upstream_def, dynamic_partitions_store=store
        )
        found.update(dict.fromkeys(keys or ()))
    return list(found)
