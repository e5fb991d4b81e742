"""Metadata values (``{"type", "value"}``) as safe HTML: markdown, tables, JSON, links, paths."""

from __future__ import annotations

import json
import math
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from markupsafe import Markup

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

SUMMARY_ITEMS = 3
SUMMARY_CHARS = 48


@cache
def _markdown_parser() -> MarkdownIt:
    # CommonMark with tables; raw HTML in the source is escaped, and markdown-it refuses
    # javascript:, vbscript:, file: and data: links. Built on first use: importing markdown-it
    # costs ~17 ms of the server's start-up, and most pages show no markdown.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown(text: str) -> Markup:
    """`text` rendered as CommonMark (with tables); never passes raw HTML through."""
    return Markup('<div class="md">{}</div>').format(Markup(_markdown_parser().render(text)))


def _is_web_url(text: str) -> bool:
    try:
        return urlsplit(text).scheme in ("http", "https")
    except ValueError:
        return False


def _table(value: Any) -> Markup:
    if not isinstance(value, dict):
        return _json(value)
    columns = [c.get("name", "") for c in value.get("columns", []) if isinstance(c, dict)]
    types = {c.get("name", ""): c.get("type", "") for c in value.get("columns", [])}
    records = value.get("records", [])
    head = Markup("").join(
        Markup('<th title="{}">{}</th>').format(types.get(name, ""), name) for name in columns
    )
    rows = Markup("").join(
        Markup("<tr>{}</tr>").format(
            Markup("").join(
                Markup("<td>{}</td>").format(_cell(r.get(name) if isinstance(r, dict) else None))
                for name in columns
            )
        )
        for r in records
    )
    if not records:
        rows = Markup('<tr><td class="muted" colspan="{}">No rows</td></tr>').format(
            max(len(columns), 1)
        )
    return Markup(
        '<div class="table-scroll"><table class="meta-table"><thead><tr>{}</tr></thead>'
        "<tbody>{}</tbody></table></div>"
    ).format(head, rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _schema(value: Any) -> Markup:
    columns = value.get("columns", []) if isinstance(value, dict) else []
    rows = Markup("").join(
        Markup("<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>").format(
            c.get("name", ""), c.get("type", ""), c.get("description") or ""
        )
        for c in columns
        if isinstance(c, dict)
    )
    return Markup(
        '<div class="table-scroll"><table class="meta-table"><thead><tr><th>Column</th>'
        "<th>Type</th><th>Description</th></tr></thead><tbody>{}</tbody></table></div>"
    ).format(rows)


def _json(value: Any) -> Markup:
    return Markup('<pre class="code json">{}</pre>').format(
        json.dumps(value, indent=2, sort_keys=True, default=str)
    )


def _timestamp(value: Any) -> Markup:
    try:
        ts = float(value)
        text = datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    except (TypeError, ValueError, OverflowError, OSError):
        return Markup("{}").format(value)
    return Markup('<time data-ts="{}">{}</time>').format(f"{ts:.3f}", text)


def render_value(entry: Any) -> Markup:
    """One metadata value as HTML, by its type; unknown shapes are shown as JSON."""
    if not isinstance(entry, dict) or "type" not in entry:
        return _json(entry)
    kind, value = entry.get("type"), entry.get("value")
    if kind == "md":
        return markdown(str(value))
    if kind == "table":
        return _table(value)
    if kind == "table_schema":
        return _schema(value)
    if kind == "json":
        return _json(value)
    if kind == "url":
        text = str(value)
        if _is_web_url(text):
            return Markup('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>').format(
                text, text
            )
        return Markup("<span>{}</span>").format(text)
    if kind in ("path", "notebook"):
        return Markup('<code class="path">{}</code>').format(value)
    if kind == "dagster_run":
        return Markup('<a href="/runs/{}"><code>{}</code></a>').format(value, value)
    if kind == "asset":
        return Markup('<a href="/assets/{}">{}</a>').format(value, value)
    if kind == "null" or value is None:
        return Markup('<span class="muted">null</span>')
    if kind == "timestamp":
        return _timestamp(value)
    if kind == "float" and isinstance(value, float) and math.isfinite(value):
        return Markup('<span class="num">{}</span>').format(f"{value:,.6g}")
    if kind in ("int", "float"):
        text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
        return Markup('<span class="num">{}</span>').format(text)
    if kind == "bool":
        return Markup('<span class="num">{}</span>').format("true" if value else "false")
    if kind == "text":
        return Markup('<span class="text">{}</span>').format(value)
    return _json(value)


def _short(entry: Any) -> str:
    if not isinstance(entry, dict):
        return str(entry)
    kind, value = entry.get("type"), entry.get("value")
    if kind == "table" and isinstance(value, dict):
        return f"table, {len(value.get('records', []))} rows"
    if kind in ("json", "table_schema"):
        text = json.dumps(value, default=str)
    elif kind == "md":
        text = " ".join(str(value).split())
    else:
        text = str(value)
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def summary(metadata: dict[str, Any] | None) -> Markup:
    """The first few labels and short values of `metadata`, for a history row."""
    if not metadata:
        return Markup('<span class="muted">no metadata</span>')
    items = list(metadata.items())
    parts = [
        Markup('<span class="kv"><span class="k">{}</span> {}</span>').format(k, _short(v))
        for k, v in items[:SUMMARY_ITEMS]
    ]
    more = len(items) - SUMMARY_ITEMS
    if more > 0:
        parts.append(Markup('<span class="muted">+{} more</span>').format(more))
    return Markup(" ").join(parts)
