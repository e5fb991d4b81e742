"""The lineage page with thousands of assets, in headless chromium over a real ``bh dev``: it
opens fitted on the whole graph at the coarsest level of detail (every node a block, too many
edges in view to stroke), and stays usable: zooming in brings keys, edges and statuses back,
and clicking, selecting and searching work on that many nodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.dev_server import DevServer, running_dev_server
from tests.support.projects import write_project, write_workspace

pytestmark = pytest.mark.slow

LAYERS = 10
WIDTH = 400
FAN_IN = 6  # 9 layers x 400 x 6 = 21,600 edges: past the page's budget of 20,000 in view
ASSETS = LAYERS * WIDTH


def _key(layer: int, i: int) -> str:
    return f"l{layer}_{i:03d}"


def _layer_module(layer: int) -> str:
    lines = ["import bakehouse as dg", ""]
    for i in range(WIDTH):
        deps = [_key(layer - 1, (i + j * 67) % WIDTH) for j in range(FAN_IN)] if layer else []
        lines += [
            "",
            f"@dg.asset(deps={deps!r}, group_name='layer_{layer % 3}')",
            f"def {_key(layer, i)}() -> int:",
            "    return 1",
            "",
        ]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("wide")
    files = {f"defs/layer_{layer}.py": _layer_module(layer) for layer in range(LAYERS)}
    write_project(root / "wide", "wide_lineage", files)
    write_workspace(root, ["wide"])
    with running_dev_server(root) as dev:
        yield dev


# The key of layer `layer` whose node is drawn nearest the middle of the canvas.
NEAREST_MIDDLE = f"""(layer) => {{
  const r = document.getElementById("lineage-canvas").getBoundingClientRect();
  let best = null, far = Infinity;
  for (let i = 0; i < {WIDTH}; i++) {{
    const key = "l" + layer + "_" + String(i).padStart(3, "0");
    const p = bhLineage.screenPoint(key);
    const d = Math.hypot(p.x - (r.left + r.width / 2), p.y - (r.top + r.height / 2));
    if (d < far) {{ far = d; best = key; }}
  }}
  return best;
}}"""


def _lod(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("bhLineage.lod()"))


def test_thousands_of_assets_open_whole_as_blocks_and_stay_usable(page: Any) -> None:
    page.goto("/lineage")
    page.wait_for_function(f"window.bhLineage && bhLineage.drawnNodes() === {ASSETS}")
    # Fitted on the whole graph: every node drawn, as a block, and no edge stroked.
    fitted = _lod(page)
    assert fitted["lod"] == 0, fitted
    assert fitted["overview"], fitted
    assert fitted["edges"] == 0
    assert page.evaluate("bhLineage.state('l9_399')") == "never"

    # A node can be clicked where its block is drawn; selecting it draws its edges. (The one
    # of layer 5 nearest the canvas' middle: the legend and zoom buttons cover its corners.)
    target = page.evaluate(NEAREST_MIDDLE, 5)
    parent = f"l4_{target.split('_')[1]}"  # its first dep: same index, the layer before
    point = page.evaluate(f"bhLineage.screenPoint('{target}')")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_function(
        f"bhLineage.selected.length === 1 && bhLineage.selected[0] === '{target}'"
    )
    page.wait_for_function(f"bhLineage.edgeDrawn('{parent}', '{target}')")
    assert _lod(page)["overview"]
    assert page.locator("#side-panel h2").inner_text() == target

    # Zooming in with the wheel over it brings the whole node back, with its edges.
    for _ in range(30):
        point = page.evaluate(f"bhLineage.screenPoint('{target}')")
        page.mouse.move(point["x"], point["y"])
        page.mouse.wheel(0, -400)
        page.wait_for_function("true")
        if _lod(page)["lod"] == 2:
            break
    close = _lod(page)
    assert close["lod"] == 2, close
    assert not close["overview"], close
    drawn = page.evaluate("bhLineage.drawnNodes()")
    assert 0 < drawn < ASSETS
    assert close["edges"] > 0

    # Search finds a node among thousands and centres on it.
    page.locator("#lineage-search").fill("l9_007")
    page.locator("#search-suggest button", has_text="l9_007").first.click()
    page.wait_for_function("bhLineage.selected[0] === 'l9_007'")
    page.wait_for_function(
        "(() => { const p = bhLineage.screenPoint('l9_007');"
        " const r = document.getElementById('lineage-canvas').getBoundingClientRect();"
        " return Math.abs(p.x - (r.left + r.width / 2)) < 5; })()"
    )

    # Fit again: the whole graph, every node.
    page.keyboard.press("Escape")
    page.locator("#zoom-fit").click()
    page.wait_for_function(f"bhLineage.drawnNodes() === {ASSETS}")
    assert _lod(page)["overview"]
