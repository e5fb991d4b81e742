# kind: declarative automation on assets (AutomationCondition.on_cron, eager)
# uses: dagster.AutomationCondition.on_cron, dagster.AutomationCondition.eager, dagster.asset
import dagster as dg


@dg.asset(automation_condition=dg.AutomationCondition.on_cron("0 0 * * 1"))
def raw_customers() -> None:
    pass


@dg.asset(deps=[raw_customers], automation_condition=dg.AutomationCondition.eager())
def customers() -> None:
    pass


assert dg.Definitions(assets=[raw_customers, customers])
