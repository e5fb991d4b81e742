"""The jaffle shop's one code location: everything under defs/."""

from pathlib import Path

import bakehouse as dg


@dg.definitions
def defs() -> dg.Definitions:
    """Raw data, the dbt project and the report, collected from the defs folder."""
    return dg.load_from_defs_folder(project_root=Path(__file__).parent.parent.parent)
