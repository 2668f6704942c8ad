"""The floor for scripts/bench_dashboard.py: the portal dashboard's JSON from the fastest
hand-written code we could write, byte for byte what /graphql answers.

- The session is checked inside the reads: every statement reaches the caller's business, mode
  and customer through the session row, so the session costs no statement or round trip of its
  own; the JWT is verified as services.access.sessions verifies it, its key derived once.
- The reads need nothing from one another, so they go at once. Three ways (`Floor.variants`),
  and the benchmark takes the fastest of each run: `concurrent`, five statements at the same
  time (PostgreSQL: a pooled connection each; SQLite: one trip to the connection's thread,
  through services.sql); `json`, one statement whose lists come as JSON text; `arrays`
  (PostgreSQL), one statement whose lists come as arrays of records.
- Only the columns shown are read and only the joins whose columns are shown (an invoice's
  subscription is its foreign key).
- Money is formatted as /graphql formats it (`format_money_cached`), PDF links are signed with
  one HMAC each, statuses are looked up in a dict, orjson writes the answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import jwt
import orjson
from starlette.requests import Request
from starlette.responses import Response
from tortoise import connections

from app.settings import Settings
from models import InvoiceStatus, PaymentStatus, SubscriptionStatus
from models.clock import now
from services.access.sessions import ALGORITHM, AUDIENCE, REQUIRED_CLAIMS
from services.billing.invoice_links import VALID_FOR
from services.crypto import derive_key
from services.money import format_money_cached
from services.sql import as_datetime

SESSION = "ps.id = ? AND ps.customer_id = ? AND ps.revoked_at IS NULL"


def _of_customer(alias: str) -> str:
    return (
        f"{alias}.business_id = ps.business_id AND {alias}.mode = ps.mode"
        f" AND {alias}.customer_id = ps.customer_id"
    )


CUSTOMER_FROM = """FROM portal_session ps
JOIN customer c ON c.id = ps.customer_id AND c.business_id = ps.business_id AND c.mode = ps.mode"""

# Each list as (columns, the rest of the statement after FROM).
LISTS = (
    (
        "s.id, s.status, s.next_billing_date, s.price_amount, s.currency,"
        " p.id, p.name, p.price_amount, pm.brand, pm.last4,"
        " (SELECT CAST(COALESCE(SUM(o.amount_due), 0) AS BIGINT) FROM invoice o"
        " WHERE o.subscription_id = s.id AND o.status = 'open')",
        f"""subscription s
JOIN product p ON p.id = s.product_id
LEFT JOIN payment_method pm ON pm.id = s.payment_method_id
WHERE {{where}}{_of_customer("s")}
ORDER BY s.created_at DESC, s.id DESC LIMIT 20""",
    ),
    (
        "i.id, i.number, i.status, i.total_amount, i.amount_due, i.subscription_id",
        f"""invoice i
WHERE {{where}}{_of_customer("i")}
ORDER BY i.created_at DESC, i.id DESC LIMIT 100""",
    ),
    (
        "pay.id, pay.status, pay.amount, i.number, pm.last4",
        f"""payment pay
LEFT JOIN invoice i ON i.id = pay.invoice_id
LEFT JOIN payment_method pm ON pm.id = pay.payment_method_id
WHERE {{where}}{_of_customer("pay")}
ORDER BY pay.created_at DESC, pay.id DESC LIMIT 100""",
    ),
    (
        "pm.id, pm.brand, pm.last4",
        f"""payment_method pm
