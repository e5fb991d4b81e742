"""The Jinja environment the pages render with: templates, static URLs and display filters."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

import bakehouse
from bakehouse.graph.selection import QUOTE_LIMIT
from bakehouse.web import metadata_html

if TYPE_CHECKING:
    import jinja2

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# status -> (pill style, label). Styles: ok, info, bad, warn, muted.
PILLS: dict[str, tuple[str, str]] = {
    # locations
    "LOADED": ("ok", "Loaded"),
    "LOADED_WITH_ERRORS": ("warn", "Loaded with errors"),
    "LOADING": ("info", "Loading"),
    "FAILED": ("bad", "Failed"),
    # schedules and sensors (on/off), and their ticks
    "RUNNING": ("ok", "On"),
    "STOPPED": ("muted", "Off"),
    "SKIPPED": ("muted", "Skipped"),
    # runs
    "QUEUED": ("muted", "Queued"),
    "STARTING": ("info", "Starting"),
    "STARTED": ("info", "Running"),
    "SUCCESS": ("ok", "Succeeded"),
    "FAILURE": ("bad", "Failed"),
    "CANCELING": ("warn", "Canceling"),
    "CANCELED": ("muted", "Canceled"),
    # backfills (CANCELING, CANCELED and FAILED as above)
    "REQUESTED": ("info", "In progress"),
    "COMPLETED": ("ok", "Completed"),
    # step workers (`bh worker start`; STOPPED as above, labelled Stopped there)
    "LIVE": ("ok", "Live"),
    "LOST": ("bad", "Lost"),
    # a stored row that cannot be read (see `bh doctor`)
    "CORRUPT": ("bad", "Unreadable"),
    # assets
    "never": ("muted", "Never materialized"),
    "materialized": ("ok", "Materialized"),
    "failed": ("bad", "Failed"),
    "running": ("info", "Running"),
    "queued": ("muted", "Queued"),
}


def ago(ts: float | None, now: float | None = None) -> str:
    """How long ago `ts` was, in words ("just now", "3 min ago", "2 days ago"); a time to come
    reads "in 3 min" (a schedule's next tick)."""
    if ts is None:
        return "—"
    seconds = (time.time() if now is None else now) - ts
    if abs(seconds) < 10:
        return "just now"
    span = abs(seconds)
    if span < 60:
        words = f"{int(span)} s"
    elif span < 3600:
        words = f"{int(span / 60)} min"
    elif span < 86400:
        words = f"{int(span / 3600)} h"
    elif span < 30 * 86400:
        days = int(span / 86400)
        words = f"{days} day{'s' if days != 1 else ''}"
    else:
        return datetime.fromtimestamp(ts).strftime("%Y-%m-%d")
    return f"in {words}" if seconds < 0 else f"{words} ago"


def exact(ts: float | None) -> str:
    """The exact local time of `ts`, with its UTC offset."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def iso(ts: float | None) -> str:
    """`ts` as an ISO 8601 UTC string (for ``<time datetime>``)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def clock(ts: float | None) -> str:
    """The local time of day of `ts` with milliseconds, for event logs."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f")[:-3]


def duration(seconds: float | None) -> str:
    """A duration in the largest units that keep it short ("820 ms", "4.2 s", "3 min 5 s")."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def megabytes(value: int | None) -> str:
    """A byte count in MB (``182 MB``), or a dash."""
    return "—" if value is None else f"{value / 1_000_000:.0f} MB"


def reltime(ts: float | None) -> Markup:
    """A ``<time>``: `ts` relative to now, the exact time on hover; JS keeps it fresh."""
    if ts is None:
        return Markup('<span class="muted">—</span>')
    return Markup('<time datetime="{}" data-ts="{}" title="{}">{}</time>').format(
        iso(ts), f"{ts:.3f}", exact(ts), ago(ts)
    )


def pill(status: str | None, label: str | None = None) -> Markup:
    """A status pill for a location, run or asset status."""
    style, default = PILLS.get(status or "", ("muted", status or "Unknown"))
    return Markup('<span class="pill pill-{}" data-status="{}">{}</span>').format(
        style, status or "", label or default
    )


def tojson_script(value: Any) -> Markup:
    """`value` as JSON safe to embed in a ``<script type="application/json">``."""
    text = json.dumps(value, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _static_versions() -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        for path in STATIC.iterdir()
        if path.is_file()
    }


@cache
def _environment() -> jinja2.Environment:
    # Built on the first render rather than at import: importing jinja2 and hashing the static
    # files cost ~20 ms of the server's start-up.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    versions = _static_versions()
    env.globals["static"] = lambda name: f"/static/{name}?v={versions.get(name, '0')}"
    env.globals["pill"] = pill
    env.globals["asset_url"] = asset_url
    env.globals["automation_url"] = automation_url
    env.globals["reltime"] = reltime
    env.globals["meta_value"] = metadata_html.render_value
    env.globals["meta_summary"] = metadata_html.summary
    env.filters["ago"] = ago
    env.filters["exact"] = exact
    env.filters["clock"] = clock
    env.filters["duration"] = duration
    env.filters["megabytes"] = megabytes
    env.filters["tojson_script"] = tojson_script
    return env


def asset_url(key: str) -> str:
    """The asset page of `key` (keys may hold slashes)."""
    return "/assets/" + quote(key, safe="/")


def automation_url(key: str) -> str:
    """The evaluation view of the automation condition of asset `key`."""
    return "/automation/conditions/" + quote(key, safe="/")


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render `template` with `context`, plus what the frame shows (failed locations, version)
    and what its forms need (the session's form token, see `web.csrf`)."""
    dep = request.app.state.deployment
    failed = sum(1 for s in dep.locations() if s.status.value == "FAILED")
    page = _environment().get_template(template)
    html = page.render(
        request=request,
        path=request.url.path,
        nav_failed=failed,
        version=bakehouse.__version__,
        csrf_token=getattr(request.state, "csrf_token", ""),
        token_name=getattr(request.state, "token_name", None),
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def problem(
    request: Request,
    *,
    status_code: int,
    title: str,
    hint: str,
    back: tuple[str, str],
    name: str = "",
    active: str = "",
    suggestions: Sequence[tuple[str, str]] = (),
) -> HTMLResponse:
    """A page saying what is missing or wrong (`title`, `name`), what to do (`hint`), where to go
    (`back`: URL and label) and, for a mistyped name, the closest ones (URL and label)."""
    if len(name) > QUOTE_LIMIT:  # a name from the URL: never echo more than this of it
        name = f"{name[:QUOTE_LIMIT]}… ({len(name)} characters)"
    return render(
        request,
        "problem.html",
        status_code=status_code,
        code=status_code,
        title=title,
        name=name,
        hint=hint,
        back=back,
        active=active,
        suggestions=list(suggestions),
    )
