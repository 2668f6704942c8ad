"""A signed-in customer's row and the lists a query asks for, read by one SELECT.

The portal dashboard asks for the customer and four of their lists. Read list by list, that is
a statement each (and on PostgreSQL a pooled connection each, reset when it goes back), then a
typed dict per row and a view per object. Here the whole read is one statement, written once
per query shape (`CustomerRead.sql`): the customer's columns, and each list as one column
holding its rows, in the list's order and page size: the JSON text of an array of arrays, which
orjson parses (on PostgreSQL this was faster than arrays of records, which asyncpg decodes field
by field). At most MAX_COLUMNS columns per row (the JSON array functions' argument limit).
A row of a list is flat: its table's columns, those of the to-one tables it LEFT JOINs (the
same relations as services/billing/related_rows.py) and computed columns, each at the index
`ListRead.column` handed out. Values come as the driver gives them; `converter` makes them what
the model declares (the same as services/sql.typed).

Whose rows they are comes either as values (`read_customer`: a caller whose session row was
read already) or from the portal session row itself (`read_customer_of_session`): the statement
starts from the session (by id and customer, not revoked), joins its customer in the session's
business and mode and scopes every list by the session's columns, as the hand-written floor of
scripts/bench_dashboard.py does; its expiry is checked on the row it gives back.

What the lists are is what the list functions read (list_subscriptions, list_invoices,
list_payments, saved_cards_of): the customer's rows in their business and mode, newest first;
invoices only where the business shows them in the portal (its portal settings, read in the
same statement); saved cards that are not removed. Names of tables and columns come from code,
every value is a parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from tortoise import connections
from tortoise.models import Model

from models import Customer, Invoice, Payment, PaymentMethod, PortalSettings, Subscription
from services.access.sessions import LiveSession, live_session
from services.billing.columns import shown
from services.billing.related_rows import (
    INVOICES,
    OUTSTANDING,
    PAYMENTS,
    SUBSCRIPTIONS,
    Computed,
    Join,
    ListPlan,
)
from services.customers import CUSTOMER_COLUMNS
from services.portal_settings import DEFAULTS
from services.scope import Scope
from services.sql import as_datetime, columns_of

Convert = Callable[[Any], Any]
# json_build_array takes at most 100 arguments (PostgreSQL's limit on a function's), SQLite's
# json_array 127 by default.
MAX_COLUMNS = 100


def _identity(value: Any) -> Any:
    return value


IDENTITY = _identity  # what `converter` gives for a column read as the driver gives it


def _boolean(value: Any) -> Any:
    return None if value is None else bool(value)


# The relations a row of these tables can read along (services/billing/related_rows.py).
JOINS: dict[type[Model], dict[str, Join]] = {
    plan.model: {join.name: join for join in plan.joins}
    for plan in (SUBSCRIPTIONS, INVOICES, PAYMENTS)
}
# A subscription's amount owed (the sum of its OPEN invoices), computed for each row.
SUBSCRIPTION_OUTSTANDING = OUTSTANDING


def readable(model: type[Model], column: str) -> bool:
    """Whether reads for people may read the column (services/billing/columns.py)."""
    return column in (CUSTOMER_COLUMNS if model is Customer else shown(model))


def converter(model: type[Model], column: str) -> Convert:
    """What turns a column's value as the driver gives it into what the model declares."""
    columns = columns_of(model)
    if column in columns.datetimes:
        return as_datetime
    if column in columns.booleans:
        return _boolean
    if column in columns.jsons:
        raise ValueError(f"{model.__name__}.{column}: JSON columns are not read here")
    return _identity


@dataclass
class RowRead:
    """The expressions of one flat row: columns of the table aliased `t` and of the tables
    joined to it, and computed columns. Each is added once; its index is what reads it."""

    model: type[Model]
    expressions: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    _indices: dict[str, int] = field(default_factory=dict)
    _aliases: dict[tuple[str, str], tuple[str, type[Model]]] = field(default_factory=dict)

    def column(self, column: str, alias: str = "t") -> int:
        assert column.isidentifier() and alias.isidentifier()
        return self._index(f"{alias}.{column}")

    def computed(self, computed: Computed) -> int:
        """A computed column of the table itself (its SQL says `t`)."""
        return self._index(f"({computed.sql})")

    def join(self, alias: str, name: str, model: type[Model], column: str) -> str:
        """The alias of the to-one table `model` joined on `alias.column`, joined once."""
        key = (alias, name)
        found = self._aliases.get(key)
        if found is None:
            joined = f"j{len(self._aliases)}"
            table = columns_of(model).table
            self.joins.append(f"LEFT JOIN {table} {joined} ON {joined}.id = {alias}.{column}")
            found = self._aliases[key] = (joined, model)
        return found[0]

    def _index(self, expression: str) -> int:
        found = self._indices.get(expression)
        if found is None:
            found = self._indices[expression] = len(self.expressions)
            self.expressions.append(expression)
        return found


