"""schema/execution.AttributeFields answers exactly as graphql-core's own execution does: the
same data, the same errors at the same paths, the same nulls, for ready values and for the
cases it hands back (missing, null where non-null, awaitable, refused by the scalar, lists,
arguments, aliases, fragments). Each query runs on two schemas that differ only in that."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.permission import BasePermission

from schema.execution import ATTRIBUTE_FIELD, AttributeFields, mark_attribute_fields


@strawberry.enum
class Colour(Enum):
    RED = "red"
    GREEN = "green"


@strawberry.type
class Leafy:
    name: str
    count: int
    ratio: float | None
    colour: Colour
    note: str | None


@strawberry.interface
class Named:
    id: strawberry.ID


@strawberry.type
class Box(Named):
    label: str
    leafy: Leafy
    maybe: Leafy | None
    items: list[Leafy]
    inner: Box | None = None

    @strawberry.field
    def shout(self, times: int = 1) -> str:
        return self.label.upper() * times


async def _ready(value: Any) -> Any:
    await asyncio.sleep(0)
    return value


class Later:
    """An awaitable attribute value, as schema.billing_types.Deferred is."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        return _ready(self.value).__await__()


_MISSING = object()


def _leafy(**changes: Any) -> Leafy:
    values: dict[str, Any] = {
        "name": "a",
        "count": 1,
        "ratio": 0.5,
        "colour": Colour.RED,
        "note": None,
    }
    values.update(changes)
    leafy = Leafy(**{k: None if v is _MISSING else v for k, v in values.items()})
    for key, value in values.items():
        if value is _MISSING:
            delattr(leafy, key)
    return leafy


def _box(**changes: Any) -> Box:
    values: dict[str, Any] = {
        "id": strawberry.ID("box_1"),
        "label": "box",
        "leafy": _leafy(),
        "maybe": _leafy(name="m"),
        "items": [_leafy(name="i1"), _leafy(name="i2", colour=Colour.GREEN)],
    }
    values.update(changes)
    return Box(**values)


BOXES: dict[str, Any] = {
    "ready": lambda: _box(),
    "nullable leaf missing value": lambda: _box(leafy=_leafy(note=None, ratio=None)),
    "non-null leaf is None": lambda: _box(leafy=_leafy(name=None)),
    "non-null leaf in a nullable object is None": lambda: _box(maybe=_leafy(name=None)),
    "leaf refused by its scalar": lambda: _box(maybe=_leafy(count="many")),
    "leaf is awaitable": lambda: _box(leafy=_leafy(name=Later("later"))),
    "object is awaitable": lambda: _box(maybe=Later(_leafy(name="later"))),
    "awaitable object with a bad leaf": lambda: _box(maybe=Later(_leafy(count="x"))),
    "nullable object is None": lambda: _box(maybe=None),
    "non-null object is None": lambda: _box(leafy=None),
    "attribute missing": lambda: _box(leafy=_leafy(count=_MISSING)),
    "wrong object type": lambda: _box(maybe=_box()),
    "list item with a bad leaf": lambda: _box(items=[_leafy(), _leafy(count="x")]),
    "nested object of its own type": lambda: _box(inner=_box(label="inner")),
    "not an instance of the interface's type": lambda: _box(inner=_leafy()),
}

QUERY = """
query($times: Int!) {
  box {
    __typename id label shout(times: $times) alias: label
    leafy { name count ratio colour note }
    maybe { ...Leaf again: name }
    items { name colour count }
    inner { id label leafy { name } }
    ... on Named { id }
  }
}
fragment Leaf on Leafy { name count colour ratio }
"""


def _schema(box: Any, fast: bool) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def box(self) -> Box | None:
            return box

    if not fast:
        return strawberry.Schema(query=Query)
    schema = strawberry.Schema(query=Query, execution_context_class=AttributeFields)
    assert mark_attribute_fields(schema._schema) > 0
    return schema


def _answer(result: Any) -> dict[str, Any]:
    errors = sorted(
        (
            error.message,
            tuple(error.path or ()),
            tuple((at.line, at.column) for at in error.locations or ()),
        )
        for error in result.errors or []
    )
    return {"data": result.data, "errors": errors}


@pytest.mark.parametrize("case", sorted(BOXES))
async def test_same_answer_as_graphql_core(case: str) -> None:
    expected = _answer(await _schema(BOXES[case](), fast=False).execute(QUERY, {"times": 2}))
    got = _answer(await _schema(BOXES[case](), fast=True).execute(QUERY, {"times": 2}))
    assert got == expected
    if case == "ready":
        assert not expected["errors"]
        assert got["data"]["box"]["items"][1] == {"name": "i2", "colour": "GREEN", "count": 1}


class Deny(BasePermission):
    message = "denied"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Guarded:
    name: str
    token: str = strawberry.field(permission_classes=[Deny])


async def test_fields_with_permission_classes_keep_strawberrys_path() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def guarded(self) -> Guarded:
            return Guarded(name="n", token="tok_live_123")

    answers = []
    for fast in (False, True):
        if fast:
            schema = strawberry.Schema(query=Query, execution_context_class=AttributeFields)
            mark_attribute_fields(schema._schema)
            fields = schema._schema.type_map["Guarded"].fields
            assert ATTRIBUTE_FIELD in fields["name"].extensions
            assert ATTRIBUTE_FIELD not in fields["token"].extensions
        else:
            schema = strawberry.Schema(query=Query)
        answers.append(_answer(await schema.execute("{ guarded { name token } }")))
    assert answers[0] == answers[1]
    assert answers[1]["data"] is None
    assert [message for message, _, _ in answers[1]["errors"]] == ["denied"]


async def test_marks_only_attribute_fields() -> None:
    schema = _schema(_box(), fast=True)
    box = schema._schema.type_map["Box"]
    marked = {name for name, field in box.fields.items() if ATTRIBUTE_FIELD in field.extensions}
    # A resolver (shout) and a list (items) keep graphql-core's path.
    assert marked == {"id", "label", "leafy", "maybe", "inner"}
