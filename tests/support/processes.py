"""The processes a test started, read from /proc: what lives under a pid, and whether it lives."""

from __future__ import annotations

from pathlib import Path


def _state_and_parent(pid_dir: Path) -> tuple[str, int] | None:
    try:
        stat = (pid_dir / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name, in brackets, may hold spaces
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not count)."""
    found = _state_and_parent(Path(f"/proc/{pid}"))
    return found is not None and found[0] != "Z"


def descendants(pid: int) -> list[int]:
    """Every live process under `pid` (children, grandchildren, ...)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            found = _state_and_parent(entry)
            if found is not None and found[0] != "Z":
                parents[int(entry.name)] = found[1]
    result: list[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current]
        result.extend(children)
        frontier.extend(children)
    return result
