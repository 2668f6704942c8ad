"""Errors as clients see them: `userErrors` in payloads, `extensions.code` on GraphQL errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from services.errors import ServiceError

# These stop the whole operation (a GraphQL error); every other ServiceError of a mutation is
# data in its payload's userErrors.
REQUEST_LEVEL_CODES = frozenset({"UNAUTHENTICATED", "FORBIDDEN", "RATE_LIMITED"})


@strawberry.type(description="An expected failure of a mutation: validation, state, limits.")
class UserError:
    code: str = strawberry.field(description="Stable UPPER_SNAKE code, e.g. INVALID_EMAIL.")
    message: str
    field: list[str] | None = strawberry.field(
        default=None, description="Path to the input field at fault, when there is one."
    )

    @classmethod
    def from_service_error(cls, error: ServiceError) -> UserError:
        return cls(code=error.code, message=error.message, field=error.field)


T = TypeVar("T")


async def user_errors(call: Callable[[], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Runs a mutation's work; expected failures become userErrors, the rest propagate."""
    try:
        return await call(), []
    except ServiceError as error:
        if error.code in REQUEST_LEVEL_CODES:
            raise
        return None, [UserError.from_service_error(error)]