WHERE {{where}}{_of_customer("pm")} AND pm.removed_at IS NULL
ORDER BY pm.created_at DESC, pm.id DESC""",
    ),
)

# Five statements, each scoped through the session row.
SQL_EACH = [
    f"SELECT c.id, c.email, ps.expires_at {CUSTOMER_FROM} WHERE {SESSION}",
    *(
        f"SELECT {columns} FROM portal_session ps, {rest.format(where=f'{SESSION} AND ')}"  # noqa: S608
        for columns, rest in LISTS
    ),
]

# PostgreSQL: one statement, each list an array of anonymous records, which asyncpg decodes
# into tuples, in the order of its subquery.
SQL_ARRAYS = (
    "SELECT c.id, c.email, ps.expires_at, "  # noqa: S608 (from the constants above)
    + ", ".join(
        f"ARRAY(SELECT ROW({columns}) FROM {rest.format(where='')})"  # noqa: S608
        for columns, rest in LISTS
    )
    + f" {CUSTOMER_FROM} WHERE {SESSION}"
)


def sql_json(dialect: str) -> str:
    """One statement, each list as the JSON text of an array of arrays (one per row), which
    orjson parses. SQLite's json_group_array takes a row's array as text unless it passes
    through json() again."""
    if dialect == "postgres":
        aggregate, array = "json_agg(j)", "json_build_array"
    else:
        aggregate, array = "json_group_array(json(j))", "json_array"
    lists = ", ".join(
        f"(SELECT {aggregate} FROM"  # noqa: S608 (from the constants above)
        f" (SELECT {array}({columns}) AS j FROM {rest.format(where='')}) AS rows_)"
        for columns, rest in LISTS
    )
    return f"SELECT c.id, c.email, ps.expires_at, {lists} {CUSTOMER_FROM} WHERE {SESSION}"


def _numbered(sql: str) -> str:
    """`?` placeholders as asyncpg's `$1, $2, …` (none of the statements has a literal `?`)."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))


SUBSCRIPTION_STATUS = {status.value: status.name for status in SubscriptionStatus}
INVOICE_STATUS = {status.value: status.name for status in InvoiceStatus}
PAYMENT_STATUS = {status.value: status.name for status in PaymentStatus}

Tuples = Sequence[Sequence[Any]]
FloorEndpoint = Callable[[Request], Awaitable[Response]]