@dataclass
class ListRead:
    """One of the customer's lists: a page of it (`paged`) or all of it, newest first."""

    key: str
    plan: ListPlan
    paged: bool
    row: RowRead
    # Conditions besides the customer's own: SQL over `t` with no values of its own.
    conditions: tuple[str, ...] = ()
    scoped: bool = True  # by business and mode as well as by customer
    shown_when: str | None = None  # a portal setting that hides the list when false
    created_at: int = -1
    id: int = -1

    def __post_init__(self) -> None:
        # The list's order, also for its cursors (and, on SQLite, for sorting its rows).
        self.created_at = self.row.column("created_at")
        self.id = self.row.column("id")


def customer_list(key: str) -> ListRead:
    """A new read of one of the customer's lists: subscriptions, invoices, payments or
    paymentMethods."""
    if key == "subscriptions":
        return ListRead(key, SUBSCRIPTIONS, True, RowRead(Subscription))
    if key == "invoices":
        return ListRead(key, INVOICES, True, RowRead(Invoice), shown_when="customer_view_invoices")
    if key == "payments":
        return ListRead(key, PAYMENTS, True, RowRead(Payment))
    if key == "paymentMethods":
        return ListRead(
            key,
            ListPlan(PaymentMethod),
            False,
            RowRead(PaymentMethod),
            conditions=("t.removed_at IS NULL",),
            scoped=False,  # as saved_cards_of: the customer's id is the scope
        )
    raise ValueError(key)


@dataclass(frozen=True)
class _Owner:
    """Where the statement finds whose rows it reads: values it is given (`?`), or the portal
    session row it reads itself (`ps`)."""

    business: str
    mode: str
    customer: str
    given: bool


GIVEN = _Owner("?", "?", "?", given=True)
SESSION = _Owner("ps.business_id", "ps.mode", "ps.customer_id", given=False)
# What the statement reads of the session row, before the customer's columns.
SESSION_COLUMNS = ("ps.business_id", "ps.mode", "ps.return_url", "ps.expires_at")


@dataclass
class CustomerRead:
    """The customer's row (`root`, the table aliased `t`) and the lists in `lists`."""

    root: RowRead = field(default_factory=lambda: RowRead(Customer))
    lists: list[ListRead] = field(default_factory=list)
    _statements: dict[tuple[bool, bool], str] = field(default_factory=dict)

    def statement(self, postgres: bool, by_session: bool) -> str:
        key = (postgres, by_session)
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = self._sql(postgres, SESSION if by_session else GIVEN)
        return found

    def _sql(self, postgres: bool, owner: _Owner) -> str:
        columns = [*(() if owner.given else SESSION_COLUMNS), *self.root.expressions]
        columns += [_list_sql(listed, postgres, owner) for listed in self.lists]
        if not columns:
            columns = ["t.id"]
        if owner.given:
            source = "customer t WHERE t.id = ? AND t.business_id = ? AND t.mode = ?"
        else:
            source = (
                "portal_session ps JOIN customer t ON t.id = ps.customer_id"
                " AND t.business_id = ps.business_id AND t.mode = ps.mode"
                " WHERE ps.id = ? AND ps.customer_id = ? AND ps.revoked_at IS NULL"
            )
        sql = f"SELECT {', '.join(columns)} FROM {source}"  # noqa: S608 (names from code)
        if postgres:
            parts = sql.split("?")
            sql = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))
        return sql

    def list_params(self, limits: Sequence[int | None], owner: Sequence[Any] = ()) -> list[Any]:
        """The lists' values, in order. `limits`: the rows to read of each list (for a page:
        its size and one more), None for all; `owner`: (business, mode, customer) when the
        statement is given them."""
        business, mode, customer = owner or (None, None, None)
        values: list[Any] = []
        for listed, limit in zip(self.lists, limits, strict=True):
            if listed.shown_when is not None:
                if owner:
                    values += [business, mode]
                values.append(getattr(DEFAULTS, listed.shown_when))
            if owner and listed.scoped:
                values += [business, mode]
            if owner:
                values.append(customer)
            if listed.paged:
                values.append(limit)
        return values


