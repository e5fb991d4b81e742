"""What a defs module that failed to load most likely defined, read from its source (not run).

A module left out of its location (``defs_errors = "isolate"``) defined assets nobody can import
now. Rather than let them vanish, the snapshot keeps a placeholder for each key the module's
source declares (an ``@asset``-style decorator's function, its ``name=``/``key=`` string, an
``AssetSpec("key")``), and names the module for any key another module depends on that no module
defines. A best effort by reading text: it needs no working import, so it works on a syntax
error too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from bakehouse.protocol.snapshot import AssetNodeSnap, ModuleErrorSnap

# A decorator of a single asset: @asset, @dg.asset(...), @bakehouse.asset, not @multi_asset
# (its keys are in its specs, which the AssetSpec pattern finds).
_DECORATOR = re.compile(r"^\s*@(?:\w+\.)*asset\b(.*)$")
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)\s*\(")
_NAMED = re.compile(r"""\b(?:key|name)\s*=\s*["']([\w./-]+)["']""")
_SPEC = re.compile(r"""\bAssetSpec\(\s*(?:key\s*=\s*)?["']([\w./-]+)["']""")


def declared_keys(source: str) -> list[str]:
    """The asset keys `source` declares, in order, each once."""
    keys: list[str] = []
    lines = source.splitlines()
    index = 0
    while index < len(lines):
        match = _DECORATOR.match(lines[index])
        if match is None:
            index += 1
            continue
        decorator = match.group(1)
        index += 1
        # The decorator's arguments may span lines, and other decorators may follow it.
        while index < len(lines) and not _DEF.match(lines[index]):
            decorator += lines[index]
            index += 1
        function = _DEF.match(lines[index]) if index < len(lines) else None
        if function is not None:
            named = _NAMED.search(decorator)
            keys.append(named.group(1) if named else function.group(1))
    keys += _SPEC.findall(source)
    return list(dict.fromkeys(keys))


def _source(error: ModuleErrorSnap) -> str:
    try:
        return Path(error.path).read_text(errors="replace") if error.path.endswith(".py") else ""
    except OSError:
        return ""


def missing_nodes(
    defined: Iterable[str], undefined: Sequence[str], errors: Sequence[ModuleErrorSnap]
) -> list[AssetNodeSnap]:
    """Placeholders for the `undefined` keys (each named after the failed module most likely to
    define it, if any) and for every other key a failed module declares that no module of the
    location `defined`."""
    sources = [(error, _source(error)) for error in errors]
    declared = {key: error for error, text in reversed(sources) for key in declared_keys(text)}

    def owner(key: str) -> ModuleErrorSnap | None:
        if key in declared:
            return declared[key]
        # Not declared in a form we read: a failed module that names the key's last part.
        word = re.compile(rf"\b{re.escape(key.rsplit('/', 1)[-1])}\b")
        return next((error for error, text in sources if text and word.search(text)), None)

    nodes = []
    for key in undefined:
        found = owner(key)
        nodes.append(
            AssetNodeSnap(
                key=key,
                is_external=True,
                is_undefined=True,
                failed_module=found.where if found else None,
            )
        )
    taken = set(defined) | set(undefined)
    for key, error in sorted(declared.items()):
        if key not in taken:
            nodes.append(
                AssetNodeSnap(
                    key=key, is_external=True, is_undefined=True, failed_module=error.where
                )
            )
    return nodes
