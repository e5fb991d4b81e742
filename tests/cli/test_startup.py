"""`bh --help` stays fast: no user code, no SQLAlchemy, no authoring API on its path."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

PROBE = """
import sys
from bakehouse.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"sqlalchemy", "pydantic", "rich"}
               or m.startswith(("bakehouse.authoring", "bakehouse.execution", "bakehouse.storage")))
print("HEAVY:" + ",".join(heavy))
"""


def test_help_imports_nothing_heavy() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert "bakehouse: write data assets" in result.stdout
    assert "HEAVY:\n" in result.stdout or result.stdout.rstrip().endswith("HEAVY:"), result.stdout
    for command in ("check", "launch", "list", "runs"):
        assert command in result.stdout
