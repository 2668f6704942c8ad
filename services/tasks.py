"""The tasks the outbox worker runs after commit, by topic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.access import links
from services.outbox import TaskHandler

if TYPE_CHECKING:
    from services.settings import Settings


def task_handlers(settings: Settings) -> dict[str, TaskHandler]:
    async def login_request(payload: dict[str, str]) -> None:
        await links.answer_login_request(settings, payload)

    return {links.LOGIN_REQUEST: login_request}
