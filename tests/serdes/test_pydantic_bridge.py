"""pydantic (and so FastAPI) takes records as request and response types through the bridge."""

from __future__ import annotations

import enum
import json

import pytest
from pydantic import TypeAdapter, ValidationError

from bakehouse.serdes import Record


class Color(str, enum.Enum):
    RED = "RED"
    BLUE = "BLUE"


class Square(Record, frozen=True, kw_only=True, tag_field="shape", tag="square"):
    """A square."""

    side: float


class Circle(Record, frozen=True, kw_only=True, tag_field="shape", tag="circle"):
    """A circle."""

    radius: float


class Drawing(Record, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a request might carry: a name, a color and shapes of either kind."""

    name: str
    color: Color = Color.RED
    shapes: tuple[Square | Circle, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("name must not be blank")


DRAWING = TypeAdapter(Drawing)


def test_a_request_body_becomes_the_record_with_its_kinds() -> None:
    drawing = DRAWING.validate_python(
        {"name": "d", "color": "BLUE", "shapes": [{"shape": "circle", "radius": 2}]}
    )

    assert drawing == Drawing(name="d", color=Color.BLUE, shapes=(Circle(radius=2.0),))


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"name": "d", "colour": "RED"}, ("colour",)),
        ({"name": "d", "color": "GREEN"}, ("color",)),
        ({"color": "RED"}, ("name",)),
        ({"name": " "}, ()),
    ],
)
def test_a_bad_request_body_is_a_validation_error_at_the_field(
    body: dict[str, object], where: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as caught:
        DRAWING.validate_python(body)

    assert tuple(caught.value.errors()[0]["loc"]) == where


def test_a_response_is_the_codec_json_and_the_schema_names_the_record() -> None:
    drawing = Drawing(name="d", shapes=(Square(side=1.0), Circle(radius=2.0)))

    dumped = json.loads(DRAWING.dump_json(drawing))
    schema = DRAWING.json_schema(mode="serialization")

    assert dumped == {
        "name": "d",
        "color": "RED",
        "shapes": [{"shape": "square", "side": 1.0}, {"shape": "circle", "radius": 2.0}],
    }
    assert schema["title"] == "Drawing"
    assert schema["additionalProperties"] is False
    assert set(schema["$defs"]) >= {"Square", "Circle", "Color"}
    assert schema["$defs"]["Circle"]["properties"]["shape"]["const"] == "circle"
