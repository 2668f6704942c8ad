"""Errors as clients see them: `userErrors` in payloads, `extensions.code` on GraphQL errors;
and the one way a mutation's payload is made from its resolver's result."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from resolvers.context import Context
from resolvers.types import REQUEST_LEVEL_CODES, ServiceError


@strawberry.type(description="An expected failure of a mutation: validation, state, limits.")
class UserError:
    code: str = strawberry.field(description="Stable UPPER_SNAKE code, e.g. INVALID_EMAIL.")
    message: str = strawberry.field(
        description="For people, in English; match on code, not on this text."
    )
    field: list[str] | None = strawberry.field(
        default=None, description="Path to the input field at fault, when there is one."
    )

    @classmethod
    def from_service_error(cls, error: ServiceError) -> UserError:
        return cls(code=error.code, message=error.message, field=error.field)


T = TypeVar("T")
P = TypeVar("P")


async def user_errors(call: Callable[[], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Runs a mutation's work; expected failures become userErrors, the rest propagate."""
    try:
        return await call(), []
    except ServiceError as error:
        if error.code in REQUEST_LEVEL_CODES:
            raise
        return None, [UserError.from_service_error(error)]


async def payload(
    info: Info[Context, None],
    payload_type: Callable[..., P],
    call: Callable[[], Awaitable[T]],
    failed: dict[str, Any] | None = None,
    **views: Callable[[T], Any],
) -> P:
    """A mutation's payload: each field a view of the resolver's result (None when it failed,
    or what `failed` says), expected failures in `userErrors`. A result that carries its own
    error (a declined card, recorded as a failed payment) puts it there too.

    Mutation fields run one after another; each one first drops the views and rows the
    request has read so far, so it reads afresh what those before it may have changed."""
    info.context.forget_reads()
    result, errors = await user_errors(call)
    if result is None:
        fields = {name: (failed or {}).get(name) for name in views}
    else:
        fields = {}
        for name, view in views.items():
            value = view(result)
            fields[name] = await value if inspect.isawaitable(value) else value
    # A result that carries its own error (a declined card recorded as a failed payment, a
    # refund the gateway refused) reports it beside the objects it returns.
    carried = getattr(result, "error", None)
    if isinstance(carried, ServiceError):
        errors = [UserError.from_service_error(carried)]
    return payload_type(**fields, user_errors=errors)
