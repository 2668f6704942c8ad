"""Payment history: every payment of the customer (subscriptions and one-time purchases), with
its status, the card charged, its invoice and the receipt, newest first, 25 a page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import signed_in
from app.portal.core import PageError, anonymous_page

PAGE_SIZE = 25
FIELDS = (
    f"me {{ payments(first: {PAGE_SIZE}, after: $after) {{ "
    "pageInfo { hasNextPage endCursor } "
    "edges { node { id status createdAt amount { amount currency } "
    "cardBrand cardLast4 failureCode receiptUrl product { name } "
    "invoice { id number } subscription { id } } } } }"
)


async def payment_history(request: Request) -> Response:
    after = request.query_params.get("after") or None
    try:
        result = await signed_in(
            request, "payments", FIELDS, {"after": after}, var_defs="($after: String)"
        )
    except PageError as error:
        if error.code != "BAD_USER_INPUT":  # a cursor we did not write: no such page
            raise
        return anonymous_page(request).render("not_found.html", 404)
    if isinstance(result, Response):
        return result
    page, data = result
    connection = data["me"]["payments"]
    return page.render(
        "payments.html",
        payments=[edge["node"] for edge in connection["edges"]],
        next_cursor=connection["pageInfo"]["endCursor"]
        if connection["pageInfo"]["hasNextPage"]
        else None,
        first_page=after is None,
    )