class Floor:
    """The dashboard's JSON by hand, read in a few ways (`variants`), written the same way."""

    def __init__(self, settings: Settings, dialect: str) -> None:
        self.issuer = settings.jwt_issuer
        self.session_key = derive_key(settings.secret_key, "portal-session-jwt")
        self.pdf_key = derive_key(settings.secret_key, "invoice-pdf-link")
        self.pdf_prefix = f"{settings.public_url}/invoices/"
        self.dialect = dialect
        number = _numbered if dialect == "postgres" else str
        self.sql_each = [number(sql) for sql in SQL_EACH]
        self.sql_json = number(sql_json(dialect))
        self.sql_arrays = number(SQL_ARRAYS)

    def variants(self) -> dict[str, FloorEndpoint]:
        found: dict[str, FloorEndpoint] = {"concurrent": self.concurrent, "json": self.json}
        if self.dialect == "postgres":
            found["arrays"] = self.arrays
        return found

    async def rows(self, sql: str, params: list[str]) -> Sequence[Sequence[Any]]:
        """The rows as the driver gives them (asyncpg records, sqlite3 rows), through Tortoise's
        public `execute_query`, as the product's read path does."""
        _, records = await connections.get("default").execute_query(sql, params)
        return records  # type: ignore[no-any-return]

    def session_claims(self, request: Request) -> tuple[str, str] | None:
        """(session id, customer id) of a valid portal session JWT, as
        services.access.sessions.authenticate_session_token checks it before reading the row."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 2000:
            return None
        try:
            claims = jwt.decode(
                token,
                self.session_key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return None
        sid, sub, exp, iat = claims["sid"], claims["sub"], claims["exp"], claims["iat"]
        if not isinstance(sid, str) or not isinstance(sub, str):
            return None
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            return None
        at = now().timestamp()
        if exp <= at or iat > at + 60:
            return None
        return sid, sub

    def answer(
        self,
        request: Request,
        customer: Sequence[Any],
        subscriptions: Tuples,
        invoices: Tuples,
        payments: Tuples,
        methods: Tuples,
    ) -> Response:
        expires_at = as_datetime(customer[2])
        at = now()
        if expires_at is None or expires_at <= at:
            return unauthorized()
        locale = (
            "de" if request.headers.get("accept-language", "").lower().startswith("de") else "en"
        )
        expires = int((at + VALID_FOR).timestamp())
        pdf_key, pdf_prefix, digest = self.pdf_key, self.pdf_prefix, hmac.digest
        me = {
            "id": customer[0],
            "email": customer[1],
            "subscriptions": {
                "edges": [
                    {
                        "node": {
                            "id": s[0],
                            "status": SUBSCRIPTION_STATUS[s[1]],
                            "nextBillingDate": None
                            if s[2] is None
                            else as_datetime(s[2]).isoformat(),  # type: ignore[union-attr]
                            "price": {
                                "amount": s[3],
                                "currency": s[4],
                                "formatted": format_money_cached(s[3], s[4], locale),
                            },
                            "product": {"id": s[5], "name": s[6], "price": {"amount": s[7]}},
                            "paymentMethod": None
                            if s[9] is None
                            else {"brand": s[8], "last4": s[9]},
                            "outstandingAmount": {"amount": s[10]},
                        }
                    }
                    for s in subscriptions
                ]
            },
            "invoices": {
                "edges": [
                    {
                        "node": {
                            "id": i[0],
                            "number": i[1],
                            "status": INVOICE_STATUS[i[2]],
                            "total": {"amount": i[3]},
                            "amountDue": {"amount": i[4]},
                            "subscription": None if i[5] is None else {"id": i[5]},
                            "pdfUrl": f"{pdf_prefix}{i[0]}.pdf?expires={expires}&signature="
                            + digest(pdf_key, f"{i[0]}|{expires}".encode(), hashlib.sha256).hex(),
                        }
                    }
                    for i in invoices
                ]
            },
            "payments": {
                "edges": [
                    {
                        "node": {
                            "id": p[0],
                            "status": PAYMENT_STATUS[p[1]],
                            "amount": {"amount": p[2]},
                            "invoice": None if p[3] is None else {"number": p[3]},
                            "paymentMethod": None if p[4] is None else {"last4": p[4]},
                        }
                    }
                    for p in payments
                ]
            },
            "paymentMethods": [{"id": m[0], "brand": m[1], "last4": m[2]} for m in methods],
        }
        return Response(orjson.dumps({"data": {"me": me}}), media_type="application/json")

    # The variants: each reads the same rows its own way.

    async def concurrent(self, request: Request) -> Response:
        """The five statements at once: on PostgreSQL each on its own pooled connection, on
        SQLite in one trip to the connection's thread."""
        claims = self.session_claims(request)
        if claims is None:
            return unauthorized()
        params = list(claims)
        [customer, *lists] = await asyncio.gather(
            *(self.rows(sql, params) for sql in self.sql_each)
        )
        if not customer:
            return unauthorized()
        return self.answer(request, customer[0], *lists)

    async def json(self, request: Request) -> Response:
        """One statement; the lists come as JSON text."""
        claims = self.session_claims(request)
        if claims is None:
            return unauthorized()
        found = await self.rows(self.sql_json, list(claims))
        if not found:
            return unauthorized()
        row = found[0]
        lists = [[] if text is None else orjson.loads(text) for text in row[3:]]
        return self.answer(request, row, *lists)

    async def arrays(self, request: Request) -> Response:
        """PostgreSQL: one statement; the lists come as arrays of records."""
        claims = self.session_claims(request)
        if claims is None:
            return unauthorized()
        found = await self.rows(self.sql_arrays, list(claims))
        if not found:
            return unauthorized()
        row = found[0]
        return self.answer(request, row, *row[3:])


def unauthorized() -> Response:
    return Response(
        orjson.dumps({"errors": [{"message": "portal session needed"}]}),
        status_code=401,
        media_type="application/json",
    )
