"""The JSON API's bodies for a location's reloads and health: `ReloadOut` (one entry of the
reload history) and `LocationHealthOut`."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from bakehouse.host.supervisor import LocationState
from bakehouse.serdes import Record
from bakehouse.storage.reload_records import TRIGGERS, DefinitionsDiff, ReloadRecord
from bakehouse.web.error_out import ErrorOut


class ReloadOut(Record, frozen=True, kw_only=True):
    """One reload of a location: when, what asked for it, and its diff or error."""

    id: Annotated[int | None, Meta(description="Page with ?before= this id")]
    location: str
    started_at: float
    trigger: Annotated[str, Meta(description="One of: " + ", ".join(TRIGGERS))]
    trigger_label: str
    actor: Annotated[
        str | None,
        Meta(description="Who asked: a token's name, 'local' without auth, null for bakehouse"),
    ]
    reason: Annotated[str | None, Meta(description="A restart's cause: how the server exited")]
    loaded: Annotated[bool, Meta(description="False: it failed, the last good keeps serving")]
    summary: Annotated[str | None, Meta(description="'+2 assets, \u22121 schedule, 3 changed'")]
    diff: Annotated[
        DefinitionsDiff | None, Meta(description="Against what served before; null at first load")
    ]
    error: ErrorOut | None
    module_errors: Annotated[
        tuple[str, ...],
        Meta(description="Loaded with errors: 'file:line: message' of each defs module left out"),
    ]
    load_seconds: float | None
    wall_seconds: float | None
    rss_bytes: int | None
    peak_rss_bytes: int | None
    version: str | None

    @classmethod
    def of(cls, record: ReloadRecord) -> ReloadOut:
        """The API view of a stored reload."""
        return cls(
            id=record.storage_id,
            location=record.location,
            started_at=record.started_at,
            trigger=record.trigger,
            trigger_label=record.trigger_label,
            actor=record.actor,
            reason=record.reason,
            loaded=record.loaded,
            summary=record.diff.summary() if record.diff is not None else None,
            diff=record.diff,
            error=ErrorOut.of(record.error),
            module_errors=tuple(f"{m.where}: {m.error.message}" for m in record.module_errors),
            load_seconds=record.load_seconds,
            wall_seconds=record.wall_seconds,
            rss_bytes=record.rss_bytes,
            peak_rss_bytes=record.peak_rss_bytes,
            version=record.version,
        )


class LocationHealthOut(Record, frozen=True, kw_only=True):
    """How a location's code server fares."""

    load_seconds: Annotated[float | None, Meta(description="The last good load, in its server")]
    rss_bytes: Annotated[int | None, Meta(description="Resident memory of its server now")]
    peak_rss_bytes: Annotated[int | None, Meta(description="Its server's peak resident memory")]
    restarts: Annotated[int, Meta(description="Restarts after its server exited unasked")]
    last_exit: Annotated[
        str | None, Meta(description="How the server last exited unasked: 'SIGKILL', 'exit code 1'")
    ]
    last_exit_at: float | None
    python_version: str | None
    packages: Annotated[
        dict[str, str], Meta(description="bakehouse and key packages, as its server reports")
    ]

    @classmethod
    def of(cls, state: LocationState) -> LocationHealthOut:
        """The health part of a supervisor state."""
        return cls(
            load_seconds=state.load_seconds,
            rss_bytes=state.rss_bytes,
            peak_rss_bytes=state.peak_rss_bytes,
            restarts=state.restarts,
            last_exit=state.last_exit,
            last_exit_at=state.last_exit_at,
            python_version=state.python_version,
            packages=state.package_versions,
        )
