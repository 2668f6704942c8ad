"""What several pages ask our schema for, and the one-line confirmation after a redirect."""

from __future__ import annotations

from starlette.requests import Request

SUBSCRIPTION_FIELDS = (
    "id status nextBillingDate cancelAtNextBillingDate cancelledAt createdAt interval "
    "pausedAt pauseAtNextBillingDate resumeAt "
    "intervalCount price { amount currency } outstandingAmount { amount currency } "
    "product { name description }"
)
CARD_FIELDS = "id brand last4 expMonth expYear"


def done_of(request: Request, *allowed: str) -> str | None:
    """What a redirect says was done (`?done=saved`), when it is one of the words the page
    knows: never anything the URL says verbatim."""
    done = request.query_params.get("done")
    return done if done in allowed else None
