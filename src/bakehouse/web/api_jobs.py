"""``/api/jobs``: every job of the serving locations with what targets it and its last run;
one job with its definition and recent runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from msgspec import Meta

from bakehouse.graph.selection import quoted
from bakehouse.host.deployment import Deployment
from bakehouse.host.partition_keys import describe
from bakehouse.protocol.snapshot import JobSnap, LocationSnap
from bakehouse.protocol.wire import LOCATIONS_TAG
from bakehouse.serdes import Record, fields_of
from bakehouse.storage.records import RunRecord
from bakehouse.storage.run_filter import RunFilter
from bakehouse.web.deps import deployment
from bakehouse.web.models import RunOut
from bakehouse.web.responses import guarded, problem

router = APIRouter(prefix="/api", tags=["jobs"])

NO_JOB = problem(
    "No serving code location has this name, or it defines no job of this name",
    "no job 'nope' in code location 'bakery'",
)


class LastRunOut(Record, frozen=True, kw_only=True):
    """A job's newest run, briefly."""

    run_id: str
    status: str
    created_at: float
    ended_at: float | None


class JobOut(Record, frozen=True, kw_only=True):
    """A job of a code location, what targets it and its newest run."""

    name: str
    location: str
    description: str | None
    selection: Annotated[str, Meta(description="The job's asset selection, as written")]
    asset_keys: list[str]
    is_asset_job: Annotated[bool, Meta(description="False for a job of ops")]
    partitions: Annotated[str | None, Meta(description="How its runs are partitioned, if they are")]
    schedules: Annotated[list[str], Meta(description="Schedules that launch it")]
    sensors: Annotated[list[str], Meta(description="Sensors that may launch it")]
    last_run: LastRunOut | None


class JobDetailOut(JobOut, frozen=True, kw_only=True):
    """A job with its definition and its recent runs."""

    tags: dict[str, str]
    run_config: Annotated[dict[str, Any], Meta(description="The job's default run config")]
    check_keys: list[str]
    source_file: str | None
    source_line: int | None
    runs: Annotated[list[RunOut], Meta(description="Its recent runs, newest first")]


@dataclass(frozen=True)
class FoundJob:
    """A job, the location defining it and its runs (newest first)."""

    job: JobSnap
    location: LocationSnap
    runs: list[RunRecord]

    def out(self) -> JobOut:
        """The list view."""
        job, snap = self.job, self.location
        newest = self.runs[0] if self.runs else None
        return JobOut(
            name=job.name,
            location=snap.name,
            description=job.description,
            selection=job.selection,
            asset_keys=list(job.asset_keys),
            is_asset_job=bool(job.asset_keys),
            partitions=describe(job.partitions) if job.partitions is not None else None,
            schedules=sorted(s.name for s in snap.schedules if s.job_name == job.name),
            sensors=sorted(s.name for s in snap.sensors if job.name in (s.job_name, *s.job_names)),
            last_run=None
            if newest is None
            else LastRunOut(
                run_id=newest.run_id,
                status=newest.status.value,
                created_at=newest.created_at,
                ended_at=newest.ended_at,
            ),
        )

    def detail(self) -> JobDetailOut:
        """The one-job view."""
        job = self.job
        return JobDetailOut(
            **fields_of(self.out()),
            tags=dict(job.tags),
            run_config=dict(job.run_config),
            check_keys=list(job.check_keys),
            source_file=job.source_file,
            source_line=job.source_line,
            runs=[RunOut.of(r, listed=True) for r in self.runs],
        )


def _serving(dep: Deployment) -> list[LocationSnap]:
    return [s.snapshot for s in dep.locations() if s.snapshot is not None]


def _runs_of(
    dep: Deployment, job: JobSnap, location: str, shared: bool, limit: int
) -> list[RunRecord]:
    """Runs of `job`; when another location defines a job of the same name (`shared`), only
    those that ran in `location`."""
    of_job = RunFilter(job_name=job.name)
    if not shared:
        return dep.instance.get_runs(run_filter=of_job, limit=limit)
    found = dep.instance.get_runs(run_filter=of_job, limit=None)
    return [
        r
        for r in found
        if r.location_name == location or location in r.tags.get(LOCATIONS_TAG, "").split(",")
    ][:limit]


def all_jobs(dep: Deployment, runs: int = 1) -> list[FoundJob]:
    """Every job of the serving locations (by location, then name) with its newest `runs`."""
    snaps = sorted(_serving(dep), key=lambda s: s.name)
    names = [j.name for s in snaps for j in s.jobs]
    return [
        FoundJob(job, snap, _runs_of(dep, job, snap.name, names.count(job.name) > 1, runs))
        for snap in snaps
        for job in sorted(snap.jobs, key=lambda j: j.name)
    ]


def find_job(dep: Deployment, location: str, name: str, runs: int = 25) -> FoundJob | None:
    """The job `name` of `location` with its newest `runs`, or None."""
    snaps = _serving(dep)
    snap = next((s for s in snaps if s.name == location), None)
    job = next((j for j in snap.jobs if j.name == name), None) if snap else None
    if snap is None or job is None:
        return None
    shared = sum(1 for s in snaps for j in s.jobs if j.name == name) > 1
    return FoundJob(job, snap, _runs_of(dep, job, location, shared, runs))


@router.get("/jobs", response_model=list[JobOut], responses=guarded())
def list_jobs(dep: Deployment = Depends(deployment)) -> list[JobOut]:
    """Every job of the serving code locations: its selection, the schedules and sensors that
    target it, and its newest run."""
    return [found.out() for found in all_jobs(dep)]


@router.get(
    "/jobs/{location}/{name}", response_model=JobDetailOut, responses=guarded({404: NO_JOB})
)
def get_job(
    location: str,
    name: str,
    limit: int = Query(default=25, ge=1, le=1000, description="How many recent runs"),
    dep: Deployment = Depends(deployment),
) -> JobDetailOut:
    """One job: its definition (selection, tags, default config, checks, source), what targets
    it, and its recent runs."""
    found = find_job(dep, location, name, runs=limit)
    if found is None:
        raise HTTPException(404, f"no job {quoted(name)} in code location {quoted(location)}")
    return found.detail()
