"""The public API's two lists agree: `_PUBLIC_API` (what `dg.X` resolves at runtime) and the
TYPE_CHECKING imports of bakehouse/__init__.py (what type checkers and IDEs see, each an explicit
re-export so that `dg.X` passes mypy --strict in users' code)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import bakehouse
from bakehouse import _PUBLIC_API, _SUBPACKAGES

INIT = Path(bakehouse.__file__)


def _type_checking_imports() -> dict[str, str]:
    """Each name the ``if TYPE_CHECKING:`` block imports, and the module it imports it from."""
    tree = ast.parse(INIT.read_text())
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1, "bakehouse/__init__.py should have one `if TYPE_CHECKING:` block"
    names: dict[str, str] = {}
    for statement in blocks[0].body:
        assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
        assert statement.module is not None
        for alias in statement.names:
            # Only `import X as X` re-exports a name under mypy --strict (no implicit re-export;
            # `import X as Y` does not re-export Y either).
            assert alias.asname == alias.name, (
                f"{alias.name}: re-export it as `{alias.name} as {alias.name}`"
            )
            name = alias.asname
            assert name not in names, f"{name} is imported twice for type checkers"
            names[name] = statement.module
    return names


def test_type_checkers_see_exactly_the_names_that_resolve_at_runtime() -> None:
    seen = _type_checking_imports()
    runtime = (set(bakehouse.__all__) - {"__version__"}) | _SUBPACKAGES
    assert sorted(runtime - set(seen)) == [], "public at runtime, unknown to type checkers"
    assert sorted(set(seen) - runtime) == [], "seen by type checkers, missing at runtime"


def test_each_name_comes_from_the_same_module_for_both() -> None:
    seen = _type_checking_imports()
    differ = {
        name: (module, seen[name]) for name, module in _PUBLIC_API.items() if seen[name] != module
    }
    assert differ == {}, "name: (runtime module, type-checking module)"


def test_all_lists_every_public_name_and_each_resolves() -> None:
    assert set(bakehouse.__all__) >= {*_PUBLIC_API, "__version__"}
    for name in bakehouse.__all__:
        assert getattr(bakehouse, name) is not None, name


@pytest.mark.parametrize("name", sorted(_PUBLIC_API))
def test_each_public_name_resolves_to_its_modules_object(name: str) -> None:
    module = importlib.import_module(_PUBLIC_API[name])
    assert getattr(bakehouse, name) is getattr(module, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'not_public'"):
        _ = bakehouse.not_public
