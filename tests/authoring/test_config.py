"""Run configuration: `Config` classes and `RunConfig`."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import bakehouse as dg


class Limits(dg.Config):
    rows: int = 10
    label: str


def test_config_is_validated_frozen_and_closed() -> None:
    limits = Limits(rows="5", label="x")  # type: ignore[arg-type]
    assert limits.rows == 5
    with pytest.raises(ValidationError):
        Limits(rows=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Limits(label="x", unknown=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        limits.rows = 3


def test_run_config_turns_objects_and_dicts_into_the_plain_form() -> None:
    run_config = dg.RunConfig(ops={"orders": Limits(label="a"), "report": {"depth": 2}})
    assert run_config.to_config_dict() == {
        "ops": {
            "orders": {"config": {"rows": 10, "label": "a"}},
            "report": {"config": {"depth": 2}},
        }
    }
    assert dg.RunConfig().to_config_dict() == {"ops": {}}
