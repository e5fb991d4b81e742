"""The celery executor's config: Dagster's keys, checked with the field at fault named."""

from __future__ import annotations

import pytest

import bakehouse as dg
from bakehouse.errors import DefinitionError, ExecutionError
from bakehouse_celery import celery_executor
from bakehouse_celery.app import parse_task_id, task_id
from bakehouse_celery.config import CeleryConfig


def test_dagsters_keys_and_defaults() -> None:
    config = CeleryConfig.from_executor_config({})
    assert config.broker == "pyamqp://guest@localhost//"
    assert config.backend == "rpc://"
    assert config.retries_enabled
    given = celery_executor.configured(
        {
            "broker": "redis://127.0.0.1:6379/0",
            "backend": "redis://127.0.0.1:6379/1",
            "include": ["my_module"],
            "config_source": {"worker_max_tasks_per_child": 10},
            "retries": {"disabled": {}},
        }
    )
    config = CeleryConfig.from_executor_config(given.config)
    assert config.is_redis
    assert config.include == ("my_module",)
    assert config.config_source == {"worker_max_tasks_per_child": 10}
    assert not config.retries_enabled
    assert dg.Definitions(executor=given).executor == given


def test_an_unknown_key_fails_where_the_executor_is_defined() -> None:
    with pytest.raises(DefinitionError, match=r"executor 'celery' has no config \['brokr'\]"):
        celery_executor.configured({"brokr": "redis://x"})


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"broker": 5}, "broker must be a URL string"),
        ({"include": "mod"}, "include must be a list of module names"),
        ({"config_source": ["x"]}, "config_source must be a mapping"),
        ({"retries": {"sometimes": {}}}, "retries must be"),
        ({"worker_timeout": 0}, "worker_timeout must be a number of seconds above 0"),
    ],
)
def test_bad_values_are_named(config: dict[str, object], message: str) -> None:
    with pytest.raises(ExecutionError, match=message):
        CeleryConfig.from_executor_config(config)


def test_task_ids_name_the_run_attempt_and_step() -> None:
    tid = task_id("3f2a", 2, "raw/orders")
    assert parse_task_id(tid) == ("3f2a", 2, "raw/orders")
    assert parse_task_id("some-other-task") is None


def test_retry_policy_delays() -> None:
    policy = dg.RetryPolicy(max_retries=3, delay=0.5, backoff=dg.Backoff.EXPONENTIAL)
    # Dagster's EXPONENTIAL backoff: (2**n - 1) * delay for retry number n.
    assert [policy.delay_before(n) for n in (2, 3, 4)] == [0.5, 1.5, 3.5]
    assert dg.RetryPolicy(max_retries=2).delay_before(2) == 0.0
    with pytest.raises(DefinitionError, match="max_retries"):
        dg.RetryPolicy(max_retries=-1)
