"""The asset catalog with thousands of assets, in headless chromium over a real ``bh dev``: the
table holds only a window of rows around the viewport, yet scrolling reaches every asset, the
count and search cover them all, sorts order the whole list, Tab walks on past the window, and
a live refresh keeps the scroll position.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.support.dev_server import DevServer, running_dev_server
from tests.support.projects import write_project, write_workspace
from tests.web.conftest import playwright_expect as _expect

pytestmark = pytest.mark.slow

ASSETS = 3000
PER_FILE = 50
KEYS = [f"a{i:05d}" for i in range(ASSETS)]
# The most rows the table may hold at 1440x900: a screen of 37 px rows and the rows drawn
# beyond each edge of it, far fewer than the assets.
WINDOW_MAX = 120


def _module(start: int) -> str:
    lines = ["import bakehouse as dg", ""]
    for i in range(start, start + PER_FILE):
        # Groups out of key order, so that a sort by group reorders the whole list.
        kinds = ', kinds={"python"}' if i % 3 == 0 else ""
        lines += [
            "",
            f'@dg.asset(group_name="g{(i * 7) % 5}"{kinds})',
            f"def {KEYS[i]}() -> None:",
            "    return None",
            "",
        ]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("big_catalog")
    files = {f"defs/assets_{n:03d}.py": _module(n * PER_FILE) for n in range(ASSETS // PER_FILE)}
    write_project(root / "big", "big_catalog", files)
    write_workspace(root, ["big"])
    with running_dev_server(root) as dev:
        yield dev


def _catalog(page: Any, query: str = "") -> None:
    page.goto("/assets" + query)
    page.wait_for_selector("body[data-catalog=ready]", state="attached")


def _rendered(page: Any) -> list[str]:
    """The keys of the rows in the table, checked to be consecutive rows of the whole list
    from where the window starts, numbered for screen readers (the header is row 1)."""
    keys = page.evaluate("bhCatalog.shownKeys()")
    start = page.evaluate("bhCatalog.renderedFrom()")
    rows = page.locator("#catalog-body tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.key, Number(r.getAttribute('aria-rowindex'))])"
    )
    assert [k for k, _ in rows] == keys[start : start + len(rows)]
    assert [i for _, i in rows] == list(range(start + 2, start + 2 + len(rows)))
    return [k for k, _ in rows]


def _in_view(page: Any, key: str) -> bool:
    """Whether the row of `key` is drawn and inside the viewport (to a pixel: scrolling to a
    row's offset may leave it a fraction of one above)."""
    return bool(
        page.evaluate(
            """(key) => {
              const row = [...document.querySelectorAll('#catalog-body tr')]
                .find((r) => r.dataset.key === key);
              if (!row) return false;
              const box = row.getBoundingClientRect();
              return box.top > -1 && box.bottom < window.innerHeight + 1;
            }""",
            key,
        )
    )


def _scroll_to_bottom(page: Any) -> None:
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")


def _api_keys(http: httpx.Client, **params: str) -> list[str]:
    response = http.get("/api/assets", params={**params, "limit": "10000"})
    assert response.status_code == 200, response.text
    return [a["key"] for a in response.json()]


def test_the_table_holds_a_window_and_scrolling_reaches_the_last_asset(page: Any) -> None:
    expect = _expect()
    _catalog(page)
    expect(page.locator("#catalog-count")).to_have_text("3,000 assets")
    assert page.evaluate("bhCatalog.shownKeys().length") == ASSETS
    assert page.locator("#catalog").get_attribute("aria-rowcount") == str(ASSETS + 1)
    rendered = _rendered(page)
    assert 10 < len(rendered) <= WINDOW_MAX
    assert rendered[0] == KEYS[0]
    assert _in_view(page, KEYS[0])
    # The scrollbar is that of every row: the page is as tall as all of them.
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height >= ASSETS * page.evaluate("bhCatalog.rowHeight()")

    _scroll_to_bottom(page)
    page.wait_for_function(f"bhCatalog.renderedFrom() > {ASSETS - WINDOW_MAX}")
    page.wait_for_function(
        "(key) => [...document.querySelectorAll('#catalog-body tr')]"
        ".some((r) => r.dataset.key === key)",
        arg=KEYS[-1],
    )
    assert _in_view(page, KEYS[-1])
    rendered = _rendered(page)
    assert rendered[-1] == KEYS[-1]
    assert len(rendered) <= WINDOW_MAX

    # The middle of the list: the row at 1,500 rows down is there, where it should be.
    page.evaluate(
        "(i) => window.scrollTo(0, document.getElementById('catalog-body')"
        ".getBoundingClientRect().top + window.scrollY + i * bhCatalog.rowHeight())",
        1500,
    )
    page.wait_for_function(
        "(key) => [...document.querySelectorAll('#catalog-body tr')]"
        ".some((r) => r.dataset.key === key)",
        arg=KEYS[1500],
    )
    assert _in_view(page, KEYS[1500])
    assert len(_rendered(page)) <= WINDOW_MAX


def test_search_finds_one_asset_from_anywhere_in_the_list(page: Any) -> None:
    expect = _expect()
    _catalog(page)
    _scroll_to_bottom(page)  # the list shrinks under a scroll position far down
    page.wait_for_function(f"bhCatalog.renderedFrom() > {ASSETS - WINDOW_MAX}")
    page.fill("#catalog-search", "a01234")
    expect(page.locator("#catalog-count")).to_have_text("1 of 3,000 assets")
    expect(page.locator("#catalog-body tr")).to_have_count(1)
    assert _rendered(page) == ["a01234"]
    assert _in_view(page, "a01234")
    assert page.locator("#catalog").get_attribute("aria-rowcount") == "2"
    assert page.url.endswith("/assets?q=a01234")
    # Cleared: every asset again, drawn where the page is scrolled to.
    page.fill("#catalog-search", "")
    expect(page.locator("#catalog-count")).to_have_text("3,000 assets")
    assert len(_rendered(page)) <= WINDOW_MAX


def test_sorts_order_the_whole_list_not_the_window(page: Any, server: DevServer) -> None:
    expect = _expect()
    _catalog(page)
    page.click("button[data-sort=key]")  # descending
    expect(page.locator("#catalog-body tr").first).to_have_attribute("data-key", KEYS[-1])
    assert page.evaluate("bhCatalog.shownKeys()") == KEYS[::-1]
    _scroll_to_bottom(page)
    page.wait_for_function(
        "(key) => [...document.querySelectorAll('#catalog-body tr')]"
        ".some((r) => r.dataset.key === key)",
        arg=KEYS[0],
    )
    assert _in_view(page, KEYS[0])
    assert _rendered(page)[-1] == KEYS[0]
    with server.http() as http:
        for query in ({"sort": "group"}, {"sort": "-group", "kind": "python"}):
            _catalog(page, "?" + urlencode(query))
            shown = page.evaluate("bhCatalog.shownKeys()")
            assert shown == _api_keys(http, **query), query
            assert _rendered(page) == shown[: len(_rendered(page))]


def test_tab_walks_through_rows_past_the_first_window(page: Any) -> None:
    _catalog(page)
    page.locator("#catalog-body tr").first.locator("a").first.focus()
    focused = (
        "document.activeElement.closest('tr') && document.activeElement.closest('tr').dataset.key"
    )
    # Each row has one link (nothing is materialized): Tab goes down one row at a time, the
    # window redrawn under the focus as the browser scrolls it into view.
    for i in range(1, 160):
        page.keyboard.press("Tab")
        page.wait_for_function(f"({focused}) === '{KEYS[i]}'")
    assert page.evaluate("bhCatalog.renderedFrom()") > 0
    assert _in_view(page, KEYS[159])


def test_a_live_refresh_keeps_the_scroll_position(page: Any, server: DevServer) -> None:
    expect = _expect()
    _catalog(page)
    target = KEYS[2000]
    page.evaluate(
        "(i) => window.scrollTo(0, document.getElementById('catalog-body')"
        ".getBoundingClientRect().top + window.scrollY + i * bhCatalog.rowHeight())",
        2000,
    )
    page.wait_for_function("(key) => bhCatalog.renderedFrom() > 1900", arg=target)
    row = page.locator(f"#catalog-body tr[data-key={target}]")
    expect(row.locator(".pill")).to_have_text("Never")
    scrolled = page.evaluate("window.scrollY")
    with server.http() as http:
        created = http.post("/api/runs", json={"asset_keys": [target]})
        assert created.status_code == 201, created.text
        server.wait_finished(created.json()["run_id"])
    # The page reads its rows again on the materialization, and stays where it was.
    expect(row.locator(".pill")).to_have_text("Materialized")
    assert page.evaluate("window.scrollY") == scrolled
    assert _in_view(page, target)
