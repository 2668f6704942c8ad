"""What a query may cost, computed before it runs, and the budget it must fit in.

Depth, alias and token limits bound the size of a document, not the work it asks for: thirty
aliases of `customers(first: 100)` with lists inside each stay within all three and still ask for
millions of objects. The cost is an upper bound on the fields a query can resolve:

- every field counts 1, once for each object it can be asked on;
- a connection field (`customers`, `invoices`, …) multiplies what is selected inside it by its
  page size: `first` as sent (a literal or a variable), else the argument's default, at most
  `MAX_PAGE` (100); its `edges` add no second factor;
- any other list of objects (`paymentMethods`, `instances`, `userErrors`, …) multiplies by
  `PLAIN_LIST` (10), or by its own `first` when it has one;
- introspection fields (`__schema`, `__type`, `__typename`) count nothing (introspection is off
  in production, and the token limit bounds it elsewhere).

A query over `MAX_COST` is refused before it runs with `QUERY_TOO_COMPLEX` and its cost in
`extensions.cost`. The README states the formula and the budget.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    build_schema,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.execution import ExecutionResult
from graphql.pyutils import Undefined
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType as StreamedOperation

logger = logging.getLogger("portal.graphql.cost")

MAX_COST = 25_000
MAX_PAGE = 100
PLAIN_LIST = 10
TOO_COMPLEX = "QUERY_TOO_COMPLEX"


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The cost of the operation `operation_name` of `document` (see the module's docstring)."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }.get(operation.operation)
    if root is None:
        return 0
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    walk = _Walk(schema, fragments, variables or {})
    return walk.selections(root, operation.selection_set, frozenset())


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selections(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode | None, seen: frozenset[str]
    ) -> int:
        total = 0
        for parent_type, field in self._fields(parent, selection_set, seen):
            total += self.field(parent_type, field, seen)
        return total

    def _fields(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode | None, seen: frozenset[str]
    ) -> Iterator[tuple[GraphQLNamedType, FieldNode]]:
        """The fields of a selection, through fragments, each with the type it is asked on."""
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield parent, selection
            elif isinstance(selection, InlineFragmentNode):
                on = parent
                if selection.type_condition is not None:
                    on = self.schema.get_type(selection.type_condition.name.value) or parent
                yield from self._fields(on, selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue  # unknown and cyclic fragments are refused by validation
                on = self.schema.get_type(fragment.type_condition.name.value) or parent
                yield from self._fields(on, fragment.selection_set, seen | {name})

    def field(self, parent: GraphQLNamedType, node: FieldNode, seen: frozenset[str]) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(name)
        if definition is None:
            return 1  # unknown fields are refused by validation
        named = get_named_type(definition.type)
        if node.selection_set is None or not is_composite_type(named):
            return 1
        factor = self._factor(parent, name, definition, node, named)
        return 1 + factor * self.selections(named, node.selection_set, seen)

    def _factor(
        self,
        parent: GraphQLNamedType,
        name: str,
        definition: GraphQLField,
        node: FieldNode,
        named: GraphQLNamedType,
    ) -> int:
        if name == "edges" and _is_connection(parent):
            return 1  # the connection field already counted its page
        if _is_connection(named):
            return self._page_size(definition, node, default=MAX_PAGE)
        if is_list_type(get_nullable_type(definition.type)):
            return self._page_size(definition, node, default=PLAIN_LIST)
        return 1

    def _page_size(self, definition: GraphQLField, node: FieldNode, default: int) -> int:
        argument = definition.args.get("first")
        if argument is None:
            return default
        size: Any = None
        sent = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        if isinstance(sent, IntValueNode):
            size = int(sent.value)
        elif isinstance(sent, VariableNode):
            size = self.variables.get(sent.name.value)
        if sent is None or (isinstance(sent, VariableNode) and size is None):
            size = _default_of(argument)
        if not isinstance(size, int) or isinstance(size, bool):
            return MAX_PAGE  # a null or a wrong type fails later; count the most it could be
        return max(0, min(size, MAX_PAGE))


def _default_of(argument: GraphQLArgument) -> Any:
    default = argument.default
    if default is None:
        return None
    if default.value is not Undefined:
        return default.value
    return value_from_ast_untyped(default.literal) if default.literal is not None else None


# Costs by document, operation and the variables' values, with the document kept so that its id
# is not reused while the entry exists (the parser cache hands back the same document).
_COSTS: dict[tuple[int, str | None, Any], tuple[DocumentNode, int]] = {}
_COSTS_KEPT = 512


def cached_cost(
    schema: Any, document: DocumentNode, operation_name: str | None, variables: Any
) -> int:
    try:
        key = (id(document), operation_name, frozenset((variables or {}).items()))
    except TypeError:  # a list or an object among the variables: not a key
        return query_cost(types_of(schema), document, operation_name, variables)
    found = _COSTS.get(key)
    if found is not None and found[0] is document:
        return found[1]
    cost = query_cost(types_of(schema), document, operation_name, variables)
    if len(_COSTS) >= _COSTS_KEPT:
        _COSTS.clear()
    _COSTS[key] = (document, cost)
    return cost


@cache
def types_of(schema: Any) -> GraphQLSchema:
    """The types of a Strawberry schema as graphql-core sees them, built once from its SDL
    (Strawberry's public surface prints the schema; it does not hand out graphql-core's)."""
    return build_schema(schema.as_str())


def _is_connection(graphql_type: Any) -> bool:
    return getattr(graphql_type, "name", "").endswith("Connection") and "edges" in getattr(
        graphql_type, "fields", {}
    )


class CostLimit(SchemaExtension):
    """Refuses, before execution, an operation whose cost is over `MAX_COST` (Strawberry's
    documented way to reject an operation: set the result in `on_execute`)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            cost = cached_cost(context.schema, document, context.operation_name, context.variables)
            logger.debug("operation %s costs %d", context.operation_name or "-", cost)
            if cost > MAX_COST:
                error = GraphQLError(
                    f"This query may cost {cost}; at most {MAX_COST} is allowed. "
                    "Ask for smaller pages or fewer nested lists.",
                    extensions={"code": TOO_COMPLEX, "cost": cost, "maxCost": MAX_COST},
                )
                if context.operation_type == StreamedOperation.SUBSCRIPTION:
                    # Strawberry starts a subscription whatever `result` says; what on_execute
                    # raises is answered instead. A subscription's cost is one event's.
                    raise error
                context.result = ExecutionResult(data=None, errors=[error])
        yield
