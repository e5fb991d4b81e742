"""`materialize()`: run assets in this process, as tests and notebooks do."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bakehouse.authoring.asset_checks import AssetChecksDefinition
from bakehouse.authoring.asset_selection import coerce_selection
from bakehouse.authoring.assets import AssetsDefinition, AssetSpec
from bakehouse.authoring.check_spec import AssetCheckKey
from bakehouse.authoring.definitions_class import Definitions
from bakehouse.authoring.metadata import MetadataValue
from bakehouse.authoring.results import AssetCheckSeverity
from bakehouse.authoring.run_config import plain_run_config
from bakehouse.errors import ErrorInfo, ExecutionError
from bakehouse.execution.events import EventWriter
from bakehouse.execution.instance import DagsterInstance, storage_of
from bakehouse.execution.io_managers import InMemoryIOManager
from bakehouse.execution.partitions import check_run_partition
from bakehouse.execution.plan import build_plan
from bakehouse.execution.run import RunOutcome, execute_run
from bakehouse.graph.keys import AssetKey, CoercibleToAssetKey, coerce_key
from bakehouse.storage.protocol import InstanceProtocol
from bakehouse.storage.records import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    EventRecord,
    EventType,
    RunRecord,
)


@dataclass(frozen=True)
class AssetMaterialization:
    """One recorded materialization, as Dagster's result gives it: key and metadata values."""

    asset_key: AssetKey
    metadata: Mapping[str, MetadataValue]
    partition: str | None = None


@dataclass(frozen=True)
class StepMaterializationData:
    """Holds the materialization, for code that reads ``event.step_materialization_data``."""

    materialization: AssetMaterialization


class MaterializationEvent:
    """An ASSET_MATERIALIZATION event read the way Dagster's tests read theirs:
    ``event.asset_key == dg.AssetKey(...)``, ``event.materialization.metadata["rows"].value``.
    The stored record is `record`.
    """

    def __init__(self, record: EventRecord) -> None:
        self.record = record
        self.step_key = record.step_key
        self.event_type_value = record.event_type.value
        stored = record.data.get("metadata", {})
        self.materialization = AssetMaterialization(
            asset_key=AssetKey.from_user_string(record.asset_key or ""),
            metadata={label: MetadataValue.from_json(v) for label, v in stored.items()},
            partition=record.partition_key,
        )
        self.step_materialization_data = StepMaterializationData(self.materialization)
        self.event_specific_data = self.step_materialization_data

    @property
    def asset_key(self) -> AssetKey:
        """The materialized asset's key."""
        return self.materialization.asset_key

    def __repr__(self) -> str:
        return f"<MaterializationEvent {self.asset_key.to_user_string()} step={self.step_key}>"


@dataclass(frozen=True)
class AssetCheckEvaluation:
    """One recorded asset check result, as Dagster's ``get_asset_check_evaluations`` gives it."""

    asset_key: AssetKey
    check_name: str
    passed: bool
    metadata: Mapping[str, MetadataValue]
    severity: AssetCheckSeverity
    description: str | None = None
    blocking: bool = False

    @property
    def asset_check_key(self) -> AssetCheckKey:
        """The evaluated check's key."""
        return AssetCheckKey(self.asset_key, self.check_name)

    @classmethod
    def from_record(cls, record: EventRecord) -> AssetCheckEvaluation:
        """The evaluation an ASSET_CHECK_EVALUATION event records."""
        data = record.data
        stored = data.get("metadata", {})
        return cls(
            asset_key=AssetKey.from_user_string(record.asset_key or ""),
            check_name=str(data.get("check_name", "")),
            passed=bool(data.get("passed")),
            metadata={label: MetadataValue.from_json(v) for label, v in stored.items()},
            severity=AssetCheckSeverity(data.get("severity", "ERROR")),
            description=data.get("description"),
            blocking=bool(data.get("blocking")),
        )


