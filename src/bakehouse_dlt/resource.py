"""`DagsterDltResource`: runs a dlt pipeline for the assets a run selected and reports one
materialization per resource with what dlt says it loaded."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from bakehouse.authoring.metadata import MetadataValue, TableColumn, TableSchema
from bakehouse.authoring.resources import ConfigurableResource
from bakehouse.authoring.results import MaterializeResult
from bakehouse.errors import DefinitionError
from bakehouse.graph.keys import AssetKey
from bakehouse_dlt.asset_decorator import asset_specs, dlt_info_of
from bakehouse_dlt.translator import DagsterDltTranslator

# Fields of dlt's load info shown on every asset the load materialized.
_LOAD_FIELDS = (
    "first_run",
    "started_at",
    "finished_at",
    "dataset_name",
    "destination_name",
    "destination_type",
)


def _jsonable(value: Any) -> Any:
    """`value` with dlt's own types (pendulum datetimes, ...) turned into JSON types."""
    from dlt.common import json as dlt_json

    return json.loads(dlt_json.dumps(value))


def _table_schema(pipeline: Any, table: str) -> TableSchema:
    """The columns dlt inferred for `table`, with their dlt data types."""
    try:
        columns = pipeline.default_schema.get_table_columns(table)
    except KeyError:  # a resource that yielded nothing has no table yet
        return TableSchema(columns=[])
    return TableSchema(
        columns=[
            TableColumn(name=str(c.get("name", n)), type=str(c.get("data_type", "string")))
            for n, c in columns.items()
        ]
    )


class DltEventIterator(Iterator[MaterializeResult[Any]]):
    """The materializations of a `DagsterDltResource.run`, with Dagster's
    `fetch_row_count()` to add each table's row count (a query on the destination)."""

    def __init__(self, events: Iterator[MaterializeResult[Any]], pipeline: Any) -> None:
        self._events = events
        self._pipeline = pipeline

    def __iter__(self) -> DltEventIterator:
        return self

    def __next__(self) -> MaterializeResult[Any]:
        return next(self._events)

    def fetch_row_count(self) -> DltEventIterator:
        """Add ``dagster/row_count`` (rows in the destination table now) to each event."""
        pipeline = self._pipeline

        def counted() -> Iterator[MaterializeResult[Any]]:
            for event in self._events:
                entry = event.metadata.get("dagster/table_name")
                table = getattr(entry, "value", entry)  # a MetadataValue once normalized
                rows: int | None = None
                if isinstance(table, str):
                    with pipeline.sql_client() as client:
                        name = client.make_qualified_table_name(table.rsplit(".", 1)[-1])
                        rows = int(client.execute_sql(f"SELECT COUNT(*) FROM {name}")[0][0])
                if rows is None:
                    yield event
                else:
                    yield MaterializeResult(
                        asset_key=event.asset_key,
                        metadata={**event.metadata, "dagster/row_count": MetadataValue.int(rows)},
                        tags=event.tags,
                    )

        return DltEventIterator(counted(), pipeline)


class DagsterDltResource(ConfigurableResource):
    """Runs dlt pipelines from `@dlt_assets` (or from an op, given the source and pipeline)."""

    def extract_resource_metadata(
        self, context: Any, resource: Any, load_info: Any, dlt_pipeline: Any
    ) -> dict[str, Any]:
        """What one resource's materialization reports: the load's times, dataset and
        destination, the load jobs of its table, rows loaded, the table's name and columns."""
        info = _jsonable(load_info.asdict())
        metadata: dict[str, Any] = {k: info[k] for k in _LOAD_FIELDS if k in info}
        schema = dlt_pipeline.default_schema
        table = schema.naming.normalize_table_identifier(str(resource.table_name))
        metadata["jobs"] = [
            job
            for package in info.get("load_packages", [])
            for job in package.get("jobs", [])
            if job.get("table_name") == table
        ]
        trace = dlt_pipeline.last_trace
        rows = trace.last_normalize_info.row_counts.get(table) if trace else None
        if rows is not None:
            metadata["rows_loaded"] = MetadataValue.int(int(rows))
        destination = info.get("destination_name")
        dataset = info.get("dataset_name")
        if destination and dataset:
            metadata["dagster/table_name"] = f"{destination}.{dataset}.{table}"
        metadata["dagster/column_schema"] = MetadataValue.table_schema(
            _table_schema(dlt_pipeline, table)
        )
        return metadata

    def run(
        self,
        context: Any,
        dlt_source: Any = None,
        dlt_pipeline: Any = None,
        dagster_dlt_translator: DagsterDltTranslator | None = None,
        **kwargs: Any,
    ) -> DltEventIterator:
        """Run the pipeline for the resources of the assets `context` selected (all of them
        from an op); `kwargs` go to dlt's ``pipeline.run``. The source, pipeline and translator
        default to those `@dlt_assets` was given."""
        info = dlt_info_of(context)
        source = dlt_source if dlt_source is not None else (info.source if info else None)
        pipeline = dlt_pipeline if dlt_pipeline is not None else (info.pipeline if info else None)
        if source is None or pipeline is None:
            raise DefinitionError(
                "DagsterDltResource.run: give dlt_source and dlt_pipeline, or call it from a "
                "@dlt_assets function with its context"
            )
        translator = dagster_dlt_translator or (info.translator if info else None)
        return DltEventIterator(
            self._run(context, source, pipeline, translator or DagsterDltTranslator(), kwargs),
            pipeline,
        )

    def _run(
        self,
        context: Any,
        source: Any,
        pipeline: Any,
        translator: DagsterDltTranslator,
        kwargs: Mapping[str, Any],
    ) -> Iterator[MaterializeResult[Any]]:
        by_key: dict[AssetKey, str] = {
            spec.key: name for name, spec in asset_specs(source, pipeline, translator).items()
        }
        selected = getattr(context, "selected_asset_keys", None)
        if selected:
            by_key = {k: n for k, n in by_key.items() if k in selected}
            source = source.with_resources(*by_key.values())
        # Local state left by an earlier failed load would be picked up and fail this one
        # again; dlt restores what it needs from the destination when it is set to.
        if pipeline.config.restore_from_destination:
            pipeline.drop()
        else:
            pipeline.drop_pending_packages()
        load_info = pipeline.run(source, **kwargs)
        load_info.raise_on_failed_jobs()
        resources = source.selected_resources
        for key, name in by_key.items():
            yield MaterializeResult(
                asset_key=key,
                metadata=self.extract_resource_metadata(
                    context, resources[name], load_info, pipeline
                ),
            )
