"""Read a template shipped in ``scaffold/templates/`` and fill in its ``${names}``."""

from __future__ import annotations

import string
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"


def render(template: str, /, **values: str) -> str:
    """The `template` (e.g. ``defs/asset.py``) with `values` substituted."""
    text = (TEMPLATES / f"{template}.tmpl").read_text(encoding="utf-8")
    return string.Template(text).substitute(values)
