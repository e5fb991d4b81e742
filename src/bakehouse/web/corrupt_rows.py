"""What a request that needs one unreadable stored row answers: a 409 naming the row and why,
as JSON under ``/api`` and as a page elsewhere, never a 500. Lists skip and mark such rows
themselves; this is for the routes that need the row itself (a run's page, a backfill's)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bakehouse.errors import CorruptRecordError
from bakehouse.web.templating import problem

_HINT = (
    "The stored row cannot be read back ({reason}). Nothing else is affected. "
    "`bh doctor` lists every such row; `bh doctor --move-aside` keeps them whole in the "
    "quarantined_rows table and out of the way."
)


# Where a page that needs the row sends people back to: the list that row belongs to.
_BACK = {
    "backfills": ("/backfills", "Backfills"),
    "ticks": ("/automation", "Automation"),
    "instigators": ("/automation", "Automation"),
}


async def corrupt_row(request: Request, exc: Exception) -> Response:
    """The answer to a `CorruptRecordError` raised while handling `request`."""
    assert isinstance(exc, CorruptRecordError)
    if request.url.path.startswith("/api/"):
        return JSONResponse(
            {"detail": str(exc), "corrupt": True, "table": exc.table, "key": exc.key},
            status_code=409,
        )
    return problem(
        request,
        status_code=409,
        title=f"This row of {exc.table} cannot be read",
        name=exc.key,
        hint=_HINT.format(reason=exc.reason),
        back=_BACK.get(exc.table, ("/runs", "Runs")),
    )


def install(app: FastAPI) -> None:
    """Answer `CorruptRecordError` in every route of `app` with `corrupt_row`."""
    app.add_exception_handler(CorruptRecordError, corrupt_row)
