"""A shorter path through graphql-core for fields that only read an attribute.

A dashboard answer has a few thousand fields, and most of them are scalars read from an
attribute of a view (`Invoice.number`, `Money.amount`). graphql-core gives every field the same
treatment: a resolve-info tuple, an argument check, an awaitable check, and the recursive
`complete_value` (non-null, list, leaf, abstract, object). For an attribute-read scalar with a
present, ready value none of that can change the outcome, so `AttributeLeaves.execute_field`
coerces the value directly; anything else (an argument, a missing or awaitable value, a value
the scalar refuses, an object type, middleware) takes graphql-core's own path, unchanged, so
errors and nulls are reported exactly as before. Measured on the dashboard's shape (~2,400
fields): 9.2 ms → 6.5 ms for execution alone.

Which fields qualify is decided once, when the schema is built (`mark_attribute_fields`): the
ones Strawberry itself resolves with a plain attribute read (no resolver, no field extension,
no permission classes), whose type is a scalar or enum, possibly non-null.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLSchema, is_leaf_type
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

ATTRIBUTE_LEAF = "portal.attribute-leaf"


def mark_attribute_fields(schema: GraphQLSchema) -> int:
    """Marks the attribute-read scalar fields; returns how many."""
    marked = 0
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for field in graphql_type.fields.values():
            # Strawberry marks the resolver of fields it reads with getattr (`is_basic_field`).
            if not getattr(field.resolve, "_is_default", False) or field.args:
                continue
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            non_null = isinstance(field.type, GraphQLNonNull)
            leaf_type = field.type.of_type if non_null else field.type
            if definition is None or not is_leaf_type(leaf_type):
                continue
            field.extensions = {
                **field.extensions,
                ATTRIBUTE_LEAF: (definition.python_name, leaf_type, non_null),
            }
            marked += 1
    return marked


class AttributeLeaves(StrawberryGraphQLCoreExecutionContext):
    def execute_field(
        self,
        parent_type: Any,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        field = parent_type.fields.get(node.name.value)
        manager = self.middleware_manager
        if (
            field is not None
            and not node.arguments
            and (manager is None or not manager.middlewares)
        ):
            leaf = field.extensions.get(ATTRIBUTE_LEAF)
            if leaf is not None:
                name, leaf_type, non_null = leaf
                value = getattr(source, name, Undefined)
                if value is None:
                    if not non_null:
                        return None
                elif value is not Undefined and not self.is_awaitable(value):
                    try:
                        coerced = leaf_type.coerce_output_value(value)
                    except Exception:  # graphql-core's path below reports it
                        coerced = Undefined
                    if coerced is not Undefined and coerced is not None:
                        return coerced
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
