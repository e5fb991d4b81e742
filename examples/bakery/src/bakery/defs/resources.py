"""The oven every baking asset uses, and the job that bakes everything."""

import bakehouse as dg


class Oven(dg.ConfigurableResource):
    """An oven: bakes portions of dough at a temperature."""

    temperature_c: int = 180
    grams_per_cookie: int = 40

    def bake(self, count: int) -> list[dict[str, int]]:
        return [{"id": i + 1, "grams": self.grams_per_cookie} for i in range(count)]


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"oven": Oven(temperature_c=190)})


bake_everything = dg.define_asset_job("bake_everything", selection="*")
