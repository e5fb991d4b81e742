"""`SqlFolderComponent`: a folder of SQL files, one DuckDB table (or view) asset per file.

``orders.sql`` holds one query; materializing the asset ``orders`` runs
``CREATE OR REPLACE TABLE orders AS <query>`` in the DuckDB database file. A query that reads a
table named after another file of the folder (or after an asset listed in ``deps``) depends on
it, so runs build the tables in dependency order.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from bakehouse.components.component import (
    Component,
    ComponentLoadContext,
    Model,
    Resolvable,
    located,
)
from bakehouse.errors import DefinitionError, SourceLocation

if TYPE_CHECKING:
    from bakehouse.authoring.assets import AssetsDefinition
    from bakehouse.authoring.context import AssetExecutionContext
    from bakehouse.authoring.definitions_class import Definitions
    from bakehouse.authoring.results import MaterializeResult

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FROM_OR_JOIN = re.compile(r"\b(?:from|join)\s+((?:[A-Za-z_][\w]*\.)*[A-Za-z_][\w]*)", re.I)


class SqlFolderComponent(Component, Model, Resolvable):
    """One asset per .sql file of a folder, each query run against a DuckDB database.

    Each file holds one SELECT query and becomes a table (or view) named after the file.
    Dependencies come from the SQL: a query reading a table named after another file (or after
    an asset in `deps`) depends on it. A materialization records the row count and a preview.
    """

    sql_folder: str = Field(
        ".", description="Folder of *.sql files, relative to the folder holding defs.yaml."
    )
    database: str | None = Field(
        None,
        description="DuckDB database file, relative to the defs.yaml folder; default "
        "data/warehouse.duckdb in the project.",
    )
    materialize_as: Literal["table", "view"] = Field(
        "table", description="Create each query's result as a table or as a view."
    )
    group_name: str | None = Field(
        None, description="Group of the assets; default: the name of the defs.yaml folder."
    )
    key_prefix: list[str] = Field(
        default_factory=list, description="Prefix of the asset keys, e.g. [warehouse]."
    )
    deps: list[str] = Field(
        default_factory=list,
        description="Asset keys outside this folder that the SQL reads as tables (matched by "
        "the key's last part).",
    )
    preview_rows: int = Field(
        10, ge=0, le=1000, description="Rows of each table to keep as a preview in metadata."
    )

    @classmethod
    def get_scaffold_attributes(cls) -> dict[str, Any]:
        return {
            "sql_folder": ".",
            "database": "{{ project_root }}/data/warehouse.duckdb",
            "materialize_as": "table",
        }

    @classmethod
    def get_scaffold_files(cls) -> dict[str, str]:
        return {
            "example_numbers.sql": "-- Numbers from 1 to 10: replace with your own query.\n"
            "select range as n, range * range as square from range(1, 11)\n",
            "example_total.sql": "-- Reads example_numbers, so it runs after it.\n"
            "select count(*) as numbers, sum(square) as total from example_numbers\n",
        }

    def database_path(self, context: ComponentLoadContext) -> Path:
        """The DuckDB file the queries run against."""
        if self.database:
            return context.resolve_path(self.database)
        base = context.project_root or context.path
        return base / "data" / "warehouse.duckdb"

    def build_defs(self, context: ComponentLoadContext) -> Definitions:
        from bakehouse.authoring.definitions_class import Definitions
        from bakehouse.graph.keys import AssetKey

        folder = context.resolve_path(self.sql_folder)
        if not folder.is_dir():
            raise context.error(f"{folder} is not a folder", "sql_folder")
        files = sorted(folder.glob("*.sql"))
        if not files:
            raise context.error(f"no .sql files in {folder}", "sql_folder")
        for file in files:
            if not _TABLE_NAME.match(file.stem):
                raise DefinitionError(
                    f"'{file.name}': a SQL file's name is its table's name; use letters, digits "
                    "and '_' (not starting with a digit)",
                    source=SourceLocation(str(file), 1),
                )
        own = {f.stem.lower(): AssetKey((*self.key_prefix, f.stem)) for f in files}
        outside: dict[str, AssetKey] = {}
        for index, dep in enumerate(self.deps):
            try:
                key = AssetKey.from_user_string(dep)
            except ValueError as exc:
                raise context.error(str(exc), "deps", index) from None
            outside[key.path[-1].lower()] = key
        database = self.database_path(context)
        group = self.group_name or _group_name(context.path.name)
        assets = []
        for file in files:
            query = _read_query(file)
            tables = referenced_tables(query)
            upstream = [
                own.get(t, outside.get(t)) for t in sorted(tables) if t != file.stem.lower()
            ]
            assets.append(
                self._asset(
                    file, query, own[file.stem.lower()], [k for k in upstream if k], database, group
                )
            )
        return Definitions(assets=assets)

    def _asset(
        self,
        file: Path,
        query: str,
        key: Any,
        deps: list[Any],
        database: Path,
        group: str,
    ) -> AssetsDefinition:
        from bakehouse.authoring.assets import asset
        from bakehouse.authoring.metadata import MetadataValue
        from bakehouse.authoring.results import MaterializeResult

        table = file.stem
        kind = "VIEW" if self.materialize_as == "view" else "TABLE"
        preview_rows = self.preview_rows

        def run_query(context: AssetExecutionContext) -> MaterializeResult[None]:
            database.parent.mkdir(parents=True, exist_ok=True)
            connection = connect(database)
            try:
                context.log.info(f"creating {kind.lower()} {table} in {database}")
                connection.execute(f'CREATE OR REPLACE {kind} "{table}" AS {query}')
                metadata = table_metadata(connection, table, preview_rows)
            finally:
                connection.close()
            metadata["database"] = MetadataValue.path(database)
            return MaterializeResult(metadata=metadata)

        assets_def = asset(
            key=key,
            deps=deps,
            group_name=group,
            kinds={"duckdb", "sql"},
            description=_description(file) or f"The {kind.lower()} built by {file.name}.",
            metadata={"sql_file": str(file), "database": str(database)},
            code_version=hashlib.sha256(query.encode()).hexdigest()[:12],
        )(run_query)
        return located(assets_def, SourceLocation(str(file), 1))


def _group_name(folder_name: str) -> str:
    name = re.sub(r"\W", "_", folder_name)
    return name if _TABLE_NAME.match(name) else f"sql_{name}"


def _read_query(file: Path) -> str:
    """The one query in `file`, without its trailing semicolon; anything else is an error."""
    import duckdb

    text = file.read_text(encoding="utf-8")
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.ParserException as exc:
        message = str(exc).strip()
        line = re.search(r"LINE (\d+):", message)
        raise DefinitionError(
            f"invalid SQL: {message.splitlines()[0]}",
            source=SourceLocation(str(file), int(line.group(1)) if line else 1),
        ) from None
    if len(statements) != 1:
        raise DefinitionError(
            f"{file.name} holds {len(statements)} statements; a SQL model holds one query",
            source=SourceLocation(str(file), 1),
        )
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        raise DefinitionError(
            f"{file.name} holds a {statement.type.name} statement; a SQL model holds one SELECT "
            "query, whose result becomes the table",
            source=SourceLocation(str(file), 1),
        )
    return (statement.query or text).strip().rstrip(";").strip()


def referenced_tables(query: str) -> set[str]:
    """The table names `query` (already parsed once) reads, CTE names excluded, lower-cased."""
    import duckdb

    try:
        names = duckdb.get_table_names(query)
    except duckdb.Error:
        # Table functions such as read_csv('missing.csv') are bound while listing names;
        # fall back to reading FROM and JOIN clauses.
        names = {m.group(1).rsplit(".", 1)[-1] for m in _FROM_OR_JOIN.finditer(query)}
    return {n.lower() for n in names}


def _description(file: Path) -> str | None:
    """The comment lines (``-- ...``) that open `file`."""
    lines = []
    for line in file.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        lines.append(stripped[2:].strip())
    return "\n".join(lines).strip() or None


def connect(database: Path) -> Any:
    """A connection to `database`, waiting while another process holds its write lock.

    DuckDB lets one process write a file at a time; steps running in parallel processes take
    turns instead of failing.
    """
    from bakehouse_duckdb.connect import connect_with_retry

    return connect_with_retry(str(database))


def table_metadata(connection: Any, table: str, preview_rows: int) -> dict[str, Any]:
    """Row count, columns and the first rows of `table`, as materialization metadata."""
    from bakehouse.authoring.metadata import MetadataValue, TableColumn, TableRecord, TableSchema

    row_count = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    cursor = connection.execute(f'SELECT * FROM "{table}" LIMIT {int(preview_rows)}')
    columns = [TableColumn(name=d[0], type=str(d[1])) for d in cursor.description]
    rows = cursor.fetchall()
    schema = TableSchema(columns=columns)
    metadata: dict[str, Any] = {"row_count": int(row_count), "columns": schema}
    if preview_rows:
        names = [c.name for c in columns]
        records = [TableRecord(dict(zip(names, row, strict=True))) for row in rows]
        metadata["preview"] = MetadataValue.table(records, schema=schema)
    return metadata
