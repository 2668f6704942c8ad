"""The schema's protections: query limits (built once, so the validation cache can hit),
error codes on every error, and masking of unexpected failures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)

from resolvers.types import ServiceError
from schema.compiled_queries import CompiledQueries
from schema.cost import CostLimit
from schema.input_text import InputText
from schema.live import OneTransportEach
from schema.messages import safe_message
from schema.query_plans import PlannedQueries

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
TOO_COMPLEX = "QUERY_TOO_COMPLEX"


def _too_complex(message: str, node: Any) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": TOO_COMPLEX})


class DepthLimit(ValidationRule):
    """Rejects operations nested deeper than MAX_DEPTH fields (introspection fields excluded;
    introspection is off in production and bounded by the token limit elsewhere)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        depth = self._depth(node.selection_set, 0, frozenset())
        if depth > MAX_DEPTH:
            name = node.name.value if node.name else "anonymous"
            self.report_error(
                _too_complex(
                    f"Operation '{name}' is {depth} levels deep; at most {MAX_DEPTH}.", node
                )
            )

    def _depth(self, selections: SelectionSetNode | None, depth: int, seen: frozenset[str]) -> int:
        if selections is None:
            return depth
        deepest = depth
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                deepest = max(deepest, self._depth(selection.selection_set, depth + 1, seen))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self._depth(selection.selection_set, depth, seen))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in seen:
                    continue  # unknown or cyclic fragments are reported by the standard rules
                deepest = max(deepest, self._depth(fragment.selection_set, depth, seen | {name}))
        return deepest


class AliasLimit(ValidationRule):
    def enter_document(self, node: Any, *_: Any) -> None:
        count = 0
        for definition in node.definitions:
            if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
                count += _count_aliases(definition.selection_set)
        if count > MAX_ALIASES:
            self.report_error(
                _too_complex(f"The document uses {count} aliases; at most {MAX_ALIASES}.", node)
            )


def _count_aliases(selections: SelectionSetNode | None) -> int:
    if selections is None:
        return 0
    count = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode) and selection.alias is not None:
            count += 1
        count += _count_aliases(getattr(selection, "selection_set", None))
    return count


def is_token_limit(message: str) -> bool:
    return "Document contains more than" in message and "tokens" in message


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | ServiceError)


class ErrorCodes(SchemaExtension):
    """Gives every error an `extensions.code`; a ServiceError's message and code go out as is.
    No message quotes the client's input; in production none suggests field names either."""

    def __init__(self, *, suggestions: bool = True) -> None:
        self.suggestions = suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None) or []
        for error in errors:
            error.message = safe_message(error.message, suggestions=self.suggestions)
            extensions = dict(error.extensions or {})
            original = error.original_error
            if isinstance(original, ServiceError):
                code = original.code
                if code == "INVALID_INPUT":
                    code = "BAD_USER_INPUT"
                extensions.setdefault("code", code)
            elif "code" not in extensions:
                if is_token_limit(error.message):
                    extensions["code"] = TOO_COMPLEX
                elif original is None:
                    extensions["code"] = "BAD_USER_INPUT"
            if extensions:
                error.extensions = extensions


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal server error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked


class ConfirmSession(SchemaExtension):
    """A portal session's row, read before the operation runs unless a compiled query read it
    with its data (app/graphql.py defers it; resolvers.context.Context.confirm_session). Until
    then the principal is INVALID: whatever ran before it could not have been let in."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if getattr(context, "unconfirmed", None) is not None:
            await context.confirm_session()
        yield


class DocumentValidationCache(ValidationCache):
    """Strawberry's ValidationCache keys its cache by the document's hash, which graphql-core
    computes anew over the whole tree on every request (it showed in the dashboard's profile).
    The parser cache hands back the same document object for the same query text, so here a
    document's validation is kept by the object itself (with the schema and rules it was
    validated against) in front of Strawberry's cache."""

    _KEPT = 256
    _found: ClassVar[dict[tuple[int, int], tuple[Any, Any, tuple[Any, ...], Any]]] = {}

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document, schema = context.graphql_document, context.schema
        rules = tuple(context.validation_rules)
        key = (id(document), id(schema))
        found = self._found.get(key)
        if found is not None and found[0] is document and found[1] is schema and found[2] == rules:
            context.pre_execution_errors = found[3]
            yield
            return
        yield from super().on_validate()
        if len(self._found) >= self._KEPT:
            self._found.clear()
        self._found[key] = (document, schema, rules, context.pre_execution_errors)


# Built once: new rule classes per request would defeat the validation cache.
VALIDATION_RULES: list[type[ASTValidationRule]] = [DepthLimit, AliasLimit]


def schema_extensions(
    *, suggestions: bool = True, plans: bool = True, compiled: bool = True
) -> list[Any]:
    """Classes or factories, never shared instances (extensions hold per-request state).
    `suggestions=False` (production) drops graphql-core's "Did you mean …?" from errors;
    `plans=False` leaves every operation to graphql-core (schema/query_plans.py);
    `compiled=False` leaves the signed-in customer's queries to their plans
    (schema/compiled_queries.py)."""
    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules(VALIDATION_RULES),
        ParserCache,
        DocumentValidationCache,
        InputText,
        OneTransportEach,
        CostLimit,
        *([CompiledQueries] if plans and compiled else []),
        ConfirmSession,
        *([PlannedQueries] if plans else []),
        MaskUnexpectedErrors,
        lambda: ErrorCodes(suggestions=suggestions),
    ]
