"""The Jobs page (every job, what targets it, its last run) and a job's page (its asset graph,
its runs, Launch through the launchpad)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from bakehouse.host import config_yaml
from bakehouse.host.deployment import Deployment
from bakehouse.storage.records import CorruptRecord
from bakehouse.web.api_graph import views
from bakehouse.web.api_jobs import all_jobs, find_job
from bakehouse.web.deps import deployment
from bakehouse.web.graph_view import GraphViews
from bakehouse.web.page_runs import launched_by, locations_of
from bakehouse.web.templating import problem, render

router = APIRouter(include_in_schema=False)


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request, part: str | None = None, dep: Deployment = Depends(deployment)
) -> HTMLResponse:
    """Every job of the serving locations; ``?part=rows`` is the table body alone (live)."""
    context: dict[str, Any] = {
        "jobs": [found.out() for found in all_jobs(dep)],
        "failed": [s.name for s in dep.locations() if s.snapshot is None and s.error is not None],
    }
    if part == "rows":
        return render(request, "_job_rows.html", **context)
    return render(request, "jobs.html", active="jobs", **context)


@router.get("/jobs/{location}/{name}", response_class=HTMLResponse)
async def job_page(
    request: Request,
    location: str,
    name: str,
    part: str | None = None,
    dep: Deployment = Depends(deployment),
    graphs: GraphViews = Depends(views),
) -> Response:
    """One job: its asset graph (drawn as the lineage is), its runs and its Launch button;
    ``?part=runs`` is the runs table body alone (live)."""
    found = await run_in_threadpool(find_job, dep, location, name)
    if found is None:
        return problem(
            request,
            status_code=404,
            title="No job",
            name=f"{location}/{name}",
            hint="No serving code location defines this job. A job of a location that failed "
            "to load is missing until it loads again.",
            back=("/jobs", "the jobs"),
            active="jobs",
        )
    job = found.detail()
    context: dict[str, Any] = {
        "job": job,
        "runs": found.runs,
        "corrupt": lambda row: isinstance(row, CorruptRecord),
        "launched_by": launched_by,
        "locations_of": locations_of,
        "any_runs": bool(found.runs),
    }
    if part == "runs":
        return render(request, "_run_rows.html", **context)
    _, graph = await run_in_threadpool(graphs.graph)
    keys = [k for k in job.asset_keys if k in graph.assets]
    data = await run_in_threadpool(graphs.view, keys) if keys else None
    return render(
        request,
        "job.html",
        active="jobs",
        graph=data,
        selection=" or ".join(f'key:"{k}"' for k in keys),
        default_config=config_yaml.dump(job.run_config),
        target={"job": job.name, "job_location": job.location},
        **context,
    )
