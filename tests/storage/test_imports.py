"""The storage package imports nothing above it: host processes must be able to use it alone."""

from __future__ import annotations

import ast
from pathlib import Path

import bakehouse.storage

FORBIDDEN = (
    "bakehouse.definitions",
    "bakehouse.execution",
    "bakehouse.codeserver",
    "bakehouse.host",
    "bakehouse.web",
    "bakehouse.cli",
    "bakehouse.daemon",
)
# protocol is shared ground as storage is (the import contracts in pyproject.toml): a reload's
# record keeps the snapshot's own module errors.
ALLOWED_BAKEHOUSE = (
    "bakehouse.errors",
    "bakehouse.serdes",
    "bakehouse.storage",
    "bakehouse.protocol",
)


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_storage_imports_only_shared_ground_from_bakehouse() -> None:
    package = Path(bakehouse.storage.__file__).parent
    sources = sorted(package.rglob("*.py"))
    assert len(sources) > 5
    offending = [
        f"{path.relative_to(package)}: {name}"
        for path in sources
        for name in _imports(path)
        if (name == "bakehouse" or name.startswith("bakehouse."))
        and not name.startswith(ALLOWED_BAKEHOUSE)
    ]
    assert offending == []
    assert not any(name.startswith(FORBIDDEN) for name in ALLOWED_BAKEHOUSE)
