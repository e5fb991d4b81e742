"""IO managers: how an asset's value is stored after its step and loaded by downstream steps.

The interface and its contexts, the partition rules every IO manager shares, and the in-memory
one; the file-based ones build on `upath_io_manager.UPathIOManager`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bakehouse.authoring.context import RunLogger
from bakehouse.authoring.metadata import metadata_values
from bakehouse.graph.keys import AssetKey

if TYPE_CHECKING:
    from bakehouse.authoring.dagster_types import DagsterType
    from bakehouse.authoring.partitions import PartitionKeyRange, PartitionsDefinition
    from bakehouse.authoring.time_window_partitions import TimeWindow


class _AssetPartitions:
    """The partitions of the asset an IO manager context is about (Dagster's asset_partition_*)."""

    asset_key: AssetKey
    _asset_partition_keys: list[str] | None
    _partitions_def: PartitionsDefinition | None

    @property
    def has_asset_partitions(self) -> bool:
        """True when the asset is partitioned (values are stored per partition)."""
        return self._asset_partition_keys is not None

    @property
    def asset_partition_keys(self) -> list[str]:
        """The asset's partitions stored or loaded here."""
        if self._asset_partition_keys is None:
            raise AttributeError(f"asset '{self.asset_key}' is not partitioned")
        return list(self._asset_partition_keys)

    @property
    def asset_partition_key(self) -> str:
        """The one partition stored or loaded here."""
        keys = self.asset_partition_keys
        if len(keys) != 1:
            raise AttributeError(
                f"{len(keys)} partitions of '{self.asset_key}' are involved; use "
                "asset_partition_keys"
            )
        return keys[0]

    @property
    def asset_partition_key_range(self) -> PartitionKeyRange:
        """The first to the last partition stored or loaded here."""
        from bakehouse.authoring.partitions import PartitionKeyRange

        keys = self.asset_partition_keys
        if not keys:
            raise AttributeError(f"no partition of '{self.asset_key}' is involved")
        return PartitionKeyRange(keys[0], keys[-1])

    @property
    def asset_partitions_def(self) -> PartitionsDefinition:
        """The asset's partitions definition."""
        if self._partitions_def is None:
            raise AttributeError(f"asset '{self.asset_key}' is not partitioned")
        return self._partitions_def

    @property
    def asset_partitions_time_window(self) -> TimeWindow:
        """From the start of the first partition involved to the end of the last."""
        from bakehouse.authoring.time_window_partitions import TimeWindow

        first, last = self.asset_partition_key_range
        partitions = self.asset_partitions_def
        return TimeWindow(
            partitions.time_window_for_partition_key(first).start,
            partitions.time_window_for_partition_key(last).end,
        )


class OutputContext(_AssetPartitions):
    """What `IOManager.handle_output` receives about the value it stores."""

    def __init__(
        self,
        *,
        asset_key: AssetKey,
        step_key: str,
        run_id: str,
        name: str = "result",
        definition_metadata: Mapping[str, Any] | None = None,
        partition_key: str | None = None,
        log: RunLogger | None = None,
        partitions_def: PartitionsDefinition | None = None,
        asset_partition_keys: Sequence[str] | None = None,
    ) -> None:
        self.asset_key = asset_key
        self.step_key = step_key
        self.run_id = run_id
        self.name = name
        self.definition_metadata = dict(definition_metadata or {})
        self.partition_key = partition_key
        self.has_partition_key = partition_key is not None
        # Several keys when the step materializes a range of partitions in one execution.
        if asset_partition_keys is None and partition_key is not None:
            asset_partition_keys = [partition_key]
        self._asset_partition_keys = (
            list(asset_partition_keys) if asset_partition_keys is not None else None
        )
        self._partitions_def = partitions_def
        self.log = log or RunLogger()
        self.added_metadata: dict[str, Any] = {}

    def add_output_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Record metadata (e.g. the path written) on the materialization."""
        self.added_metadata.update(metadata_values(metadata))


class _Same:
    """Default of `InputContext.asset_partition_keys`: the partition the step materializes."""


_SAME = _Same()


class InputContext(_AssetPartitions):
    """What `IOManager.load_input` receives about the value it loads.

    `partition_key` is the partition the loading step materializes; `asset_partition_keys` are
    the upstream partitions to load (given by the partition mapping; default: `partition_key`).
    """

    def __init__(
        self,
        *,
        asset_key: AssetKey,
        name: str,
        upstream_output: OutputContext,
        partition_key: str | None = None,
        log: RunLogger | None = None,
        asset_partition_keys: list[str] | _Same | None = _SAME,
        partitions_def: PartitionsDefinition | None = None,
        definition_metadata: Mapping[str, Any] | None = None,
        dagster_type: DagsterType | None = None,
    ) -> None:
        self.asset_key = asset_key
        self.name = name
        # The input's type, from its parameter's annotation (``typing_type`` is Any without
        # one): IO managers may load by it, as dagster_polars loads a LazyFrame when asked.
        self.dagster_type = dagster_type or input_type(None)
        self.upstream_output = upstream_output
        # The input's own metadata (``AssetIn(metadata=...)``), e.g. the columns to load.
        self.definition_metadata = dict(definition_metadata or {})
        self.partition_key = partition_key
        self.has_partition_key = partition_key is not None
        if isinstance(asset_partition_keys, _Same):
            # Built by hand without upstream partitions: the same partition as the step's.
            asset_partition_keys = [partition_key] if partition_key is not None else None
        self._asset_partition_keys = asset_partition_keys
        self._partitions_def = partitions_def
        self.log = log or RunLogger()


def input_type(annotation: Any) -> DagsterType:
    """The `DagsterType` an input context carries for a parameter annotated `annotation`."""
    from bakehouse.authoring.dagster_types import DagsterType

    typing_type = Any if annotation is None else annotation
    name = getattr(typing_type, "__name__", None) or str(typing_type)
    return DagsterType(lambda _context, _value: True, name=name, typing_type=typing_type)


class IOManager(ABC):
    """Stores asset values and loads them for downstream assets."""

    @abstractmethod
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store `obj`, the value of `context.asset_key`."""

    @abstractmethod
    def load_input(self, context: InputContext) -> Any:
        """Load the value of the upstream asset `context.asset_key`."""


def load_partitions(context: InputContext, load_one: Callable[[str | None], Any]) -> Any:
    """What Dagster's default IO managers return for an input: the value of an unpartitioned
    asset or of its one partition, a ``{partition_key: value}`` dict for several partitions,
    and None for none."""
    if not context.has_asset_partitions:
        return load_one(None)
    keys = context.asset_partition_keys
    if not keys:
        return None
    if len(keys) == 1:
        return load_one(keys[0])
    return {key: load_one(key) for key in keys}


def store_partitions(
    context: OutputContext, obj: Any, store_one: Callable[[str | None, Any], None]
) -> None:
    """Store `obj` once, or per partition when the step materialized a range: then `obj` is a
    dict with one value per partition key (Dagster's convention for an output over a range;
    Dagster's own UPathIOManager refuses such outputs, bakehouse's default IO managers take the
    dict). A range of one key may also give the value itself."""
    if not context.has_asset_partitions:
        store_one(None, obj)
        return
    keys = context.asset_partition_keys
    if context.has_partition_key:  # a run of one partition, not of a range
        store_one(keys[0], obj)
        return
    if isinstance(obj, Mapping) and set(obj) == set(keys):
        for key in keys:
            store_one(key, obj[key])
        return
    first, last = keys[0], keys[-1]
    if len(keys) == 1:
        store_one(first, obj)
        return
    if not isinstance(obj, Mapping):
        raise TypeError(
            f"asset '{context.asset_key.to_user_string()}' materialized {len(keys)} partitions "
            f"({first}...{last}) in one run and returned a {type(obj).__name__}; return a dict "
            "with one value per partition key (e.g. {key: value for key in "
            "context.partition_keys}) so each partition is stored on its own"
        )
    wanted = set(keys)
    missing = [k for k in keys if k not in obj]
    extra = sorted(str(k) for k in obj if k not in wanted)
    if missing or extra:
        said = []
        if missing:
            more = ", ..." if len(missing) > 5 else ""
            said.append(f"no value for {', '.join(missing[:5])}{more}")
        if extra:
            said.append(f"keys outside the range: {', '.join(extra[:5])}")
        raise ValueError(
            f"asset '{context.asset_key.to_user_string()}' returned a dict for partitions "
            f"{first}...{last} with {'; '.join(said)}: give one value per partition key"
        )


class MissingValueError(LookupError):
    """Raised when an input's upstream asset has no stored value."""


def missing_value(key: AssetKey, where: str, partition: str | None = None) -> MissingValueError:
    """The error for an input whose upstream value (or partition) was never stored."""
    what = f"partition {partition!r} of asset" if partition is not None else "asset"
    return MissingValueError(
        f"no stored value for {what} '{key.to_user_string()}' ({where}). Materialize it first; "
        "if its function returns nothing and you only need ordering, use deps=[...] instead of "
        "a parameter"
    )


class InMemoryIOManager(IOManager):
    """Keeps values in a dict in this process: for tests and `materialize_to_memory`."""

    def __init__(self) -> None:
        self.values: dict[tuple[AssetKey, str | None], Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Keep `obj` in memory (over several partitions, each value of the dict by key)."""

        def store_one(partition: str | None, value: Any) -> None:
            self.values[(context.asset_key, partition)] = value

        store_partitions(context, obj, store_one)

    def load_input(self, context: InputContext) -> Any:
        """Return the kept value (a dict by partition key for several partitions)."""

        def load_one(partition: str | None) -> Any:
            try:
                return self.values[(context.asset_key, partition)]
            except KeyError:
                where = "not in this in-memory IO manager"
                raise missing_value(context.asset_key, where, partition) from None

        return load_partitions(context, load_one)
