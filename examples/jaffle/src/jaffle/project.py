"""Where the example's dbt project and DuckDB warehouse live."""

import os
from pathlib import Path

from bakehouse_dbt import DbtProject

EXAMPLE_ROOT = Path(__file__).resolve().parent.parent.parent

# The warehouse file Python writes and dbt reads; JAFFLE_DUCKDB moves it (dbt's profiles.yml
# reads the same variable).
WAREHOUSE = Path(os.environ.get("JAFFLE_DUCKDB", EXAMPLE_ROOT / "data" / "warehouse.duckdb"))

# Parsed (dbt parse) when the code location loads and the manifest is missing or stale.
jaffle_project = DbtProject(EXAMPLE_ROOT / "jaffle_dbt")
jaffle_project.prepare_if_dev()
