"""The one source of "now", so tests can move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._frozen: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen + self._offset
        return datetime.now(UTC) + self._offset

    def freeze(self, at: datetime | None = None) -> None:
        self._frozen = (at or datetime.now(UTC)).astimezone(UTC)
        self._offset = timedelta(0)

    def advance(self, delta: timedelta) -> None:
        self._offset += delta

    def reset(self) -> None:
        self._frozen = None
        self._offset = timedelta(0)


clock = Clock()


def now() -> datetime:
    return clock.now()
