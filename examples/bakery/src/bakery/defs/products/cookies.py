"""From ingredients to cookies: each step reads its inputs through the IO manager."""

import bakehouse as dg
from bakery.defs.resources import Oven


@dg.asset(group_name="dough", kinds={"python"})
def cookie_dough(
    context: dg.AssetExecutionContext,
    dry_ingredients: dict[str, int],
    wet_ingredients: dict[str, int],
) -> dg.Output:
    """Dry and wet ingredients mixed together."""
    dough = {**dry_ingredients, **wet_ingredients}
    weight = sum(dough.values())
    context.log.info(f"mixed {len(dough)} ingredients into {weight} g of dough")
    return dg.Output(dough, metadata={"weight_g": weight, "ingredients": len(dough)})


@dg.asset(group_name="dough", kinds={"python"})
def chocolate_chip_cookie_dough(cookie_dough: dict[str, int]) -> dict[str, int]:
    """Cookie dough with chocolate chips folded in."""
    return {**cookie_dough, "chocolate_chips": 340}


@dg.asset(group_name="cookies", kinds={"python"}, owners=["team:bakers"])
def chocolate_chip_cookies(
    context: dg.AssetExecutionContext,
    chocolate_chip_cookie_dough: dict[str, int],
    oven: Oven,
) -> dg.Output:
    """Scoops of chocolate-chip dough baked in the oven."""
    weight = sum(chocolate_chip_cookie_dough.values())
    count = weight // oven.grams_per_cookie
    batch = oven.bake(count)
    context.log.info(f"baked {count} cookies at {oven.temperature_c} °C")
    return dg.Output(
        batch,
        metadata={
            "cookies": count,
            "oven_temperature_c": oven.temperature_c,
            "preview": dg.MetadataValue.md(
                "| cookie | grams |\n|---|---|\n"
                + "\n".join(f"| {c['id']} | {c['grams']} |" for c in batch[:3])
            ),
        },
    )
