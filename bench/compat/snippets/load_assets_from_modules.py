# kind: the pre-dg layout: definitions built with load_assets_from_modules
# uses: dagster.load_assets_from_modules, dagster.Definitions
import pathlib
import sys

import dagster as dg

# A module of assets beside this file, importing the same API as this program.
here = pathlib.Path(__file__).parent
(here / "course_trips.py").write_text(
    f"import {dg.__name__} as dg\n\n\n@dg.asset\ndef taxi_trips() -> int:\n    return 1\n"
)
sys.path.insert(0, str(here))
import course_trips  # noqa: E402

trip_assets = dg.load_assets_from_modules([course_trips], group_name="trips")
defs = dg.Definitions(assets=trip_assets)
assert defs.get_assets_def("taxi_trips")