def _list_sql(listed: ListRead, postgres: bool, owner: _Owner) -> str:
    row = listed.row
    table = columns_of(listed.plan.model).table
    conditions = []
    if listed.shown_when is not None:
        settings = columns_of(PortalSettings).table
        conditions.append(
            f"COALESCE((SELECT s.{listed.shown_when} FROM {settings} s"  # noqa: S608
            f" WHERE s.business_id = {owner.business} AND s.mode = {owner.mode}), ?)"
        )
    if listed.scoped:
        conditions += [f"t.business_id = {owner.business}", f"t.mode = {owner.mode}"]
    conditions += [f"t.customer_id = {owner.customer}", *listed.conditions]
    rest = (
        f"FROM {table} t {' '.join(row.joins)} WHERE {' AND '.join(conditions)}"
        " ORDER BY t.created_at DESC, t.id DESC"
    )
    if listed.paged:
        rest += " LIMIT ?"
    values = ", ".join(row.expressions)
    if postgres:  # json_agg keeps the order it is told
        return (
            "(SELECT json_agg(r.j ORDER BY r.o1 DESC, r.o2 DESC) FROM"  # noqa: S608
            f" (SELECT json_build_array({values}) AS j, t.created_at AS o1, t.id AS o2"
            f" {rest}) r)"
        )
    return (
        "(SELECT json_group_array(json(j)) FROM"  # noqa: S608 (names from code)
        f" (SELECT json_array({values}) AS j {rest}) r)"
    )


Rows = tuple[Sequence[Any], list[Sequence[Sequence[Any]]]]


async def read_customer(
    read: CustomerRead, scope: Scope, customer_id: str, limits: Sequence[int | None]
) -> Rows | None:
    """The customer's row and the rows of each list (newest first), or None when the customer
    is not there (in the scope's business and mode)."""
    mode = scope.mode.value
    params = [
        *read.list_params(limits, (scope.business_id, mode, customer_id)),
        customer_id,
        scope.business_id,
        mode,
    ]
    found = await _run(read, False, params)
    return None if found is None else _rows(read, found, 0)


async def read_customer_of_session(
    read: CustomerRead, session_id: str, customer_id: str, limits: Sequence[int | None]
) -> tuple[LiveSession, Rows] | None:
    """The same, for a portal session whose token was verified but whose row was not read:
    the session row is read in the same statement, and checked as
    services.access.sessions.confirm_session checks it. None when it is not live (revoked,
    expired, gone) or its customer is not there."""
    found = await _run(read, True, [*read.list_params(limits), session_id, customer_id])
    if found is None:
        return None
    business_id, mode, return_url, expires_at = found[:4]
    session = live_session(session_id, customer_id, business_id, mode, return_url, expires_at)
    if session is None:
        return None
    return session, _rows(read, found, len(SESSION_COLUMNS))


async def _run(read: CustomerRead, by_session: bool, params: list[Any]) -> Sequence[Any] | None:
    client = connections.get("default")
    postgres = client.capabilities.dialect == "postgres"
    _, found = await client.execute_query(read.statement(postgres, by_session), params)
    return found[0] if found else None


def _rows(read: CustomerRead, row: Sequence[Any], offset: int) -> Rows:
    """The customer's row (from `offset`: after the session's columns) and each list's rows."""
    postgres = connections.get("default").capabilities.dialect == "postgres"
    if offset:
        row = tuple(row)[offset:]
    width = len(read.root.expressions)
    lists: list[Sequence[Sequence[Any]]] = []
    for n, listed in enumerate(read.lists):
        value = row[width + n]
        rows = orjson.loads(value) if value else []
        if not postgres:
            # SQLite's json_group_array keeps no order of its own: the list's order again (the
            # timestamps are text in one format, which orders as the column does).
            created_at, object_id = listed.created_at, listed.id
            rows.sort(key=lambda r: (r[created_at], r[object_id]), reverse=True)
        lists.append(rows)
    return row, lists