class ExecuteInProcessResult:
    """What `materialize` returns: success, events and the values each asset produced."""

    def __init__(
        self,
        outcome: RunOutcome,
        events: list[EventRecord],
        instance: DagsterInstance | InstanceProtocol | None,
        output_keys: Mapping[tuple[str, str], AssetKey] | None = None,
    ) -> None:
        self._outcome = outcome
        # (step, output name) -> the key that output materializes.
        self._output_keys = dict(output_keys or {})
        self.run_id = outcome.run_id
        self.success = outcome.success
        self.all_events = events
        self.instance = instance

    @property
    def failed_steps(self) -> list[str]:
        """Steps whose function raised."""
        return list(self._outcome.failed)

    @property
    def skipped_steps(self) -> list[str]:
        """Steps skipped because something upstream failed."""
        return list(self._outcome.skipped)

    def get_asset_materialization_events(self) -> list[MaterializationEvent]:
        """Every ASSET_MATERIALIZATION event of the run."""
        return [
            MaterializationEvent(e)
            for e in self.all_events
            if e.event_type == EventType.ASSET_MATERIALIZATION
        ]

    def get_asset_check_evaluations(self) -> list[AssetCheckEvaluation]:
        """The result of every asset check evaluated in the run, in the order they were recorded.

        A check whose function raised has no evaluation: its step is in `failed_steps`.
        """
        return [
            AssetCheckEvaluation.from_record(e)
            for e in self.all_events
            if e.event_type == EventType.ASSET_CHECK_EVALUATION
        ]

    def asset_materializations_for_node(self, node_name: str) -> list[AssetMaterialization]:
        """The materializations of one step."""
        return [
            e.materialization
            for e in self.get_asset_materialization_events()
            if e.step_key == node_name
        ]

    def asset_value(self, key: CoercibleToAssetKey) -> Any:
        """The value the asset `key` produced in this run."""
        asset_key = coerce_key(key)
        if asset_key not in self._outcome.values:
            raise KeyError(f"asset '{asset_key}' produced no value in this run")
        return self._outcome.values[asset_key]

    def output_for_node(self, node_name: str, output_name: str = "result") -> Any:
        """The value of one output of a step: ``("orders")``, or ``("split", "left")`` for a
        multi-asset's output. A single asset may also be named by its key's last part."""
        key = self._output_keys.get((node_name, output_name))
        if key is None and output_name == "result":
            key = next((k for k in self._outcome.values if k.path[-1] == node_name), None)
        if key is None or key not in self._outcome.values:
            raise KeyError(f"no output '{output_name}' of node '{node_name}' in this run")
        return self._outcome.values[key]

    def metadata_for(self, key: CoercibleToAssetKey) -> dict[str, Any]:
        """The stored metadata of the materialization of `key` (``{label: {"type", "value"}}``)."""
        wanted = coerce_key(key).to_user_string()
        for event in self.all_events:
            if event.event_type == EventType.ASSET_MATERIALIZATION and event.asset_key == wanted:
                return dict(event.data.get("metadata", {}))
        raise KeyError(f"asset '{wanted}' was not materialized in this run")


def materialize(
    assets: Sequence[AssetsDefinition | AssetSpec | AssetChecksDefinition],
    *,
    resources: Mapping[str, Any] | None = None,
    run_config: Mapping[str, Any] | Any | None = None,
    instance: DagsterInstance | InstanceProtocol | None = None,
    selection: Any = None,
    tags: Mapping[str, str] | None = None,
    raise_on_error: bool = True,
    partition_key: str | None = None,
) -> ExecuteInProcessResult:
    """Materialize `assets` (or the `selection` of them) in this process and return the result.

    See `execute_in_process` for the details.
    """
    return execute_in_process(
        assets,
        resources=resources,
        run_config=run_config,
        instance=instance,
        selection=selection,
        tags=tags,
        raise_on_error=raise_on_error,
        partition_key=partition_key,
    )


