"""The bakery's one Definitions object: everything under defs/, collected automatically."""

from pathlib import Path

import bakehouse as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(project_root=Path(__file__).parent.parent.parent)
