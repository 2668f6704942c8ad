"""`POST /gateway/stripe/{business_id}/webhook`: Stripe's events for one business. The
signature is the credential: 400 when it does not verify, 200 for an event already handled
or about objects the business does not own."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from resolvers.payments import stripe_webhook

# Stripe's events are a few kB; the app's body limit (64 KiB) bounds them anyway.


async def stripe_webhook_endpoint(request: Request) -> Response:
    payload = await request.body()
    answer = await stripe_webhook(
        request.app.state.settings,
        request.path_params["business_id"],
        payload,
        request.headers.get("stripe-signature"),
    )
    return PlainTextResponse(answer.message, status_code=answer.status)


def gateway_routes() -> list[Route]:
    return [
        Route("/gateway/stripe/{business_id}/webhook", stripe_webhook_endpoint, methods=["POST"])
    ]