def execute_in_process(
    assets: Sequence[AssetsDefinition | AssetSpec | AssetChecksDefinition],
    *,
    resources: Mapping[str, Any] | None = None,
    run_config: Mapping[str, Any] | Any | None = None,
    instance: DagsterInstance | InstanceProtocol | None = None,
    selection: Any = None,
    tags: Mapping[str, str] | None = None,
    raise_on_error: bool = True,
    partition_key: str | None = None,
    job_name: str | None = None,
    hooks: Sequence[Any] = (),
) -> ExecuteInProcessResult:
    """Materialize `assets` (or the `selection` of them) in this process and return the result;
    as a run of job `job_name` with its `hooks`, if given.

    Asset checks in `assets` run after the assets they check: all of them without a
    `selection`, else those of the selected assets.

    Without an `instance`, runs are recorded in a temporary one. With `raise_on_error`, the
    first user exception is raised again after the run is recorded. With `partition_key`, the
    partitioned assets materialize that partition and the unpartitioned ones run once; a key
    the assets do not have raises `UnknownPartitionError` before any run is recorded. With the
    tags ``bakehouse/asset_partition_range_start`` and ``..._end`` (Dagster's
    ``dagster/asset_partition_range_*``), each partitioned asset runs once for that whole range.
    """
    from bakehouse.storage import Instance

    checks = [a for a in assets if isinstance(a, AssetChecksDefinition)]
    defs = Definitions(
        assets=[a for a in assets if not isinstance(a, AssetChecksDefinition)],
        asset_checks=checks,
        resources=resources,
    )
    defs.validate()
    graph = defs.resolve_asset_graph()
    check_keys: list[AssetCheckKey] | None = None
    if selection is None:
        keys = [k for k in graph.toposorted_keys() if k in graph.assets_def_by_key]
        # Every check given runs, also one whose asset is not materialized here (as Dagster).
        check_keys = sorted(graph.check_specs)
    else:
        chosen_selection = coerce_selection(selection)
        chosen = chosen_selection.resolve(graph.key_graph)
        # Selecting an asset selects its checks; AssetSelection.checks(...) selects checks alone.
        check_keys = sorted(chosen_selection.resolve_checks(graph.key_graph, graph.check_specs))
        # As for jobs, a selection that reaches external assets ("+orders") materializes only
        # what has a function here; the external ones are its inputs, not its steps.
        selected = [AssetKey.from_user_string(k) for k in chosen]
        keys = graph.toposorted_keys(k for k in selected if k in graph.assets_def_by_key)
    if not keys and not check_keys:
        raise ExecutionError("nothing to materialize: no asset in the selection has a function")
    config = plain_run_config(run_config)
    owned = instance is None
    inst = Instance.ephemeral() if instance is None else storage_of(instance)
    try:
        # A wrong partition is the caller's mistake, raised as Dagster does before any run exists.
        partition_range = _range_of(tags)
        plan = build_plan(graph, keys, check_keys)
        partitions = check_run_partition(plan, partition_key, inst, partition_range)
        run_id = str(uuid.uuid4())
        inst.create_run(
            RunRecord(
                run_id=run_id,
                job_name=job_name,
                asset_selection=tuple(k.to_user_string() for k in keys),
                tags=dict(tags or {}),
                run_config=config,
                partition_key=partition_key,
                partition_range_start=partition_range[0] if partition_range else None,
                partition_range_end=partition_range[1] if partition_range else None,
            )
        )
        with EventWriter(inst, run_id) as writer:
            outcome = execute_run(
                defs=defs,
                asset_keys=keys,
                run_id=run_id,
                writer=writer,
                instance=inst,
                run_config=config,
                tags=tags,
                capture_values=True,
                partition_key=partition_key,
                check_keys=check_keys,
                partition_range=partition_range,
                job_name=job_name,
                hooks=hooks,
                planned=(plan, partitions),
            )
        events = inst.get_events(run_id)
    finally:
        if owned:
            inst.close()
    if raise_on_error:
        raise_first_error(outcome)
    output_keys = {
        (assets_def.op_name, name): key
        for assets_def in graph.assets_defs
        for key, name in assets_def.output_names.items()
    }
    return ExecuteInProcessResult(outcome, events, None if owned else instance, output_keys)


def _range_of(tags: Mapping[str, str] | None) -> tuple[str, str] | None:
    """The partition range the run's tags ask for, if they name one (both ends, or neither)."""
    start = (tags or {}).get(PARTITION_RANGE_START_TAG)
    end = (tags or {}).get(PARTITION_RANGE_END_TAG)
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise ExecutionError(
            f"a partition range needs both tags {PARTITION_RANGE_START_TAG!r} and "
            f"{PARTITION_RANGE_END_TAG!r}"
        )
    return (start, end)


def materialize_to_memory(
    assets: Sequence[AssetsDefinition | AssetSpec | AssetChecksDefinition], **kwargs: Any
) -> ExecuteInProcessResult:
    """`materialize` with values kept in memory instead of files."""
    resources = dict(kwargs.pop("resources", None) or {})
    resources.setdefault("io_manager", InMemoryIOManager())
    return materialize(assets, resources=resources, **kwargs)


def raise_first_error(outcome: RunOutcome) -> None:
    """Raise what stopped the run, else the first failed step's exception."""
    if outcome.run_exception is not None:
        raise outcome.run_exception
    for step in outcome.failed:
        exc = outcome.exceptions.get(step)
        if exc is not None:
            raise exc
    if outcome.error is not None:
        raise ExecutionError(ErrorInfo.render(outcome.error))
