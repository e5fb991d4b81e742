"""The raw tables: the shop's CSV exports loaded into the warehouse's `raw` schema.

The DuckDB IO manager stores each DataFrame as a table named after the key, in the schema of
its prefix (`raw/orders` -> `raw.orders`), which is where the dbt sources read them.
"""

import pandas as pd

import bakehouse as dg
from jaffle.project import EXAMPLE_ROOT


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(EXAMPLE_ROOT / "data" / f"raw_{name}.csv")


@dg.asset(key_prefix="raw", group_name="raw", kinds={"python", "duckdb"})
def customers() -> pd.DataFrame:
    """Customers as the shop exports them."""
    return _read("customers")


@dg.asset(key_prefix="raw", group_name="raw", kinds={"python", "duckdb"})
def orders() -> pd.DataFrame:
    """Orders as the shop exports them."""
    return _read("orders")


@dg.asset(key_prefix="raw", group_name="raw", kinds={"python", "duckdb"})
def payments() -> pd.DataFrame:
    """Payments (amounts in cents) as the shop exports them."""
    return _read("payments")
