"""`Instance`: where a deployment keeps its runs, events and files, and the calls that use them.

The public methods delegate to `runs`, `event_log`, `assets`, `partitions`, `backfills`,
`dynamic_partitions`, `instigators`, `reloads` and `tokens`, each inside one transaction.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from sqlalchemy.engine import URL

from bakehouse.errors import AmbiguousRunIdError, RunNotFoundError, StorageError
from bakehouse.storage import (
    assets,
    automation,
    backfills,
    changes,
    dialect,
    dynamic_partitions,
    event_log,
    instigators,
    partitions,
    reloads,
    run_log,
    runs,
    shared_secrets,
    tokens,
    workers,
)
from bakehouse.storage.automation_records import AutomationCursor, AutomationEvaluation
from bakehouse.storage.changes import ChangeWatcher, LoggedChange, RunHead
from bakehouse.storage.corrupt import skip_corrupt
from bakehouse.storage.database import Database
from bakehouse.storage.durability import Durability
from bakehouse.storage.records import (
    ApiTokenRecord,
    AssetMaterializationRecord,
    BackfillRecord,
    BackfillStatus,
    CorruptRecord,
    EventRecord,
    EventType,
    InstigatorState,
    InstigatorType,
    PartitionStatus,
    RunRecord,
    RunStatus,
    TickRecord,
    TickStatus,
    WorkerClaim,
    WorkerRecord,
)
from bakehouse.storage.reload_records import ReloadRecord
from bakehouse.storage.remote_compute_logs import compute_log_manager
from bakehouse.storage.run_filter import RunFilter
from bakehouse.storage.run_log import StepMark, StepPage

ENV_STORAGE_URL = "BAKEHOUSE_STORAGE_URL"
ENV_HOME = "BAKEHOUSE_HOME"
DATABASE_FILE = "bakehouse.db"
STORAGE_FOLDER = "storage"


class Instance:
    """Instance storage: runs, the event log and the asset index in a database, files in a folder.

    Open one with `open`, `for_home`, `ephemeral` or `from_env`, and close it (or use it as a
    context manager). Several instances, in one process or many, may use one database at once.
    """

    def __init__(
        self,
        database: Database,
        *,
        storage_dir: Path,
        home: Path | None = None,
        owns_storage_dir: bool = False,
    ) -> None:
        """Wrap an open `database`; prefer the constructors, which also resolve the folders."""
        self._db = database
        self._storage_dir = storage_dir
        self._home = home
        self._owns_storage_dir = owns_storage_dir

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        url: str | URL,
        *,
        storage_dir: Path | None = None,
        durability: Durability | None = None,
    ) -> Instance:
        """Open the database at `url`, creating or migrating its schema as needed.

        Files go to `storage_dir`; if it is not given they go next to a SQLite file
        (``<folder>/storage``), or to a temporary folder removed on close for in-memory SQLite.
        Other databases need `storage_dir`. `durability` (``normal`` or ``full``) applies
        unless the URL names one (``?durability=full``). Raises StorageError.
        """
        parsed = dialect.parse_url(url)
        owns = False
        if storage_dir is None:
            db_file = dialect.sqlite_file(parsed)
            if db_file is not None:
                storage_dir = db_file.parent / STORAGE_FOLDER
            elif dialect.is_sqlite_memory(parsed):
                storage_dir, owns = Path(tempfile.mkdtemp(prefix="bakehouse-")), True
            else:
                raise StorageError(f"storage_dir is required with {parsed.get_backend_name()}")
        return cls._open(
            parsed, storage_dir=storage_dir, owns_storage_dir=owns, durability=durability
        )

    @classmethod
    def for_home(cls, home: Path, *, durability: Durability | None = None) -> Instance:
        """The instance kept in folder `home`: SQLite in ``bakehouse.db``, files in ``storage/``."""
        home = Path(home).absolute()
        home.mkdir(parents=True, exist_ok=True)
        url = URL.create("sqlite", database=str(home / DATABASE_FILE))
        return cls._open(url, storage_dir=home / STORAGE_FOLDER, home=home, durability=durability)

    @classmethod
    def ephemeral(cls) -> Instance:
        """An in-memory instance for tests and one-off runs; everything is gone once closed."""
        return cls.open("sqlite://")

    @classmethod
    def from_env(cls, default_home: Path, *, durability: Durability | None = None) -> Instance:
        """The instance the environment names, else the one in `default_home`.

        ``BAKEHOUSE_STORAGE_URL`` selects the database (files then go to the home's ``storage/``);
        otherwise ``BAKEHOUSE_HOME``, else `default_home`, is opened with `for_home`.
        `durability` is the settings' (``[tool.bakehouse.storage]``); the URL's wins.
        """
        home = Path(os.environ.get(ENV_HOME) or default_home).absolute()
        url = os.environ.get(ENV_STORAGE_URL)
        if not url:
            return cls.for_home(home, durability=durability)
        return cls._open(
            dialect.parse_url(url),
            storage_dir=home / STORAGE_FOLDER,
            home=home,
            durability=durability,
        )

    @classmethod
    def _open(
        cls,
        url: URL,
        *,
        storage_dir: Path,
        home: Path | None = None,
        owns_storage_dir: bool = False,
        durability: Durability | None = None,
    ) -> Instance:
        dialect.check_sqlite_folder(url)
        try:
            storage_dir.mkdir(parents=True, exist_ok=True)
            # The storage folder is where revision 0004 finds the dynamic partition keys that
            # older versions kept in a file.
            database = Database(url, storage_dir=storage_dir, durability=durability)
        except BaseException:
            if owns_storage_dir:
                shutil.rmtree(storage_dir, ignore_errors=True)
            raise
        return cls(database, storage_dir=storage_dir, home=home, owns_storage_dir=owns_storage_dir)

    # -- where things are -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The database URL, password included (pass it to other processes, do not show it);
        it names the durability when that is not the default, so processes opened on it commit
        the same way."""
        url = dialect.with_durability(self._db.url, self._db.durability)
        return url.render_as_string(hide_password=False)

    @property
    def durability(self) -> Durability:
        """How durable a commit is: ``normal`` (survives any process crash) or ``full`` (a power
        cut too: SQLite ``synchronous=FULL``, PostgreSQL's ``synchronous_commit`` as set)."""
        return self._db.durability

    @property
    def home(self) -> Path | None:
        """The instance folder when opened from one (`for_home`, `from_env`), else None."""
        return self._home

    @property
    def storage_dir(self) -> Path:
        """The folder where IO managers keep files."""
        return self._storage_dir

    # -- runs -------------------------------------------------------------------------------

    def create_run(self, run: RunRecord) -> RunRecord:
        """Store a new run and return it with created_at/updated_at set; duplicate ids raise."""
        with self._db.write() as conn:
            return runs.insert_run(conn, run)

    def get_run(self, run_id: str) -> RunRecord:
        """The run `run_id`; raises RunNotFoundError."""
        with self._db.read() as conn:
            return runs.select_run(conn, run_id)

    def find_run(self, run_id: str, *, candidates: int = 10) -> RunRecord:
        """The run `run_id` names: its whole id, or the start of exactly one run's id (the short
        ids lists show), found by an indexed prefix query however many runs there are. Raises
        RunNotFoundError, or AmbiguousRunIdError listing up to `candidates` matching ids."""
        with self._db.read() as conn:
            try:
                return runs.select_run(conn, run_id)
            except RunNotFoundError:
                pass
            found = (
                runs.select_run_ids_by_prefix(conn, run_id, limit=candidates + 1) if run_id else []
            )
            if len(found) == 1:
                return runs.select_run(conn, found[0])
        if not found:
            raise RunNotFoundError(run_id)
        raise AmbiguousRunIdError(run_id, found[:candidates], more=len(found) > candidates)

    @overload
    def get_runs(
        self,
        *,
        limit: int | None = 50,
        statuses: Sequence[RunStatus] | None = None,
        before_created_at: float | None = None,
        include_corrupt: Literal[False] = False,
        run_filter: RunFilter | None = None,
    ) -> list[RunRecord]: ...

    @overload
    def get_runs(
        self,
        *,
        limit: int | None = 50,
        statuses: Sequence[RunStatus] | None = None,
        before_created_at: float | None = None,
        include_corrupt: Literal[True],
        run_filter: RunFilter | None = None,
    ) -> list[RunRecord | CorruptRecord]: ...

    def get_runs(
        self,
        *,
        limit: int | None = 50,
        statuses: Sequence[RunStatus] | None = None,
        before_created_at: float | None = None,
        include_corrupt: bool = False,
        run_filter: RunFilter | None = None,
    ) -> list[RunRecord] | list[RunRecord | CorruptRecord]:
        """Runs, newest first; page with `before_created_at` = the last run's created_at.
        `run_filter` keeps those of a job, an asset, tags, a launcher (indexed lookups).

        A row that cannot be read is left out, or with `include_corrupt` is a `CorruptRecord`
        in its place (for lists that show people which run is bad).
        """
        with self._db.read() as conn:
            found = runs.select_runs(
                conn,
                limit=limit,
                statuses=statuses,
                before_created_at=before_created_at,
                run_filter=run_filter,
            )
        return found if include_corrupt else skip_corrupt(found)

    def get_runs_by_tag(self, key: str, value: str, *, limit: int | None = None) -> list[RunRecord]:
        """Runs whose tag `key` is `value` (e.g. ``bakehouse/schedule``), newest first; runs
        that cannot be read are left out."""
        with self._db.read() as conn:
            return skip_corrupt(runs.select_runs_by_tag(conn, key, value, limit=limit))

    def update_run(self, run_id: str, /, **changes: Any) -> RunRecord:
        """Change fields of a run (tags, status, ...) and return it; raises RunNotFoundError.

        This writes the fields as given: it does not set started_at or ended_at from a status,
        which run lifecycle events passed to `store_event` do.
        """
        with self._db.write() as conn:
            return runs.update_run(conn, run_id, changes)

    def delete_run(self, run_id: str) -> None:
        """Delete a run, its events and its steps' compute logs; the asset index and the status
        of the partitions it touched fall back to the older materializations."""
        with self._db.write() as conn:
            runs.delete_run(conn, run_id)
            event_log.delete_events(conn, run_id)
        compute_log_manager(self._storage_dir).delete_logs(run_id)

    # -- events -----------------------------------------------------------------------------

    def store_event(self, event: EventRecord) -> EventRecord:
        """Append an event, in one transaction with the run status or asset index change it implies.

        Returns the event with its storage_id. A run lifecycle event for an unknown run raises
        RunNotFoundError and stores nothing.
        """
        with self._db.write() as conn:
            return event_log.store_event(conn, event)

    def store_events(self, events: Iterable[EventRecord]) -> list[EventRecord]:
        """`store_event` for each event, all in one transaction: all are stored or none."""
        with self._db.write() as conn:
            return event_log.store_events(conn, list(events))

    @overload
    def get_events(
        self,
        run_id: str,
        *,
        after_storage_id: int = 0,
        limit: int | None = None,
        event_types: Sequence[EventType] | None = None,
        include_corrupt: Literal[False] = False,
    ) -> list[EventRecord]: ...

    @overload
    def get_events(
        self,
        run_id: str,
        *,
        after_storage_id: int = 0,
        limit: int | None = None,
        event_types: Sequence[EventType] | None = None,
        include_corrupt: Literal[True],
    ) -> list[EventRecord | CorruptRecord]: ...

    def get_events(
        self,
        run_id: str,
        *,
        after_storage_id: int = 0,
        limit: int | None = None,
        event_types: Sequence[EventType] | None = None,
        include_corrupt: bool = False,
    ) -> list[EventRecord] | list[EventRecord | CorruptRecord]:
        """The run's events after a cursor, in order; the last storage_id is the next cursor.

        An event that cannot be read is left out, or with `include_corrupt` is a
        `CorruptRecord` (its key the storage id) in its place.
        """
        with self._db.read() as conn:
            found = event_log.select_events(
                conn,
                run_id,
                after_storage_id=after_storage_id,
                limit=limit,
                event_types=event_types,
            )
        return found if include_corrupt else skip_corrupt(found)

    def get_events_before(
        self, run_id: str, before_storage_id: int, *, limit: int
    ) -> list[EventRecord | CorruptRecord]:
        """The run's `limit` events just before a cursor, in log order (page a log backwards
        from its end with ``2**63 - 1``); an unreadable event is a `CorruptRecord` in place."""
        with self._db.read() as conn:
            return run_log.select_events_before(conn, run_id, before_storage_id, limit=limit)

    def count_events(self, run_id: str) -> dict[EventType, int]:
        """How many events of each type the run logged, counted in the database."""
        with self._db.read() as conn:
            return run_log.count_events(conn, run_id)

    def get_step_marks(self, run_id: str) -> list[StepMark]:
        """The run's steps' starts and ends (type, step key, time) in log order, read from the
        log's columns without decoding an event: what a timeline of the steps needs."""
        with self._db.read() as conn:
            return run_log.select_step_marks(conn, run_id)

    def get_step_page(
        self, run_id: str, *, after_storage_id: int = 0, limit: int = 300
    ) -> StepPage:
        """A window of `limit` of the run's steps, in the order they first appear in its log
        after `after_storage_id` (the previous window's `last_id`), with all their marks, the
        run's number of steps and its steps' earliest start and latest end; read from an index
        of the log's columns, without decoding an event."""
        with self._db.read() as conn:
            return run_log.select_step_page(
                conn, run_id, after_storage_id=after_storage_id, limit=limit
            )

    def get_error_events(self, run_id: str, *, limit: int = 50) -> list[EventRecord]:
        """The run's first `limit` step and run failures and ERROR-level events, in log order."""
        with self._db.read() as conn:
            return skip_corrupt(run_log.select_error_events(conn, run_id, limit=limit))

    def get_asset_check_history(self, asset_key: str, *, limit: int = 100) -> list[EventRecord]:
        """The newest results of the asset's checks, newest first: ASSET_CHECK_EVALUATION events,
        and the STEP_FAILURE of a check function that raised (it names its checks in
        ``data["check_names"]``)."""
        with self._db.read() as conn:
            return event_log.select_asset_events(
                conn,
                asset_key,
                [EventType.ASSET_CHECK_EVALUATION, EventType.STEP_FAILURE],
                limit=limit,
            )

    def get_asset_check_histories(
        self, asset_keys: Sequence[str], *, limit: int = 100
    ) -> dict[str, list[EventRecord]]:
        """`get_asset_check_history` of each of `asset_keys` at once (up to `limit` events
        each), by asset key; assets without a check result are absent."""
        with self._db.read() as conn:
            return event_log.select_asset_events_of_many(
                conn,
                asset_keys,
                [EventType.ASSET_CHECK_EVALUATION, EventType.STEP_FAILURE],
                per_asset=limit,
            )

    # -- assets -----------------------------------------------------------------------------

    def get_latest_materializations(
        self, asset_keys: Sequence[str] | None = None
    ) -> dict[str, AssetMaterializationRecord]:
        """The latest materialization of each asset in `asset_keys` (all assets if None).

        Assets never materialized are absent from the result.
        """
        with self._db.read() as conn:
            return assets.select_latest(conn, asset_keys)

    def get_materialization_history(
        self, asset_key: str, *, partition_key: str | None = None, limit: int | None = 20
    ) -> list[EventRecord]:
        """The asset's materialization events (of one partition, if given), newest first."""
        with self._db.read() as conn:
            return assets.select_history(conn, asset_key, partition_key=partition_key, limit=limit)

    # -- partitions -------------------------------------------------------------------------

    def get_partition_status(self, asset_key: str) -> dict[str, PartitionStatus]:
        """The status of each partition of `asset_key` after its latest attempt.

        Partitions never planned nor materialized (missing) are absent. A partition whose run
        ended (failed, canceled, its worker lost) without materializing it is FAILED, never
        left IN_PROGRESS. One indexed read, however many partitions and events there are.
        """
        with self._db.read() as conn:
            return partitions.select_statuses(conn, asset_key)

    def get_partition_status_counts(self, asset_key: str) -> dict[PartitionStatus, int]:
        """How many partitions of `asset_key` have each status, as `get_partition_status` says
        (counted by the database); statuses no partition has are absent."""
        with self._db.read() as conn:
            return partitions.count_statuses(conn, asset_key)

    def get_partition_status_counts_of_assets(
        self, asset_keys: Sequence[str] | None = None
    ) -> dict[str, dict[PartitionStatus, int]]:
        """`get_partition_status_counts` of each of `asset_keys` (of every asset if None) in a
        few grouped reads, by asset key; assets no partition of which has a status are absent."""
        with self._db.read() as conn:
            return partitions.count_statuses_of_many(conn, asset_keys)

    def get_latest_partition_materializations(
        self, asset_key: str, partition_keys: Sequence[str] | None = None
    ) -> dict[str, AssetMaterializationRecord]:
        """The newest materialization of each partition of `asset_key`, by partition key.

        Only `partition_keys` if given; partitions never materialized are absent. A partition
        whose latest attempt failed still has its last materialization here.
        """
        with self._db.read() as conn:
            return partitions.select_latest(conn, asset_key, partition_keys)

    # -- backfills --------------------------------------------------------------------------

    def create_backfill(self, backfill: BackfillRecord) -> BackfillRecord:
        """Store a new backfill; returns it with created_at/updated_at set. A duplicate id
        raises StorageError."""
        with self._db.write() as conn:
            return backfills.insert_backfill(conn, backfill)

    def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        """The backfill `backfill_id` with the runs its partitions got, or None."""
        with self._db.read() as conn:
            return backfills.select_backfill(conn, backfill_id)

    @overload
    def get_backfills(
        self,
        *,
        statuses: Sequence[BackfillStatus] | None = None,
        limit: int | None = None,
        include_corrupt: Literal[False] = False,
    ) -> list[BackfillRecord]: ...

    @overload
    def get_backfills(
        self,
        *,
        statuses: Sequence[BackfillStatus] | None = None,
        limit: int | None = None,
        include_corrupt: Literal[True],
    ) -> list[BackfillRecord | CorruptRecord]: ...

    def get_backfills(
        self,
        *,
        statuses: Sequence[BackfillStatus] | None = None,
        limit: int | None = None,
        include_corrupt: bool = False,
    ) -> list[BackfillRecord] | list[BackfillRecord | CorruptRecord]:
        """Backfills newest first (by created_at, then id), of `statuses` only if given.

        A row that cannot be read is left out, or with `include_corrupt` is a `CorruptRecord`
        in its place (for lists that show people which backfill is bad).
        """
        with self._db.read() as conn:
            found = backfills.select_backfills(conn, statuses=statuses, limit=limit)
        return found if include_corrupt else skip_corrupt(found)

    def update_backfill(self, backfill_id: str, /, **changes: Any) -> BackfillRecord:
        """Change fields of a backfill (status, error, ...) and return it; updated_at = now.

        Raises StorageError for an unknown backfill, a new id, or `partition_runs` (which only
        `claim_backfill_partitions` adds to).
        """
        with self._db.write() as conn:
            return backfills.update_backfill(conn, backfill_id, changes)

    def claim_backfill_partitions(
        self, backfill_id: str, partition_keys: Sequence[str], run_id: str
    ) -> dict[str, str]:
        """Record that `partition_keys` of the backfill are run by `run_id`: all, or none.

        Returns {} when this call recorded every key. If any key was claimed before, nothing
        is recorded and the result maps each such key to the run id it got. Atomic across
        processes: of concurrent claims of one partition exactly one records it. Claim before
        creating the run, so that a daemon restarted between the two finds the claim (and the
        run id to create) instead of launching the partition again. An unknown backfill raises
        StorageError.
        """
        with self._db.write() as conn:
            return backfills.claim_partitions(conn, backfill_id, partition_keys, run_id)

    # -- dynamic partitions -----------------------------------------------------------------

    def add_dynamic_partitions(
        self, partitions_def_name: str, partition_keys: Sequence[str]
    ) -> None:
        """Add keys to the `DynamicPartitionsDefinition` called `partitions_def_name`.

        New keys go after the existing ones in the order given; keys it has already are left
        where they are. All keys are added in one transaction, or none.
        """
        if isinstance(partition_keys, str):
            raise TypeError("partition_keys is a list of keys, not one string")
        keys = list(partition_keys)
        _check_text("partitions_def_name", partitions_def_name)
        for n, key in enumerate(keys):
            _check_text(f"partition_keys[{n}]", key)
        with self._db.write() as conn:
            dynamic_partitions.add(conn, partitions_def_name, keys)

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        """Remove one key of a dynamic partitions definition (its stored values stay); a key
        that is not there is no error."""
        with self._db.write() as conn:
            dynamic_partitions.delete(conn, partitions_def_name, partition_key)

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        """The keys of a dynamic partitions definition, in the order they were added."""
        with self._db.read() as conn:
            return dynamic_partitions.select_keys(conn, partitions_def_name)

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        """True if `partition_key` is a key of the dynamic partitions definition now."""
        with self._db.read() as conn:
            return dynamic_partitions.has_key(conn, partitions_def_name, partition_key)

    # -- declarative automation -------------------------------------------------------------

    # -- following changes ------------------------------------------------------------------

    def watch_changes(self) -> ChangeWatcher:
        """A watcher that wakes when this database may have changed (close it when done)."""
        return ChangeWatcher(self._db)

    def get_logged_changes(self, after: int, *, limit: int = 10_000) -> list[LoggedChange]:
        """Run status changes and materializations logged after storage id `after`, oldest
        first, at most `limit`: their indexed columns only."""
        with self._db.read() as conn:
            return changes.select_logged_changes(conn, after, limit=limit)

    def get_run_heads(self, *, limit: int) -> list[RunHead]:
        """The newest `limit` runs' ids, statuses and update times, without decoding them."""
        with self._db.read() as conn:
            return changes.select_run_heads(conn, limit=limit)

    def get_runs_by_id(self, run_ids: Sequence[str]) -> list[RunRecord]:
        """The stored, readable runs among `run_ids`, newest first."""
        with self._db.read() as conn:
            return changes.select_runs_by_id(conn, run_ids)

    def get_max_event_storage_id(self) -> int:
        """The storage id of the newest event (0 for an empty log): a point in the log that
        "updated since" is measured from."""
        with self._db.read() as conn:
            return event_log.select_max_storage_id(conn)

    def get_automation_cursors(self, asset_keys: Sequence[str]) -> dict[str, AutomationCursor]:
        """The automation cursors of `asset_keys`; assets never evaluated are absent."""
        with self._db.read() as conn:
            return automation.select_cursors(conn, asset_keys)

    def store_automation_evaluations(
        self, cursors: Sequence[AutomationCursor], evaluations: Sequence[AutomationEvaluation]
    ) -> list[AutomationEvaluation]:
        """Store one tick's cursors and evaluations in one transaction (all or none); returns
        the evaluations with their storage ids."""
        with self._db.write() as conn:
            for cursor in cursors:
                automation.write_cursor(conn, cursor)
            return [automation.insert_evaluation(conn, e) for e in evaluations]

    def get_automation_evaluations(
        self,
        asset_key: str,
        *,
        limit: int | None = 20,
        before_id: int | None = None,
        requested_only: bool = False,
    ) -> list[AutomationEvaluation]:
        """The asset's stored evaluations, newest first; page with `before_id` (the last
        evaluation's storage_id)."""
        with self._db.read() as conn:
            return automation.select_evaluations(
                conn, asset_key, limit=limit, before_id=before_id, requested_only=requested_only
            )

    def get_automation_evaluation(self, storage_id: int) -> AutomationEvaluation | None:
        """One stored evaluation by its storage id, if it is still kept."""
        with self._db.read() as conn:
            return automation.select_evaluation(conn, storage_id)

    # -- reload history of code locations ------------------------------------------------------

    def store_reload(self, record: ReloadRecord) -> ReloadRecord:
        """Store one reload of a location; returns it with its storage id."""
        with self._db.write() as conn:
            return reloads.insert(conn, record)

    def get_reloads(
        self, location: str, *, limit: int | None = 20, before_id: int | None = None
    ) -> list[ReloadRecord]:
        """The location's stored reloads, newest first; page with `before_id`."""
        with self._db.read() as conn:
            return reloads.select(conn, location, limit=limit, before_id=before_id)

    # -- schedules and sensors --------------------------------------------------------------

    def get_instigator_state(self, origin: str) -> InstigatorState | None:
        """The stored state of schedule or sensor `origin` (``<location>:<name>``), else None."""
        with self._db.read() as conn:
            return instigators.select_state(conn, origin)

    def get_instigator_states(self, type: InstigatorType | None = None) -> list[InstigatorState]:
        """Every stored schedule and sensor state, or those of one type; ordered by origin."""
        with self._db.read() as conn:
            return instigators.select_states(conn, type)

    def set_instigator_state(self, state: InstigatorState) -> InstigatorState:
        """Store `state`, replacing the one of its origin; returns it with updated_at = now.

        Every field is overwritten: a state read earlier and stored back undoes what others
        changed since (a stop, a cursor). To change some fields, use `update_instigator_state`.
        """
        with self._db.write() as conn:
            return instigators.upsert_state(conn, state)

    def update_instigator_state(
        self, origin: str, change: Callable[[InstigatorState | None], InstigatorState]
    ) -> InstigatorState:
        """Store `change(stored)` as the state of `origin` and return it (updated_at = now);
        `stored` is the state as of now, in this write transaction (None if there is none).

        Read and write are one step for every other writer of `origin`, in every process (they
        wait for each other), so a change that sets some fields, as in
        ``lambda s: replace(s, cursor=c)``, keeps what others changed in the rest meanwhile.
        `change` runs inside the transaction: keep it quick and free of I/O. It may be called
        twice (once with None, then with a state another writer inserted at the same time).
        Raises StorageError if it returns the state of another origin.
        """
        with self._db.write() as conn:
            return instigators.change_state(conn, origin, change)

    def create_tick(self, tick: TickRecord) -> TickRecord | None:
        """Store a new tick and return it with its tick_id (and created_at/updated_at if unset).

        A schedule has one tick per (origin, tick_at): if that tick is stored already this
        returns None and changes nothing, so of several daemons only one takes the tick.
        Sensor ticks are always stored. A tick that has a tick_id raises StorageError.
        """
        with self._db.write() as conn:
            return instigators.insert_tick(conn, tick)

    def update_tick(self, tick: TickRecord) -> TickRecord:
        """Replace stored tick `tick.tick_id` with `tick` (updated_at = now) and return it.

        Raises StorageError for a tick that is not stored, or whose origin, type or tick_at
        differ from the stored one's.
        """
        with self._db.write() as conn:
            return instigators.update_tick(conn, tick)

    def get_tick(self, origin: str, tick_at: float) -> TickRecord | None:
        """The tick of `origin` at `tick_at`, else None (of several sensor ticks, the newest)."""
        with self._db.read() as conn:
            return instigators.select_tick(conn, origin, tick_at)

    @overload
    def get_ticks(
        self,
        origin: str,
        *,
        limit: int | None = 20,
        statuses: Sequence[TickStatus] | None = None,
        include_corrupt: Literal[False] = False,
    ) -> list[TickRecord]: ...

    @overload
    def get_ticks(
        self,
        origin: str,
        *,
        limit: int | None = 20,
        statuses: Sequence[TickStatus] | None = None,
        include_corrupt: Literal[True],
    ) -> list[TickRecord | CorruptRecord]: ...

    def get_ticks(
        self,
        origin: str,
        *,
        limit: int | None = 20,
        statuses: Sequence[TickStatus] | None = None,
        include_corrupt: bool = False,
    ) -> list[TickRecord] | list[TickRecord | CorruptRecord]:
        """The ticks of `origin`, newest first (by tick_at, then tick_id).

        A row that cannot be read is left out, or with `include_corrupt` is a `CorruptRecord`
        (key: the tick id) in its place.
        """
        with self._db.read() as conn:
            found = instigators.select_ticks(conn, origin, limit=limit, statuses=statuses)
        return found if include_corrupt else skip_corrupt(found)

    def claim_run_key(self, origin: str, run_key: str, run_id: str) -> str | None:
        """Record that `run_key` of `origin` launches `run_id`; None if this call claimed it.

        If the key was claimed before, nothing changes and the run id that claimed it is
        returned. Atomic across processes: of concurrent claims exactly one gets None.
        """
        with self._db.write() as conn:
            return instigators.claim_run_key(conn, origin, run_key, run_id)

    def get_run_id_for_key(self, origin: str, run_key: str) -> str | None:
        """The run id that claimed `run_key` of `origin`, else None."""
        with self._db.read() as conn:
            return instigators.select_run_id_for_key(conn, origin, run_key)

    # -- repair -----------------------------------------------------------------------------

    def find_corrupt_rows(self) -> list[CorruptRecord]:
        """Every stored row that cannot be read back as its record (runs, events, backfills,
        ticks, schedule and sensor states, the asset index): what lists skip and mark."""
        from bakehouse.storage import doctor

        with self._db.read() as conn:
            return doctor.find_corrupt(conn)

    def move_corrupt_rows_aside(self) -> list[CorruptRecord]:
        """Move every row `find_corrupt_rows` finds into the `quarantined_rows` table, whole,
        each in its own transaction; returns those moved (a row repaired meanwhile stays)."""
        from bakehouse.storage import doctor

        moved: list[CorruptRecord] = []
        for record in self.find_corrupt_rows():
            with self._db.write() as conn:
                if doctor.move_aside(conn, record):
                    moved.append(record)
        return moved

    # -- API tokens -------------------------------------------------------------------------

    def create_api_token(
        self, name: str, *, read_only: bool = False, expires_at: float | None = None
    ) -> tuple[ApiTokenRecord, str]:
        """Make a token called `name` (refused with StorageError if one exists), valid until
        `expires_at` if given; returns its record and the token itself, which is stored only as
        its SHA-256 and cannot be shown again."""
        _check_text("name", name)
        if len(name) > 255 or not name.isprintable():
            raise ValueError("a token name is at most 255 printable characters")
        with self._db.write() as conn:
            return tokens.insert(conn, name, read_only=read_only, expires_at=expires_at)

    def get_api_tokens(self) -> list[ApiTokenRecord]:
        """Every token (names and rights, never the tokens), by name."""
        with self._db.read() as conn:
            return tokens.select_all(conn)

    def find_api_token(self, token: str) -> ApiTokenRecord | None:
        """The stored token that `token` is, or None if it is unknown or revoked."""
        with self._db.read() as conn:
            return tokens.select_by_token(conn, token)

    def mark_api_token_used(self, record: ApiTokenRecord, now: float) -> None:
        """Note that token `record` was used at `now` (written at most once a minute)."""
        if record.last_used_at is not None and now - record.last_used_at < (
            tokens.LAST_USED_GRANULARITY
        ):
            return  # fresh enough: no write on every request
        with self._db.write() as conn:
            tokens.mark_used(conn, record.name, now)

    def revoke_api_token(self, name: str) -> bool:
        """Delete the token called `name` (it stops working at once); False if there is none."""
        with self._db.write() as conn:
            return tokens.delete(conn, name)

    def has_api_tokens(self) -> bool:
        """True if at least one token exists."""
        with self._db.read() as conn:
            return tokens.exists(conn)

    # -- step workers -----------------------------------------------------------------------

    def record_worker(self, record: WorkerRecord) -> None:
        """Store a step worker's heartbeat: its current state (`bh worker start` writes it)."""
        with self._db.write() as conn:
            workers.upsert(conn, record)

    def get_workers(self, *, seen_since: float | None = None) -> list[WorkerRecord]:
        """Step workers by id; only those heard from at or after `seen_since` when given."""
        with self._db.read() as conn:
            return workers.select(conn, seen_since=seen_since)

    def claim_step(self, claim: WorkerClaim) -> bool:
        """Take an attempt of a step for a worker; False if some worker took it already."""
        with self._db.write() as conn:
            return workers.claim(conn, claim)

    def get_step_claims(self, run_id: str) -> list[WorkerClaim]:
        """Which worker took each attempt of each step of `run_id`, oldest first."""
        with self._db.read() as conn:
            return workers.claims_of(conn, run_id)

    # -- shared secrets ---------------------------------------------------------------------

    def shared_secret(self, name: str) -> bytes:
        """The secret called `name` (32 random bytes), made on first use and the same for every
        process on this storage, across restarts (e.g. the form-token signing key)."""
        with self._db.read() as conn:
            found = shared_secrets.select(conn, name)
        if found is None:
            with self._db.write() as conn:
                found = shared_secrets.get_or_make(conn, name)
        try:
            return bytes.fromhex(found)
        except ValueError:
            raise StorageError(
                f"the shared secret {name!r} in instance_secrets is not hex; delete its row "
                "and a new one is made"
            ) from None

    # -- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Release the database connections (and an ephemeral storage folder); idempotent."""
        self._db.close()
        if self._owns_storage_dir:
            shutil.rmtree(self._storage_dir, ignore_errors=True)

    def __enter__(self) -> Instance:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        url = self._db.url.render_as_string(hide_password=True)
        return f"Instance({url!r}, storage_dir={str(self._storage_dir)!r})"


def _check_text(what: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, got {type(value).__name__}: {value!r}")
    if not value:
        raise ValueError(f"{what} is empty")


if TYPE_CHECKING:
    from bakehouse.storage.protocol import InstanceProtocol

    # mypy checks here that Instance makes every call InstanceProtocol lists.
    _conforms: type[InstanceProtocol] = Instance
