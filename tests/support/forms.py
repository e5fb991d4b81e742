"""Posting the server's page forms from a test as a browser on the same origin does: with the
page's ``Origin`` and the form token of the session (cookie plus hidden field)."""

from __future__ import annotations

import re

import httpx

_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def browser_client(url: str) -> httpx.Client:
    """An httpx client on `url` that says it comes from `url`'s own pages and keeps cookies."""
    return httpx.Client(base_url=url, headers={"Origin": url}, timeout=60)


def form_token(http: httpx.Client, page: str = "/locations") -> str:
    """Open `page` (keeping its cookies in `http`) and read the form token its forms carry."""
    response = http.get(page)
    response.raise_for_status()
    match = _FIELD.search(response.text)
    assert match, f"{page} has no form with a csrf_token field"
    return match.group(1)
