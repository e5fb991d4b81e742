"""What asset functions return: `Output` and `MaterializeResult`."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import bakehouse as dg
from bakehouse.graph.keys import AssetKey

WriteModule = Callable[..., ModuleType]


def test_materialize_result_coerces_its_key_and_copies_its_mappings() -> None:
    metadata = {"rows": 1}
    result: dg.MaterializeResult[None] = dg.MaterializeResult(
        asset_key="raw/orders", metadata=metadata, tags={"t": "1"}
    )
    metadata["rows"] = 2
    assert result.asset_key == AssetKey(["raw", "orders"])
    assert result.metadata == {"rows": 1}
    assert result.tags == {"t": "1"}
    assert result.value is None
    assert dg.MaterializeResult().asset_key is None


def test_output_defaults_to_the_single_output_name() -> None:
    output = dg.Output([1], metadata={"n": 1})
    assert (output.value, output.output_name, output.metadata) == ([1], "result", {"n": 1})


def test_results_are_generic_so_course_annotations_evaluate(write_module: WriteModule) -> None:
    # Without `from __future__ import annotations`, the return annotations are evaluated when
    # the module is imported, as in most course code.
    module = write_module(
        """
        import bakehouse as dg


        @dg.asset
        def rows() -> dg.Output[list[int]]:
            return dg.Output([1, 2])


        @dg.asset
        def report() -> dg.MaterializeResult[None]:
            return dg.MaterializeResult(metadata={"n": 1})
        """
    )
    assert module.rows.key == AssetKey("rows")
    assert module.report.key == AssetKey("report")
