"""The schema documents itself (issue 16): every type, field, argument, input field and enum
value that a client can see in introspection, GraphiQL or its generated code has a description.

The schema is read as clients read it: printed from the code and parsed again with graphql-core,
so a description that does not survive into schema.graphql does not count.

One exception, for enum values only: the enums defined in models/ (Mode, SubscriptionStatus, …)
are plain Python StrEnums, registered with `strawberry.enum(models.X, description=…)` in the
schema modules. Strawberry reads a value's description only from `strawberry.enum_value(…)` in
the enum's own class body, which would make the models layer import Strawberry (ARCHITECTURE.md:
dependencies point from schema to models, never back). Such an enum describes its values in its
own description instead, and this test holds it to that: each value must appear there as
`VALUE:` followed by what it means.
"""

from __future__ import annotations

import re

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    specified_scalar_types,
)
from strawberry.printer import print_schema
from strawberry.types.enum import StrawberryEnumDefinition

from schema import schema


def _client_schema() -> GraphQLSchema:
    return build_schema(print_schema(schema))


def _is_model_enum(name: str) -> bool:
    """An enum registered from models/, whose values cannot carry descriptions themselves."""
    definition = schema.get_type_by_name(name)
    return isinstance(definition, StrawberryEnumDefinition) and (
        definition.wrapped_cls.__module__.split(".")[0] == "models"
    )


def _described(text: str | None) -> bool:
    return bool(text and text.strip())


def _named_in(value: str, description: str | None) -> bool:
    return bool(description and re.search(rf"(?<![A-Z_]){re.escape(value)}:", description))


def _missing_in(named: GraphQLNamedType) -> list[str]:
    name = named.name
    missing = [] if _described(named.description) else [name]
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for field_name, field in named.fields.items():
            if not _described(field.description):
                missing.append(f"{name}.{field_name}")
            missing.extend(
                f"{name}.{field_name}({arg_name}:)"
                for arg_name, arg in field.args.items()
                if not _described(arg.description)
            )
    elif isinstance(named, GraphQLInputObjectType):
        missing.extend(
            f"{name}.{field_name}"
            for field_name, field in named.fields.items()
            if not _described(field.description)
        )
    elif isinstance(named, GraphQLEnumType):
        from_models = _is_model_enum(name)
        for value_name, value in named.values.items():
            if _described(value.description):
                continue
            if from_models and _named_in(value_name, named.description):
                continue
            missing.append(f"{name}.{value_name}")
    return missing


def _schema_types(client: GraphQLSchema) -> list[GraphQLNamedType]:
    return [
        named
        for type_name, named in sorted(client.type_map.items())
        if not type_name.startswith("__") and type_name not in specified_scalar_types
    ]


def test_every_element_of_the_schema_has_a_description() -> None:
    missing = [item for named in _schema_types(_client_schema()) for item in _missing_in(named)]
    assert not missing, f"{len(missing)} without a description:\n" + "\n".join(missing)


def test_the_walk_sees_the_whole_schema() -> None:
    """Guards the test above against passing because it looked at nothing."""
    client = _client_schema()
    names = {named.name for named in _schema_types(client)}
    assert {"Query", "Mutation", "Customer", "Node", "CardInput", "SubscriptionStatus"} <= names
    assert "String" not in names and "__Schema" not in names
    mutation = client.mutation_type
    assert mutation is not None
    assert "input" in mutation.fields["createCustomer"].args
    assert _is_model_enum("SubscriptionStatus") and not _is_model_enum("NextActionType")


def test_the_exception_for_model_enums_is_narrow() -> None:
    """A model enum's value is accepted only when the enum's description explains it."""
    client = _client_schema()
    status = client.get_type("SubscriptionStatus")
    assert isinstance(status, GraphQLEnumType)
    assert _missing_in(status) == []
    undocumented = GraphQLEnumType(
        "SubscriptionStatus", {"ACTIVE": None, "ON_HOLD": None}, description="ACTIVE: paid."
    )
    assert _missing_in(undocumented) == ["SubscriptionStatus.ON_HOLD"]
    not_from_models = GraphQLEnumType("NextActionType", {"AUTHENTICATE": None}, description="x")
    assert _missing_in(not_from_models) == ["NextActionType.AUTHENTICATE"]
