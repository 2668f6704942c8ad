"""The signed-in customer's queries compiled into one SQL statement and a builder of the answer.

A portal dashboard asks `me` for the customer and a page of each of their lists. Planned
(schema/query_plans.py), that is a statement per list and a view per object, each field then
read off its view. Compiled, it is one statement (services/billing/one_statement.py) whose rows
carry exactly the columns the query's fields show, and builders made once per query that turn
those rows into the answer's dicts. A builder is generated Python (`_Code`): one function per
kind of row (a list's node, an edge, the root), returning a dict literal whose values read the
row's columns by index; a column's value is converted as the model declares it and serialized
by the field's own scalar (skipped where the scalar would give the value back unchanged); money,
signed links and cursors come from the same functions the views use.

What is compiled is a planned query (so: fields of object types, aliases, fragments on the same
type, `__typename`) whose root is `me` and whose fields are all listed below: the customer's
columns; their `subscriptions`, `invoices` and `payments` connections (`edges { cursor node }`,
`pageInfo { hasNextPage endCursor }`) and `paymentMethods`; the columns, money, related
objects (product, card, subscription, invoice, as the lists' joins read them), a
subscription's `outstandingAmount`, an invoice's `pdfUrl` and a payment's `receiptUrl` of the
objects in them. Anything else is the plan's, and at run time so is a list asked for `after` a
cursor or for one status, and any run that meets something unusual (a null where the type says
non-null, a value a serializer refuses, an error): the plan, and graphql-core after it, then run
the operation from the start. `tests/schema/test_compiled_queries.py` holds the answers to
those of graphql-core alone.

The answer is built from the same schema extension hook as the plans (`on_execute`, where
Strawberry documents that an extension may answer an operation itself).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLID,
    GraphQLInt,
    GraphQLString,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    VariableNode,
)
from graphql.execution import get_argument_values
from strawberry.extensions import SchemaExtension

import models
from resolvers import billing as resolve
from resolvers import one_statement as reads
from resolvers.context import Context
from resolvers.one_statement import as_datetime
from schema.query_plans import (
    PLANNED,
    FieldStep,
    GiveUp,
    ObjectPlan,
    PermissionInfo,
    QueryPlan,
    answer_by,
    cached_plan,
)

logger = logging.getLogger("portal.graphql.plans")

Build = Callable[[Sequence[Any], "_Run"], Any]


class NotCompiled(Exception):
    """The query has a field this module does not compile: its plan answers it."""


# The object types read from rows, and which of their fields are a column of the same name.
MODELS: dict[str, type[Any]] = {
    "Customer": models.Customer,
    "Subscription": models.Subscription,
    "Invoice": models.Invoice,
    "Payment": models.Payment,
    "PaymentMethod": models.PaymentMethod,
    "Product": models.Product,
}
COLUMNS: dict[str, frozenset[str]] = {
    "Customer": frozenset({"id", "email", "name", "phone_number", "locale", "created_at"}),
    "Subscription": frozenset(
        {
            "id",
            "status",
            "interval",
            "interval_count",
            "current_period_start",
            "next_billing_date",
            "cancel_at_next_billing_date",
            "cancelled_at",
            "cancellation_reason",
            "cancellation_comment",
            "paused_at",
            "pause_at_next_billing_date",
            "resume_at",
            "created_at",
        }
    ),
    "Invoice": frozenset(
        {"id", "number", "status", "issued_at", "paid_at", "period_start", "period_end", "kind"}
    ),
    "Payment": frozenset(
        {
            "id",
            "status",
            "created_at",
            "failure_code",
            "failure_message",
            "card_brand",
            "card_last4",
        }
    ),
    "PaymentMethod": frozenset({"id", "brand", "last4", "exp_month", "exp_year"}),
    "Product": frozenset(
        {
            "id",
            "name",
            "description",
            "is_recurring",
            "interval",
            "interval_count",
            "license_key_enabled",
            "license_key_activations_limit",
            "license_key_duration_days",
            "tax_category",
            "created_at",
        }
    ),
}
# Money fields: (amount column, currency column), as the views build them.
MONEY: dict[str, dict[str, tuple[str, str]]] = {
    "Subscription": {"price": ("price_amount", "currency")},
    "Product": {"price": ("price_amount", "currency")},
    "Invoice": {
        "total": ("total_amount", "currency"),
        "amount_due": ("amount_due", "currency"),
        "subtotal": ("net_amount", "currency"),
        "tax": ("tax_amount", "currency"),
    },
    "Payment": {
        "amount": ("amount", "currency"),
        "refunded_amount": ("refunded_amount", "currency"),
    },
}
# Related objects: the view's attribute → the join that reads it (services/billing/related_rows).
RELATED: dict[str, dict[str, str]] = {
    "Subscription": {"product": "product", "payment_method": "payment_method"},
    "Invoice": {"subscription": "subscription"},
    "Payment": {
        "invoice": "invoice",
        "subscription": "subscription",
        "payment_method": "payment_method",
        "product": "product",
    },
}
# The customer's lists (planned resolvers of Customer), and whether each is a connection.
LISTS: dict[str, bool] = {
    "subscriptions": True,
    "invoices": True,
    "payments": True,
    "paymentMethods": False,
}


class _Run:
    """One request's compiled run: what builders need besides the rows."""

    __slots__ = ("context", "lists", "locale")

    def __init__(self, context: Context) -> None:
        self.context = context
        self.locale = context.locale
        self.lists: list[Any] = []


