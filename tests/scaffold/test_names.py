"""Names given to `bh create` and `bh scaffold` are checked before anything is written."""

from __future__ import annotations

import pytest

from bakehouse.errors import ScaffoldError
from bakehouse.scaffold.names import check_class_name, check_module_name, snake_case


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("my-project", "try 'my_project'"),
        ("2fast", "not starting with a digit"),
        ("café", "use letters, digits"),
        ("class", "Python keyword"),
        ("json", "would be shadowed"),
        ("bakehouse", "would be shadowed"),
    ],
)
def test_bad_module_names_are_refused_with_the_reason(name: str, reason: str) -> None:
    with pytest.raises(ScaffoldError) as err:
        check_module_name(name)
    assert reason in str(err.value)


def test_good_names_pass() -> None:
    assert check_module_name("sales_etl") == "sales_etl"
    assert check_class_name("WeatherApi") == "WeatherApi"
    with pytest.raises(ScaffoldError, match="CamelCase"):
        check_class_name("weather_api")


def test_snake_case() -> None:
    assert snake_case("WeatherApiComponent") == "weather_api_component"
    assert snake_case("HTTPSource") == "http_source"
