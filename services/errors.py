"""Failures the domain reports. Resolvers turn them into userErrors or GraphQL errors."""

from __future__ import annotations


class ServiceError(Exception):
    """An expected failure: a stable UPPER_SNAKE code, a message for people, the input field."""

    code = "INVALID_INPUT"
    # True when the request only lost a race: its idempotency key is released, not answered,
    # so a retry with the same key runs again.
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: list[str] | None = None,
        retryable: bool = False,
    ):
        super().__init__(message)
        self.retryable = retryable
        if code is not None:
            self.code = code
        self.message = message
        self.field = field


class NotFound(ServiceError):
    """Missing, or someone else's: the caller cannot tell the two apart."""

    code = "NOT_FOUND"

    def __init__(self, what: str = "object", *, field: list[str] | None = None):
        super().__init__(f"No such {what}.", field=field)


class InvalidState(ServiceError):
    code = "INVALID_STATE"


class RateLimited(ServiceError):
    code = "RATE_LIMITED"


class LinkExpired(ServiceError):
    code = "LINK_EXPIRED"

    def __init__(self, business_id: str | None = None) -> None:
        super().__init__("This link has expired or was already used. Ask for a new one.")
        # For one of our links that was used or has expired: whose portal it opened, so that
        # the page can offer a new sign-in link there. None for an unknown token.
        self.business_id = business_id


class Unauthenticated(ServiceError):
    code = "UNAUTHENTICATED"


class ConfigurationError(ServiceError):
    code = "CONFIGURATION_ERROR"
