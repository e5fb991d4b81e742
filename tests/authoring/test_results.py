"""What asset functions return: `Output` and `MaterializeResult`."""

from __future__ import annotations

import bakehouse as dg
from bakehouse.graph.keys import AssetKey


def test_materialize_result_coerces_its_key_and_copies_its_mappings() -> None:
    metadata = {"rows": 1}
    result = dg.MaterializeResult(asset_key="raw/orders", metadata=metadata, tags={"t": "1"})
    metadata["rows"] = 2
    assert result.asset_key == AssetKey(["raw", "orders"])
    assert result.metadata == {"rows": 1}
    assert result.tags == {"t": "1"}
    assert result.value is None
    assert dg.MaterializeResult().asset_key is None


def test_output_defaults_to_the_single_output_name() -> None:
    output = dg.Output([1], metadata={"n": 1})
    assert (output.value, output.output_name, output.metadata) == ([1], "result", {"n": 1})
