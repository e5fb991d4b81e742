# kind: a definitions.py that loads a defs package with dg.load_defs(defs_root=...)
# uses: dagster.load_defs, dagster.definitions
import pathlib
import sys

import dagster as dg

root = pathlib.Path(__file__).parent
(root / "pyproject.toml").write_text("[project]\nname = 'course'\n")
(root / "dbt_course_defs").mkdir()
(root / "dbt_course_defs" / "__init__.py").write_text("")
(root / "dbt_course_defs" / "metrics.py").write_text(
    f"import {dg.__name__} as dg\n\n\n@dg.asset\ndef trips_by_week() -> int:\n    return 7\n"
)
sys.path.insert(0, str(root))
import dbt_course_defs  # noqa: E402


@dg.definitions
def defs():
    return dg.load_defs(defs_root=dbt_course_defs)


assert defs().get_assets_def("trips_by_week")
