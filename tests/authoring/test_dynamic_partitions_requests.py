"""Sensors ask for dynamic partition keys to be added or deleted through their SensorResult."""

from __future__ import annotations

import pytest

import bakehouse as dg
from bakehouse.errors import DefinitionError

files = dg.DynamicPartitionsDefinition("files")


def test_build_requests_name_the_definition_and_keep_the_keys_in_order() -> None:
    add = files.build_add_request(["b", "a"])
    assert add == dg.AddDynamicPartitionsRequest("files", ["b", "a"])
    assert add.to_dict() == {"action": "add", "partitions_def_name": "files",
                             "partition_keys": ["b", "a"]}  # fmt: skip
    delete = files.build_delete_request(["a"])
    assert delete.to_dict()["action"] == "delete"
    assert delete.partition_keys == ("a",)


def test_bad_keys_are_refused_where_the_request_is_built() -> None:
    with pytest.raises(TypeError, match="not one string"):
        files.build_add_request("a.csv")
    with pytest.raises(TypeError, match=r"partition_keys\[1\] must be a non-empty string"):
        files.build_delete_request(["a", ""])


def test_a_sensor_result_keeps_its_requests_and_a_wrong_one_is_named() -> None:
    @dg.sensor()
    def adds(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        return dg.SensorResult(dynamic_partitions_requests=[files.build_add_request(["x"])])

    result = adds.evaluate(dg.build_sensor_context())
    assert list(result.dynamic_partitions_requests or []) == [files.build_add_request(["x"])]

    @dg.sensor()
    def wrong(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        return dg.SensorResult(dynamic_partitions_requests=[("files", ["x"])])  # type: ignore[list-item]

    with pytest.raises(DefinitionError, match=r"dynamic_partitions_requests\[0\].*build_add"):
        wrong.evaluate(dg.build_sensor_context())


def test_a_sensor_context_has_no_instance_and_says_what_to_do_instead() -> None:
    context = dg.build_sensor_context()
    with pytest.raises(AttributeError, match="dynamic_partitions_requests"):
        context.instance.add_dynamic_partitions("files", ["x"])
