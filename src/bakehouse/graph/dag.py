"""A dependency graph over asset key strings: parents, children, order and cycles.

Iterative algorithms only: a 5,000-deep chain must not hit Python's recursion limit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class NodeInfo:
    """What selection needs to know of one asset; built from definitions or from snapshots."""

    key: str
    parents: tuple[str, ...] = ()
    group: str = "default"
    kinds: frozenset[str] = frozenset()
    tags: Mapping[str, str] = field(default_factory=dict)
    owners: tuple[str, ...] = ()
    location: str | None = None
    # External assets (AssetSpec, or a dep nobody defines) are shown but never executed.
    is_external: bool = False


class KeyGraph:
    """Nodes by key with their parent and child sets. Parents may name keys not in the graph."""

    def __init__(self, nodes: Iterable[NodeInfo]) -> None:
        self.nodes: dict[str, NodeInfo] = {n.key: n for n in nodes}
        self.children: dict[str, set[str]] = {k: set() for k in self.nodes}
        for node in self.nodes.values():
            for parent in node.parents:
                self.children.setdefault(parent, set()).add(node.key)

    def parents(self, key: str) -> tuple[str, ...]:
        """Direct upstream keys of `key`."""
        node = self.nodes.get(key)
        return node.parents if node else ()

    def upstream(self, keys: Iterable[str], depth: int | None = None) -> set[str]:
        """`keys` and everything upstream of them, up to `depth` levels (all when None)."""
        return self._walk(keys, self.parents, depth)

    def downstream(self, keys: Iterable[str], depth: int | None = None) -> set[str]:
        """`keys` and everything downstream of them, up to `depth` levels (all when None)."""
        return self._walk(keys, lambda k: tuple(self.children.get(k, ())), depth)

    @staticmethod
    def _walk(keys: Iterable[str], step: object, depth: int | None) -> set[str]:
        seen = set(keys)
        frontier = list(seen)
        level = 0
        neighbours = step  # a callable; typed loosely to keep both directions on one loop
        while frontier and (depth is None or level < depth):
            level += 1
            nxt: list[str] = []
            for key in frontier:
                for other in neighbours(key):  # type: ignore[operator]
                    if other not in seen:
                        seen.add(other)
                        nxt.append(other)
            frontier = nxt
        return seen

    def toposort(self, keys: Iterable[str] | None = None) -> list[str]:
        """`keys` (default: all nodes) in dependency order, ties broken by key for stability.

        Raises `ValueError` with the cycle's path if the subgraph has one.
        """
        wanted = set(self.nodes if keys is None else keys)
        indegree = {k: 0 for k in wanted}
        for key in wanted:
            for parent in self.parents(key):
                if parent in wanted:
                    indegree[key] += 1
        ready = deque(sorted(k for k, d in indegree.items() if d == 0))
        order: list[str] = []
        while ready:
            key = ready.popleft()
            order.append(key)
            released = []
            for child in self.children.get(key, ()):
                if child in indegree:
                    indegree[child] -= 1
                    if indegree[child] == 0:
                        released.append(child)
            ready.extend(sorted(released))
        if len(order) != len(wanted):
            raise ValueError(" -> ".join(self.find_cycle(wanted - set(order))))
        return order

    def find_cycle(self, among: Iterable[str] | None = None) -> list[str]:
        """One cycle among `among` (default: all nodes) as a list of keys, or [] if none."""
        candidates = set(self.nodes if among is None else among)
        color: dict[str, int] = {}  # 1 on the current path, 2 finished
        for start in sorted(candidates):
            if color.get(start):
                continue
            path: list[str] = []
            stack: list[tuple[str, list[str]]] = [
                (start, [p for p in self.parents(start) if p in candidates])
            ]
            color[start] = 1
            path.append(start)
            while stack:
                key, pending = stack[-1]
                if not pending:
                    stack.pop()
                    path.pop()
                    color[key] = 2
                    continue
                nxt = pending.pop()
                state = color.get(nxt)
                if state == 1:
                    # Walking parents, so the path runs downstream-to-upstream; flip it.
                    cycle = path[path.index(nxt) :]
                    return list(reversed(cycle))
                if state is None:
                    color[nxt] = 1
                    path.append(nxt)
                    stack.append((nxt, [p for p in self.parents(nxt) if p in candidates]))
        return []

    def levels(self) -> Mapping[str, int]:
        """Each node's depth: 0 for nodes without parents in the graph, else 1 + deepest parent."""
        depth: dict[str, int] = {}
        for key in self.toposort():
            ps = [depth[p] for p in self.parents(key) if p in depth]
            depth[key] = 1 + max(ps) if ps else 0
        return depth
