"""Which runs a list shows (`RunFilter`): by status, job, asset, tags and who launched them.

`bh runs list`, ``GET /api/runs`` and the Runs page parse their filters here, so the three
spell them alike and refuse the same bad values (`ValueError`, with what is allowed). Storage
(`storage.runs.select_runs`) turns a filter into one query on indexed columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bakehouse.storage.records import BACKFILL_TAG, RunStatus

LAUNCHED_BY_TAG = "bakehouse/launched_by"
# What `launched_by` may name, and the tag that carries each one's name.
LAUNCHED_BY_KINDS: dict[str, str] = {
    "user": "bakehouse/user",  # the UI or the CLI (bh launch sets $USER)
    "schedule": "bakehouse/schedule",
    "sensor": "bakehouse/sensor",
    "backfill": BACKFILL_TAG,
}
# The launched_by tag values of runs people started.
USER_LAUNCHERS = ("ui", "cli")


@dataclass(frozen=True)
class LaunchedBy:
    """Runs a kind of launcher started (``schedule``), or one of them (``schedule:nightly``)."""

    kind: str
    name: str | None = None

    def __str__(self) -> str:
        return self.kind if self.name is None else f"{self.kind}:{self.name}"


@dataclass(frozen=True, kw_only=True)
class RunFilter:
    """Runs with one of `statuses` (any if empty), of `job_name`, selecting `asset_key`, with
    every tag of `tags`, launched by `launched_by`: each given part must hold."""

    statuses: tuple[RunStatus, ...] = ()
    job_name: str | None = None
    asset_key: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    launched_by: LaunchedBy | None = None

    @property
    def is_empty(self) -> bool:
        """True if it lets every run through."""
        return self == RunFilter()


def parse_status(text: str) -> RunStatus:
    """A run status, in any case (``failure``, ``FAILURE``)."""
    try:
        return RunStatus(text.strip().upper())
    except ValueError:
        allowed = ", ".join(s.value.lower() for s in RunStatus)
        raise ValueError(f"unknown run status {text!r}: use one of {allowed}") from None


def parse_tag(text: str) -> tuple[str, str]:
    """``key=value`` as (key, value); the value may be empty, the key may not."""
    key, eq, value = text.partition("=")
    if not eq or not key:
        raise ValueError(f"tag {text!r} must look like key=value")
    return key, value


def parse_launched_by(text: str) -> LaunchedBy:
    """``user``, ``schedule``, ``sensor`` or ``backfill``, optionally ``:NAME`` (a user name,
    a schedule's or sensor's name, a backfill id)."""
    kind, colon, name = text.strip().partition(":")
    if kind not in LAUNCHED_BY_KINDS:
        kinds = ", ".join(LAUNCHED_BY_KINDS)
        raise ValueError(
            f"unknown launcher {text!r}: use one of {kinds}, optionally with :NAME "
            "(e.g. schedule:nightly)"
        )
    if colon and not name:
        raise ValueError(f"launcher {text!r} has ':' but no name after it")
    return LaunchedBy(kind, name or None)


def parse_filter(
    *,
    statuses: Iterable[str] = (),
    job: str | None = None,
    asset: str | None = None,
    tags: Sequence[str] = (),
    launched_by: str | None = None,
) -> RunFilter:
    """A `RunFilter` from text as people type it; `ValueError` names the bad value."""
    return RunFilter(
        statuses=tuple(dict.fromkeys(parse_status(s) for s in statuses)),
        job_name=job or None,
        asset_key=asset or None,
        tags=tuple(parse_tag(t) for t in tags),
        launched_by=parse_launched_by(launched_by) if launched_by else None,
    )
