"""Queries planned once and answered without graphql-core's per-field machinery.

A dashboard answer has a few thousand fields, and graphql-core gives every one the same
treatment (a path entry, a resolve-info object, an argument check, the recursive completion):
that, not the database, is most of such a request. Most of our fields only read an attribute
of a view (`Invoice.number`, `Money.amount`). So a query operation is planned once per document
(the parser cache hands back the same document for the same query text): each field becomes a
step that reads the attribute, or calls one of the few resolvers listed in `PLANNED`, and
serializes the value with the scalar's own serializer. Running the plan builds the response
directly; async values (a connection's page, a `Deferred` related object) are awaited together
per level, as graphql-core does, so DataLoaders still batch.

Only what the plan handles for certain is planned: query operations whose fields are attribute
fields of object types or a `PLANNED` resolver, with aliases, fragments on the same type and
`__typename`. Anything else (mutations, abstract types, directives, other resolvers) is left to
graphql-core. And whenever a planned run meets something unusual (an exception, a null where
the type says non-null, a value a scalar refuses, a permission that says no), it gives up and
graphql-core runs the operation from the start, so errors, nulls and messages come out exactly
as graphql-core makes them: a plan only ever answers a query that succeeds.

The plan runs from a schema extension's `on_execute`, which Strawberry documents as the place
to answer an operation without executing it (by setting the execution context's result). Only
public APIs: graphql-core's AST, its type objects and `get_variable_values` /
`get_argument_values`, and Strawberry's `get_type_by_name` / `get_field_for_type`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.execution import ExecutionResult, get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from models import SubscriptionStatus
from resolvers import billing as resolve_billing
from resolvers import merchant as resolve_merchant
from resolvers.context import Context
from schema.billing_types import Selection, Subscription
from schema.cost import types_of
from schema.customer import (
    Customer,
    invoices_of,
    license_keys_of,
    payment_methods_of,
    payments_of,
    subscriptions_of,
)
from schema.licensing import key_instances, key_product, key_status
from schema.merchant import customers_page
from schema.portal import signed_in_customer
from schema.types import Business, Connection

logger = logging.getLogger("portal.graphql.plans")


class Unplannable(Exception):
    """The operation has something a plan does not handle: graphql-core runs it."""


class GiveUp(Exception):
    """A planned run met something unusual: graphql-core runs the operation instead."""


# A planned resolver: (context, parent object, arguments by GraphQL name, what the field
# selects) -> the value, or an awaitable of it.
Resolver = Callable[[Context, Any, dict[str, Any], Selection], Any]

PLANNED: dict[tuple[str, str], Resolver] = {
    ("Query", "me"): lambda ctx, _, args, sel: signed_in_customer(ctx),
    ("Query", "business"): lambda ctx, _, args, sel: _business(ctx),
    ("Query", "customer"): lambda ctx, _, args, sel: _customer(ctx, args["id"]),
    ("Query", "customers"): lambda ctx, _, args, sel: customers_page(
        ctx, args.get("first"), args.get("after"), args.get("email")
    ),
    ("Query", "subscription"): lambda ctx, _, args, sel: _subscription(ctx, args["id"]),
    ("Customer", "subscriptions"): lambda ctx, customer, args, sel: subscriptions_of(
        ctx,
        str(customer.id),
        sel,
        args.get("first"),
        args.get("after"),
        _status(args.get("status")),
    ),
    ("Customer", "invoices"): lambda ctx, customer, args, sel: invoices_of(
        ctx, str(customer.id), sel, args.get("first"), args.get("after")
    ),
    ("Customer", "payments"): lambda ctx, customer, args, sel: payments_of(
        ctx, str(customer.id), sel, args.get("first"), args.get("after")
    ),
    ("Customer", "licenseKeys"): lambda ctx, customer, args, sel: license_keys_of(
        ctx, str(customer.id), args.get("first"), args.get("after")
    ),
    ("Customer", "paymentMethods"): lambda ctx, customer, args, sel: payment_methods_of(
        ctx, str(customer.id)
    ),
    ("LicenseKey", "status"): lambda ctx, key, args, sel: key_status(ctx, key),
    ("LicenseKey", "product"): lambda ctx, key, args, sel: key_product(ctx, key),
    ("LicenseKey", "instances"): lambda ctx, key, args, sel: key_instances(ctx, key),
}
# Connections of every type: their total count, and whether it stopped at the cap.
TOTAL_COUNT = "totalCount"
TOTAL_COUNT_CAPPED = "totalCountCapped"


async def _business(ctx: Context) -> Business:
    return Business.from_profile(await resolve_merchant.business(ctx))


async def _customer(ctx: Context, customer_id: str) -> Customer:
    return Customer.from_model(await resolve_merchant.customer(ctx, str(customer_id)))


async def _subscription(ctx: Context, subscription_id: str) -> Subscription:
    found = await resolve_billing.subscription(ctx, str(subscription_id))
    return Subscription.from_model(found, ctx)


def _status(name: str | None) -> SubscriptionStatus | None:
    """An enum argument as the SDL-built schema gives it, by name, as our member."""
    return None if name is None else SubscriptionStatus[name]


# Values that are never awaitable and need only their scalar's serializer.
_READY = frozenset({str, int, float, bool})

# Leaf serializers of the built-in scalars, the same objects the executing schema uses.
_BUILT_IN: dict[str, GraphQLScalarType] = {
    scalar.name: scalar
    for scalar in (GraphQLString, GraphQLInt, GraphQLFloat, GraphQLBoolean, GraphQLID)
}


@dataclass
class FieldStep:
    key: str  # the response key (alias or name)
    name: str
    attribute: str | None  # read with getattr, or
    resolver: Resolver | None  # called
    arguments: tuple[Any, FieldNode] | None  # (field definition, node) when it has arguments
    selection: Selection
    permissions: tuple[type, ...]
    non_null: bool
    list_of: bool
    item_non_null: bool
    serialize: Callable[[Any], Any] | None  # for leaves
    children: ObjectPlan | None  # for objects
    typename: str | None = None  # for __typename

    @property
    def plain_leaf(self) -> bool:
        return self._plain_leaf

    def __post_init__(self) -> None:
        self._plain_leaf = (
            self.resolver is None
            and not self.permissions
            and self.serialize is not None
            and not self.list_of
            and self.typename is None
        )


@dataclass
class ObjectPlan:
    type_name: str
    steps: list[FieldStep] = field(default_factory=list)


@dataclass
class QueryPlan:
    operation: OperationDefinitionNode
    root: ObjectPlan


class _Planner:
    def __init__(self, strawberry_schema: Any, document: DocumentNode) -> None:
        self.schema = strawberry_schema
        self.types: GraphQLSchema = types_of(strawberry_schema)
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def object_plan(
        self, graphql_type: GraphQLObjectType, selection_set: SelectionSetNode
    ) -> ObjectPlan:
        plan = ObjectPlan(graphql_type.name)
        grouped: dict[str, list[FieldNode]] = {}
        for node in self._fields(graphql_type, selection_set, frozenset()):
            key = node.alias.value if node.alias else node.name.value
            grouped.setdefault(key, []).append(node)
        for key, nodes in grouped.items():
            plan.steps.append(self.field_step(graphql_type, key, nodes))
        return plan

    def _fields(
        self, parent: GraphQLObjectType, selection_set: SelectionSetNode, seen: frozenset[str]
    ) -> Iterable[FieldNode]:
        for selection in selection_set.selections:
            if selection.directives:
                raise Unplannable("directives")
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is not None and condition.name.value != parent.name:
                    raise Unplannable("a fragment on another type")
                yield from self._fields(parent, selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    raise Unplannable("an unknown or cyclic fragment")
                if fragment.type_condition.name.value != parent.name:
                    raise Unplannable("a fragment on another type")
                yield from self._fields(parent, fragment.selection_set, seen | {name})

    def field_step(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldStep:
        node = nodes[0]
        name = node.name.value
        if name == "__typename":
            return FieldStep(
                key,
                name,
                None,
                None,
                None,
                Selection(frozenset(), frozenset()),
                (),
                True,
                False,
                False,
                None,
                None,
                typename=parent.name,
            )
        if name.startswith("__"):
            raise Unplannable("introspection")
        definition = parent.fields.get(name)
        if definition is None:
            raise Unplannable("an unknown field")
        strawberry_field = self.schema.get_field_for_type(field_name=name, type_name=parent.name)
        if strawberry_field is None:
            raise Unplannable("a field Strawberry does not know")
        planned = PLANNED.get((parent.name, name))
        if planned is None and parent.name.endswith("Connection"):
            if name == TOTAL_COUNT:
                planned = _total_count
            elif name == TOTAL_COUNT_CAPPED:
                planned = _total_count_capped
        if planned is None and (
            strawberry_field.base_resolver is not None or strawberry_field.extensions
        ):
            raise Unplannable(f"{parent.name}.{name} has a resolver")
        if planned is None and definition.args:
            raise Unplannable("arguments on an attribute field")
        permissions = tuple(strawberry_field.permission_classes)
        output = definition.type
        non_null = isinstance(output, GraphQLNonNull)
        inner = output.of_type if non_null else output
        list_of = isinstance(inner, GraphQLList)
        item_non_null = False
        if list_of:
            inner = inner.of_type
            item_non_null = isinstance(inner, GraphQLNonNull)
            inner = inner.of_type if item_non_null else inner
            if isinstance(inner, GraphQLList):
                raise Unplannable("a list of lists")
        serialize: Callable[[Any], Any] | None = None
        children: ObjectPlan | None = None
        merged = _merged_selection(nodes)
        if isinstance(inner, GraphQLObjectType):
            if merged is None:
                raise Unplannable("an object without a selection")
            children = self.object_plan(inner, merged)
        elif isinstance(inner, GraphQLScalarType):
            serialize = self._scalar(inner.name)
        elif isinstance(inner, GraphQLEnumType):
            serialize = self._enum(inner.name)
        else:
            raise Unplannable("an abstract type")
        arguments = (definition, node) if definition.args else None
        selection = (
            _connection_selection(merged, self.fragments)
            if merged
            else Selection(frozenset(), frozenset())
        )
        return FieldStep(
            key=key,
            name=name,
            attribute=None if planned else strawberry_field.python_name,
            resolver=planned,
            arguments=arguments,
            selection=selection,
            permissions=permissions,
            non_null=non_null,
            list_of=list_of,
            item_non_null=item_non_null,
            serialize=serialize,
            children=children,
        )

    def _scalar(self, name: str) -> Callable[[Any], Any]:
        built_in = _BUILT_IN.get(name)
        if built_in is not None:
            return built_in.serialize
        definition = self.schema.get_type_by_name(name)
        serialize = getattr(definition, "serialize", None)
        if serialize is None:
            raise Unplannable(f"no serializer for {name}")
        return serialize  # type: ignore[no-any-return]

    def _enum(self, name: str) -> Callable[[Any], Any]:
        definition = self.schema.get_type_by_name(name)
        names = {value.value: value.name for value in definition.values}

        def serialize(value: Any) -> Any:
            try:
                return names[value]
            except (KeyError, TypeError):
                raise GiveUp from None

        return serialize


def _merged_selection(nodes: list[FieldNode]) -> SelectionSetNode | None:
    sets = [node.selection_set for node in nodes if node.selection_set is not None]
    if not sets:
        return None
    if len(sets) == 1:
        return sets[0]
    return SelectionSetNode(selections=tuple(s for each in sets for s in each.selections))


def _connection_selection(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> Selection:
    """What a connection field asks for on `edges { … }` and `edges { node { … } }`."""

    def names(selections: SelectionSetNode | None, path: tuple[str, ...]) -> set[str]:
        found: set[str] = set()
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                if not path:
                    found.add(selection.name.value)
                elif selection.name.value == path[0]:
                    found |= names(selection.selection_set, path[1:])
            elif isinstance(selection, InlineFragmentNode):
                found |= names(selection.selection_set, path)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    found |= names(fragment.selection_set, path)
        return found

    return Selection(
        edges=frozenset(names(selection_set, ("edges",))),
        nodes=frozenset(names(selection_set, ("edges", "node"))),
    )


async def _total_count(
    ctx: Context, connection: Connection[Any], args: dict[str, Any], sel: Selection
) -> int:
    return await connection.page.total_count()


async def _total_count_capped(
    ctx: Context, connection: Connection[Any], args: dict[str, Any], sel: Selection
) -> bool:
    return (await connection.page.total()).capped


def plan_query(
    strawberry_schema: Any, document: DocumentNode, operation_name: str | None
) -> QueryPlan | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        operation = operations[0] if len(operations) == 1 else None
    else:
        operation = next(
            (op for op in operations if op.name and op.name.value == operation_name), None
        )
    if operation is None or operation.operation != OperationType.QUERY or operation.directives:
        return None
    planner = _Planner(strawberry_schema, document)
    query_type = planner.types.query_type
    assert query_type is not None
    try:
        root = planner.object_plan(query_type, operation.selection_set)
    except Unplannable as why:
        logger.debug("not planned: %s", why)
        return None
    return QueryPlan(operation, root)


# Running a plan


class PermissionInfo:
    """What our permission classes read of Strawberry's Info: the context."""

    __slots__ = ("context",)

    def __init__(self, context: Context) -> None:
        self.context = context


