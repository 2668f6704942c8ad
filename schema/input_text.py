"""Text a client sends is checked once, before anything runs: no NUL or other control
character (a tab and line breaks are fine), no bidirectional override (U+202E in a name would
turn an email subject around), no lone surrogate. PostgreSQL refuses NUL bytes with a server
error and SQLite would store them; neither ever sees one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit
from graphql.execution import ExecutionResult
from strawberry.extensions import SchemaExtension

# C0 controls but tab, line feed and carriage return; DEL and the C1 controls; the bidi
# embeddings, overrides and isolates; surrogates (not text on their own).
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def has_forbidden_characters(value: str) -> bool:
    return FORBIDDEN.search(value) is not None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if has_forbidden_characters(node.value):
            self.found = True


# Documents already read, by id, with the document kept so that its id is not reused (the parser
# cache hands back the same document for the same query text).
_CHECKED: dict[int, tuple[DocumentNode, bool]] = {}
_CHECKED_KEPT = 256


def literals_are_clean(document: DocumentNode) -> bool:
    found = _CHECKED.get(id(document))
    if found is not None and found[0] is document:
        return found[1]
    literals = _Literals()
    visit(document, literals)
    if len(_CHECKED) >= _CHECKED_KEPT:
        _CHECKED.clear()
    _CHECKED[id(document)] = (document, not literals.found)
    return not literals.found


class InputText(SchemaExtension):
    """Refuses an operation whose variables or string literals hold a forbidden character."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        bad = any(has_forbidden_characters(s) for s in _strings(context.variables or {}))
        if not bad and context.graphql_document is not None:
            bad = not literals_are_clean(context.graphql_document)
        if bad:
            context.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "Text may not contain control characters (other than tabs and line "
                        "breaks) or bidirectional overrides.",
                        extensions={"code": "BAD_USER_INPUT"},
                    )
                ],
            )
        yield
