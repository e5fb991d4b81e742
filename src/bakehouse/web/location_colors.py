"""The colour of a code location, derived from its name alone.

A location keeps its colour across page loads, reloads and deployments, whatever other
locations load or in which order: the hue comes from a digest of the name (not from the
process's salted `hash`), at one saturation and lightness so every colour reads on white.
"""

from __future__ import annotations

import colorsys
import hashlib
from functools import lru_cache

# Assets no loaded location defines (external keys) are drawn grey.
NO_LOCATION = "#98a2b3"
_SATURATION = 0.62
_LIGHTNESS = 0.44


@lru_cache(maxsize=1024)
def location_color(name: str | None) -> str:
    """``#rrggbb`` for the location `name` (grey for None: no location)."""
    if name is None:
        return NO_LOCATION
    digest = hashlib.sha256(name.encode()).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    red, green, blue = colorsys.hls_to_rgb(hue, _LIGHTNESS, _SATURATION)
    return "#{:02x}{:02x}{:02x}".format(*(round(c * 255) for c in (red, green, blue)))
