"""A module of the defs folder that fails to load is left out, with its file:line, while the rest
of the location loads (`isolating_module_errors`, the code server's default); outside isolation
the first such error is raised, as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakehouse.authoring.loading import ModuleLoadError, isolating_module_errors
from bakehouse.codeserver.failed_modules import declared_keys
from bakehouse.codeserver.loader import build_snapshot
from bakehouse.errors import DefinitionError, SourceLocation
from bakehouse.protocol import snapshot
from tests.support.projects import Project, line_of

ORDERS = """
import bakehouse as dg


@dg.asset
def orders():
    return [1, 2, 3]
"""

GREETING = '''
import bakehouse as dg


class Greeting(dg.Component, dg.Model, dg.Resolvable):
    """Says hello to someone."""

    name: str

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        @dg.asset(key=f"greeting_{self.name}")
        def greeting() -> str:
            return self.name

        return dg.Definitions(assets=[greeting])
'''


def keys_of(defs: object) -> set[str]:
    graph = defs.resolve_asset_graph()  # type: ignore[attr-defined]
    return {k.to_user_string() for k in graph.specs}


def load_isolated(project: Project) -> tuple[set[str], list[ModuleLoadError]]:
    with isolating_module_errors() as errors:
        defs = project.load()
    return keys_of(defs), errors


@pytest.mark.parametrize(
    ("text", "marker", "message"),
    [
        ("import bakehouse as dg\n\ndef broken(:\n    pass\n", "def broken(", "SyntaxError"),
        ("import no_such_package_here\n", "import no_such", "ModuleNotFoundError"),
        ("x = 1\nraise RuntimeError('boom at import')\n", "raise RuntimeError", "boom at import"),
    ],
    ids=["syntax error", "import error", "exception at import"],
)
def test_the_other_modules_load_and_the_error_names_file_and_line(
    project: Project, text: str, marker: str, message: str
) -> None:
    project.write("defs/good.py", ORDERS)
    broken = project.write("defs/broken.py", text)

    keys, errors = load_isolated(project)

    assert keys == {"orders"}
    (error,) = errors
    assert error.module == f"{project.package}.defs.broken"
    assert error.path == str(broken)
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if marker in t)
    assert error.source == SourceLocation(str(broken), line)
    assert message in error.error.render()


def test_without_isolation_the_first_error_is_raised_as_before(project: Project) -> None:
    project.write("defs/good.py", ORDERS)
    broken = project.write("defs/broken.py", "raise RuntimeError('boom')\n")

    with pytest.raises(DefinitionError) as err:
        project.load()
    assert err.value.source == SourceLocation(str(broken), 1)
    # A disabled isolation (defs_errors = "fail") raises too.
    with pytest.raises(DefinitionError), isolating_module_errors(enabled=False):
        project.load()


def test_a_broken_package_is_left_out_whole_and_a_module_importing_it_fails_too(
    project: Project,
) -> None:
    project.write("defs/good.py", ORDERS)
    init = project.write("defs/raw/__init__.py", "raise ValueError('bad package')\n")
    project.write("defs/raw/stuff.py", ORDERS.replace("orders", "stuff"))
    project.write(
        "defs/uses_raw.py", f"from {project.package}.defs.raw.stuff import stuff\nx = stuff\n"
    )

    keys, errors = load_isolated(project)

    assert keys == {"orders"}
    by_module = {e.module.rsplit(".", 1)[-1]: e for e in errors}
    assert set(by_module) == {"raw", "uses_raw"}
    assert by_module["raw"].path == str(init)
    assert by_module["uses_raw"].source == SourceLocation(str(init), 1)


def test_a_component_yaml_that_fails_is_left_out_with_its_yaml_line(project: Project) -> None:
    project.write("components/greeting.py", GREETING)
    kind = f"{project.package}.components.greeting.Greeting"
    project.write("defs/good.py", ORDERS)
    yaml = project.write(
        "defs/hello/defs.yaml",
        f"type: {kind}\nattributes:\n  name: ann\n---\ntype: {kind}\nattributes:\n  nam: bob\n",
    )
    project.write("defs/bad_type/defs.yaml", "type: no.such.Component\n")

    keys, errors = load_isolated(project)

    # The good document of hello/defs.yaml still builds its asset.
    assert keys == {"orders", "greeting_ann"}
    by_module = {Path(e.path).parent.name: e for e in errors}
    assert set(by_module) == {"hello", "bad_type"}
    assert by_module["hello"].module.endswith("(document 2)")
    # The missing "name" is reported at the second document's attributes.
    assert by_module["hello"].source == SourceLocation(str(yaml), 6)
    assert by_module["bad_type"].source.line == 1


def test_the_snapshot_lists_module_errors_and_marks_what_the_module_defined(
    project: Project,
) -> None:
    project.write("defs/good.py", ORDERS)
    project.write(
        "defs/downstream.py",
        """
        import bakehouse as dg


        @dg.asset(deps=["customers"])
        def report():
            return 1
        """,
    )
    broken = project.write(
        "defs/customers.py",
        """
        import bakehouse as dg


        @dg.asset
        def customers():
            return 1


        @dg.asset(
            group_name="crm",
            key="addresses",
        )
        def load_addresses():
            return 1

        raise RuntimeError("no database")
        """,
    )
    with isolating_module_errors() as errors:
        defs = project.load()
    snap = build_snapshot(defs, name="shop", module="m", load_seconds=0.1, module_errors=errors)

    (error,) = snap.module_errors
    line = line_of(broken, "raise RuntimeError")
    assert (error.file, error.line, error.path) == (str(broken), line, str(broken))
    assert error.where == f"{broken}:{line}"
    nodes = {a.key: a for a in snap.assets}
    assert nodes["customers"].is_undefined
    assert nodes["customers"].failed_module == f"{broken}:{line}"
    assert nodes["report"].failed_module is None
    # Nothing depends on addresses: read from the module's source, it is kept as missing.
    assert nodes["addresses"].is_undefined
    assert nodes["addresses"].failed_module == f"{broken}:{line}"
    assert "load_addresses" not in nodes
    # The codec keeps it all.
    assert snapshot.loads(snapshot.dumps(snap)) == snap


def test_an_older_snapshot_without_module_errors_decodes_as_loaded(project: Project) -> None:
    project.write("defs/good.py", ORDERS)
    snap = build_snapshot(project.load(), name="shop", module="m", load_seconds=0.1)
    text = snapshot.dumps(snap)
    assert ',"module_errors":[]' in text
    old = text.replace(',"module_errors":[]', "").replace(',"failed_module":null', "")

    decoded = snapshot.loads(old)

    assert decoded == snap
    assert isinstance(decoded, snapshot.LocationSnap)
    assert decoded.module_errors == ()


def test_the_keys_a_broken_module_declares_are_read_from_its_text() -> None:
    source = """
import bakehouse as dg

@dg.asset
def plain(): ...

@asset(key_prefix="raw", group_name="g")
@other_decorator
async def prefixed(): ...

@dg.asset(name="renamed")
def fn(): ...

@dg.asset_check(asset=plain)
def not_an_asset(): ...

@dg.multi_asset(specs=[dg.AssetSpec("one"), dg.AssetSpec(key="two")])
def many(:
"""
    assert declared_keys(source) == ["plain", "prefixed", "renamed", "one", "two"]
