"""A left-to-right layered layout of the asset graph, boxed by location and group, for the UI.

Longest-path layering (a node sits one column right of its furthest-right parent), nodes kept in
one lane per (location, group), lanes and locations packed into rows where their column ranges do
not overlap, then barycenter sweeps order each lane's column to reduce crossings, and a last pass
pulls every node towards its parents' height so chains run straight. Every pass is linear in
nodes + edges (plus sorting inside a column), so 5,000 assets lay out in a fraction of a second.
Coordinates are in pixels at zoom 1; the page draws them on a canvas.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

NODE_WIDTH = 240.0
NODE_HEIGHT = 56.0
COLUMN_PITCH = NODE_WIDTH + 96.0  # node width plus the gap where edges run
ROW_PITCH = NODE_HEIGHT + 16.0
LANE_HEADER = 30.0
LANE_PAD = 12.0
LANE_GAP = 16.0
LOCATION_HEADER = 36.0
LOCATION_PAD = 14.0
LOCATION_GAP = 40.0
SWEEPS = 3


@dataclass(frozen=True)
class NodeSpec:
    """What the layout needs of one asset: its key, where it lives and its parents' keys."""

    key: str
    location: str | None
    group: str
    parents: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlacedNode:
    """A node's top-left corner and its column."""

    key: str
    location: str | None
    group: str
    layer: int
    x: float
    y: float


@dataclass(frozen=True)
class Box:
    """A labelled rectangle: a location, or a group inside a location (a lane)."""

    location: str | None
    group: str | None
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class GraphLayout:
    """Placed nodes, edges as (parent index, child index), lane and location boxes, and size."""

    nodes: list[PlacedNode]
    edges: list[tuple[int, int]]
    lanes: list[Box]
    locations: list[Box]
    width: float
    height: float

    def to_json(self) -> dict[str, Any]:
        """The plain-data form the lineage page reads."""
        return {
            "node_width": NODE_WIDTH,
            "node_height": NODE_HEIGHT,
            "width": self.width,
            "height": self.height,
            "nodes": [
                {"key": n.key, "location": n.location, "group": n.group, "x": n.x, "y": n.y}
                for n in self.nodes
            ],
            "edges": self.edges,
            "lanes": [_box_json(b) for b in self.lanes],
            "locations": [_box_json(b) for b in self.locations],
        }


def _box_json(box: Box) -> dict[str, Any]:
    return {
        "location": box.location,
        "group": box.group,
        "x": box.x,
        "y": box.y,
        "width": box.width,
        "height": box.height,
    }


def layout_graph(specs: Iterable[NodeSpec]) -> GraphLayout:
    """Lay out `specs` (parents outside `specs` are ignored; a cycle is broken, not refused)."""
    nodes = list(specs)
    index = {n.key: i for i, n in enumerate(nodes)}
    parents = [[index[p] for p in dict.fromkeys(n.parents) if p in index] for n in nodes]
    children: list[list[int]] = [[] for _ in nodes]
    for child, ps in enumerate(parents):
        for parent in ps:
            children[parent].append(child)
    edges = [(p, c) for c, ps in enumerate(parents) for p in ps]

    layer = _layers(parents, children)
    lane_of, lane_keys = _lanes(nodes)
    cells = _cells(len(lane_keys), layer, lane_of, nodes)
    heights = [max((len(c) for c in cells[lane].values()), default=1) for lane in range(len(cells))]
    lane_boxes, location_boxes = _pack(lane_keys, cells, heights)

    # Row of each node inside its lane, as a float; y follows from it and the lane's top.
    row = [0.0] * len(nodes)
    for columns in cells:
        for members in columns.values():
            members.sort(key=lambda i: nodes[i].key)
            for r, i in enumerate(members):
                row[i] = float(r)

    def global_y(i: int) -> float:
        return lane_boxes[lane_of[i]].y + LANE_HEADER + row[i] * ROW_PITCH

    by_layer: dict[int, list[tuple[int, list[int]]]] = {}
    for lane, columns in enumerate(cells):
        for col, members in columns.items():
            by_layer.setdefault(col, []).append((lane, members))
    order = sorted(by_layer)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        neighbours = parents if down else children
        for col in order if down else reversed(order):
            for _lane, members in by_layer[col]:
                _reorder(members, neighbours, global_y)
                for r, i in enumerate(members):
                    row[i] = float(r)
    # Straighten: pull each node towards its parents (columns left to right), keeping order.
    for col in order:
        for lane, members in by_layer[col]:
            top = lane_boxes[lane].y + LANE_HEADER
            wanted = []
            for i in members:
                ps = parents[i] or children[i]
                if ps:
                    wanted.append((sum(global_y(p) for p in ps) / len(ps) - top) / ROW_PITCH)
                else:
                    wanted.append(row[i])
            for r, y in enumerate(_spread(wanted, heights[lane])):
                row[members[r]] = y

    placed = [
        PlacedNode(
            key=n.key,
            location=n.location,
            group=n.group,
            layer=layer[i],
            x=layer[i] * COLUMN_PITCH + LOCATION_PAD + LANE_PAD,
            y=global_y(i),
        )
        for i, n in enumerate(nodes)
    ]
    width = max((b.x + b.width for b in location_boxes), default=0.0)
    height = max((b.y + b.height for b in location_boxes), default=0.0)
    return GraphLayout(placed, edges, lane_boxes, location_boxes, width, height)