@dataclass
class _List:
    step: FieldStep
    read: reads.ListRead
    build: Callable[[Sequence[Sequence[Any]], int, _Run], Any]
    # The arguments when the query writes them all out (no variables): coerced once.
    literal: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.step.arguments is None:
            self.literal = {}
            return
        definition, node = self.step.arguments
        if not any(_has_variable(argument.value) for argument in node.arguments or ()):
            self.literal = get_argument_values(definition, node, None)

    def arguments(self, variables: Any) -> dict[str, Any]:
        if self.literal is not None:
            return self.literal
        assert self.step.arguments is not None
        definition, node = self.step.arguments
        return get_argument_values(definition, node, variables)


def _has_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_has_variable(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_has_variable(field.value) for field in value.fields)
    return False


@dataclass
class CompiledQuery:
    plan: QueryPlan
    read: reads.CustomerRead
    me: FieldStep
    lists: list[_List]
    answer: Callable[[Sequence[Any], _Run], dict[str, Any]]


def _cursor(listed: reads.ListRead) -> Callable[[Sequence[Any]], str]:
    """A row's cursor, as Page.cursor encodes it (services/pagination.py)."""
    created_at, object_id = listed.created_at, listed.id

    def cursor(row: Sequence[Any]) -> str:
        at = as_datetime(row[created_at])
        assert at is not None  # created_at is NOT NULL
        return reads.encode_cursor(at, row[object_id])

    return cursor


def _give_up() -> Any:
    raise GiveUp


def _checked(value: Any) -> Any:
    """A serializer's answer: None from a serializer means it refused the value."""
    if value is None:
        raise GiveUp
    return value


# Serializers that give a value of their own type back unchanged: a str for String and ID, a
# 32-bit int for Int, a bool for Boolean (graphql-core's serialize_string, serialize_id,
# serialize_int, serialize_boolean); anything else still goes through them.
_SAME_STR = (GraphQLString.serialize, GraphQLID.serialize)
_INT_RANGE = "-2147483648 <= v <= 2147483647"


