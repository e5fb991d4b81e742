"""How durable a commit is: the two levels, named once for storage and the settings that choose.

Kept apart from `dialect` so that reading project settings does not import SQLAlchemy.
"""

from __future__ import annotations

from typing import Literal

Durability = Literal["normal", "full"]
"""``normal``: a commit survives a crash of any process (not a power cut or an OS crash);
``full``: it survives those too (SQLite ``synchronous=FULL``, as Dagster's SQLite storage)."""

DURABILITY_LEVELS: tuple[Durability, ...] = ("normal", "full")
DEFAULT_DURABILITY: Durability = "normal"


def is_durability(value: object) -> bool:
    """True when `value` names a durability level."""
    return value in DURABILITY_LEVELS
