"""Join planning for the billing lists: which related rows a page reads in its own statement.

A query for a customer's subscriptions that also asks for each one's product, card and amount
owed would otherwise read a page and then load those by id. Here a list names the relations the
query wants (`related`), and the page's one SELECT LEFT JOINs them (product and card of a
subscription; subscription of an invoice; invoice, subscription, card and product of a payment) and
computes the amount owed as a subquery. Each related object comes back as a typed row under its
name, or None where the row has none.

The same list of many parents (the merchant's customers, each with its invoices) is one
statement too: given a `reader` (a per-request DataLoader over `read_together`), the pages'
statements that are alike are sent as one UNION ALL of their LIMITed branches, each an index
range of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tortoise.models import Model

from models import Invoice, LicenseKey, Payment, PaymentMethod, Product, Subscription
from services.billing.columns import shown
from services.pagination import Key
from services.sql import Row, columns_of, fetch_rows, typed


@dataclass(frozen=True)
class Join:
    """A to-one relation read with the page (a LEFT JOIN on `column`)."""

    name: str
    model: type[Model]
    column: str


@dataclass(frozen=True)
class Computed:
    """A column computed for each row of the page: an SQL expression over the page's table
    `t`, written in code (never from input)."""

    name: str
    sql: str


@dataclass(frozen=True)
class ListPlan:
    """A billing list: its table, and the relations and computed columns it can read along."""

    model: type[Model]
    joins: tuple[Join, ...] = ()
    computed: tuple[Computed, ...] = ()


# The sum of the subscription's OPEN invoices ('open' is InvoiceStatus.OPEN).
OUTSTANDING = Computed(
    "outstanding",
    "SELECT COALESCE(SUM(o.amount_due), 0) FROM invoice o "
    "WHERE o.subscription_id = t.id AND o.status = 'open'",
)

SUBSCRIPTIONS = ListPlan(
    Subscription,
    joins=(
        Join("product", Product, "product_id"),
        Join("payment_method", PaymentMethod, "payment_method_id"),
    ),
    computed=(OUTSTANDING,),
)
INVOICES = ListPlan(Invoice, joins=(Join("subscription", Subscription, "subscription_id"),))
PAYMENTS = ListPlan(
    Payment,
    joins=(
        Join("invoice", Invoice, "invoice_id"),
        Join("subscription", Subscription, "subscription_id"),
        Join("payment_method", PaymentMethod, "payment_method_id"),
        Join("product", Product, "product_id"),
    ),
)

LICENSE_KEYS = ListPlan(LicenseKey)


@dataclass(frozen=True)
class StatementRead:
    """One statement of a page query with its parameters: what `read_together` batches (and,
    being hashable, the key of a DataLoader)."""

    sql: str
    params: tuple[Any, ...]


Reader = Callable[[StatementRead], Awaitable[list[Row]]]


async def read_together(reads: Sequence[StatementRead]) -> list[list[Row]]:
    """The rows of each read, in one statement per distinct SQL text among them: reads of the
    same statement (one list of several customers) go as one UNION ALL whose branches are the
    statements themselves, each marked with its position. The rows of a branch come back in no
    particular order (JoinedPageQuery sorts them)."""
    results: list[list[Row]] = [[] for _ in reads]
    groups: dict[str, list[int]] = {}
    for n, read in enumerate(reads):
        groups.setdefault(read.sql, []).append(n)
    for sql, members in groups.items():
        if len(members) == 1:
            results[members[0]] = await fetch_rows(sql, reads[members[0]].params)
            continue
        union = " UNION ALL ".join(
            f"SELECT {i} AS batch_index, b{i}.* FROM ({sql}) b{i}"  # noqa: S608
            for i in range(len(members))
        )
        params = [value for n in members for value in reads[n].params]
        for row in await fetch_rows(union, params):
            results[members[int(row.pop("batch_index"))]].append(row)
    return results


@dataclass(frozen=True)
class _Statements:
    first_page: str
    next_page: str  # with the keyset condition for `after`
    count: str
    # Per join: its name, model, and its columns with the aliases they are selected under.
    parts: tuple[tuple[str, type[Model], tuple[tuple[str, str], ...]], ...]


@lru_cache(maxsize=64)
def _statements(
    plan: ListPlan, where: tuple[str, ...], joins: tuple[Join, ...], computed: tuple[Computed, ...]
) -> _Statements:
    """The SQL of a page, written once per shape. Table and column names come from code; every
    value is a parameter."""
    own = shown(plan.model)
    assert all(name.isidentifier() for name in (*where, *own))
    table = columns_of(plan.model).table
    conditions = " AND ".join(f"t.{column} = ?" for column in where)
    selected = [f"t.{column}" for column in own]
    selected += [f"({c.sql}) AS {c.name}" for c in computed]
    tables = f"{table} t"
    parts = []
    for n, join in enumerate(joins):
        alias = f"j{n}"
        aliased = tuple((column, f"{alias}_{column}") for column in shown(join.model))
        selected += [f"{alias}.{column} AS {name}" for column, name in aliased]
        joined = columns_of(join.model).table
        tables += f" LEFT JOIN {joined} {alias} ON {alias}.id = t.{join.column}"
        parts.append((join.name, join.model, aliased))
    head = f"SELECT {', '.join(selected)} FROM {tables} WHERE {conditions}"  # noqa: S608
    order = " ORDER BY t.created_at DESC, t.id DESC LIMIT ?"
    # A row comparison: an index condition on (…, created_at, id) on PostgreSQL.
    keyset = " AND (t.created_at, t.id) < (?, ?)"
    return _Statements(
        first_page=head + order,
        next_page=head + keyset + order,
        # At most LIMIT rows counted (services/pagination.py, COUNT_CAP).
        count=f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM {table} t WHERE {conditions} "  # noqa: S608
        "LIMIT ?) c",
        parts=tuple(parts),
    )


class JoinedPageQuery:
    """The page of a billing list with the related rows `related` names, in one statement.
    `where` maps columns (from code) to the values they must equal."""

    def __init__(
        self,
        plan: ListPlan,
        where: dict[str, Any],
        related: Collection[str] = (),
        reader: Reader | None = None,
    ) -> None:
        self.plan = plan
        self.reader = reader
        self.params = list(where.values())
        joins = tuple(join for join in plan.joins if join.name in related)
        computed = tuple(c for c in plan.computed if c.name in related)
        self.statements = _statements(plan, tuple(where), joins, computed)

    async def rows(self, limit: int, after: Key | None) -> list[Row]:
        statements = self.statements
        if after is None:
            found = await self._read(statements.first_page, [*self.params, limit])
        else:
            # In UTC, as Tortoise writes it: SQLite compares the text.
            keyset: Sequence[Any] = after
            found = await self._read(statements.next_page, [*self.params, *keyset, limit])
        model = self.plan.model
        for row in found:
            for name, join_model, aliased in statements.parts:
                related = {column: row.pop(alias) for column, alias in aliased}
                row[name] = None if related["id"] is None else typed(join_model, related)
            typed(model, row)
        if self.reader is not None:  # a UNION ALL branch's rows: in no guaranteed order
            found.sort(key=lambda row: (row["created_at"], row["id"]), reverse=True)
        return found

    async def count(self, limit: int) -> int:
        [row] = await self._read(self.statements.count, [*self.params, limit])
        return int(row["n"])

    async def _read(self, sql: str, params: list[Any]) -> list[Row]:
        if self.reader is None:
            return await fetch_rows(sql, params)
        # Copies: a DataLoader hands the same rows to every caller of the same read.
        return [dict(row) for row in await self.reader(StatementRead(sql, tuple(params)))]
