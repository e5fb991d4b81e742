"""Read a template shipped in ``scaffold/templates/`` and fill in its ``${names}``."""

from __future__ import annotations

import re
import string
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
_DG_NAME = re.compile(r"\bdg\.([A-Za-z_][A-Za-z0-9_]*)")


def render(template: str, /, **values: str) -> str:
    """The `template` (e.g. ``defs/asset.py``) with `values` substituted."""
    text = (TEMPLATES / f"{template}.tmpl").read_text(encoding="utf-8")
    return string.Template(text).substitute(values)


def missing_api(text: str) -> list[str]:
    """The ``dg.<name>`` that `text` uses and this bakehouse does not export."""
    import bakehouse

    exported = set(bakehouse.__all__)
    return sorted({n for n in _DG_NAME.findall(text) if n not in exported})
