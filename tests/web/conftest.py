"""Fixtures for the page tests: `bh dev` as a real process, and Debian's chromium via Playwright."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class DevServer:
    """A running ``bh dev``: its URL, its process and the workspace it serves."""

    url: str
    process: subprocess.Popen[str]
    root: Path
    output: list[str]


def _descendants(pid: int) -> list[int]:
    """Every live process under `pid` (children, grandchildren, ...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current]
        found.extend(children)
        frontier.extend(children)
    return found


def start_bh_dev(root: Path, timeout: float = 60) -> DevServer:
    """Start ``bh dev --port 0 --no-reload`` in `root` and wait for the URL it prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bakehouse", "dev", "--port", "0", "--no-reload"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        match = re.search(r"Serving (http://127\.0\.0\.1:\d+)", line)
        if match:
            return DevServer(match.group(1), process, root, output)
    stop_bh_dev(DevServer("", process, root, output))
    raise AssertionError("bh dev did not print its URL:\n" + "".join(output))


def stop_bh_dev(server: DevServer) -> None:
    """SIGTERM ``bh dev``, wait for it, and make sure it left no process behind."""
    children = _descendants(server.process.pid)
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)
    if server.process.stdout is not None:
        server.process.stdout.close()
    deadline = time.monotonic() + 10
    left = children
    while left and time.monotonic() < deadline:
        left = [pid for pid in left if Path(f"/proc/{pid}").exists() and _alive(pid)]
        time.sleep(0.1)
    for pid in left:  # never leave orphans, even when the test already failed
        os.kill(pid, signal.SIGKILL)
    assert not left, f"bh dev left processes behind: {left}"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright; skipped when it is not installed."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Shots:
    """Screenshots of the pages: to ``docs/screenshots`` with ``UPDATE_SCREENSHOTS=1``, else to
    a temporary folder (taking them still checks that every page renders)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def take(self, page: Any, name: str) -> Path:
        """Save what `page` shows as ``NAME.png``."""
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path))
        return path


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Shots:
    """Where page screenshots go."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        return Shots(SCREENSHOTS)
    return Shots(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture
def page(browser: Any, server: DevServer) -> Iterator[Any]:
    """A chromium tab on the module's `server` (each page test module defines `server`); the
    test fails if a script on the page raised."""
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1440, "height": 900}, locale="en-GB"
    )
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    assert not errors, f"scripts failed on the page: {errors}"


def select_in_lineage(page: Any, *keys: str) -> None:
    """Click the first asset on the lineage canvas, then shift-click the others."""
    for i, key in enumerate(keys):
        point = page.evaluate(f"bhLineage.screenPoint('{key}')")
        if i:
            page.keyboard.down("Shift")
        page.mouse.click(point["x"], point["y"])
        if i:
            page.keyboard.up("Shift")


def other_host_requests(page: Any, server: DevServer, path: str) -> list[str]:
    """Open `path` and return the URLs it requested from any host but `server` (checking it
    requested its page, stylesheet and scripts at all)."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(path)
    page.wait_for_load_state("load")
    assert len(requested) >= 3  # the page, its stylesheet and its scripts
    return [u for u in requested if not u.startswith(server.url + "/")]


def playwright_expect() -> Any:
    """Playwright's `expect`, waiting up to 20 s."""
    from playwright.sync_api import expect

    # Code servers and runs are real processes; a loaded machine needs more than 5 s.
    expect.set_options(timeout=20_000)
    return expect
