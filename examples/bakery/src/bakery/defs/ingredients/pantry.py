"""Ingredients fetched from the pantry: the sources of every recipe."""

import bakehouse as dg


@dg.asset(group_name="ingredients", kinds={"python"})
def dry_ingredients() -> dict[str, int]:
    """Flour, sugar and salt, in grams."""
    return {"flour": 280, "sugar": 200, "salt": 3, "baking_soda": 5}


@dg.asset(group_name="ingredients", kinds={"python"})
def wet_ingredients() -> dict[str, int]:
    """Butter, eggs and vanilla, in grams."""
    return {"butter": 230, "eggs": 100, "vanilla": 8}