# Whether values of a type are awaitable (coroutines, futures, our Deferred), by type: asking
# `inspect.isawaitable` for every value of a dashboard costs more than the rest of the plan.
_AWAITABLE: dict[type, bool] = {}


def _is_awaitable(value: Any) -> bool:
    kind = type(value)
    known = _AWAITABLE.get(kind)
    if known is None:
        known = _AWAITABLE[kind] = hasattr(kind, "__await__") or inspect.isawaitable(value)
    return known


class _Run:
    def __init__(self, context: Context, variables: Any) -> None:
        self.context = context
        self.variables = variables
        self.info = PermissionInfo(context)

    def value_of(self, step: FieldStep, source: Any) -> Any:
        for permission in step.permissions:
            if not permission().has_permission(source, self.info):
                raise GiveUp
        if step.resolver is None:
            return getattr(source, step.attribute)  # type: ignore[arg-type]
        arguments: dict[str, Any] = {}
        if step.arguments is not None:
            definition, node = step.arguments
            arguments = get_argument_values(definition, node, self.variables)
        return step.resolver(self.context, source, arguments, step.selection)

    def complete_object(self, plan: ObjectPlan, source: Any) -> Any:
        data: dict[str, Any] = {}
        waiting: list[tuple[str, Awaitable[Any]]] | None = None
        for step in plan.steps:
            if step.typename is not None:
                data[step.key] = step.typename
                continue
            if step.plain_leaf:
                # An attribute holding a ready scalar: most fields of an answer.
                value = getattr(source, step.attribute)  # type: ignore[arg-type]
                if value is None:
                    if step.non_null:
                        raise GiveUp
                    data[step.key] = None
                    continue
                if type(value) in _READY:
                    data[step.key] = step.serialize(value)  # type: ignore[misc]
                    continue
            else:
                value = self.value_of(step, source)
            if _is_awaitable(value):
                completed: Any = self._later(step, value)
            else:
                completed = self.complete(step, value)
            if _is_awaitable(completed):
                data[step.key] = None
                if waiting is None:
                    waiting = []
                waiting.append((step.key, completed))
            else:
                data[step.key] = completed
        if waiting is None:
            return data
        return self._gathered(data, waiting)

    async def _later(self, step: FieldStep, value: Awaitable[Any]) -> Any:
        completed = self.complete(step, await value)
        if _is_awaitable(completed):
            completed = await completed
        return completed

    async def _gathered(
        self, data: dict[str, Any], waiting: list[tuple[str, Awaitable[Any]]]
    ) -> dict[str, Any]:
        results = await asyncio.gather(*(awaitable for _, awaitable in waiting))
        for (key, _), result in zip(waiting, results, strict=True):
            data[key] = result
        return data

    def complete(self, step: FieldStep, value: Any) -> Any:
        if value is None:
            if step.non_null:
                raise GiveUp
            return None
        if step.list_of:
            return self.complete_list(step, value)
        return self.complete_item(step, value)

    def complete_item(self, step: FieldStep, value: Any) -> Any:
        if step.serialize is not None:
            if _is_awaitable(value):
                return self._serialized_later(step, value)
            try:
                serialized = step.serialize(value)
            except GiveUp:
                raise
            except Exception:
                raise GiveUp from None
            if serialized is None:
                raise GiveUp
            return serialized
        assert step.children is not None
        if _is_awaitable(value):
            return self._object_later(step, value)
        return self.complete_object(step.children, value)

    async def _serialized_later(self, step: FieldStep, value: Awaitable[Any]) -> Any:
        resolved = await value
        if resolved is None:
            if step.non_null:
                raise GiveUp
            return None
        return self.complete_item(step, resolved)

    async def _object_later(self, step: FieldStep, value: Awaitable[Any]) -> Any:
        resolved = await value
        if resolved is None:
            if step.non_null:
                raise GiveUp
            return None
        completed = self.complete_object(step.children, resolved)  # type: ignore[arg-type]
        return await completed if _is_awaitable(completed) else completed

    def complete_list(self, step: FieldStep, values: Any) -> Any:
        items: list[Any] = []
        waiting: list[tuple[int, Awaitable[Any]]] | None = None
        for index, value in enumerate(values):
            if value is None:
                if step.item_non_null:
                    raise GiveUp
                items.append(None)
                continue
            completed = self.complete_item(step, value)
            if _is_awaitable(completed):
                if waiting is None:
                    waiting = []
                waiting.append((index, completed))
                items.append(None)
            else:
                items.append(completed)
        if waiting is None:
            return items
        return self._list_gathered(items, waiting, step)

    async def _list_gathered(
        self, items: list[Any], waiting: list[tuple[int, Awaitable[Any]]], step: FieldStep
    ) -> list[Any]:
        results = await asyncio.gather(*(awaitable for _, awaitable in waiting))
        for (index, _), result in zip(waiting, results, strict=True):
            if result is None and step.item_non_null:
                raise GiveUp
            items[index] = result
        return items


