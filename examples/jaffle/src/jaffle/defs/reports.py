"""What the analysts read: a pandas summary of the dbt `customers` mart."""

import pandas as pd

import bakehouse as dg
from bakehouse_dbt import get_asset_key_for_model
from jaffle.defs.transform import jaffle_dbt_assets


@dg.asset(
    ins={"customers": dg.AssetIn(key=get_asset_key_for_model([jaffle_dbt_assets], "customers"))},
    group_name="reports",
    kinds={"pandas"},
)
def customer_value_report(customers: pd.DataFrame) -> dg.MaterializeResult:
    """Customers by number of orders, with their total and average lifetime value.

    `customers` is the dbt model's table, loaded by the DuckDB IO manager as a DataFrame.
    """
    report = (
        customers.groupby("number_of_orders", as_index=False)
        .agg(customers=("customer_id", "count"), lifetime_value=("lifetime_value", "sum"))
        .sort_values("number_of_orders")
    )
    report["average_value"] = (report["lifetime_value"] / report["customers"]).round(2)
    records = [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in report.to_dict("records")
    ]
    return dg.MaterializeResult(
        metadata={
            "customers": int(report["customers"].sum()),
            "lifetime_value": float(report["lifetime_value"].sum()),
            "report": dg.MetadataValue.table(records),
        }
    )
