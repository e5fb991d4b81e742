"""The layers hold: each import runs in a fresh interpreter and must not load what lies above it.

`import bakehouse` stays cheap (no pydantic, no SQLAlchemy, no authoring API), and host-side
modules never load the authoring API or the execution engine.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HOST_SIDE = [
    "bakehouse.cli",
    "bakehouse.cli.dev",
    "bakehouse.cli.launch",
    "bakehouse.cli.automation",
    "bakehouse.cli.migrate",
    "bakehouse.migrate.plan",
    "bakehouse.protocol.snapshot",
    "bakehouse.protocol.wire",
    "bakehouse.host.client",
    "bakehouse.host.process",
    "bakehouse.host.global_graph",
    "bakehouse.host.backfill_requests",
    "bakehouse.host.supervisor",
    "bakehouse.host.run_coordinator",
    "bakehouse.project.workspace",
    "bakehouse.storage",
    "bakehouse.host.deployment",
    "bakehouse.daemon.loop",
    "bakehouse.host.launching",
    "bakehouse.web.app",
]
CODE_SERVER_ONLY = (
    "bakehouse.authoring",
    "bakehouse.execution",
    "bakehouse.components",
    "bakehouse.codeserver",
)


def loaded_after(code: str) -> set[str]:
    """The modules loaded in a fresh interpreter after running `code`."""
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def under(modules: set[str], *packages: str) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_the_probe_sees_what_an_import_loads() -> None:
    # Guards the guard: a probe that saw nothing would make every test below pass.
    modules = loaded_after("import bakehouse.authoring.resources")
    assert under(modules, "pydantic")
    assert under(modules, "bakehouse.authoring")


def test_import_bakehouse_loads_no_pydantic_sqlalchemy_or_authoring_api() -> None:
    modules = loaded_after("import bakehouse")
    assert under(modules, "pydantic", "sqlalchemy", "bakehouse.authoring") == []


def test_plain_assets_and_definitions_load_no_pydantic() -> None:
    modules = loaded_after(
        "import bakehouse as dg\n"
        "@dg.asset\n"
        "def a():\n"
        "    return 1\n"
        "dg.Definitions(assets=[a]).validate()"
    )
    assert under(modules, "pydantic", "sqlalchemy") == []


@pytest.mark.parametrize("module", HOST_SIDE)
def test_host_side_modules_load_no_authoring_or_execution(module: str) -> None:
    modules = loaded_after(f"import {module}")
    assert module in modules
    assert under(modules, *CODE_SERVER_ONLY) == []
