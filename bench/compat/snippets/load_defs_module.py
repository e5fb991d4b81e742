# kind: tests loading a defs package with dg.components.load_defs and fetching definitions by key
# uses: dagster.components.load_defs, dagster.Definitions.get_assets_def, dagster.AssetKey,
#   dagster.materialize
import pathlib
import sys

import dagster as dg

# A project beside this file: a defs package importing the same API as this program.
root = pathlib.Path(__file__).parent
(root / "course_defs").mkdir()
# dg.components.load_defs looks for the project root above the package.
(root / "pyproject.toml").write_text("[project]\nname = 'course'\n")
(root / "course_defs" / "__init__.py").write_text("")
(root / "course_defs" / "assets.py").write_text(
    f"import {dg.__name__} as dg\n\n\n@dg.asset(key_prefix='manhattan')\ndef stats() -> int:\n"
    "    return 2\n"
)
sys.path.insert(0, str(root))
import course_defs  # noqa: E402

defs = dg.components.load_defs(course_defs)
stats = defs.get_assets_def(dg.AssetKey(["manhattan", "stats"]))
assert dg.materialize([stats]).success