class _Code:
    """Python source of the builders, and the values it names. Each builder is one function per
    kind of row (`function`), its fields one expression each: a dict literal whose values read
    the row's columns by index. Only names and literals made here go into the source: response
    keys and type names are GraphQL names (letters, digits, underscores), written with repr."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {"_give_up": _give_up, "_checked": _checked}

    def name(self, value: Any) -> str:
        for name, known in self.values.items():
            if known is value:
                return name
        name = f"_{len(self.values)}"
        self.values[name] = value
        return name

    def function(self, expression: str) -> Build:
        source = f"def build(row, run):\n    return {expression}\n"
        namespace = dict(self.values)
        exec(compile(source, "<compiled query>", "exec"), namespace)  # noqa: S102 (our source)
        built: Build = namespace["build"]
        return built


def _dict(fields: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{key!r}: {value}" for key, value in fields) + "}"


class _Compiler:
    def __init__(self, plan: QueryPlan) -> None:
        self.plan = plan
        self.read = reads.CustomerRead()
        self.lists: list[_List] = []
        self.code = _Code()

    def compile(self) -> CompiledQuery:
        me: FieldStep | None = None
        fields: list[tuple[str, str]] = []
        for step in self.plan.root.steps:
            if step.typename is not None:
                fields.append((step.key, repr(step.typename)))
            elif step.resolver is PLANNED.get(("Query", "me")) and me is None:
                assert step.children is not None
                me = step
                fields.append((step.key, self.customer(step.children)))
            else:
                raise NotCompiled(step.name)
        if me is None:
            raise NotCompiled("no me")
        if any(len(listed.row.expressions) > reads.MAX_COLUMNS for listed in self.read.lists):
            raise NotCompiled(f"more than {reads.MAX_COLUMNS} columns in a list's rows")
        root = self.code.function(_dict(fields))
        return CompiledQuery(self.plan, self.read, me, self.lists, root)

    def customer(self, plan: ObjectPlan) -> str:
        fields: list[tuple[str, str]] = []
        for step in plan.steps:
            if step.typename is not None:
                fields.append((step.key, repr(step.typename)))
            elif step.permissions:
                raise NotCompiled(f"{step.name} has permissions")
            elif step.resolver is not None:
                if step.resolver is not PLANNED.get(("Customer", step.name)):
                    raise NotCompiled(step.name)
                fields.append((step.key, self.customer_list(step)))
            else:
                fields.append((step.key, self.field(step, "Customer", self.read.root, "t")))
        return _dict(fields)

    def customer_list(self, step: FieldStep) -> str:
        """The list's answer, built from its rows before the customer's (`run.lists`)."""
        connection = LISTS.get(step.name)
        if connection is None or step.children is None:
            raise NotCompiled(step.name)
        listed = reads.customer_list(step.name)
        n = len(self.lists)
        if connection:
            build = self.connection(step.children, listed)
        else:
            node = self.code.function(self.object(step.children, listed.row, "t"))

            def build(rows: Sequence[Sequence[Any]], size: int, run: _Run) -> Any:
                return [node(row, run) for row in rows]

        self.lists.append(_List(step, listed, build))
        self.read.lists.append(listed)
        return f"run.lists[{n}]"

    def connection(
        self, plan: ObjectPlan, listed: reads.ListRead
    ) -> Callable[[Sequence[Sequence[Any]], int, _Run], Any]:
        parts: list[tuple[str, str, Any]] = []
        cursor = _cursor(listed)
        for step in plan.steps:
            if step.typename is not None:
                parts.append((step.key, "typename", step.typename))
            elif step.permissions or step.resolver is not None or step.children is None:
                raise NotCompiled(f"{plan.type_name}.{step.name}")
            elif step.name == "edges":
                edge = self.code.function(self.edge(step.children, listed))
                parts.append((step.key, "edges", edge))
            elif step.name == "pageInfo":
                parts.append((step.key, "pageInfo", self.page_info(step.children)))
            else:
                raise NotCompiled(f"{plan.type_name}.{step.name}")

        def build(rows: Sequence[Sequence[Any]], size: int, run: _Run) -> dict[str, Any]:
            has_next = len(rows) > size
            if has_next:
                rows = rows[:size]
            answer: dict[str, Any] = {}
            for key, kind, part in parts:
                if kind == "edges":
                    answer[key] = [part(row, run) for row in rows]
                elif kind == "pageInfo":
                    answer[key] = part(has_next, cursor(rows[-1]) if rows else None)
                else:
                    answer[key] = part
            return answer

        return build

    def edge(self, plan: ObjectPlan, listed: reads.ListRead) -> str:
        fields: list[tuple[str, str]] = []
        for step in plan.steps:
            if step.typename is not None:
                fields.append((step.key, repr(step.typename)))
            elif step.permissions or step.resolver is not None:
                raise NotCompiled(f"{plan.type_name}.{step.name}")
            elif step.name == "node" and step.children is not None:
                fields.append((step.key, self.object(step.children, listed.row, "t")))
            elif step.name == "cursor":
                fields.append((step.key, f"{self.code.name(_cursor(listed))}(row)"))
            else:
                raise NotCompiled(f"{plan.type_name}.{step.name}")
        return _dict(fields)

    def page_info(self, plan: ObjectPlan) -> Callable[[bool, str | None], dict[str, Any]]:
        parts: list[tuple[str, str | None]] = []
        for step in plan.steps:
            if step.typename is not None:
                parts.append((step.key, step.typename))
            elif step.name in ("hasNextPage", "endCursor") and not step.permissions:
                parts.append((step.key, None if step.name == "hasNextPage" else ""))
            else:
                raise NotCompiled(f"PageInfo.{step.name}")

        def build(has_next: bool, end: str | None) -> dict[str, Any]:
            return {
                key: (has_next if kind is None else end if kind == "" else kind)
                for key, kind in parts
            }

        return build

    def object(self, plan: ObjectPlan, row: reads.RowRead, alias: str) -> str:
        type_name = plan.type_name
        if type_name not in MODELS or type_name == "Customer":
            raise NotCompiled(type_name)
        fields: list[tuple[str, str]] = []
        for step in plan.steps:
            if step.typename is not None:
                fields.append((step.key, repr(step.typename)))
            elif step.permissions or step.resolver is not None:
                raise NotCompiled(f"{type_name}.{step.name}")
            else:
                fields.append((step.key, self.field(step, type_name, row, alias)))
        return _dict(fields)

    def field(self, step: FieldStep, type_name: str, row: reads.RowRead, alias: str) -> str:
        model = MODELS[type_name]
        attribute = step.attribute
        assert attribute is not None
        if step.list_of:
            raise NotCompiled(f"{type_name}.{step.name}")
        if attribute in COLUMNS[type_name] and step.serialize is not None:
            if not reads.readable(model, attribute):
                raise NotCompiled(f"{type_name}.{step.name}")
            index = row.column(attribute, alias)
            return self.leaf(step, index, reads.converter(model, attribute))
        money = MONEY.get(type_name, {}).get(attribute)
        if money is not None and step.children is not None:
            amount, currency = money
            return self.money(step, row.column(amount, alias), row.column(currency, alias))
        if attribute == "outstanding_amount" and type_name == "Subscription" and alias == "t":
            computed = row.computed(reads.SUBSCRIPTION_OUTSTANDING)
            return self.money(step, computed, row.column("currency", alias), exact=False)
        related = RELATED.get(type_name, {}).get(attribute)
        if related is not None and step.children is not None:
            join = reads.JOINS[model][related]
            joined = row.join(alias, join.name, join.model, join.column)
            target = self.object(step.children, row, joined)
            present = row.column("id", joined)
            absent = "_give_up()" if step.non_null else "None"
            return f"({absent} if row[{present}] is None else {target})"
        if attribute == "pdf_url" and type_name == "Invoice":
            sign = self.code.name(resolve.pdf_url)
            return f"{sign}(run.context, row[{row.column('id', alias)}])"
        if attribute == "receipt_url" and type_name == "Payment":
            status, invoice = row.column("status", alias), row.column("invoice_id", alias)
            sign = self.code.name(resolve.pdf_url)
            succeeded = self.code.name(models.PaymentStatus.SUCCEEDED)
            return (
                f"({sign}(run.context, row[{invoice}])"
                f" if row[{status}] == {succeeded} and row[{invoice}] else None)"
            )
        raise NotCompiled(f"{type_name}.{step.name}")

    def leaf(self, step: FieldStep, index: int, convert: reads.Convert) -> str:
        """`v` is the column's value: as the driver gives it, then converted, then serialized
        (by the scalar's own serializer, unless it would give the value back unchanged)."""
        serialize = step.serialize
        assert serialize is not None
        value = "v" if convert is reads.IDENTITY else f"{self.code.name(convert)}(v)"
        name = self.code.name(serialize)
        if value == "v" and serialize in _SAME_STR:
            done = f"(v if type(v) is str else {name}(v))"
        elif value == "v" and serialize is GraphQLInt.serialize:
            done = f"(v if type(v) is int and {_INT_RANGE} else {name}(v))"
        elif serialize is GraphQLBoolean.serialize:
            done = f"(v if type(v) is bool else {name}({value}))"
        else:
            done = f"_checked({name}({value}))"
        absent = "_give_up()" if step.non_null else "None"
        return f"({absent} if (v := row[{index}]) is None else {done})"

    def money(self, step: FieldStep, amount: int, currency: int, exact: bool = True) -> str:
        """A Money object from an amount and a currency column: null when the amount is; an
        amount without a currency is not a state the views know (the plan's). `exact`: the
        amount is an integer column (else a SUM, a Decimal on PostgreSQL)."""
        assert step.children is not None
        fields: list[tuple[str, str]] = []
        for child in step.children.steps:
            if child.typename is not None:
                fields.append((child.key, repr(child.typename)))
            elif child.permissions or child.name not in ("amount", "currency", "formatted"):
                raise NotCompiled(f"Money.{child.name}")
            elif child.name == "amount":
                serialize = self.code.name(child.serialize)
                in_range = _INT_RANGE.replace("v", "a")
                fields.append(
                    (child.key, f"(a if type(a) is int and {in_range} else {serialize}(a))")
                )
            elif child.name == "currency":
                fields.append((child.key, "c"))
            else:
                text = self.code.name(resolve.money_text)
                fields.append((child.key, f"{text}(a, c, run.locale)"))
        absent = "_give_up()" if step.non_null else "None"
        read = f"row[{amount}]" if exact else f"int(row[{amount}])"
        return (
            f"({absent} if (a := {read}) is None"
            f" else _give_up() if (c := row[{currency}]) is None else {_dict(fields)})"
        )


# Compiled queries by plan (plans are cached per document, schema/query_plans.py).
_COMPILED: dict[int, tuple[QueryPlan, CompiledQuery | None]] = {}
_COMPILED_KEPT = 256


def compiled_query(plan: QueryPlan) -> CompiledQuery | None:
    found = _COMPILED.get(id(plan))
    if found is not None and found[0] is plan:
        return found[1]
    try:
        compiled: CompiledQuery | None = _Compiler(plan).compile()
    except NotCompiled as why:
        logger.debug("not compiled: %s", why)
        compiled = None
    except Exception:  # a defect here must not fail the query: its plan answers it
        logger.warning("compiling a query failed; its plan answers it", exc_info=True)
        compiled = None
    if len(_COMPILED) >= _COMPILED_KEPT:
        _COMPILED.clear()
    _COMPILED[id(plan)] = (plan, compiled)
    return compiled


def _may_ask(compiled: CompiledQuery, context: Context) -> None:
    """The permission classes of `me`, as the plan runs them."""
    info = PermissionInfo(context)
    for permission in compiled.me.permissions:
        if not permission().has_permission(None, info):
            raise GiveUp


async def run_compiled(compiled: CompiledQuery, context: Context, variables: Any) -> Any:
    """The answer's data, or GiveUp."""
    limits: list[int | None] = []
    sizes: list[int] = []
    for listed in compiled.lists:
        arguments = listed.arguments(variables)
        if arguments.get("after") or arguments.get("status") is not None:
            raise GiveUp  # another statement: the plan's
        if listed.read.paged:
            try:
                size = reads.page_size(arguments.get("first"))
            except Exception:
                raise GiveUp from None
            sizes.append(size)
            limits.append(size + 1)
        else:
            sizes.append(0)
            limits.append(None)
    if context.unconfirmed is None:
        _may_ask(compiled, context)
        found = await reads.read_signed_in_customer(context, compiled.read, limits)
    else:  # the session row is read with the data, and checked as Context.confirm_session does
        found = await reads.read_customer_of_session(context, compiled.read, limits)
        if found is not None:
            _may_ask(compiled, context)
    if found is None:
        raise GiveUp
    row, rows = found
    run = _Run(context)
    run.lists = [
        listed.build(list_rows, size, run)
        for listed, list_rows, size in zip(compiled.lists, rows, sizes, strict=True)
    ]
    return compiled.answer(row, run)


class CompiledQueries(SchemaExtension):
    """Answers a compiled query itself; the plan (and graphql-core) answer everything else."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.result is None and document is not None:
            plan = cached_plan(context.schema, document, context.operation_name)
            compiled = None if plan is None else compiled_query(plan)
            if compiled is not None:
                await answer_by(
                    context,
                    compiled.plan.operation,
                    lambda ctx, variables: run_compiled(compiled, ctx, variables),
                    "its compiled statement",
                    "the plan",
                )
        yield
