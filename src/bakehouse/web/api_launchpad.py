"""``/api/launchpad``: what a launch needs before it runs (config, a partition), and config
typed as YAML checked without launching, each problem with its line.

The UI's launchpad reads the first to decide whether to open at all, and calls the second as
the person types; the launch itself is ``POST /api/runs`` (or ``/api/backfills`` for a range),
planned by the one launch path.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from msgspec import Meta
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from bakehouse.errors import SelectionError
from bakehouse.host.deployment import Deployment
from bakehouse.host.launch_needs import LaunchNeeds, check_config, needs_of
from bakehouse.host.launching import LaunchTarget, resolve_target
from bakehouse.serdes import Record
from bakehouse.web.deps import deployment
from bakehouse.web.responses import guarded, problem

router = APIRouter(prefix="/api", tags=["runs"])

BAD_TARGET = problem(
    "Not exactly one of selection, asset_keys and job, or they name nothing that exists",
    "no job named 'nope' (jobs: bake_everything)",
)


class PartitionsOut(Record, frozen=True, kw_only=True):
    """The partitions a launch picks from."""

    description: str
    keys: Annotated[list[str], Meta(description="Every partition key, oldest first")]
    latest: Annotated[str | None, Meta(description="The newest key (None: there is none yet)")]
    partitioned_assets: list[str]
    unpartitioned_assets: Annotated[
        list[str],
        Meta(description="Assets of the launch that are not partitioned: a run of one "
             "partition materializes them unpartitioned, once"),
    ]  # fmt: skip


class LaunchpadOut(Record, frozen=True, kw_only=True):
    """What launching a target needs, and what the launchpad starts from."""

    asset_keys: list[str]
    job: str | None
    job_location: str | None
    needed: Annotated[
        bool, Meta(description="False: the launch needs nothing and can run as it is")
    ]
    config_needed: Annotated[
        bool, Meta(description="The default config (a job's, else none) does not validate")
    ]
    config_yaml: Annotated[
        str, Meta(description="Run config scaffolded from the assets' Config schemas")
    ]
    config_schemas: Annotated[
        dict[str, dict[str, Any]], Meta(description="Each step's Config JSON schema")
    ]
    partitions: PartitionsOut | None
    partition_problem: Annotated[
        str | None, Meta(description="Why no one partition fits every partitioned asset")
    ]
    tags: Annotated[dict[str, str], Meta(description="The job's own tags, if a job")]

    @classmethod
    def of(cls, needs: LaunchNeeds) -> LaunchpadOut:
        """The API view of `needs`."""
        choice = needs.partitions
        return cls(
            asset_keys=list(needs.target.keys),
            job=needs.target.job.name if needs.target.job else None,
            job_location=needs.target.job_location,
            needed=needs.needed,
            config_needed=needs.config_needed,
            config_yaml=needs.config_yaml,
            config_schemas=needs.config_schemas,
            partitions=None
            if choice is None
            else PartitionsOut(
                description=choice.description,
                keys=choice.keys,
                latest=choice.keys[-1] if choice.keys else None,
                partitioned_assets=choice.partitioned_assets,
                unpartitioned_assets=choice.unpartitioned_assets,
            ),
            partition_problem=needs.partition_problem,
            tags=needs.tags,
        )


class ConfigCheckRequest(BaseModel):
    """Run config typed as YAML, for a launch of a selection, asset keys or a job."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"selection": "*", "config_yaml": "ops: {}"}]},
    )

    selection: str | None = None
    asset_keys: list[str] | None = None
    job: str | None = None
    job_location: str | None = None
    config_yaml: str = Field(default="", max_length=200_000, description="The run config, YAML")


class ConfigProblemOut(Record, frozen=True, kw_only=True):
    """What is wrong with the config, and the line of the YAML it is about."""

    message: str
    line: Annotated[int, Meta(description="1-based line of the YAML")]


class ConfigCheckOut(Record, frozen=True, kw_only=True):
    """Config checked: valid or not, its problems, and the value a launch would send."""

    valid: bool
    problems: list[ConfigProblemOut]
    run_config: Annotated[
        dict[str, Any] | None, Meta(description="The parsed config (None: not valid YAML)")
    ]


def _target(
    dep: Deployment,
    selection: str | None,
    asset_keys: list[str] | None,
    job: str | None,
    job_location: str | None,
) -> LaunchTarget:
    given = [n for n in (selection, asset_keys, job) if n]
    if len(given) != 1:
        raise HTTPException(400, "give exactly one of selection, asset_keys or job")
    try:
        return resolve_target(
            dep.graph(),
            selection=selection,
            asset_keys=asset_keys,
            job_name=job,
            job_location=job_location,
        )
    except SelectionError as exc:
        raise HTTPException(400, str(exc)) from None


@router.get("/launchpad", response_model=LaunchpadOut, responses=guarded({400: BAD_TARGET}))
async def launchpad(
    selection: str | None = Query(default=None, description="Assets, as bh launch --assets"),
    asset_key: list[str] | None = Query(default=None, description="Explicit asset keys"),
    job: str | None = Query(default=None),
    location: str | None = Query(default=None, description="The job's code location"),
    dep: Deployment = Depends(deployment),
) -> LaunchpadOut:
    """What a launch of ``selection``, ``asset_key`` (repeatable) or ``job`` needs: config its
    assets require (with a scaffold from their ``Config`` schemas), and the partitions to pick
    from when some are partitioned."""

    def work() -> LaunchpadOut:
        target = _target(dep, selection, asset_key, job, location)
        needs = needs_of(dep.graph(), target, dynamic_keys=dep.instance.get_dynamic_partitions)
        return LaunchpadOut.of(needs)

    return await run_in_threadpool(work)


@router.post(
    "/launchpad/check",
    response_model=ConfigCheckOut,
    responses=guarded({400: BAD_TARGET}, changes=True),
)
async def check(body: ConfigCheckRequest, dep: Deployment = Depends(deployment)) -> ConfigCheckOut:
    """Check run config typed as YAML for a launch, without launching: whether it parses and
    fits the assets' ``Config`` schemas, each problem with its line."""

    def work() -> ConfigCheckOut:
        target = _target(dep, body.selection, body.asset_keys, body.job, body.job_location)
        checked = check_config(dep.graph(), target, body.config_yaml)
        return ConfigCheckOut(
            valid=checked.valid,
            problems=[ConfigProblemOut(message=p.message, line=p.line) for p in checked.problems],
            run_config=checked.run_config,
        )

    return await run_in_threadpool(work)