async def run_plan(plan: QueryPlan, context: Context, variables: Any) -> dict[str, Any]:
    run = _Run(context, variables)
    data = run.complete_object(plan.root, None)
    if _is_awaitable(data):
        data = await data
    return data  # type: ignore[no-any-return]


# Plans by document: the parser cache hands back the same document for the same query text,
# which is kept here with its plan so that its id is not reused while the entry exists.
_PLANS: dict[tuple[int, str | None], tuple[DocumentNode, QueryPlan | None]] = {}
_PLANS_KEPT = 256


def cached_plan(
    strawberry_schema: Any, document: DocumentNode, operation_name: str | None
) -> QueryPlan | None:
    key = (id(document), operation_name)
    found = _PLANS.get(key)
    if found is not None and found[0] is document:
        return found[1]
    plan = plan_query(strawberry_schema, document, operation_name)
    if len(_PLANS) >= _PLANS_KEPT:
        _PLANS.clear()
    _PLANS[key] = (document, plan)
    return plan


class PlannedQueries(SchemaExtension):
    """Answers a planned query operation itself; graphql-core answers everything else."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.result is None and document is not None:
            plan = cached_plan(context.schema, document, context.operation_name)
            if plan is not None:
                await answer_by(
                    context,
                    plan.operation,
                    lambda ctx, variables: run_plan(plan, ctx, variables),
                    "its plan",
                    "graphql-core",
                )
        yield


async def answer_by(
    context: Any,
    operation: OperationDefinitionNode,
    run: Callable[[Context, Any], Awaitable[dict[str, Any]]],
    what: str,
    otherwise: str,
) -> None:
    """Sets the operation's result (Strawberry's execution context) to what `run(context,
    variables)` answers; leaves it unset, for `otherwise` to answer, when the variables are
    wrong (graphql-core reports them) or the run gives up or fails."""
    variables = get_variable_values(
        types_of(context.schema), operation.variable_definitions or (), context.variables or {}
    )
    if isinstance(variables, list):
        return
    try:
        data = await run(context.context, variables)
    except GiveUp:
        logger.debug("%s gave up; %s runs the operation", what, otherwise)
        return
    except Exception:
        logger.debug("%s failed; %s runs the operation", what, otherwise, exc_info=True)
        return
    context.result = ExecutionResult(data=data)
    logger.debug("answered by %s", what)
