"""Shared pieces of every model: prefixed string ids, the mode enum, timestamps."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields

from models.clock import now
from models.ids import new_id


class Mode(StrEnum):
    TEST = "test"
    LIVE = "live"


def id_field(prefix: str) -> Any:
    name = f"new_{prefix}_id"
    generate = globals().get(name)
    if generate is None:

        def generate() -> str:
            return new_id(prefix)

        # A named module-level function, not a partial: migrations import defaults by name.
        generate.__name__ = generate.__qualname__ = name
        globals()[name] = generate
    return fields.CharField(primary_key=True, max_length=40, default=generate)


def created_field() -> Any:
    return fields.DatetimeField(default=now)


def mode_field() -> Any:
    return fields.CharEnumField(Mode, max_length=4)