def _layers(parents: list[list[int]], children: list[list[int]]) -> list[int]:
    """Longest path from a source, by Kahn's order; nodes on a cycle go right of the rest."""
    indegree = [len(ps) for ps in parents]
    layer = [0] * len(parents)
    ready = deque(i for i, d in enumerate(indegree) if d == 0)
    seen = 0
    while ready:
        i = ready.popleft()
        seen += 1
        for c in children[i]:
            layer[c] = max(layer[c], layer[i] + 1)
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    if seen < len(parents):
        last = max(layer, default=0) + 1
        for i, d in enumerate(indegree):
            if d > 0:
                layer[i] = last
    return layer


def _lanes(nodes: Sequence[NodeSpec]) -> tuple[list[int], list[tuple[str | None, str]]]:
    """Each node's lane index, and the (location, group) of each lane."""
    lanes: dict[tuple[str | None, str], int] = {}
    lane_of = []
    for n in nodes:
        lane_of.append(lanes.setdefault((n.location, n.group), len(lanes)))
    return lane_of, list(lanes)


def _cells(
    count: int, layer: list[int], lane_of: list[int], nodes: Sequence[NodeSpec]
) -> list[dict[int, list[int]]]:
    """For each lane, its columns: layer to the node indices in it."""
    cells: list[dict[int, list[int]]] = [{} for _ in range(count)]
    for i in range(len(nodes)):
        cells[lane_of[i]].setdefault(layer[i], []).append(i)
    return cells


def _pack_rows(spans: list[tuple[int, int, int]]) -> list[list[int]]:
    """Greedy interval packing: items (first, last, id) share a row when their spans are apart."""
    rows: list[list[int]] = []
    ends: list[int] = []
    for first, last, item in sorted(spans):
        for r, end in enumerate(ends):
            if end < first:
                rows[r].append(item)
                ends[r] = last
                break
        else:
            rows.append([item])
            ends.append(last)
    return rows


def _pack(
    lane_keys: list[tuple[str | None, str]],
    cells: list[dict[int, list[int]]],
    heights: list[int],
) -> tuple[list[Box], list[Box]]:
    """Lane and location boxes: lanes packed into rows inside a location, locations into rows."""
    spans = [(min(c), max(c)) for c in cells]
    by_location: dict[str | None, list[int]] = {}
    for lane, (location, _group) in enumerate(lane_keys):
        by_location.setdefault(location, []).append(lane)

    # Each location's lanes in rows (offsets relative to the location's top-left).
    relative: dict[int, tuple[float, float, float, float]] = {}
    location_size: dict[str | None, tuple[int, int, float]] = {}
    for location, lanes in by_location.items():
        first = min(spans[lane][0] for lane in lanes)
        last = max(spans[lane][1] for lane in lanes)
        rows = _pack_rows([(spans[lane][0], spans[lane][1], lane) for lane in lanes])
        y = LOCATION_HEADER
        for members in rows:
            tallest = 0.0
            for lane in members:
                height = LANE_HEADER + heights[lane] * ROW_PITCH - (ROW_PITCH - NODE_HEIGHT)
                height += LANE_PAD
                x = LOCATION_PAD + (spans[lane][0] - first) * COLUMN_PITCH
                columns = spans[lane][1] - spans[lane][0]
                width = columns * COLUMN_PITCH + NODE_WIDTH + 2 * LANE_PAD
                relative[lane] = (x, y, width, height)
                tallest = max(tallest, height)
            y += tallest + LANE_GAP
        location_size[location] = (first, last, y - LANE_GAP + LOCATION_PAD)

    # Locations in rows by their column span; a location without a name (undefined keys) last.
    named = sorted(loc for loc in by_location if loc is not None)
    location_rows = _pack_rows(
        [(location_size[loc][0], location_size[loc][1], i) for i, loc in enumerate(named)]
    )
    ordered_rows: list[list[str | None]] = [[named[i] for i in row] for row in location_rows]
    if None in by_location:
        ordered_rows.append([None])

    lane_boxes: list[Box | None] = [None] * len(lane_keys)
    location_boxes: list[Box] = []
    top = 0.0
    for in_row in ordered_rows:
        tallest = 0.0
        for name in in_row:
            first, last, height = location_size[name]
            left = first * COLUMN_PITCH
            width = (last - first) * COLUMN_PITCH + NODE_WIDTH + 2 * (LANE_PAD + LOCATION_PAD)
            location_boxes.append(Box(name, None, left, top, width, height))
            for lane in by_location[name]:
                x, y, w, h = relative[lane]
                lane_boxes[lane] = Box(name, lane_keys[lane][1], left + x, top + y, w, h)
            tallest = max(tallest, height)
        top += tallest + LOCATION_GAP
    return [b for b in lane_boxes if b is not None], location_boxes


def _reorder(
    members: list[int], neighbours: list[list[int]], position: Callable[[int], float]
) -> None:
    """Sort a column's nodes by the mean height of their neighbours (barycenter); stable.

    A node without neighbours on that side keeps its own height as its sort key.
    """
    if len(members) < 2:
        return
    keyed = []
    for r, i in enumerate(members):
        ns = neighbours[i]
        bary = sum(position(n) for n in ns) / len(ns) if ns else position(i)
        keyed.append((bary, r, i))
    keyed.sort()
    members[:] = [i for _, _, i in keyed]


def _spread(wanted: list[float], height: int) -> list[float]:
    """Rows as close to `wanted` as order and one-row spacing allow, inside [0, height - 1]."""
    count = len(wanted)
    out: list[float] = []
    previous = -1.0
    for r, w in enumerate(wanted):
        low, high = float(r), float(height - count + r)
        y = max(min(max(w, low), high), previous + 1.0)
        out.append(y)
        previous = y
    return out
