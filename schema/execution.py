"""A shorter path through graphql-core for fields that only read an attribute.

A dashboard answer has a few thousand fields, and most of them read an attribute of a view
(`Invoice.number`, `Money.amount`, `Subscription.price`). graphql-core gives every field the
same treatment: a path entry, a resolve-info tuple, an argument check, an awaitable check, and
the recursive `complete_value` (non-null, list, leaf, abstract, object). For an attribute whose
value is present and ready none of that changes the outcome, so `AttributeFields`:

- completes the scalar and enum fields of an object in one loop (`execute_fields`), and
- goes straight to the sub-selection of an object-typed attribute (`execute_field`).

Anything else takes graphql-core's own path, unchanged: fields with arguments, deferred
fragments, middleware, resolvers, lists, a value that is missing, null where the type is
non-null, awaitable (a `Deferred`), or refused by the scalar. An object whose scalars are not
all ready is completed entirely by graphql-core, so errors and nulls come out exactly as
before. Which fields qualify is decided once, when the schema is built
(`mark_attribute_fields`): those that Strawberry itself resolves by reading the attribute (no
resolver, no field extension, no permission classes).

Measured with scripts/bench_dashboard.py; see the README's performance notes.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    is_leaf_type,
    is_object_type,
)
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

ATTRIBUTE_FIELD = "portal.attribute-field"


def mark_attribute_fields(schema: GraphQLSchema) -> int:
    """Marks the fields read from an attribute whose type is a scalar, an enum or an object
    type (possibly non-null); returns how many."""
    marked = 0
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for field in graphql_type.fields.values():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            # Only what Strawberry itself reads with getattr: no resolver, no field extension
            # (permission classes are one), no exception handler, the default resolver.
            if (
                definition is None
                or not definition.is_basic_field
                or definition.default_resolver is not getattr
                or not getattr(field.resolve, "_is_default", False)
                or field.resolve.__name__ != "_get_basic_result"
                or field.args
            ):
                continue
            non_null = isinstance(field.type, GraphQLNonNull)
            named = field.type.of_type if non_null else field.type
            if not (is_leaf_type(named) or is_object_type(named)):
                continue
            leaf = is_leaf_type(named)
            field.extensions = {
                **field.extensions,
                ATTRIBUTE_FIELD: (definition.python_name, named, non_null, leaf, field.type),
            }
            marked += 1
    return marked


# Values that are never awaitable, checked before the general test.
_READY = frozenset({str, int, bool, float})

# One scalar field of a selection: (response name, attribute, scalar type, non-null).
Leaf = tuple[str, str, Any, bool]


class AttributeFields(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mutation_type = self.schema.mutation_type
        # Per selection (graphql-core reuses one dict per selection across a list's items):
        # the selection itself (kept alive, so its id stays unique), its attribute scalars,
        # and the rest of its fields.
        self._plans: dict[int, tuple[Any, list[Leaf], dict[str, Any]]] = {}

    def _plain(self) -> bool:
        manager = self.middleware_manager
        return manager is None or not manager.middlewares

    def _plan(self, parent_type: Any, grouped_field_set: Any) -> tuple[list[Leaf], dict[str, Any]]:
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set:
            return cached[1], cached[2]
        leaves: list[Leaf] = []
        rest: dict[str, Any] = {}
        fields = parent_type.fields
        for response_name, field_details_list in grouped_field_set.items():
            marked = self._marked(fields, field_details_list)
            if marked is not None and marked[3]:
                leaves.append((response_name, marked[0], marked[1], marked[2]))
            else:
                rest[response_name] = field_details_list
        self._plans[id(grouped_field_set)] = (grouped_field_set, leaves, rest)
        return leaves, rest

    @staticmethod
    def _marked(fields: Any, field_details_list: Any) -> Any:
        first = field_details_list[0].node
        field = fields.get(first.name.value)
        if field is None:
            return None
        for details in field_details_list:
            if details.node.arguments or details.defer_usage is not None:
                return None
        return field.extensions.get(ATTRIBUTE_FIELD)

    def execute_fields(
        self,
        parent_type: Any,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if not self._plain():
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        leaves, rest = self._plan(parent_type, grouped_field_set)
        if not leaves:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        values: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        for response_name, name, leaf_type, non_null in leaves:
            value = getattr(source_value, name, Undefined)
            if value is None and not non_null:
                values[response_name] = None
                continue
            coerced: Any = Undefined
            if type(value) in _READY or (
                value is not None and value is not Undefined and not is_awaitable(value)
            ):
                try:
                    coerced = leaf_type.coerce_output_value(value)
                except Exception:  # graphql-core's path below reports it
                    coerced = Undefined
            if coerced is Undefined or coerced is None:
                return super().execute_fields(
                    parent_type, source_value, path, grouped_field_set, position_context
                )
            values[response_name] = coerced
        if not rest:
            return values
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if is_awaitable(others):
            return _merged_later(grouped_field_set, values, others)
        return _merged(grouped_field_set, values, others)

    def execute_field(
        self,
        parent_type: Any,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        if parent_type is self._mutation_type:
            # Mutation fields run one after another: each one reads afresh what those before it
            # may have changed, instead of the views and rows an earlier one cached.
            forget = getattr(self.context_value, "forget_reads", None)
            if forget is not None:
                forget()
        marked = self._marked(parent_type.fields, field_details_list) if self._plain() else None
        if marked is not None and not marked[3]:
            name, object_type, non_null, _, return_type = marked
            value = getattr(source, name, Undefined)
            if value is None:
                if not non_null:
                    return None
            elif value is not Undefined and not self.is_awaitable(value):
                # Strawberry's is_type_of checks the instance and never reads `info`.
                check = object_type.is_type_of
                if check is None or check(value, None) is True:
                    return self._complete_object(
                        return_type,
                        object_type,
                        field_details_list,
                        path,
                        value,
                        position_context,
                    )
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _complete_object(
        self,
        return_type: Any,
        object_type: Any,
        field_details_list: Any,
        path: Any,
        value: Any,
        position_context: Any,
    ) -> Any:
        """The sub-selection of a ready object value, with graphql-core's error handling for
        the field (an error below a nullable field nulls it; a non-null one passes it up)."""
        try:
            completed = self.collect_and_execute_subfields(
                object_type, field_details_list, path, value, position_context
            )
        except Exception as error:
            self.handle_field_error(error, return_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._await_object(completed, return_type, field_details_list, path)
        return completed

    async def _await_object(
        self, completed: Awaitable[Any], return_type: Any, field_details_list: Any, path: Any
    ) -> Any:
        try:
            return await completed
        except Exception as error:
            self.handle_field_error(error, return_type, field_details_list, path)
            return None


def _merged(order: dict[str, Any], first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """The two parts of an object's fields, in the order the query asked for them."""
    merged: dict[str, Any] = {}
    for response_name in order:
        if response_name in first:
            merged[response_name] = first[response_name]
        elif response_name in second:
            merged[response_name] = second[response_name]
    return merged


async def _merged_later(
    order: dict[str, Any], first: dict[str, Any], second: Awaitable[dict[str, Any]]
) -> dict[str, Any]:
    return _merged(order, first, await second)
